"""mdn_utils.compare.crossval: k-fold splits and the choice of a setting by validation.
Cheap models only (fixed-bandwidth kernel estimates and a stub): no TensorFlow."""
import numpy as np
import pytest
from scipy import stats

from mdn_utils.compare import KernelConditionalDensity
from mdn_utils.compare import crossval
from mdn_utils.diagnostics import scoring
from mdn_utils.compare.base import ConditionalModel


class MedianOnly(ConditionalModel):
    """Quantiles of N(0, 1) whatever x, nothing else (like quantile regression)."""

    name = "quantiles only"
    unavailable_reason = "it only has quantiles"
    levels = np.array([0.25, 0.5, 0.75])

    def _fit(self, x, y, seed):
        return None

    def _quantiles(self, x, levels):
        return np.broadcast_to(stats.norm.ppf(levels), (len(x), len(levels)))


@pytest.fixture(scope="module")
def line():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 150)
    return x, 2 * x + rng.normal(0, 0.3, 150)


def test_kfold_partitions_the_rows():
    folds = crossval.kfold(23, 5, seed=4)
    tests = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tests), np.arange(23))
    assert sorted(len(test) for _, test in folds) == [4, 4, 5, 5, 5]
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 23
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, crossval.kfold(23, 5, 4)))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, crossval.kfold(23, 5, 5)))


def test_validation_picks_the_sensible_bandwidth(line):
    x, y = line
    candidates = [(0.002, 0.002), (0.3, 0.2), (5.0, 5.0)]
    chosen = crossval.select_by_validation(
        lambda h: KernelConditionalDensity(bandwidth=list(h)), candidates, x, y, seed=0)
    assert chosen.best == (0.3, 0.2)
    assert set(chosen.validation_nll) == set(candidates)
    assert chosen.validation_nll[chosen.best] == min(chosen.validation_nll.values())
    assert chosen.model.fitted and list(chosen.model.bandwidths) == [0.3, 0.2]


def test_bad_input_is_refused_by_name(line):
    x, y = line
    with pytest.raises(ValueError, match="num_folds"):
        crossval.kfold(3, 4)
    with pytest.raises(ValueError, match="num_folds"):
        crossval.kfold(10, 1)
    with pytest.raises(TypeError, match="make_model"):
        crossval.select_by_validation("kde", [1], x, y)
    with pytest.raises(TypeError, match="make_model must return"):
        crossval.select_by_validation(lambda h: "kde", [1], x, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        crossval.select_by_validation(MedianOnly, [1], x, y, validation_fraction=1.5)
    with pytest.raises(ValueError, match="candidates"):
        crossval.select_by_validation(MedianOnly, [], x, y)
    with pytest.raises(TypeError, match="hashable"):
        crossval.select_by_validation(MedianOnly, [[0.1, 0.2]], x, y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        crossval.select_by_validation(MedianOnly, [1], x, np.ones((len(x), 2)))
