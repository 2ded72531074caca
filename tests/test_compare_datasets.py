"""The real data shipped with mdn_utils.compare: checksums, contents, packaging."""
import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pytest

from mdn_utils.problems import real as datasets
from mdn_utils.problems.datasets import ArrayDataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("file_name", sorted(datasets.SHA256))
def test_shipped_files_have_the_recorded_checksums(file_name):
    path = datasets.data_path(file_name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == datasets.SHA256[file_name]
    assert datasets.sha256(file_name) == datasets.SHA256[file_name]
    # the README states the same checksum
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    assert datasets.SHA256[file_name] in readme


def test_old_faithful_rows_and_columns():
    faithful = datasets.old_faithful()
    assert isinstance(faithful, ArrayDataset)
    assert (len(faithful), faithful.x_dim, faithful.y_dim) == (272, 1, 1)
    assert faithful.log_density is None
    x, y = faithful.sample(272, seed=0)
    # first row of R's faithful: eruptions 3.6, waiting 79 (x = waiting, y = eruptions)
    first = np.flatnonzero((x == 79) & np.isclose(y, 3.6))
    assert len(first) >= 1
    assert faithful.x_range == (43.0, 96.0)
    assert faithful.y_range == pytest.approx((1.6, 5.1))
    # bimodal durations: few eruptions between 2.5 and 3 minutes, many on either side
    assert np.mean((y > 2.5) & (y < 3.0)) < 0.06
    assert np.mean(y < 2.5) > 0.3 and np.mean(y > 3.0) > 0.5


def test_motorcycle_rows_and_columns():
    crash = datasets.motorcycle()
    assert (len(crash), crash.x_dim, crash.y_dim) == (133, 1, 1)
    x, y = crash.sample(133, seed=0)
    assert crash.x_range == pytest.approx((2.4, 57.6))
    assert crash.y_range == pytest.approx((-134.0, 75.0))
    # heteroscedastic: almost no spread before 14 ms, tens of g after 20 ms
    assert np.std(y[x < 14]) < 3 < 20 < np.std(y[(x > 20) & (x < 40)])


def test_bad_names_are_refused_by_name():
    with pytest.raises(ValueError, match="name"):
        datasets.load("iris")
    with pytest.raises(TypeError, match="name"):
        datasets.load(3)
    with pytest.raises(ValueError, match="file_name"):
        datasets.data_path("../pyproject.toml")


def test_package_data_is_declared_for_installs():
    """A regular (non-editable) install must carry the subpackage and its CSV files."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "mdn_utils.problems" in tool["packages"]
    patterns = tool["package-data"]["mdn_utils.problems"]
    shipped = [p.relative_to(ROOT / "mdn_utils" / "problems").as_posix()
               for p in (ROOT / "mdn_utils" / "problems" / "data").iterdir()]
    for name in shipped:
        assert any(Path(name).match(pattern) for pattern in patterns), name
