"""mdn_utils.store: keys from the import closure's syntax trees, settings, arrays and versions;
atomic entries. Imports no TensorFlow."""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mdn_utils import store

ROOT = Path(__file__).resolve().parents[1]


def test_the_closure_follows_imports_at_module_level_and_inside_functions():
    closure = store.import_closure("mdn_utils.core.trained")
    # trained -> train (module level) -> loop, model -> params; the packages run on the way
    for module in ("mdn_utils.core.trained", "mdn_utils.core.train", "mdn_utils.core.loop",
                   "mdn_utils.core.model", "mdn_utils.core.params", "mdn_utils.checks",
                   "mdn_utils.store", "mdn_utils", "mdn_utils.core"):
        assert module in closure
    assert not any(m.startswith(("mdn_utils.compare", "mdn_utils.book")) for m in closure)
    # compare.mdn imports core.trained inside a method only
    assert "mdn_utils.core.trained" in store.import_closure("mdn_utils.compare.mdn")


def test_the_remedies_live_bug_is_gone():
    # The comparison's noise-regularised MDN calls rule_of_thumb_noise: its module is keyed.
    assert "mdn_utils.core.train" in store.import_closure("mdn_utils.compare.report")


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package in a folder of its own, to edit and hash in a subprocess."""
    shutil.copytree(ROOT / "mdn_utils", tmp_path / "mdn_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.csv"))
    return tmp_path


def _digest(tree: Path, module: str) -> str:
    code = f"from mdn_utils import store; print(store.code_digest({module!r}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(tree)})
    return out.stdout.strip()


def test_docstrings_and_comments_do_not_change_the_key_but_code_does(package_copy):
    loop = package_copy / "mdn_utils" / "core" / "loop.py"
    before = _digest(package_copy, "mdn_utils.core.trained")
    source = loop.read_text()
    loop.write_text(source.replace('"""The compiled training loop', '"""A reworded docstring')
                    .replace("# the cosine schedule ends", "# a reworded comment: the schedule"))
    assert _digest(package_copy, "mdn_utils.core.trained") == before
    loop.write_text(source.replace("FINAL_LEARNING_RATE_SHARE = 0.01",
                                   "FINAL_LEARNING_RATE_SHARE = 0.02"))
    assert _digest(package_copy, "mdn_utils.core.trained") != before
    # a module the closure does not reach changes nothing
    loop.write_text(source)
    (package_copy / "mdn_utils" / "book" / "plots.py").write_text("x = 1\n")
    assert _digest(package_copy, "mdn_utils.core.trained") == before


def test_the_key_changes_with_kind_settings_arrays_and_versions(monkeypatch):
    base = dict(code=["mdn_utils.checks"], settings={"a": 1}, arrays=[np.zeros(3)])
    key = store.entry_key("thing", **base)
    assert key == store.entry_key("thing", **base)
    assert store.entry_key("other", **base) != key
    assert store.entry_key("thing", **{**base, "settings": {"a": 2}}) != key
    assert store.entry_key("thing", **{**base, "arrays": [np.zeros(3, np.float32)]}) != key
    assert store.entry_key("thing", **{**base, "arrays": [np.zeros((3, 1))]}) != key
    monkeypatch.setattr(store, "package_versions", lambda: {"numpy": "0.0"})
    assert store.entry_key("thing", **base) != key


@pytest.mark.parametrize("call, name", [
    (lambda: store.entry_key("no spaces", code=[], settings={}), "kind"),
    (lambda: store.entry_key("thing", code=[], settings=[1]), "settings"),
    (lambda: store.import_closure("numpy"), "module"),
    (lambda: store.import_closure("mdn_utils.no_such_module"), "module"),
])
def test_bad_input_is_named(call, name):
    with pytest.raises((TypeError, ValueError), match=name):
        call()


def test_entries_are_written_atomically_under_a_private_name(tmp_path, monkeypatch):
    monkeypatch.setenv("MDN_CACHE_DIR", str(tmp_path))
    path = store.entry_path("thing", "ab" * 32, ".json")
    assert path == tmp_path / f"thing-{'ab' * 12}.json"
    seen = []

    def write(partial):
        seen.append(partial)
        assert not path.exists()
        partial.write_text("[1, 2]")

    store.write_atomically(path, write)
    assert store.load_json(path) == [1, 2]
    (partial,) = seen
    assert partial.parent == path.parent and partial.suffix == ".json"
    assert f"-{os.getpid()}." in partial.name and not partial.exists()
    assert store.load_json(tmp_path / "absent.json") is None


def test_a_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "thing-x.json"

    def fail(partial):
        partial.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.write_atomically(path, fail)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("set_dir", [True, False])
def test_store_dir_is_the_variable_or_the_checkout(monkeypatch, tmp_path, set_dir):
    if set_dir:
        monkeypatch.setenv("MDN_CACHE_DIR", str(tmp_path))
        assert store.store_dir() == tmp_path
    else:
        monkeypatch.delenv("MDN_CACHE_DIR", raising=False)
        assert store.store_dir() == ROOT / "_build" / "model_cache"


def test_the_store_imports_no_tensorflow():
    code = textwrap.dedent("""\
        import sys
        from mdn_utils import store
        store.code_digest("mdn_utils.compare.report")
        assert not {"tensorflow", "keras"} & set(sys.modules), sorted(sys.modules)
        """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
