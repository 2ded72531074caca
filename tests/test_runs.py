"""Statistics over independent training runs (mdn_utils.diagnostics.runs)."""
import numpy as np
import pytest
from scipy import stats

from mdn_utils.diagnostics import runs


def test_runs_difference_is_scipys_paired_t_test():
    first = np.array([0.10, 0.12, 0.09, 0.15, 0.11])
    second = np.array([0.20, 0.18, 0.25, 0.19, 0.22])
    d = runs.runs_difference(first, second)
    reference = stats.ttest_rel(first, second)
    assert d.t == pytest.approx(reference.statistic)
    assert d.p_value == pytest.approx(reference.pvalue)
    assert d.value == pytest.approx(np.mean(first - second))
    assert d.between_runs_std == pytest.approx(np.std(first - second, ddof=1))
    assert (d.runs, d.runs_first_lower, d.degrees_of_freedom) == (5, 5, 4)
    same = runs.runs_difference(first, first)
    assert (same.value, same.p_value, same.runs_first_lower) == (0.0, 1.0, 0)


@pytest.mark.parametrize("call, message", [
    (lambda: runs.runs_difference([1.0, 2.0], [1.0]), "same runs"),
    (lambda: runs.runs_difference([1.0], [2.0]), "at least 2 runs"),
    (lambda: runs.runs_difference([1.0, np.nan], [2.0, 1.0]), "first"),
    (lambda: runs.holm([]), "p_values"),
    (lambda: runs.holm([0.5, 1.5]), "p_values"),
    (lambda: runs.holm([0.5], alpha=1.0), "alpha"),
])
def test_runs_statistics_name_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_holm_steps_down_and_stops_at_the_first_failure():
    # m = 4: thresholds 0.0125, 0.0167, 0.025, 0.05 for the sorted p-values
    p = [0.03, 0.001, 0.016, 0.04]
    assert runs.holm(p).tolist() == [False, True, True, False]   # 0.03 > 0.025 stops it
    assert runs.holm([0.01, 0.02, 0.03, 0.04]).tolist() == [True, False, False, False]
    assert runs.holm([0.02, 0.001]).tolist() == [True, True]      # 0.02 <= 0.05 / 1
    # never more rejections than the uncorrected test, never fewer than Bonferroni
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.uniform(0, 0.1, size=6)
        rejected = runs.holm(p)
        assert rejected.sum() <= np.sum(p <= 0.05)
        assert rejected.sum() >= np.sum(p <= 0.05 / 6)
