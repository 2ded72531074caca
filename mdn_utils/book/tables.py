"""Markdown tables for the chapters (rendered by MyST on the site, by Jupyter in Binder)."""
from __future__ import annotations

from IPython.display import Markdown


def markdown_table(headers, rows) -> Markdown:
    """A Markdown table from column headers and rows of already formatted cells."""
    headers = [str(h) for h in headers]
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    for row in rows:
        cells = [str(c).replace("|", "\\|") for c in row]
        if len(cells) != len(headers):
            raise ValueError(f"each row must have {len(headers)} cells, got {len(cells)}: {row!r}")
        lines.append("| " + " | ".join(cells) + " |")
    return Markdown("\n".join(lines))
