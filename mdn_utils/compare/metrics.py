"""The comparison's metrics, for any ``base.ConditionalModel`` (1-D y).

* ``nll``: test NLL, mean_i -log p(y_i | x_i), with its standard error std / sqrt(n).
* ``gap_to_floor``: the paired gap mean_i[-log p_model(y_i | x_i) + log p_true(y_i | x_i)]
  to the exact Bayes floor of a synthetic dataset, with its paired standard error; the
  same ``evaluation.Gap`` as ``evaluation.nll_gap`` (which is for a Keras MDN).
* CRPS, the continuous ranked probability score (lower is better; units of y). Three
  equivalent forms (see the scoringRules vignette "Closed form expressions for the CRPS",
  A. Jordan, https://CRAN.R-project.org/package=scoringRules, and Gneiting & Raftery 2007,
  doi:10.1198/016214506000001437)::

      CRPS(F, y) = integral (F(t) - 1{t >= y})^2 dt                (threshold form)
                 = E|Y - y| - 1/2 E|Y - Y'|,  Y, Y' ~ F independent   (kernel / energy form)
                 = 2 integral_0^1 rho_tau(y - F^-1(tau)) dtau          (quantile form)

  with the pinball (quantile) loss rho_tau(u) = u (tau - 1{u < 0}).
  The closed form for a Gaussian mixture (a single Gaussian is K = 1) is
  ``core.params.MixtureParams.crps``.
  ``crps_from_samples`` estimates the energy form from S draws, with the pair term over
  the S (S - 1) pairs s != t (the "fair" estimator, unbiased for the CRPS of F).
  ``crps_from_quantiles`` is a Riemann sum of the quantile form over the predicted levels
  (each level stands for its cell between midpoints; see Zamo & Naveau 2018,
  doi:10.1007/s11004-017-9709-7, on CRPS estimators from quantiles): quantile
  regression's CRPS.
* ``interval_coverage``: share of y_i inside the central interval
  [F^-1((1 - c)/2), F^-1((1 + c)/2)] for each mass c, with its standard error.
* ``score``: all of these for one model on one test set, in a dict; a metric the method
  cannot produce is an ``Unavailable`` with the reason, never a blank.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import special

from mdn_utils import checks
from mdn_utils.problems.datasets import get_dataset, require_density
from mdn_utils.compare.base import ConditionalModel, MetricUnavailable, check_levels, x_matrix, y_column

COVERAGE_LEVELS = (0.5, 0.8, 0.95)


@dataclass(frozen=True)
class Estimate:
    """A mean over test points with its standard error; ``how`` says how it was computed."""

    value: float
    standard_error: float
    n: int
    how: str = ""

    def __str__(self) -> str:
        return f"{self.value:.4g} ± {self.standard_error:.2g}"


@dataclass(frozen=True)
class Unavailable:
    """A metric a method cannot produce, with the reason (shown in the table)."""

    method: str
    metric: str
    reason: str

    def __str__(self) -> str:
        return f"n/a ({self.reason})"


def mean_and_error(values, how: str = "") -> Estimate:
    """Mean of per-example values with the standard error std(ddof=1) / sqrt(n)."""
    values = checks.finite_array("values", values, ndim=1)
    n = len(values)
    error = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return Estimate(float(values.mean()), error, n, how)


def _check_model(model) -> ConditionalModel:
    if not isinstance(model, ConditionalModel):
        raise TypeError(f"model must be a mdn_utils.compare ConditionalModel, got "
                        f"{type(model).__name__}")
    return model


# --------------------------------------------------------------------------- NLL
def nll(model, x, y) -> Estimate:
    """Test NLL in nats: mean_i -log p(y_i | x_i), with its standard error.

    A method whose density is zero at some test y (the binned head beyond its bins) has an
    infinite NLL; the estimate says so (value inf, ``how`` counts the points) instead of
    failing.
    """
    values = -_check_model(model).log_prob(x, y)
    outside = int(np.sum(np.isposinf(values)))
    if outside:
        return Estimate(float("inf"), float("nan"), len(values),
                        f"{outside} of {len(values)} test points have zero density")
    return mean_and_error(values, "mean of -log p(y | x)")


def gap_to_floor(model, dataset, x, y):
    """The paired gap of the model's NLL to the exact floor (``evaluation.Gap``).

    ``dataset`` must have an exact density (a ``ValueError`` naming it otherwise, before
    the model runs). gap = mean_i[-log p_model(y_i | x_i) + log p_true(y_i | x_i)], the
    average KL divergence from the truth to the model estimated on the test points.
    """
    from mdn_utils.core.evaluation import Gap   # here, not at import: evaluation loads TensorFlow

    spec = require_density(dataset, "gap_to_floor (the gap to the Bayes floor)")
    _check_model(model)
    x_rows, y_rows = x_matrix("x", x), y_column("y", y)
    checks.same_length(x=x_rows, y=y_rows)
    model_nll = -model.log_prob(x_rows, y_rows)
    true_nll = -spec.log_density(x_rows[:, 0] if x_rows.shape[1] == 1 else x_rows, y_rows)
    difference = model_nll - true_nll
    root_n = np.sqrt(len(difference))
    return Gap(float(model_nll.mean()), float(true_nll.mean()), float(difference.mean()),
               float(difference.std(ddof=1) / root_n), float(true_nll.std(ddof=1) / root_n))


# --------------------------------------------------------------------------- CRPS
def crps_from_samples(samples, y) -> np.ndarray:
    """CRPS per observation from draws ``samples`` ``[S, n]`` (S >= 2) and ``y`` ``[n]``::

        (1/S) sum_s abs(X_s - y)  -  1/(2 S (S - 1)) sum_{s != t} abs(X_s - X_t),

    the pair sum computed in O(S log S) from the sorted draws::

        sum_{s,t} abs(X_s - X_t) = 2 sum_i (2 i - S - 1) X_(i),   i = 1..S.
    """
    samples = checks.finite_array("samples", samples, ndim=2)
    y = checks.finite_array("y", y, ndim=1)
    num_samples = samples.shape[0]
    if num_samples < 2:
        raise ValueError(f"samples must hold at least 2 draws per observation (axis 0), got "
                         f"shape {samples.shape}")
    if samples.shape[1] != len(y):
        raise ValueError(f"samples must have shape [S, len(y)] = [S, {len(y)}], got "
                         f"{samples.shape}")
    first = np.abs(samples - y[None, :]).mean(axis=0)
    ordered = np.sort(samples, axis=0)
    rank_weights = 2 * np.arange(1, num_samples + 1) - num_samples - 1
    pair_sum = 2 * np.einsum("s,sn->n", rank_weights, ordered)
    return first - pair_sum / (2 * num_samples * (num_samples - 1))


def level_cell_widths(levels) -> np.ndarray:
    """Widths of the cells of [0, 1] that each level stands for, cut at the midpoints
    between neighbouring levels (first cell from 0, last to 1). For the midpoints
    (j - 1/2) / J every width is 1 / J."""
    levels = check_levels(levels)
    if np.any(np.diff(levels) <= 0):
        raise ValueError(f"levels must be strictly increasing, got {levels}")
    edges = np.concatenate([[0.0], 0.5 * (levels[1:] + levels[:-1]), [1.0]])
    return np.diff(edges)


def crps_from_quantiles(quantiles, levels, y) -> np.ndarray:
    """CRPS per observation from predicted quantiles ``[n, J]`` at ``levels`` ``[J]``:

        2 sum_j w_j rho_{tau_j}(y - q_j),   rho_tau(u) = u (tau - 1{u < 0}),

    with w_j from ``level_cell_widths``: the quantile form integrated by a Riemann sum. It
    uses the quantiles as predicted (crossed quantiles are not sorted first). The tails
    beyond the outermost levels enter only through their cells, so a coarse set of levels
    misses part of the tails' contribution.
    """
    quantiles = checks.finite_array("quantiles", quantiles, ndim=2)
    levels = check_levels(levels)
    y = checks.finite_array("y", y, ndim=1)
    if quantiles.shape != (len(y), len(levels)):
        raise ValueError(f"quantiles must have shape [len(y), len(levels)] = "
                         f"{(len(y), len(levels))}, got {quantiles.shape}")
    residual = y[:, None] - quantiles
    pinball = residual * (levels[None, :] - (residual < 0))
    return 2 * pinball @ level_cell_widths(levels)


def crps_values(model, x, y, num_samples: int = 1_000, seed: int = 0) -> tuple[np.ndarray, str]:
    """The CRPS of each test pair, ``[n]``, and how it was computed, by the best form the
    method offers: its closed form; else the energy form from ``num_samples`` draws per x;
    else (no sampler) the quantile form at the method's own ``levels`` (quantile
    regression)."""
    model = _check_model(model)
    num_samples = checks.positive_int("num_samples", num_samples, minimum=2)
    x, y = x_matrix("x", x), y_column("y", y)
    checks.same_length(x=x, y=y)
    exact = model.closed_form_crps(x, y)
    if exact is not None:
        return exact, "closed form"
    try:
        draws = model.sample(x, num_samples, seed)
        return crps_from_samples(draws, y), f"energy form, {num_samples} draws per x"
    except MetricUnavailable:
        levels = getattr(model, "levels", None)
        if levels is None:
            raise
        return (crps_from_quantiles(model.quantiles(x, levels), levels, y),
                f"quantile form, {len(levels)} levels")


def crps(model, x, y, num_samples: int = 1_000, seed: int = 0) -> Estimate:
    """Mean CRPS with its standard error (``crps_values`` says which form is used)."""
    values, how = crps_values(model, x, y, num_samples, seed)
    return mean_and_error(values, how)


# --------------------------------------------------------------------------- coverage
def interval_coverage(model, x, y, levels=COVERAGE_LEVELS) -> dict[float, Estimate]:
    """For each mass c: the share of y_i in [F^-1((1 - c)/2 | x_i), F^-1((1 + c)/2 | x_i)],
    with the standard error of that share, sqrt(p (1 - p) / n) for the observed share p.
    A calibrated model covers c (within a few standard errors)."""
    model = _check_model(model)
    levels = check_levels(levels)
    x, y = x_matrix("x", x), y_column("y", y)
    checks.same_length(x=x, y=y)
    tails = np.concatenate([(1 - levels) / 2, (1 + levels) / 2])
    bounds = model.quantiles(x, tails)
    k = len(levels)
    out = {}
    for j, c in enumerate(levels):
        inside = (bounds[:, j] <= y) & (y <= bounds[:, k + j])
        p = float(inside.mean())
        out[float(c)] = Estimate(p, float(np.sqrt(p * (1 - p) / len(y))), len(y),
                                 f"central {c:g} interval")
    return out


# --------------------------------------------------------------------------- everything
def score(model, x, y, dataset=None, *, levels=COVERAGE_LEVELS, num_samples: int = 1_000,
          seed: int = 0) -> dict:
    """Every metric for one fitted model on one test set, as a dict:

    ``nll``, ``gap`` (an ``evaluation.Gap``; needs a dataset with an exact density),
    ``crps``, ``coverage`` (dict level -> Estimate), ``training_seconds``,
    ``sampling_seconds`` (one draw of ``num_samples`` per test x) and ``draws_per_second``.
    Each metric the method (or the data) cannot produce is an ``Unavailable`` naming why.
    """
    model = _check_model(model)
    x, y = x_matrix("x", x), y_column("y", y)
    checks.same_length(x=x, y=y)
    if dataset is not None:
        dataset = get_dataset(dataset)
    out = {"method": model.name, "training_seconds": model.training_seconds}

    def attempt(metric, function):
        try:
            out[metric] = function()
        except MetricUnavailable as error:
            out[metric] = Unavailable(model.name, metric, error.reason)

    attempt("nll", lambda: nll(model, x, y))
    if dataset is None or dataset.log_density is None:
        label = "no dataset given" if dataset is None else f"{dataset.name!r} has no exact density"
        out["gap"] = Unavailable(model.name, "gap", label)
    else:
        attempt("gap", lambda: gap_to_floor(model, dataset, x, y))
    attempt("crps", lambda: crps(model, x, y, num_samples, seed))
    attempt("coverage", lambda: interval_coverage(model, x, y, levels))

    def timed_sampling():
        start = time.perf_counter()
        model.sample(x, num_samples, seed)
        return time.perf_counter() - start

    attempt("sampling_seconds", timed_sampling)
    seconds = out["sampling_seconds"]
    out["draws_per_second"] = (num_samples * len(x) / seconds
                               if isinstance(seconds, float) and seconds > 0 else seconds)
    return out
