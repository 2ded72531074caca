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
* **Font Awesome.** The theme's ``scripts/fontawesome.js`` (1.5 MB) holds the Font Awesome
  library and all of its about 2,000 free icons, of which the site shows about twenty. The
  icon tables are cut down to the icons that a page or a script of the site names
  (``fa-bars``, ``fa-github``, ...); the library code is kept as it is.
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


# The start of an object literal whose first entry is an icon: name: [width, height, [aliases], ...
_ICON_TABLE = re.compile(r'\{(?:"[a-z0-9-]+"|[a-z0-9]+):\[\d+,\d+,\[')
_ICON_NAME = re.compile(r"\bfa-([a-z0-9]+(?:-[a-z0-9]+)*)")


def _scan(text, start, closing):
    """Index just past the bracket that closes the one at ``start`` (strings skipped), and
    the top-level comma positions inside it."""
    depth, i, commas = 0, start, []
    while True:
        char = text[i]
        if char == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth == 0:
                assert char == closing, (char, closing, i)
                return i + 1, commas
        elif char == "," and depth == 1:
            commas.append(i)
        i += 1


def _names_in(entry):
    """The icon's name and its aliases, from ``name:[w,h,["alias",...],...]``."""
    key, value = entry.split(":", 1)
    aliases = value[value.index("[", 1) + 1:value.index("]")]
    return {key.strip('"'), *re.findall(r'"([^"]+)"', aliases)}


def subset_fontawesome(outdir: Path):
    """Keep in ``_static/scripts/fontawesome.js`` only the icons some page or script of the
    site names as ``fa-NAME``; return (icons kept, icons removed)."""
    path = outdir / "_static" / "scripts" / "fontawesome.js"
    if not path.is_file():
        return 0, 0
    named = set()
    for page in outdir.rglob("*.html"):
        named |= set(_ICON_NAME.findall(page.read_text(encoding="utf-8", errors="replace")))
    for script in (outdir / "_static").rglob("*.js"):
        if script != path and "mathjax" not in script.parts:
            named |= set(_ICON_NAME.findall(script.read_text(encoding="utf-8", errors="replace")))
    text = path.read_text(encoding="utf-8")
    pieces, position, kept, removed = [], 0, 0, 0
    for match in _ICON_TABLE.finditer(text):
        if match.start() < position:
            continue
        end, commas = _scan(text, match.start(), "}")
        bounds = [match.start(), *commas, end - 1]
        entries = [text[a + 1:b] for a, b in zip(bounds, bounds[1:])]
        chosen = [e for e in entries if _names_in(e) & named]
        kept, removed = kept + len(chosen), removed + len(entries) - len(chosen)
        pieces += [text[position:match.start()], "{" + ",".join(chosen) + "}"]
        position = end
    path.write_text("".join(pieces) + text[position:], encoding="utf-8")
    return kept, removed


def _on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    prune_mathjax(outdir / "_static")
    remove_source_maps(outdir)
    subset_fontawesome(outdir)


def _add_templates(app, config):
    config.templates_path = [os.path.join(os.path.dirname(__file__), "templates"),
                             *config.templates_path]


def setup(app):
    app.connect("config-inited", _add_templates)
    # After sphinx-mathjax-offline's copy, which runs at build-finished with the default
    # priority (500).
    app.connect("build-finished", _on_build_finished, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
