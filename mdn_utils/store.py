"""The library's one store: results computed once, kept on disk under a key of what made them.

    key = sha256(kind; the code: every module of mdn_utils the entry point imports,
                 directly or through others, at module level or inside a function, each
                 as its syntax tree without docstrings; the settings as JSON; each
                 array's dtype, shape and bytes; the installed versions of PACKAGES)

A change to the code that runs, to a setting or to the data gives a new key, so a stale
entry is never read; a change to a comment, a docstring or the layout of a line does not.
No list of files is kept by hand: the modules are found by reading their imports.

An entry is one file ``<kind>-<key[:24]><suffix>`` in a folder: ``store_dir()`` for what
a run computes and may recompute (trained models, the comparison's evaluations), or any
folder the caller names. Files are written under a name
private to the process and renamed into place, so a reader never sees half a file and two
processes writing the same entry never share one. Imports no TensorFlow.

``store_dir()`` is ``$MDN_CACHE_DIR`` if set; else ``_build/model_cache`` in the source
checkout the package was imported from (``make clean`` empties it); else
``~/.cache/mdn-book``.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

PACKAGE = "mdn_utils"
PACKAGE_DIR = Path(__file__).resolve().parent
# Installed packages whose versions can change a stored result.
PACKAGES = ("numpy", "scipy", "statsmodels", "tensorflow", "tensorflow-probability", "keras")


def store_dir() -> Path:
    """The folder of recomputable entries (see the module docstring); not created here."""
    if os.environ.get("MDN_CACHE_DIR"):
        return Path(os.environ["MDN_CACHE_DIR"])
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "_build" / "model_cache"
    return Path.home() / ".cache" / "mdn-book"


# --------------------------------------------------------------------------- the code
def module_file(module: str) -> Path:
    """The source file of a module of the package (``mdn_utils.core.train`` ->
    ``mdn_utils/core/train.py``, a package -> its ``__init__.py``)."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        raise ValueError(f"module must name a module of {PACKAGE}, got {module!r}")
    path = PACKAGE_DIR.joinpath(*module.split(".")[1:])
    if path.is_dir():
        return path / "__init__.py"
    file = path.with_suffix(".py")
    if not file.is_file():
        raise ValueError(f"module {module!r} has no source file in {PACKAGE_DIR}")
    return file


def _is_module(name: str) -> bool:
    path = PACKAGE_DIR.joinpath(*name.split(".")[1:])
    return path.is_dir() or path.with_suffix(".py").is_file()


def _parents(module: str) -> list[str]:
    """The packages Python runs before ``module``: mdn_utils, mdn_utils.core, ..."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imported_modules(module: str) -> set[str]:
    """The modules of the package that ``module``'s source imports anywhere (at module
    level or inside a function): ``from mdn_utils.core import train`` counts as
    ``mdn_utils.core.train``, ``from mdn_utils.core.train import train_mdn`` as
    ``mdn_utils.core.train``; relative imports are resolved."""
    tree = ast.parse(module_file(module).read_text(), filename=str(module_file(module)))
    is_package = module_file(module).name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[:len(module.split(".")) - node.level
                                            + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                while not _is_module(name):           # an attribute of a module
                    name = name.rpartition(".")[0]
                found.add(name)
    return found


def import_closure(*modules: str) -> list[str]:
    """``modules``, every module of the package they import, directly or through others,
    and the packages Python runs on the way (their ``__init__``), sorted."""
    seen, todo = set(), list(modules)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        module_file(module)                           # refuses a name outside the package
        seen.add(module)
        todo.extend(imported_modules(module) | set(_parents(module)))
    return sorted(seen)


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _canonical(node) -> str:
    """A syntax tree as text, the same on every supported Python: node types and the fields
    that are set (``ast.dump``'s text differs between versions, which add fields such as
    ``type_params`` that are empty for code that does not use them)."""
    if isinstance(node, ast.AST):
        fields = [f"{name}={_canonical(value)}" for name in node._fields
                  if (value := getattr(node, name, None)) is not None and value != []]
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return "[" + ", ".join(_canonical(item) for item in node) + "]"
    return repr(node)


def code_digest(*modules: str) -> str:
    """sha256 of the syntax trees (docstrings removed, ``_canonical``) of
    ``import_closure(*modules)``."""
    digest = hashlib.sha256()
    for module in import_closure(*modules):
        tree = _without_docstrings(ast.parse(module_file(module).read_text()))
        digest.update(module.encode())
        digest.update(_canonical(tree).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- keys
def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """The installed version of each package (read from its metadata, not imported), or
    "absent"."""
    versions = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def entry_key(kind: str, *, code: Iterable[str], settings: dict, arrays: Iterable = ()) -> str:
    """Hex sha256 of an entry: its ``kind``, ``code_digest(*code)`` (module names of the
    package), the ``settings`` (JSON with sorted keys; other objects by ``repr``), each
    array's dtype, shape and bytes, and ``package_versions()``."""
    if not isinstance(kind, str) or not kind.isidentifier():
        raise ValueError(f"kind must be a name such as 'mdn', got {kind!r}")
    if not isinstance(settings, dict):
        raise TypeError(f"settings must be a dict, got {type(settings).__name__}")
    code = [code] if isinstance(code, str) else list(code)
    digest = hashlib.sha256(kind.encode())
    digest.update(code_digest(*code).encode())
    digest.update(json.dumps(settings, sort_keys=True, default=repr).encode())
    _update_with_arrays(digest, arrays)
    digest.update(json.dumps(package_versions(), sort_keys=True).encode())
    return digest.hexdigest()


def _update_with_arrays(digest, arrays) -> None:
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str} {array.shape}".encode())
        digest.update(array.tobytes())


def array_digest(*arrays) -> str:
    """Hex sha256 of arrays' dtypes, shapes and bytes, as ``entry_key`` hashes them."""
    digest = hashlib.sha256()
    _update_with_arrays(digest, arrays)
    return digest.hexdigest()


# --------------------------------------------------------------------------- entries
def entry_path(kind: str, key: str, suffix: str, folder: Path | None = None) -> Path:
    """Where the entry ``(kind, key)`` lives: ``folder / f"{kind}-{key[:24]}{suffix}"``,
    ``folder`` defaulting to ``store_dir()``."""
    return Path(folder if folder is not None else store_dir()) / f"{kind}-{key[:24]}{suffix}"


def write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(partial)`` on a name beside ``path`` private to this process (same
    suffix), then rename it to ``path``; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return path


def save_json(path: Path, value) -> Path:
    """Write ``value`` as JSON to ``path`` atomically."""
    return write_atomically(path, lambda partial: partial.write_text(json.dumps(value)))


def load_json(path: Path):
    """The JSON value stored at ``path``, or None when there is no such file."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None
