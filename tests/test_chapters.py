"""The chapters' sources follow the book's conventions (no build needed)."""
import os
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
import yaml

from test_site import ROOT

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
NOTEBOOKS = [ROOT / (c["file"] + ".ipynb") for part in TOC["parts"] for c in part["chapters"]
             if (ROOT / (c["file"] + ".ipynb")).exists()]
CHAPTERS = [ROOT / (c["file"] + ".ipynb") for part in TOC["parts"] if part.get("numbered")
            for c in part["chapters"] if (ROOT / (c["file"] + ".ipynb")).exists()]


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request):
    return nbformat.read(request.param, as_version=4)


def _markdown(notebook):
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:60]


def test_opens_with_what_you_will_learn_and_ends_with_takeaways_and_exercises(chapter):
    first = next(c.source for c in chapter.cells if c.cell_type == "markdown")
    assert "In this chapter you will learn" in first
    text = _markdown(chapter)
    assert re.search(r"^## Takeaways$", text, re.M) and re.search(r"^## Exercises$", text, re.M)
    assert text.index("## Takeaways") < text.index("## Exercises")


def test_every_figure_cell_has_a_caption_a_name_and_alt_text_and_is_cited(chapter):
    text = _markdown(chapter)
    for cell in chapter.cells:
        if cell.cell_type != "code" or not ("plt.show()" in cell.source or "Image(" in cell.source):
            continue
        meta = cell.metadata.get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        assert figure.get("caption") and figure.get("name"), cell.source[:60]
        assert len(image.get("alt", "")) >= 20, f"{figure.get('name')}: no descriptive alt text"
        assert f"{{numref}}`{figure['name']}`" in text, f"{figure['name']} is never cited"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_downloaded_copy_fetches_the_repository_named_in_the_config(path):
    """The site's "download .ipynb" gives the notebook alone: its first code cell (hidden on
    the site) clones the repository of ``_config.yml`` and installs mdn_utils from it where
    mdn_utils is missing, and is the same cell in every notebook."""
    config_url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    reference = next(c for c in nbformat.read(NOTEBOOKS[0], as_version=4).cells
                     if c.cell_type == "code")
    assert first.source == reference.source
    assert "remove-cell" in first.metadata.get("tags", [])
    assert 'find_spec("mdn_utils") is None' in first.source
    urls = re.findall(r'REPOSITORY = "([^"]+)"', first.source)
    assert urls == [config_url], (urls, config_url)


def test_the_minimal_mdn_of_chapter_4_runs_in_a_fresh_python(tmp_path):
    """A reader's copy: chapter 4's minimal MDN and the cell that samples from it, extracted
    and run in a fresh interpreter where importing mdn_utils fails, at one epoch."""
    cells = {c.get("id"): c.source
             for c in nbformat.read(ROOT / "book" / "04_training.ipynb", as_version=4).cells}
    code = cells["ch04-01b"] + "\n\n" + cells["ch04-01use"]
    assert "mdn_utils" not in code
    assert code.count("K, EPOCHS = 8, 20") == 1
    code = code.replace("K, EPOCHS = 8, 20", "K, EPOCHS = 8, 1")
    script = tmp_path / "minimal_mdn.py"
    script.write_text("import sys\nsys.modules['mdn_utils'] = None   # not installed\n" + code)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    nll = float(re.search(r"validation NLL after 1 epochs: (\S+) nats", run.stdout).group(1))
    assert np.isfinite(nll) and nll < 3.0, run.stdout
    assert "five samples of y" in run.stdout and "density of y = 0" in run.stdout
