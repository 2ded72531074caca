"""mdn_utils.compare.crossval: k-fold splits, pooled held-out scores, validation choice.
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


def test_cross_validation_pools_every_held_out_example(line):
    x, y = line
    make = lambda: KernelConditionalDensity(bandwidth=[0.3, 0.2])  # noqa: E731
    result = crossval.cross_validate(make, x, y, num_folds=3, seed=1, num_samples=50)
    assert result.method == "kernel CDE" and len(result.fold_nll) == 3
    expected = np.empty(len(y))
    for train, test in crossval.kfold(len(y), 3, 1):
        expected[test] = -make().fit(x[train], y[train]).log_prob(x[test], y[test])
    assert result.nll.value == pytest.approx(expected.mean())
    assert result.nll.standard_error == pytest.approx(expected.std(ddof=1) / np.sqrt(len(y)))
    assert result.nll.n == len(y) and np.isfinite(result.crps.value)
    # a method without a density: NLL unavailable, with the reason; CRPS from quantiles
    limited = crossval.cross_validate(MedianOnly, x, y, num_folds=3)
    assert isinstance(limited.nll, scoring.Unavailable)
    assert "only has quantiles" in limited.nll.reason and np.isfinite(limited.crps.value)


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
        crossval.cross_validate("kde", x, y)
    with pytest.raises(TypeError, match="make_model must return"):
        crossval.cross_validate(lambda: "kde", x, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        crossval.select_by_validation(MedianOnly, [1], x, y, validation_fraction=1.5)
    with pytest.raises(ValueError, match="candidates"):
        crossval.select_by_validation(MedianOnly, [], x, y)
    with pytest.raises(TypeError, match="hashable"):
        crossval.select_by_validation(MedianOnly, [[0.1, 0.2]], x, y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        crossval.cross_validate(MedianOnly, x, np.ones((len(x), 2)))
