"""The documented module lists agree with the tree: book/api.md renders every module of
mdn_utils except the benchmark, which it names (and no module that does not exist), and
each subpackage's docstring names each of its modules (as ``module`` or ``module.name``)."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mdn_utils"
SUBPACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def modules(directory: Path) -> set[str]:
    """Dotted names of the modules (not the packages) under ``directory``."""
    return {".".join(path.relative_to(ROOT).with_suffix("").parts)
            for path in directory.rglob("*.py") if path.name != "__init__.py"}


# Modules the API page names but does not render: the benchmark is a command-line program,
# and its docstrings are not reStructuredText (Sphinx would warn, and the build uses -W).
NOT_RENDERED = {"mdn_utils.book.bench"}


def test_api_page_documents_every_module_and_only_those():
    page = (ROOT / "book" / "api.md").read_text()
    documented = re.findall(r"^\.\. automodule:: (\S+)", page, flags=re.M)
    assert len(documented) == len(set(documented)), "a module is documented twice"
    assert not NOT_RENDERED & set(documented)
    assert all(f"`{name.rsplit('.', 1)[1]}`" in page for name in NOT_RENDERED)
    documented = set(documented) | NOT_RENDERED
    assert documented == modules(PACKAGE), (
        f"missing from api.md: {sorted(modules(PACKAGE) - documented)}; "
        f"in api.md but not in mdn_utils: {sorted(documented - modules(PACKAGE))}")


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_subpackage_docstring_names_its_modules(subpackage):
    init = PACKAGE / subpackage / "__init__.py"
    docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
    missing = [name for name in sorted(m.rsplit(".", 1)[1] for m in modules(init.parent))
               if not re.search(rf"``{name}(``|\.\w)", docstring)]   # ``name`` or ``name.Class``
    assert not missing, f"mdn_utils/{subpackage}/__init__.py's docstring omits {missing}"


def test_package_docstring_names_every_subpackage_and_module():
    docstring = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text())) or ""
    words = set(re.findall(r"\w+", docstring))
    names = {m.split(".")[1] for m in modules(PACKAGE)} | {m.rsplit(".", 1)[1]
                                                          for m in modules(PACKAGE)}
    assert names <= words, f"mdn_utils/__init__.py's docstring omits {sorted(names - words)}"
