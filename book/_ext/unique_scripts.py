"""Sphinx extension: drop repeated <script> entries from every page.

Under Jupyter Book 1, sphinx-thebe registers its inline configuration script twice, so
each page declared ``const THEBE_JS_URL`` twice and the browser reported a SyntaxError.
Keeping the first of identical entries removes the error and changes nothing else.
"""


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        filename = getattr(script, "filename", script) or ""  # None and "" both mean inline
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique  # in place: later handlers append to this list


def setup(app):
    # Early: html-page-context stops at the first handler that returns a template name.
    app.connect("html-page-context", _unique_scripts, priority=1)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
