"""The book's stored experiments, one module each (``mdn_utils.book.results`` runs, stores
and reads them). Each module has ``SETTINGS``, ``SMOKE`` and ``run(settings, progress)``."""
