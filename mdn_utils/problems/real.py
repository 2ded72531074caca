"""Real data shipped with the package: small CSV files in ``mdn_utils/problems/data/``.

* ``old_faithful()``: 272 eruptions of the Old Faithful geyser (R's ``datasets::faithful``):
  x = ``waiting`` (minutes), y = ``eruptions`` (duration, minutes). p(y | x) is bimodal for
  waiting times around 70 minutes (short and long eruptions).
* ``motorcycle()``: 133 measurements from a simulated motorcycle crash (R's ``MASS::mcycle``):
  x = ``times`` (ms after impact), y = ``accel`` (head acceleration, g). The noise is
  strongly heteroscedastic: almost none before about 15 ms, tens of g later.

Both load as ``mdn_utils.problems.datasets.ArrayDataset`` (no exact density: compare models by held-out
NLL, for example by k-fold cross-validation). Where the files come from, their licences
and their sha256 checksums: ``data/README.md`` beside this module (``SHA256`` holds the
same checksums; the tests compare them with the files).
"""
from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from mdn_utils import checks
from mdn_utils.problems.datasets import ArrayDataset

# file name -> (x column, y column, sha256 of the shipped file)
FILES = {
    "old_faithful": ("old_faithful.csv", "waiting", "eruptions"),
    "motorcycle": ("motorcycle.csv", "times", "accel"),
}
SHA256 = {
    "old_faithful.csv": "d40b983752ab7ec0b15b740089c3ca7b7b59d0c7433a029a1714d134de1e8d14",
    "motorcycle.csv": "93d06e3d834a5c21056b40f16fcd03c4384acff5020e273453d5cd62d730f0c8",
}


def data_path(file_name: str) -> Path:
    """The path of a shipped data file (works for editable and regular installs)."""
    checks.one_of("file_name", file_name, SHA256)
    path = Path(str(resources.files("mdn_utils.problems") / "data" / file_name))
    if not path.is_file():
        raise FileNotFoundError(f"{file_name} is missing from the installed package at {path}; "
                                "reinstall mdn_utils (its package data includes data/*.csv)")
    return path


def sha256(file_name: str) -> str:
    """The sha256 hex digest of a shipped data file's bytes."""
    return hashlib.sha256(data_path(file_name).read_bytes()).hexdigest()


def load(name: str) -> ArrayDataset:
    """A shipped real data set by name (one of ``FILES``), as an ``ArrayDataset``."""
    checks.one_of("name", name, FILES)
    file_name, x_column, y_column = FILES[name]
    return ArrayDataset.from_csv(data_path(file_name), x_column, y_column, name=name)


def old_faithful() -> ArrayDataset:
    """Old Faithful: x = waiting time (min), y = eruption duration (min); 272 rows."""
    return load("old_faithful")


def motorcycle() -> ArrayDataset:
    """Motorcycle crash (MASS::mcycle): x = time after impact (ms), y = head acceleration
    (g); 133 rows."""
    return load("motorcycle")
