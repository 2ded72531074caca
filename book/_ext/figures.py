"""Sphinx extension: how the chapters' figures and numbers appear on the site.

* **Figures at their size in inches.** A PNG that records its resolution (matplotlib writes
  it; book/matplotlibrc sets 200 pixels per inch) is shown at 96 CSS pixels per inch of
  the figure, so its fonts appear at their point size; a narrower column scales the
  figure down (``max-width: 100%`` in book/_static/mdn-site.css). An image without a
  recorded resolution is shown at one CSS pixel per pixel. Giving the image a width also
  makes Sphinx link it to its full-size file (``html_scaled_image_link``, on by default),
  so a reader on a phone can open a figure and zoom into it.
* **Animations that can be stilled.** An animated GIF is written inside a ``<picture>``
  whose ``<source>`` holds a still PNG of the GIF's first frame for readers whose system
  asks for reduced motion (``prefers-reduced-motion: reduce``); book/_static/mdn-site.js
  adds a button that pauses and restarts the animation.
* **Lighter PNGs.** After the build, each PNG among the site's images whose 256-colour
  version differs from it by at most ``MAX_MEAN_ERROR`` (of 255, averaged over pixels and
  channels) is replaced by that version, if smaller. Plots are mostly flat colour and
  anti-aliased edges: this keeps them as they look at about 40% of the bytes.
* **"x ± y" on one line.** The spaces around "±" in the text (tables included) become
  no-break spaces, so "2.986 ± 0.018" never wraps inside a narrow table cell; so do the
  spaces that tie a number to its interval or statistic ("0.90 [0.87, 0.91]",
  "49.64% (-1.6)") and to its unit of millions ("0.29 M").
"""
import io
import os
import posixpath
import re
from pathlib import Path

import numpy as np
from docutils import nodes
from PIL import Image

CSS_PIXELS_PER_INCH = 96
MAX_MEAN_ERROR = 0.5
STILL_SUFFIX = "-still.png"
_NO_BREAK = "\u00a0"
_SPACE_BEFORE_PLUS_MINUS = re.compile(r"[ \t\n]+±")
_SPACE_AFTER_PLUS_MINUS = re.compile(r"±[ \t\n]+")
# A number and what belongs to it: its interval in brackets, a number in parentheses after
# it, "M" for millions.
_NUMBER = r"-?\d[\d.,]*%?"
_NUMBER_GROUPS = [
    (re.compile(rf"({_NUMBER})[ \t\n]+(\[{_NUMBER},)"), "\\1" + _NO_BREAK + "\\2"),
    (re.compile(rf"(\[{_NUMBER},)[ \t\n]+({_NUMBER}\])"), "\\1" + _NO_BREAK + "\\2"),
    (re.compile(rf"({_NUMBER})[ \t\n]+(\({_NUMBER}\))"), "\\1" + _NO_BREAK + "\\2"),
    (re.compile(rf"({_NUMBER})[ \t\n]+(M\b)"), "\\1" + _NO_BREAK + "\\2"),
]
# Text that is shown as written: code, math, raw HTML.
_VERBATIM = (nodes.FixedTextElement, nodes.literal, nodes.math, nodes.raw)


def _source_file(app, node):
    uri = node.get("candidates", {}).get("*") or node.get("uri", "")
    if not uri or "://" in uri or uri.startswith("data:"):
        return None
    path = os.path.join(app.srcdir, uri)
    return path if os.path.isfile(path) else None


def _display_width(image):
    """CSS pixels: the figure's width in inches at 96 px per inch, or its pixel width."""
    dpi = image.info.get("dpi")
    if dpi and dpi[0] and dpi[0] > 1:
        return round(image.width * CSS_PIXELS_PER_INCH / float(dpi[0]))
    return image.width


def _write_still(app, gif, source):
    """Save the first frame of an animated GIF as a PNG among the site's images; its name."""
    name = os.path.splitext(os.path.basename(source))[0] + STILL_SUFFIX
    folder = os.path.join(app.outdir, app.builder.imagedir)
    os.makedirs(folder, exist_ok=True)
    gif.seek(0)
    frame = gif.convert("RGB")
    frame.quantize(colors=256, dither=Image.Dither.NONE).save(
        os.path.join(folder, name), optimize=True)
    return name


def _size_images(app, doctree):
    for node in doctree.findall(nodes.image):
        source = _source_file(app, node)
        if source is None:
            continue
        with Image.open(source) as image:
            if not any(key in node for key in ("width", "height", "scale")):
                node["width"] = f"{_display_width(image)}px"
            if getattr(image, "n_frames", 1) > 1 and image.format == "GIF":
                node["mdn_still"] = _write_still(app, image, source)


