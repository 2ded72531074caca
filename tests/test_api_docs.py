"""The documented module lists agree with the tree: book/api.md documents every module of
mdn_utils (and no module that does not exist), and each subpackage's docstring names each
of its modules (as ``module`` or ``module.name``)."""
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


def test_api_page_documents_every_module_and_only_those():
    documented = re.findall(r"^\.\. automodule:: (\S+)", (ROOT / "book" / "api.md").read_text(),
                            flags=re.M)
    assert len(documented) == len(set(documented)), "a module is documented twice"
    assert set(documented) == modules(PACKAGE), (
        f"missing from api.md: {sorted(modules(PACKAGE) - set(documented))}; "
        f"in api.md but not in mdn_utils: {sorted(set(documented) - modules(PACKAGE))}")


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
