"""Binder readiness: the environment these tests run in is the one Binder builds.

The Makefile makes its virtual environment from environment.yml's pip section alone
(Binder does the same inside conda's Python 3.11). This checks that the running
environment holds every requirement of that section at its pinned version and NOTHING
else beyond what those requirements pull in, so every chapter nbval executes here
would run in Binder's environment too. (Until 2026-11 a second environment was built
here for one chapter: three minutes of the suite for a subset of this check.)
"""
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from test_environment import ROOT, environment_pip_requirements

# A venv starts with these (setuptools up to Python 3.11); pip itself is upgraded by make.
VENV_BASE = {"pip", "setuptools", "wheel"}


def _installed():
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}


def _closure(names, installed):
    """Names of the installed distributions ``names`` require, transitively (markers evaluated)."""
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
