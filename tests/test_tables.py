"""Numbered, captioned tables: MyST for the site, HTML for Jupyter, bad input named."""
import pytest
from IPython.core.formatters import DisplayFormatter

from mdn_utils.book.tables import Table


def test_markdown_is_a_myst_table_directive_with_caption_and_name():
    table = Table(["a", "b"], [["1", "x | y"]], caption="Two `columns`.", name="tbl-two")
    assert table._repr_markdown_().splitlines() == [
        "~~~{table} Two `columns`.", ":name: tbl-two", "", "| a | b |", "| --- | --- |",
        "| 1 | x \\| y |", "~~~"]


def test_jupyter_gets_both_representations_and_the_html_is_escaped():
    table = Table(["<a>", "b"], [["`c`", "2 ± 1"]], caption="A & B", name="tbl-x")
    data, _ = DisplayFormatter().format(table)
    assert {"text/markdown", "text/html"} <= set(data)
    page = data["text/html"]
    assert '<table id="tbl-x"><caption>A &amp; B</caption>' in page
    assert "<th>&lt;a&gt;</th>" in page and "<td><code>c</code></td>" in page


@pytest.mark.parametrize("kwargs, message", [
    (dict(headers=["a"], rows=[["1", "2"]]), "each row must have 1 cells"),
    (dict(headers=[], rows=[]), "headers must name"),
    (dict(caption=""), "caption must be"),
    (dict(caption="two\nlines"), "caption must be"),
    (dict(caption=None), "caption must be"),
    (dict(name="Table 1"), "name must be"),
    (dict(name="1-table"), "name must be"),
])
def test_bad_input_is_named(kwargs, message):
    arguments = dict(headers=["a"], rows=[["1"]], caption="A table.", name="tbl-a") | kwargs
    with pytest.raises(ValueError, match=message):
        Table(**arguments)
