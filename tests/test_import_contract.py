"""The layering of mdn_utils, checked.

Two contracts live in pyproject.toml's ``[tool.importlinter]`` and are checked by
import-linter (``lint-imports`` runs the same ones):

* ``layers``: book > compare > diagnostics > core > problems > checks | store (the two
  bottom modules independent of each other). A subpackage may import those below it,
  never one above it, directly or through a chain of imports.
* ``no-tensorflow-below-core``: diagnostics, problems, checks and store import no TensorFlow,
  TensorFlow Probability or Keras, directly or through other modules, and not even
  inside a function.

The third rule, that no module imports another module's private names (``_name``),
has no import-linter contract type; ``private_imports`` below checks it on the syntax
tree. Each rule is also shown to catch a violation planted in a copy of the package.
"""
import ast
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mdn_utils"


def lint_imports(tree: Path, contract: str) -> subprocess.CompletedProcess:
    """Run import-linter on the package in ``tree`` with ``tree/pyproject.toml``'s contracts.

    A separate process, with ``tree`` first on the path, so the package linted is the one
    in ``tree`` (not the one this test process imported). Raises ``RuntimeError`` if
    import-linter did not get as far as checking (not installed, a bad configuration), so
    that an expected failure below can only be a broken contract.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tree)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
               "lint_imports_command()", "--no-cache", "--no-logo", "--contract", contract,
               str(tree / "pyproject.toml")]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True,
                            timeout=300)
    if result.returncode not in (0, 1) or "Contracts:" not in result.stdout:
        raise RuntimeError(f"import-linter did not check the contracts:\n{result.stderr}")
    return result


def _module_name(path: Path, package_dir: Path) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for an attribute chain of plain names, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def private_imports(package_dir: Path) -> list[str]:
    """Every use, in a module of the package at ``package_dir``, of a private name
    (``_name``, dunders excepted) of another module of the package: ``from m import
    _name``, or ``m._name`` where ``m`` is a module of the package bound by an import.
    Returns lines ``module:line: what``."""
    package = package_dir.name
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        module = _module_name(path, package_dir)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        modules_bound = {}                      # local name -> the package's module it names
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == package:
                        local = alias.asname or alias.name.split(".")[0]
                        modules_bound[local] = alias.name if alias.asname else package
            elif isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:                  # relative: resolve against this module
                    anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                    source = ".".join(anchor + ([node.module] if node.module else []))
                if source.split(".")[0] != package or source == module:
                    continue
                for alias in node.names:
                    if _is_private(alias.name):
                        found.append(f"{module}:{node.lineno}: from {source} import {alias.name}")
                    else:                       # may be a module: record it for m._name
                        modules_bound[alias.asname or alias.name] = f"{source}.{alias.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                base = _dotted(node.value)
                if base is None or base.split(".")[0] not in modules_bound:
                    continue
                head, _, rest = base.partition(".")
                target = modules_bound[head] if head != package else package
                target = f"{target}.{rest}" if rest else target
                if target != module:
                    found.append(f"{module}:{node.lineno}: {base}.{node.attr}")
    return found


# --- the real tree ----------------------------------------------------------------------

@pytest.mark.parametrize("contract", ["layers", "no-tensorflow-below-core"])
def test_the_package_keeps_the_contract(contract):
    result = lint_imports(ROOT, contract)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_another_modules_private_names():
    found = private_imports(ROOT / PACKAGE)
    assert not found, "\n".join(found)


# --- the checks can fail: violations planted in a copy ----------------------------------

@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package and of pyproject.toml, to plant violations in."""
    shutil.copytree(ROOT / PACKAGE, tmp_path / PACKAGE,
                    ignore=shutil.ignore_patterns("__pycache__", "*.csv"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _plant(tree: Path, module: str, source: str) -> None:
    (tree / Path(*module.split("."))).with_suffix(".py").write_text(textwrap.dedent(source))


PLANTED = {
    # diagnostics reaches up to book
    "layers": ({"mdn_utils.diagnostics.planted": "import mdn_utils.book\n"},
               "mdn_utils.diagnostics.planted -> mdn_utils.book"),
    # diagnostics imports TensorFlow lazily, inside a function, and Keras through a module
    # of core (which diagnostics may import)
    "no-tensorflow-below-core": (
        {"mdn_utils.diagnostics.planted": """\
             from mdn_utils.core import planted_keras


             def lazily():
                 import tensorflow
                 return tensorflow
             """,
         "mdn_utils.core.planted_keras": "import keras\n"},
        "mdn_utils.diagnostics.planted -> tensorflow"),
}


@pytest.mark.parametrize("contract", sorted(PLANTED))
def test_a_planted_violation_breaks_the_contract(package_copy, contract):
    plants, reported = PLANTED[contract]
    for module, source in plants.items():
        _plant(package_copy, module, source)
    result = lint_imports(package_copy, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stdout, result.stdout
    if contract == "no-tensorflow-below-core":    # the chain through core is reported too
        assert "mdn_utils.core.planted_keras -> keras" in result.stdout, result.stdout


def test_a_planted_private_import_is_found(package_copy):
    before = set(private_imports(package_copy / PACKAGE))
    _plant(package_copy, "mdn_utils.core.planted", """\
        import mdn_utils.checks
        import mdn_utils.problems.datasets as datasets
        from mdn_utils.checks import _hidden, positive_int
        from ..problems import datasets as data, real
        from . import model


        def uses():
            return (mdn_utils.checks._a, datasets._b, data._c, real._d, model._e,
                    positive_int.__name__, model.__doc__)
        """)
    found = set(private_imports(package_copy / PACKAGE)) - before
    assert found == {
        "mdn_utils.core.planted:3: from mdn_utils.checks import _hidden",
        "mdn_utils.core.planted:9: mdn_utils.checks._a",
        "mdn_utils.core.planted:9: datasets._b",
        "mdn_utils.core.planted:9: data._c",
        "mdn_utils.core.planted:9: real._d",
        "mdn_utils.core.planted:9: model._e",
    }


def test_a_module_may_use_its_own_private_names(package_copy):
    before = set(private_imports(package_copy / PACKAGE))
    _plant(package_copy, "mdn_utils.core.planted", """\
        import numpy as np


        def _helper():
            return np._NoValue


        class Shape:
            def _private(self):
                return self._size, _helper()
        """)
    assert set(private_imports(package_copy / PACKAGE)) == before
