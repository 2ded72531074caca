"""The book's Sphinx extensions (book/_ext), without a build: what they compute."""
import sys
from pathlib import Path

import numpy as np
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import figures  # noqa: E402
import lighter_pages  # noqa: E402


def test_a_figure_is_shown_at_its_size_in_inches(tmp_path):
    path = tmp_path / "figure.png"
    Image.new("RGB", (1400, 900), "white").save(path, dpi=(200, 200))
    with Image.open(path) as image:
        assert figures._display_width(image) == 672        # 7 inches at 96 px per inch
    Image.new("RGB", (500, 300), "white").save(path)       # no resolution recorded
    with Image.open(path) as image:
        assert figures._display_width(image) == 500


def _document(rst):
    settings = get_default_settings(Parser)
    document = new_document("test", settings)
    Parser().parse(rst, document)
    return document


def test_plus_minus_keeps_its_numbers_on_one_line():
    document = _document("The gap is 2.986 ± 0.018 nats.\n\n"
                         "=====  ================\n"
                         "a      b\n"
                         "=====  ================\n"
                         "x      0.25 ±  0.01\n"
                         "=====  ================\n\n"
                         "``code 1 ± 2`` and :math:`1 \\pm 2`\n")
    figures._keep_plus_minus_together(document)
    texts = [str(t) for t in document.findall(nodes.Text)]
    assert "The gap is 2.986\u00a0±\u00a00.018 nats." in texts
    assert "0.25\u00a0±\u00a00.01" in texts
    assert "code 1 ± 2" in texts                            # code is shown as written


def test_plus_minus_joins_a_line_break_or_a_glued_number_in_the_next_text_node():
    paragraph = nodes.paragraph("", "", nodes.Text("after"), nodes.Text("\n"),
                                nodes.Text("a gap of 0.25 ±"), nodes.Text("\n"),
                                nodes.inline("", "0.01"), nodes.Text(" and "),
                                nodes.inline("", "3.5"), nodes.Text(" \n"),
                                nodes.Text("± 0.2 nats"))
    other = nodes.paragraph("", "", nodes.Text("next paragraph"))
    document = new_document("test", get_default_settings(Parser))
    document += [paragraph, other]
    figures._keep_plus_minus_together(document)
    assert paragraph.astext() == "after\na gap of 0.25\u00a0±\u00a00.01 and 3.5\u00a0±\u00a00.2 nats"
    assert other.astext() == "next paragraph"


def test_a_number_keeps_its_interval_statistic_and_unit_on_one_line():
    document = _document("Coverage 0.90 [0.87, 0.91], share 49.64% (-1.6), speed 0.29 M draws; "
                         "chapter 5 (the loss) and ``0.90 [0.87, 0.91]``.\n")
    figures._keep_number_groups_together(document)
    text = "".join(str(t) for t in document.findall(nodes.Text))
    assert "0.90\u00a0[0.87,\u00a00.91]" in text
    assert "49.64%\u00a0(-1.6)" in text and "0.29\u00a0M" in text
    assert "chapter 5 (the loss)" in text                   # words in parentheses: unchanged
    assert "0.90 [0.87, 0.91]" in text                        # code is shown as written


def test_only_the_listed_mathjax_files_are_kept(tmp_path):
    root = tmp_path / "_static" / "mathjax"
    files = ["tex-chtml.js", "tex-svg.js", "input/tex/extensions/boldsymbol.js",
             "input/mml.js", "output/chtml/fonts/woff-v2/MathJax_Zero.woff",
             "output/svg/fonts/tex.js", "a11y/explorer.js", "sre/mathmaps/en.json",
             "sre/mathmaps/de.json"]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    lighter_pages.prune_mathjax(tmp_path / "_static")
    left = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert left == sorted(["tex-chtml.js", "input/tex/extensions/boldsymbol.js",
                           "output/chtml/fonts/woff-v2/MathJax_Zero.woff", "a11y/explorer.js",
                           "sre/mathmaps/en.json"])
    assert not (root / "output" / "svg").exists()          # emptied folders go too


def test_source_maps_and_their_comments_are_removed(tmp_path):
    (tmp_path / "a.js").write_text("var a=1;\n//# sourceMappingURL=a.js.map\n")
    (tmp_path / "a.js.map").write_text("{}")
    (tmp_path / "b.css").write_text("p{color:red}\n/*# sourceMappingURL=b.css.map*/")
    (tmp_path / "c.js").write_text("var s = '//# sourceMappingURL=in a string';\nvar c=3;\n")
    lighter_pages.remove_source_maps(tmp_path)
    assert not (tmp_path / "a.js.map").exists()
    assert (tmp_path / "a.js").read_text() == "var a=1;\n"
    assert (tmp_path / "b.css").read_text() == "p{color:red}\n"
    assert (tmp_path / "c.js").read_text() == "var s = '//# sourceMappingURL=in a string';\nvar c=3;\n"


def test_font_awesome_keeps_only_the_icons_the_site_names(tmp_path):
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "fontawesome.js").write_text(
        '/*! license */(()=>{var p={"42-group":[640,512,[],"e080","M1z"],'
        'github:[496,512,["gh"],"f09b","M2z"]};d("fab",p)})();'
        '(()=>{var c={0:[320,512,[],"30","M3z"],bars:[448,512,["navicon"],"f0c9","M4z"],'
        '"file-pdf":[512,512,[],"f1c1","M5\\"z"]};d("fas",c)})();var core={a:1};')
    (tmp_path / "page.html").write_text(
        '<i class="fa-brands fa-github"></i><span class="fa-solid fa-navicon"></span>')
    (tmp_path / "_static" / "theme.js").write_text('icon.className = "fa-solid fa-file-pdf";')
    assert lighter_pages.subset_fontawesome(tmp_path) == (3, 2)
    assert (scripts / "fontawesome.js").read_text() == (
        '/*! license */(()=>{var p={github:[496,512,["gh"],"f09b","M2z"]};d("fab",p)})();'
        '(()=>{var c={bars:[448,512,["navicon"],"f0c9","M4z"],'
        '"file-pdf":[512,512,[],"f1c1","M5\\"z"]};d("fas",c)})();var core={a:1};')


def test_a_plot_png_becomes_a_lighter_256_colour_png_that_looks_the_same(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=200)
    for k in range(4):
        ax.plot(np.linspace(0, 1, 50), np.linspace(0, 1, 50) ** (k + 1), label=str(k))
    ax.legend()
    path = tmp_path / "plot.png"
    fig.savefig(path)
    plt.close(fig)
    before, size = np.asarray(Image.open(path).convert("RGB"), dtype=int), path.stat().st_size
    assert figures.compress_png(path)
    with Image.open(path) as image:
        assert image.mode == "P" and round(image.info["dpi"][0]) == 200
        after = np.asarray(image.convert("RGB"), dtype=int)
    assert path.stat().st_size < size
    assert np.abs(after - before).mean() <= figures.MAX_MEAN_ERROR
    assert not figures.compress_png(path)                   # already a palette image


def test_a_photo_like_png_is_left_as_it_is(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path)
    assert not figures.compress_png(path)
    assert np.array_equal(np.asarray(Image.open(path)), noise)