def _keep_plus_minus_together(doctree):
    """Make the spaces around each "±" no-break spaces, also where the "±" ends or starts a
    text node and the space is in the neighbouring one of the same paragraph (a line break
    in the Markdown source, or a glued number after it)."""
    texts = [t for t in doctree.findall(nodes.Text)
             if not any(isinstance(a, _VERBATIM) for a in _ancestors(t))]
    for i, text in enumerate(texts):
        if "±" not in text:
            continue
        joined = _SPACE_BEFORE_PLUS_MINUS.sub(_NO_BREAK + "±", str(text))
        joined = _SPACE_AFTER_PLUS_MINUS.sub("±" + _NO_BREAK, joined)
        texts[i] = _replace(text, joined)
        if joined.endswith("±") and i + 1 < len(texts) \
                and _paragraph(texts[i + 1]) is _paragraph(texts[i]):
            after = str(texts[i + 1])
            texts[i + 1] = _replace(texts[i + 1], re.sub(r"^[ \t\n]+", _NO_BREAK, after))
        if joined.startswith("±") and i > 0 and _paragraph(texts[i - 1]) is _paragraph(texts[i]):
            before = str(texts[i - 1])
            texts[i - 1] = _replace(texts[i - 1], re.sub(r"[ \t\n]+$", _NO_BREAK, before))


def _keep_number_groups_together(doctree):
    """No-break spaces inside each of ``_NUMBER_GROUPS`` within one text node."""
    for text in list(doctree.findall(nodes.Text)):
        if any(isinstance(a, _VERBATIM) for a in _ancestors(text)):
            continue
        joined = str(text)
        for pattern, replacement in _NUMBER_GROUPS:
            joined = pattern.sub(replacement, joined)
        _replace(text, joined)


def _replace(text, new):
    if new == str(text):
        return text
    replacement = nodes.Text(new)
    parent = text.parent
    # By identity: Text nodes are strings, and Element.replace() would take the first
    # child equal to this one, which may be another "\n" earlier in the paragraph.
    parent[next(i for i, child in enumerate(parent.children) if child is text)] = replacement
    return replacement


def _paragraph(node):
    """The nearest enclosing element that holds running text (a paragraph, a table cell's
    paragraph, a caption), not an inline element inside it."""
    return next((a for a in _ancestors(node)
                 if isinstance(a, nodes.TextElement) and not isinstance(a, nodes.Inline)), None)


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _on_doctree_resolved(app, doctree, docname):
    if app.builder.format != "html":
        return
    _size_images(app, doctree)
    _keep_plus_minus_together(doctree)
    _keep_number_groups_together(doctree)


def compress_png(path: Path) -> bool:
    """Replace the opaque PNG at ``path`` by its 256-colour version (median cut, no
    dithering, the resolution kept) when that is within ``MAX_MEAN_ERROR`` of it and
    smaller; return whether it was replaced."""
    with Image.open(path) as image:
        image.load()
        if image.format != "PNG" or image.mode not in ("RGB", "RGBA"):
            return False
        if image.mode == "RGBA" and image.getextrema()[3][0] < 255:
            return False
        rgb, dpi = image.convert("RGB"), image.info.get("dpi")
    reduced = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    error = np.abs(np.asarray(reduced.convert("RGB"), dtype=np.int16)
                   - np.asarray(rgb, dtype=np.int16)).mean()
    if error > MAX_MEAN_ERROR:
        return False
    buffer = io.BytesIO()
    reduced.save(buffer, format="PNG", optimize=True, **({"dpi": dpi} if dpi else {}))
    if buffer.tell() >= path.stat().st_size:
        return False
    path.write_bytes(buffer.getvalue())
    return True


def _on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in sorted((Path(app.outdir) / app.builder.imagedir).glob("*.png")):
        compress_png(path)


def _visit_image(self, node):
    still = node.get("mdn_still")
    if still:
        srcset = posixpath.join(self.builder.imgpath, still)
        self.body.append('<picture class="mdn-animation">'
                         '<source media="(prefers-reduced-motion: reduce)" '
                         f'srcset="{srcset}" type="image/png">')
    type(self).visit_image(self, node)


def _depart_image(self, node):
    type(self).depart_image(self, node)
    if node.get("mdn_still"):
        self.body.append("</picture>")


def setup(app):
    app.connect("doctree-resolved", _on_doctree_resolved)
    app.connect("build-finished", _on_build_finished)
    app.add_node(nodes.image, override=True, html=(_visit_image, _depart_image))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
