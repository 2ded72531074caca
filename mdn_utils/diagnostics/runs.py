"""Statistics over independent training runs: a method trained R times (a new sample of
training pairs, initialisation and minibatches each time) gives R scores, and the spread
between them is the variation a single run does not show.

* ``runs_difference``: the paired t-test of two methods' per-run scores.
* ``holm``: Holm's step-down correction, for a page that makes many such tests.

NumPy and SciPy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from mdn_utils import checks


@dataclass(frozen=True)
class RunsDifference:
    """first - second over R independent training runs, paired by run: ``value`` the mean
    of the R differences d_r, ``between_runs_std`` their standard deviation s (ddof 1),
    ``standard_error`` s / sqrt(R), ``t`` = value / standard_error on R - 1
    ``degrees_of_freedom``, the two-sided ``p_value`` of a zero mean, and in how many of
    the ``runs`` first was lower (``runs_first_lower``)."""

    value: float
    between_runs_std: float
    standard_error: float
    t: float
    degrees_of_freedom: int
    p_value: float
    runs: int
    runs_first_lower: int


def runs_difference(first, second) -> RunsDifference:
    """The paired t-test of two methods' scores over the same independent runs: ``first[r]``
    and ``second[r]`` are their mean scores in run r (the same training pairs and seed for
    both, a new sample and seed for each r)."""
    first = checks.finite_array("first", first, ndim=1)
    second = checks.finite_array("second", second, ndim=1)
    if first.shape != second.shape:
        raise ValueError(f"first and second must be scores of the same runs, got shapes "
                         f"{first.shape} and {second.shape}")
    if len(first) < 2:
        raise ValueError(f"first and second need at least 2 runs, got {len(first)}")
    differences = first - second
    runs = len(differences)
    std = float(differences.std(ddof=1))
    error = std / np.sqrt(runs)
    value = float(differences.mean())
    if error == 0:
        t = 0.0 if value == 0 else float(np.copysign(np.inf, value))
    else:
        t = value / error
    return RunsDifference(value, std, float(error), float(t), runs - 1,
                          float(2 * stats.t.sf(abs(t), runs - 1)), runs,
                          int(np.sum(differences < 0)))


def holm(p_values, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down procedure (Scand. J. Statist. 6, 65-70, 1979,
    https://www.jstor.org/stable/4615733): with the m p-values sorted, p_(1) <= ... <=
    p_(m), reject the hypotheses of p_(1), ..., p_(j) for the largest j such that p_(i) <=
    alpha / (m - i + 1) for every i <= j. The chance of rejecting any true hypothesis is
    at most alpha, whatever the dependence between the tests. Returns a boolean array, in
    the order given: True where the hypothesis is rejected."""
    p = checks.finite_array("p_values", p_values, ndim=1)
    if len(p) == 0 or np.any((p < 0) | (p > 1)):
        raise ValueError("p_values must be a non-empty list of numbers in [0, 1]")
    alpha = checks.positive_float("alpha", alpha)
    if alpha >= 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    order = np.argsort(p, kind="stable")
    thresholds = alpha / (len(p) - np.arange(len(p)))
    passing = p[order] <= thresholds
    count = len(p) if passing.all() else int(np.argmin(passing))
    rejected = np.zeros(len(p), bool)
    rejected[order[:count]] = True
    return rejected
