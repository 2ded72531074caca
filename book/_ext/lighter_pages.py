"""Sphinx extension: leave out of the built site what no reader's browser asks for.

* **MathJax.** sphinx-mathjax-offline copies the whole MathJax distribution (about 24 MB)
  into ``_static/mathjax``. The pages load ``tex-chtml.js``, which fetches a few TeX
  extensions (``textmacros``, ``boldsymbol``) and the CommonHTML fonts it needs. Kept:
  that script, every TeX extension (MathJax loads one when a page first uses a macro
  from it, so a new macro in a chapter keeps working), the woff-v2 fonts, and what the
  MathJax menu loads when a reader turns on its accessibility tools (``a11y/`` and the
  English and Nemeth speech rules in ``sre/mathmaps``). Everything else (the other
  combined components, SVG output, MathML input, the other languages' speech rules) is
  removed after the copy.
* **Source maps.** The theme ships ``*.map`` files for its scripts and stylesheets; they
  serve only the developer tools. They are removed, with the comments that point to them.
* **The search index on every page.** The template ``templates/layout.html`` drops the
  search tools from every page but the search page (see its comment).
"""
import os
import re
from pathlib import Path

# Paths under _static/mathjax that are kept: a file, or a folder (trailing slash).
MATHJAX_KEEP = (
    "tex-chtml.js",
    "input/tex/extensions/",
    "output/chtml/fonts/woff-v2/",
    "a11y/",
    "sre/mathmaps/base.json",
    "sre/mathmaps/en.json",
    "sre/mathmaps/nemeth.json",
)
_SOURCE_MAP_COMMENT = re.compile(
    r"\n?(?://[#@] sourceMappingURL=\S+[ \t]*|/\*[#@] sourceMappingURL=\S+?[ \t]*\*/)[ \t]*$")


def _kept(relative: str) -> bool:
    return any(relative == keep or (keep.endswith("/") and relative.startswith(keep))
               for keep in MATHJAX_KEEP)


def prune_mathjax(static: Path):
    """Remove from ``static/mathjax`` every file ``MATHJAX_KEEP`` does not name."""
    root = static / "mathjax"
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*"), reverse=True):   # files before their folders
        if path.is_file() and not _kept(path.relative_to(root).as_posix()):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def remove_source_maps(outdir: Path):
    """Delete ``*.map`` files and the ``sourceMappingURL`` comments that name them."""
    for path in outdir.rglob("*.map"):
        path.unlink()
    for path in list(outdir.rglob("*.js")) + list(outdir.rglob("*.css")):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        stripped = _SOURCE_MAP_COMMENT.sub("", text.rstrip("\n"))
        if stripped != text.rstrip("\n"):
            path.write_text(stripped + "\n", encoding="utf-8", errors="surrogateescape")


def _on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    prune_mathjax(outdir / "_static")
    remove_source_maps(outdir)


def _add_templates(app, config):
    config.templates_path = [os.path.join(os.path.dirname(__file__), "templates"),
                             *config.templates_path]


def setup(app):
    app.connect("config-inited", _add_templates)
    # After sphinx-mathjax-offline's copy, which runs at build-finished with the default
    # priority (500).
    app.connect("build-finished", _on_build_finished, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
