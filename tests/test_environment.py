"""environment.yml (Binder, conda, and the Makefile's venv) and pyproject.toml name the same versions."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)$")


def _pins(requirements):
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement.strip())
        assert match, f"not an exact pin: {requirement!r}"
        pins[match.group(1).lower().replace("_", "-")] = match.group(3)
    return pins


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def environment_pip_requirements():
    sections = [d for d in _environment()["dependencies"] if isinstance(d, dict)]
    return sections[0]["pip"]


def test_every_dependency_is_pinned_exactly():
    project = _pyproject()
    _pins(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        _pins(extra)


def test_environment_matches_pyproject():
    """The pip section names the runtime dependencies and the test extra, at the same versions."""
    project = _pyproject()
    declared = {**_pins(project["dependencies"]), **_pins(project["optional-dependencies"]["test"])}
    environment = _pins([r for r in environment_pip_requirements() if not r.startswith("-e")])
    missing = set(declared) - set(environment)
    assert not missing, f"environment.yml lacks {sorted(missing)} (pyproject.toml pins them)"
    for name, version in environment.items():
        assert declared.get(name) == version, (
            f"{name}: environment.yml has {version}, pyproject.toml has {declared.get(name)}")


def test_environment_installs_mdn_utils_and_python_311():
    assert "-e ." in environment_pip_requirements()
    conda = [d for d in _environment()["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda and "pip" in conda
    assert _pyproject()["requires-python"].startswith(">=3.11")
