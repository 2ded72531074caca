"""Numbered, captioned tables for the chapters.

A table is displayed with two representations of the same rows:

* ``text/markdown``: a MyST ``{table}`` directive (caption, name, Markdown table). The site
  parses Markdown outputs as MyST (``nb_render_markdown_format: myst`` in ``_config.yml``)
  and prefers them to HTML (``nb_mime_priority_overrides``), so the table is numbered
  ("Table 9.1"), captioned and can be cited from the text with ``{numref}`name```;
* ``text/html``: the same table with its caption, for Jupyter (and Binder), which prefers
  HTML and would show a MyST directive as code.
"""
from __future__ import annotations

import html
import re

_CODE = re.compile(r"`([^`]+)`")
_NAME = re.compile(r"[a-z][a-z0-9-]*")


class Table:
    """A table of already formatted cells with a caption and a name to cite it by.

    ``headers`` is a sequence of column titles, ``rows`` a sequence of rows with one cell
    per header; cells and caption are Markdown (inline code in backticks, maths in $...$).
    ``name`` is the label for ``{numref}``: lower-case letters, digits and '-', starting
    with a letter (by the book's convention it starts with ``tbl-``).
    """

    def __init__(self, headers, rows, caption: str, name: str):
        if not isinstance(caption, str) or not caption.strip() or "\n" in caption:
            raise ValueError(f"caption must be a one-line, non-empty str, got {caption!r}")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError("name must be lower-case letters, digits and '-', starting with a "
                             f"letter, got {name!r}")
        self.headers = [str(h) for h in headers]
        if not self.headers:
            raise ValueError("headers must name at least one column")
        self.rows = []
        for row in rows:
            cells = [str(c) for c in row]
            if len(cells) != len(self.headers):
                raise ValueError(f"each row must have {len(self.headers)} cells, "
                                 f"got {len(cells)}: {row!r}")
            self.rows.append(cells)
        self.caption, self.name = caption.strip(), name

    def markdown(self) -> str:
        """The Markdown table alone: one line per row, '|' inside a cell escaped."""
        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        return "\n".join([line(self.headers), "|" + " --- |" * len(self.headers)]
                         + [line(row) for row in self.rows])

    def _repr_markdown_(self) -> str:
        # A tilde fence: a backtick fence may not hold backticks in its caption line.
        return f"~~~{{table}} {self.caption}\n:name: {self.name}\n\n{self.markdown()}\n~~~\n"

    def _repr_html_(self) -> str:
        def inline(text):
            return _CODE.sub(r"<code>\1</code>", html.escape(text))

        def line(cells, tag):
            return "<tr>" + "".join(f"<{tag}>{inline(c)}</{tag}>" for c in cells) + "</tr>"
        return (f'<table id="{self.name}"><caption>{inline(self.caption)}</caption>'
                f"<thead>{line(self.headers, 'th')}</thead>"
                f"<tbody>{''.join(line(row, 'td') for row in self.rows)}</tbody></table>")

