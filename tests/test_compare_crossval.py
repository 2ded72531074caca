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


def test_fold_means_average_each_fold_of_each_repeat():
    scores = np.arange(20.0).reshape(2, 10) ** 2
    means = crossval.fold_means(scores, 5, seeds=[3, 4])
    assert means.shape == (2, 5)
    for r, seed in enumerate([3, 4]):
        expected = [scores[r, test].mean() for _, test in crossval.kfold(10, 5, seed)]
        np.testing.assert_allclose(means[r], expected)
    # every example is in one test fold of each repeat: equal folds average to the mean
    np.testing.assert_allclose(means.mean(axis=1), scores.mean(axis=1))


def test_corrected_repeated_kfold_test_by_hand():
    folds = np.array([[0.10, 0.30, -0.05, 0.20, 0.15],
                      [0.05, 0.25, 0.00, 0.10, 0.35]])
    result = crossval.repeated_kfold_mean(folds)
    d, s2 = folds.mean(), folds.var(ddof=1)
    se = np.sqrt((1 / 10 + 1 / 4) * s2)                    # k = 5, R = 2: n2/n1 = 1/4
    assert result.value == pytest.approx(d)
    assert result.standard_error == pytest.approx(se)
    assert result.t == pytest.approx(d / se)
    assert result.degrees_of_freedom == 9
    assert result.p_value == pytest.approx(2 * stats.t.sf(d / se, 9))
    # the correction widens the naive standard error sqrt(s^2 / (k R)) by sqrt(1 + k R/(k-1))
    assert result.standard_error / np.sqrt(s2 / 10) == pytest.approx(np.sqrt(1 + 10 / 4))


def test_corrected_test_holds_its_size_on_differences_that_are_zero_on_average():
    # Fold values of two equal methods: independent noise per fold (no overlap to correct),
    # so the corrected test is conservative: it rejects at 5% less often than 5%.
    rng = np.random.default_rng(1)
    rejections = np.mean([crossval.repeated_kfold_mean(rng.normal(0, 1, (3, 5))).p_value < 0.05
                          for _ in range(2_000)])
    assert rejections < 0.05


def test_repeated_kfold_bad_input_is_named():
    with pytest.raises(ValueError, match="folds"):
        crossval.repeated_kfold_mean(np.ones(5))
    with pytest.raises(ValueError, match="folds"):
        crossval.repeated_kfold_mean(np.ones((1, 1)))
    with pytest.raises(ValueError, match="folds"):
        crossval.repeated_kfold_mean(np.array([[1.0, np.nan, 2.0]]))
    with pytest.raises(ValueError, match="scores"):
        crossval.fold_means(np.ones(10), 5, [0])
    with pytest.raises(ValueError, match="seeds"):
        crossval.fold_means(np.ones((2, 10)), 5, [0])
