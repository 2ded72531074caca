"""What only the book needs: figures (``plots``, ``interactive``), Markdown tables, the
store of trained models (``cache``), the small-data remedies of chapter 12 and the
speed benchmark (``bench``)."""
