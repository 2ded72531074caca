"""Binder readiness: the environment these tests run in is the one Binder builds.

The Makefile makes its virtual environment from environment.yml's pip section alone
(Binder does the same inside conda's Python 3.11). This checks that the running
environment holds every requirement of that section at its pinned version and NOTHING
else beyond what those requirements pull in, so every chapter nbval executes here
would run in Binder's environment too. (Until 2026-11 a second environment was built
here for one chapter: three minutes of the suite for a subset of this check.)
"""
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from test_environment import ROOT, environment_pip_requirements

# A venv starts with these (setuptools up to Python 3.11; from 3.12 TensorFlow's
# requirements bring it); pip itself is upgraded by make.
VENV_BASE = {"pip", "setuptools", "wheel"}


def _site_packages():
    """The environment's own install folders (for a venv: its site-packages)."""
    return list(dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib")))


def _installed():
    """The distributions installed in the running environment, by canonical name.

    Only its site-packages are read, not every folder on sys.path: importing setuptools
    (>= 71; Python 3.12 and 3.13 venvs get a recent one, 3.11's venv ships 65.5) appends its
    ``setuptools/_vendor`` folder to sys.path, whose metadata (jaraco.*, autocommand,
    more-itertools, tomli, an older importlib-metadata ...) would otherwise be listed as
    installed, and its importlib-metadata would hide the installed one and its requirements.
    Where a name occurs twice, the first found wins, as for an import.
    """
    found = {}
    for dist in metadata.distributions(path=_site_packages()):
        found.setdefault(canonicalize_name(dist.metadata["Name"]), dist)
    return found


def _closure(names, installed):
    """Names of the installed distributions ``names`` require, transitively.

    Markers are evaluated for the running interpreter (packaging's default environment:
    its Python version, platform ...), with the extras each requirement asked for, so the
    closure is the one pip resolved for this Python.
    """
    wanted = [(canonicalize_name(n), frozenset()) for n in names]
    seen = set()
    while wanted:
        name, extras = wanted.pop()
        if (name, extras) in seen or name not in installed:
            continue
        seen.add((name, extras))
        for line in installed[name].requires or []:
            requirement = Requirement(line)
            marker_ok = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""}))
            if marker_ok:
                wanted.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return {name for name, _ in seen}


def _section():
    pins = {}
    for line in environment_pip_requirements():
        if line == "-e .":
            pins["mdn-utils"] = None
        else:
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return pins


def test_every_requirement_of_environment_yml_is_installed_at_its_pin():
    installed = _installed()
    for name, version in _section().items():
        assert name in installed, f"{name} (environment.yml) is not installed in {sys.prefix}"
        if version is not None:
            assert installed[name].version == version, (
                f"{name}: installed {installed[name].version}, environment.yml pins {version}")


def test_mdn_utils_is_the_editable_checkout():
    import mdn_utils
    assert Path(mdn_utils.__file__).resolve().is_relative_to(ROOT)


def test_environment_holds_nothing_that_environment_yml_does_not_require():
    installed = _installed()
    needed = _closure(_section(), installed) | VENV_BASE
    extra = sorted(set(installed) - needed)
    assert not extra, (
        f"{sys.prefix} holds {extra}, which environment.yml's pip section does not require: a chapter "
        "could depend on them and fail in Binder. Add them to environment.yml and pyproject.toml, or "
        "remove the virtual environment and run make again.")


def test_closure_follows_requirements_and_their_markers():
    """The check above can fail: a package outside the closure is found."""
    installed = _installed()
    closure = _closure(["nbval"], installed)
    assert {"nbval", "pytest", "ipykernel", "jupyter-client"} <= closure
    assert "tensorflow" not in closure


def test_installed_ignores_metadata_on_sys_path_outside_the_environment(tmp_path, monkeypatch):
    """A folder of package metadata put on sys.path (as setuptools does with its vendored
    copies when imported) is not part of the environment, and cannot shadow what is."""
    for name, version in [("not-in-the-environment", "1.0"), ("packaging", "0.0.1")]:
        info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert any(d.metadata["Name"] == "not-in-the-environment" for d in metadata.distributions())
    installed = _installed()
    assert "not-in-the-environment" not in installed
    assert installed["packaging"].version != "0.0.1"


def test_the_environment_check_holds_after_setuptools_is_imported():
    """On Python 3.12 and 3.13 importing setuptools (TensorFlow and other packages do) put
    its vendored packages on sys.path, and the check above reported them as unrequired."""
    import setuptools  # noqa: F401  (the import is the point)
    test_environment_holds_nothing_that_environment_yml_does_not_require()
