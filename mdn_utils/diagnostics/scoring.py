"""Scores of a conditional density, one implementation of each, in NumPy (no TensorFlow).

The MDN chapters and ``compare`` score models with this module. A *conditional model* is
anything with ``log_prob(x, y)``, ``cdf(x, y)``, ``quantiles(x, levels)`` and
``sample(x, num_samples, seed)`` (and, optionally, ``closed_form_crps(x, y)``): every
``compare`` method, and a trained MDN seen through ``core.model.conditional(net)``. A
method that cannot produce a quantity raises ``MetricUnavailable``.

* The gap to an exact floor: ``paired_gap`` (from per-example NLLs) and ``gap_to_floor``
  (a model on test pairs of a dataset with an exact density):
  gap = mean_i[-log q(y_i | x_i) + log p(y_i | x_i)] with its paired standard error.
* NLL: ``nll``, mean_i -log q(y_i | x_i) with its standard error (``Estimate``).
* PIT: ``pit_by_bin`` splits the test points into equal-count bins of x and tests the PIT
  values of each bin for uniformity (Pearson chi-square on ``pit_bins`` equal cells, and
  Kolmogorov-Smirnov), with a Bonferroni-corrected flag. A flat pooled PIT histogram is
  necessary for calibration but not sufficient: a model that ignores x and predicts the
  marginal p(y) has one too (``prior_pit``, the negative control).
* Coverage, one convention (``Coverage``): the share p of n points inside a region of
  nominal mass c, the score statistic z = (p - c) / sqrt(c (1 - c) / n) against a
  calibrated model, and the Wilson score interval, the set of c that abs(z) <= q would not
  reject: honest also for a share of 0 or 1. From the PIT (``coverage_report``), from
  quantiles (``interval_coverage``) or from any indicator (``coverage``).
* ``hdr_coverage``: coverage of the highest-density region of mass c (central intervals
  of a multimodal density also cover the gaps between its modes); ``hdr_thresholds``
  finds the same thresholds on a y grid (used to check it).
* CRPS, the continuous ranked probability score (lower is better; units of y), in its
  three equivalent forms (Gneiting & Raftery 2007, doi:10.1198/016214506000001437; the
  scoringRules vignette, https://CRAN.R-project.org/package=scoringRules)::

      CRPS(F, y) = integral (F(t) - 1{t >= y})^2 dt                (threshold form)
                 = E|Y - y| - 1/2 E|Y - Y'|,  Y, Y' ~ F independent   (kernel form)
                 = 2 integral_0^1 rho_tau(y - F^-1(tau)) dtau          (quantile form)

  ``crps_mixture`` (closed form for a Gaussian mixture, ``MixtureParams.crps``),
  ``crps_from_cdf`` (threshold form on a grid), ``crps_from_samples`` (kernel form, fair
  estimator), ``crps_from_quantiles`` (quantile form, a Riemann sum), ``crps_uniform``;
  ``crps_values`` picks the best form a model offers.
* ``exact_pit_and_crps``: PIT and CRPS of a dataset's exact conditional (a positive control).
* ``score``: all of these for one model on one test set; what a method cannot produce is
  an ``Unavailable`` with the reason, never a blank.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from mdn_utils import checks
from mdn_utils.core.params import MixtureParams, scalar_mixture
from mdn_utils.problems.datasets import conditional_density, get_dataset, require_density

COVERAGE_LEVELS = (0.5, 0.8, 0.95)
WILSON_QUANTILE = float(stats.norm.ppf(0.975))   # a 95% Wilson interval
_CHUNK = 2_048  # observations per chunk in the grid computations


# --------------------------------------------------------------------------- estimates
class MetricUnavailable(NotImplementedError):
    """A method cannot produce a quantity; ``method``, ``quantity`` and ``reason`` say why."""

    def __init__(self, method: str, quantity: str, reason: str):
        self.method, self.quantity, self.reason = method, quantity, reason
        super().__init__(f"{method} cannot produce {quantity}: {reason}")


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


def mean_allowing_inf(values, how: str = "") -> Estimate:
    """``mean_and_error`` of per-example NLLs that may be +inf (zero density at a point):
    then the value is inf and ``how`` counts the points instead of failing."""
    values = np.asarray(values, np.float64)
    outside = int(np.sum(np.isposinf(values)))
    if outside:
        return Estimate(float("inf"), float("nan"), len(values),
                        f"{outside} of {len(values)} points have zero density")
    return mean_and_error(values, how)


def paired_difference(first, second, how: str = "") -> Estimate:
    """mean_i(first_i - second_i) with its paired standard error: two scores of the same
    test pairs."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if first.shape != second.shape:
        raise ValueError(f"first and second must be scores of the same test pairs, got shapes "
                         f"{first.shape} and {second.shape}")
    return mean_and_error(first - second, how or "paired difference")


def _check_model(model):
    """A conditional model: an object with ``log_prob``, ``cdf``, ``quantiles``, ``sample``."""
    missing = [name for name in ("log_prob", "cdf", "quantiles", "sample")
               if not callable(getattr(model, name, None))]
    if missing:
        raise TypeError(f"model must be a conditional model (log_prob, cdf, quantiles, "
                        f"sample), got {type(model).__name__} without {', '.join(missing)}")
    return model


def _x_and_y(x, y):
    """x ``[n, Dx]`` and y ``[n]`` (1-D y) or ``[n, D]``, float64, of the same length."""
    x = checks.matrix("x", x)
    y = checks.finite_array("y", y, ndim=(1, 2))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    checks.same_length(x=x, y=y)
    return x, y


# --------------------------------------------------------------------------- the gap, NLL
@dataclass(frozen=True)
class Gap:
    """Model NLL, Bayes-optimal NLL and their paired gap (nats) on one test set.

    ``standard_error`` is the gap's (paired); ``bayes_nll_standard_error`` is that of the
    floor alone, std(-log p_true(y_i | x_i)) / sqrt(n), for comparing it with H(Y | X).
    """

    model_nll: float
    bayes_nll: float
    gap: float
    standard_error: float
    bayes_nll_standard_error: float = float("nan")


def paired_gap(model_nll, floor_nll) -> Gap:
    """The gap from per-example NLLs on the same test pairs: mean_i (model_nll_i -
    floor_nll_i), with the paired standard error std(difference, ddof=1) / sqrt(n)."""
    model_nll = checks.finite_array("model_nll", model_nll, ndim=1)
    floor_nll = checks.finite_array("floor_nll", floor_nll, ndim=1)
    checks.same_length(model_nll=model_nll, floor_nll=floor_nll)
    difference = model_nll - floor_nll
    root_n = np.sqrt(len(difference))
    return Gap(float(model_nll.mean()), float(floor_nll.mean()), float(difference.mean()),
               float(difference.std(ddof=1) / root_n), float(floor_nll.std(ddof=1) / root_n))


def gap_to_floor(model, dataset, x, y) -> Gap:
    """The paired gap of a conditional model's NLL to the exact floor of ``dataset`` on the
    test pairs (x, y): mean_i[-log q(y_i | x_i) + log p(y_i | x_i)], an estimate of the
    average KL divergence from the truth to the model. ``dataset`` (an object or a built-in
    name) must have an exact density: a ``ValueError`` naming it otherwise, before the
    model runs. x ``[n]`` or ``[n, Dx]``; y ``[n]`` or ``[n, D]``."""
    spec = require_density(dataset, "gap_to_floor (the gap to the Bayes floor)")
    model = _check_model(model)
    x, y = _x_and_y(x, y)
    floor_nll = -spec.log_density(x[:, 0] if x.shape[1] == 1 else x, y)
    return paired_gap(-model.log_prob(x, y), floor_nll)


def nll(model, x, y) -> Estimate:
    """Test NLL in nats: mean_i -log q(y_i | x_i), with its standard error.

    A method whose density is zero at some test y (the binned head beyond its bins) has an
    infinite NLL; the estimate says so (value inf, ``how`` counts the points) instead of
    failing.
    """
    model = _check_model(model)
    x, y = _x_and_y(x, y)
    return mean_allowing_inf(-model.log_prob(x, y), "mean of -log p(y | x)")



# --------------------------------------------------------------------------- PIT per x-bin
@dataclass(frozen=True)
class PitBin:
    """PIT uniformity statistics of the test points whose x falls in [x_low, x_high]."""

    x_low: float
    x_high: float
    count: int
    chi_square: float
    chi_square_p: float
    ks_statistic: float
    ks_p: float
    histogram: tuple[float, ...]   # density of the PIT in each of the pit_bins cells
    coverage: Coverage             # central interval of mass ``level`` in this bin


@dataclass(frozen=True)
class BinnedPIT:
    """``pit_by_bin``'s result: one ``PitBin`` per x-bin, and the test level used."""

    bins: tuple[PitBin, ...]
    alpha: float

    @property
    def threshold(self) -> float:
        """Bonferroni-corrected p-value below which a bin is flagged: alpha / bins."""
        return self.alpha / len(self.bins)

    @property
    def flagged(self) -> tuple[int, ...]:
        """Indices of the bins whose chi-square or KS p-value is below ``threshold``."""
        return tuple(i for i, b in enumerate(self.bins)
                     if min(b.chi_square_p, b.ks_p) < self.threshold)

    @property
    def max_chi_square(self) -> float:
        return max(b.chi_square for b in self.bins)

    @property
    def min_p(self) -> float:
        return min(min(b.chi_square_p, b.ks_p) for b in self.bins)


def pit_by_bin(x, pit, num_bins: int = 10, pit_bins: int = 10,
               alpha: float = 0.01, level: float = 0.5) -> BinnedPIT:
    """Test the PIT for uniformity within each of ``num_bins`` equal-count bins of x.

    Per bin of n points with cell counts O_j (``pit_bins`` equal cells of [0, 1]):
    chi-square = sum_j (O_j - n/J)^2 / (n/J) with J - 1 degrees of freedom, and the
    one-sample Kolmogorov-Smirnov statistic sup_u abs(F_n(u) - u). A bin is flagged when
    either p-value is below alpha / num_bins (Bonferroni over the bins). Each bin also
    reports the coverage of the central interval of mass ``level`` (``coverage_report``).
    """
    x, pit = checks.paired_columns(x, pit)
    num_bins = checks.positive_int("num_bins", num_bins)
    pit_bins = checks.positive_int("pit_bins", pit_bins, minimum=2)
    alpha = checks.positive_float("alpha", alpha)
    if alpha >= 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    if np.any((pit < 0) | (pit > 1)):
        raise ValueError("pit values must lie in [0, 1]")
    if len(x) < num_bins * pit_bins:
        raise ValueError(f"need at least num_bins * pit_bins = {num_bins * pit_bins} "
                         f"points, got {len(x)}")
    order = np.argsort(x, kind="stable")
    bins = []
    for index in np.array_split(order, num_bins):
        u = pit[index]
        counts, _ = np.histogram(u, bins=pit_bins, range=(0.0, 1.0))
        chi = stats.chisquare(counts)
        ks = stats.kstest(u, "uniform")
        bins.append(PitBin(float(x[index].min()), float(x[index].max()), len(u),
                           float(chi.statistic), float(chi.pvalue),
                           float(ks.statistic), float(ks.pvalue),
                           tuple(float(c) for c in counts * pit_bins / len(u)),
                           coverage_report(u, [level])[0]))
    return BinnedPIT(tuple(bins), alpha)


def prior_pit(dataset, y) -> np.ndarray:
    """PIT of the model p(y | x) = U(y_low, y_high), with (y_low, y_high) the dataset's
    ``y_range``: (y - y_low) / (y_high - y_low), clipped to [0, 1].

    It ignores x. For the 1-D inverse problems U(y_low, y_high) is the marginal p(y), so on
    pairs from the generator this PIT is uniform when pooled: the negative control that a
    conditional calibration check must flag. ``dataset``: an object or a built-in name,
    with a 1-D y.
    """
    spec = _one_dimensional_y(dataset)
    y = checks.finite_array("y", y, ndim=1)
    y_low, y_high = spec.y_range
    return np.clip((y - y_low) / (y_high - y_low), 0.0, 1.0)


def _one_dimensional_y(dataset):
    spec = get_dataset(dataset)
    if spec.y_dim != 1:
        raise ValueError(f"dataset {spec.name!r} has a {spec.y_dim}-dimensional y; this "
                         "score is defined for a 1-D y only")
    return spec


# --------------------------------------------------------------------------- coverage
@dataclass(frozen=True)
class Coverage:
    """The share ``coverage`` of ``count`` points inside a region of nominal mass ``level``
    (the module docstring's one convention)."""

    level: float
    coverage: float
    count: int
    tolerance: float = 3.0

    @property
    def standard_error(self) -> float:
        """Binomial s.e. of the coverage of a calibrated model: sqrt(c (1 - c) / n)."""
        return float(np.sqrt(self.level * (1 - self.level) / self.count))

    @property
    def z(self) -> float:
        """The score statistic (coverage - level) / standard_error."""
        return (self.coverage - self.level) / self.standard_error

    @property
    def flagged(self) -> bool:
        """True when abs(z) > tolerance: the level lies outside the Wilson interval of
        ``interval(tolerance)``."""
        return abs(self.z) > self.tolerance

    def interval(self, quantile: float = WILSON_QUANTILE) -> tuple[float, float]:
        """The Wilson score interval: every c with abs(p - c) <= q sqrt(c (1 - c) / n), i.e.

            (p + q^2 / 2n -+ q sqrt(p (1 - p) / n + q^2 / 4n^2)) / (1 + q^2 / n),

        for the observed share p and q = ``quantile`` (default: a 95% interval). Inside
        [0, 1] and of positive width also when p is 0 or 1."""
        p, n, q = self.coverage, self.count, float(quantile)
        centre = (p + q * q / (2 * n)) / (1 + q * q / n)
        half = q * np.sqrt(p * (1 - p) / n + q * q / (4 * n * n)) / (1 + q * q / n)
        return float(max(0.0, centre - half)), float(min(1.0, centre + half))

    def __str__(self) -> str:
        low, high = self.interval()
        return f"{self.coverage:.2f} [{low:.2f}, {high:.2f}]"


def check_levels(levels) -> np.ndarray:
    """Probability levels as a finite 1-D float64 array strictly inside (0, 1)."""
    levels = np.atleast_1d(checks.finite_array("levels", levels, ndim=(0, 1)))
    if np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"levels must lie strictly between 0 and 1, got {levels}")
    return levels


def coverage(inside, level: float, tolerance: float = 3.0) -> Coverage:
    """The ``Coverage`` of a region of nominal mass ``level`` from one boolean per point,
    ``inside`` ``[n]``."""
    inside = np.asarray(inside)
    if inside.ndim != 1 or inside.size == 0 or inside.dtype != bool:
        raise ValueError(f"inside must be a non-empty 1-D boolean array, got dtype "
                         f"{inside.dtype} and shape {inside.shape}")
    (level,) = check_levels([level])
    tolerance = checks.positive_float("tolerance", tolerance)
    return Coverage(float(level), float(inside.mean()), len(inside), tolerance)


def central_interval_holds(pit, level: float) -> np.ndarray:
    """Whether each y_i lies in the central interval of mass ``level``, from its PIT value
    u_i = F(y_i | x_i): y_i is in [F^-1((1 - c)/2), F^-1((1 + c)/2)] exactly when
    (1 - c)/2 <= u_i <= (1 + c)/2 (F continuous and increasing), so no quantiles are
    needed. Boolean ``[n]``."""
    pit = checks.finite_array("pit", pit, ndim=1)
    (c,) = check_levels([level])
    return (pit >= (1 - c) / 2) & (pit <= (1 + c) / 2)


def interval_holds(model, x, y, level: float) -> np.ndarray:
    """Whether each y_i lies in [F^-1((1 - c)/2 | x_i), F^-1((1 + c)/2 | x_i)] for c =
    ``level``, from the model's quantiles (for a model without a CDF). Boolean ``[n]``."""
    model = _check_model(model)
    x, y = _x_and_y(x, y)
    (c,) = check_levels([level])
    bounds = model.quantiles(x, [(1 - c) / 2, (1 + c) / 2])
    return (bounds[:, 0] <= y) & (y <= bounds[:, 1])


def coverage_report(pit, levels=COVERAGE_LEVELS, tolerance: float = 3.0) -> list[Coverage]:
    """Central-interval ``Coverage`` for each level c from PIT values
    (``central_interval_holds``)."""
    return [coverage(central_interval_holds(pit, c), c, tolerance)
            for c in check_levels(levels)]


def interval_coverage(model, x, y, levels=COVERAGE_LEVELS,
                      tolerance: float = 3.0) -> dict[float, Coverage]:
    """For each mass c: the ``Coverage`` of the central interval from the model's quantiles
    (``interval_holds``; for a model with a CDF, ``coverage_report`` of its PIT gives the
    same shares without a quantile search)."""
    return {float(c): coverage(interval_holds(model, x, y, c), c, tolerance)
            for c in check_levels(levels)}


def hdr_thresholds(density, spacing: float, levels) -> np.ndarray:
    """Density thresholds t_c of the highest-density regions {y : p(y) >= t_c} of mass c.

    ``density`` is ``[n, G]``: each row a density on an evenly spaced grid of step
    ``spacing``. Per row the grid values are sorted in decreasing order, p_(1) >= p_(2) ...,
    and the mass of {p >= p_(j)} is estimated as sum_{i<j} p_(i) h + p_(j) h / 2 (the cell of
    the boundary point counts half; without that correction the mass is overestimated by
    about p h per edge of the region and the region comes out too small), divided by the
    row's total mass on the grid. t_c interpolates linearly where that mass crosses c.
    Returns ``[n, len(levels)]``.
    """
    density = checks.finite_array("density", density, ndim=2)
    spacing = checks.positive_float("spacing", spacing)
    levels = check_levels(levels)
    if np.any(density < 0):
        raise ValueError("density must be non-negative")
    ordered = -np.sort(-density, axis=1)
    cell = ordered * spacing
    total = cell.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("every row of density must have positive mass on the grid")
    mass = (np.cumsum(cell, axis=1) - 0.5 * cell) / total      # increasing in j
    rows = np.arange(len(density))
    out = np.empty((len(density), len(levels)))
    for j, c in enumerate(levels):
        reached = mass >= c
        first = np.where(reached.any(axis=1), np.argmax(reached, axis=1), density.shape[1] - 1)
        upper = np.clip(first, 1, density.shape[1] - 1)
        lower = upper - 1
        m0, m1 = mass[rows, lower], mass[rows, upper]
        fraction = np.clip((c - m0) / np.maximum(m1 - m0, 1e-300), 0.0, 1.0)
        out[:, j] = ordered[rows, lower] + fraction * (ordered[rows, upper] - ordered[rows, lower])
    return out


def _mixture_and_y(params, y):
    """(the 1-D ``MixtureParams`` in float64, y [n]), validated."""
    params = scalar_mixture(params)
    y = checks.column("y", y)
    checks.same_length(y=y, params=params.logits)
    return params, y


def hdr_coverage(params: MixtureParams, y, levels=(0.5, 0.8, 0.95),
                 num_samples: int = 199, seed: int = 0, tolerance: float = 3.0) -> list[Coverage]:
    """Share of y_i inside the model's highest-density region (HDR) of mass c, per level.

    The HDR of mass c is {y : p(y | x_i) >= t_c}, and t_c is the (1 - c) quantile of
    p(Y | x_i) for Y drawn from the model (Hyndman 1996). Per x_i this draws M =
    ``num_samples`` values Y_m from the mixture and sets t_c to the k-th smallest of
    p(Y_m | x_i), k = floor((1 - c)(M + 1)); y_i is covered when p(y_i | x_i) >= t_c.
    If y_i is a draw from the model, it is exchangeable with the Y_m, so it is covered with
    probability exactly (M + 1 - k)/(M + 1) = c when (1 - c)(M + 1) is an integer (M = 199
    serves 0.5, 0.8 and 0.95): a finite M adds noise, not bias. No y grid is needed, so
    components narrower than any affordable grid step are handled too.
    """
    params, y = _mixture_and_y(params, y)
    levels = check_levels(levels)
    num_samples = checks.positive_int("num_samples", num_samples)
    seed = checks.positive_int("seed", seed, minimum=0)
    tolerance = checks.positive_float("tolerance", tolerance)
    ranks = np.floor((1 - levels) * (num_samples + 1) + 1e-9).astype(int)
    if np.any(ranks < 1):
        raise ValueError(f"num_samples={num_samples} is too small for levels {levels}: "
                         "need (1 - c)(num_samples + 1) >= 1")
    rng = np.random.default_rng(seed)
    covered = np.zeros((len(y), len(levels)), bool)
    chunk = max(1, _CHUNK * 4 // max(1, num_samples // 50))
    for start in range(0, len(y), chunk):
        part = params.take(slice(start, start + chunk))
        uniform = rng.uniform(size=(part.n, num_samples))
        noise = rng.standard_normal(uniform.shape)
        draws = part.sample_from(uniform.T, noise.T[..., None])[..., 0].T
        at_draws = _density_at(part, draws)                               # [n, M]
        thresholds = np.sort(at_draws, axis=1)[:, ranks - 1]              # [n, levels]
        at_y = _density_at(part, y[start:start + chunk, None])[:, 0]
        covered[start:start + chunk] = at_y[:, None] >= thresholds
    return [Coverage(float(c), float(covered[:, j].mean()), len(y), tolerance)
            for j, c in enumerate(levels)]


def _density_at(params, points, rows: int = 512):
    """p(points[i, g] | x_i), ``[n, G]``: ``MixtureParams.log_prob_points`` in row blocks."""
    return np.concatenate([np.exp(params.take(slice(i, i + rows)).log_prob_points(points[i:i + rows]))
                           for i in range(0, params.n, rows)])


# --------------------------------------------------------------------------- CRPS
def crps_mixture(params: MixtureParams, y) -> np.ndarray:
    """CRPS of sum_k pi_k N(mu_k, sigma_k^2) at each y_i, in the closed form of
    Grimit et al. (2006), from CRPS(F, y) = E|Y - y| - E|Y - Y'| / 2:

        CRPS = sum_k pi_k A(y - mu_k, sigma_k^2)
               - 1/2 sum_k sum_m pi_k pi_m A(mu_k - mu_m, sigma_k^2 + sigma_m^2),

    with A(mu, s^2) = E|Z| for Z ~ N(mu, s^2) (``MixtureParams.crps``). ``params`` is a
    1-D ``MixtureParams`` of n rows and y is ``[n]``; returns ``[n]`` in the units of y.
    Lower is better; it rewards calibration and sharpness together.
    """
    params, y = _mixture_and_y(params, y)
    return params.crps(y)


def crps_uniform(y, low: float, high: float) -> np.ndarray:
    """CRPS of U(low, high) at y: (high - low) (abs(z - z') + z'^2 - z' + 1/3), with
    z = (y - low) / (high - low) and z' = z clipped to [0, 1]."""
    y = checks.finite_array("y", y, ndim=1)
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        raise ValueError(f"need finite low < high, got low={low}, high={high}")
    z = (y - low) / (high - low)
    clipped = np.clip(z, 0.0, 1.0)
    return (high - low) * (np.abs(z - clipped) + clipped ** 2 - clipped + 1.0 / 3.0)


def crps_from_cdf(grid, cdf, y) -> np.ndarray:
    """CRPS(F, y_i) = integral (F_i(t) - 1{t >= y_i})^2 dt by the trapezoid rule.

    ``cdf`` is ``[n, G]``: F_i on the increasing ``grid``, which must reach F = 0 and
    F = 1 at its ends (the integrand is 0 outside). The indicator's jump at y_i is
    handled exactly by splitting the cell that contains y_i.
    """
    grid = checks.finite_array("grid", grid, ndim=1)
    cdf = checks.finite_array("cdf", cdf, ndim=2)
    y = checks.finite_array("y", y, ndim=1)
    if cdf.shape != (len(y), len(grid)):
        raise ValueError(f"cdf must have shape [len(y), len(grid)] = {(len(y), len(grid))}, "
                         f"got {cdf.shape}")
    if np.any(np.diff(grid) <= 0):
        raise ValueError("grid must be strictly increasing")
    # Insert y_i into each row: F at y_i by linear interpolation, then integrate the
    # squared distance to 0 below y_i and to 1 above it.
    cell = np.clip(np.searchsorted(grid, y) - 1, 0, len(grid) - 2)
    rows = np.arange(len(y))
    t0, t1 = grid[cell], grid[cell + 1]
    frac = np.clip((y - t0) / (t1 - t0), 0.0, 1.0)
    f_y = cdf[rows, cell] + frac * (cdf[rows, cell + 1] - cdf[rows, cell])
    lower, upper = cdf ** 2, (1 - cdf) ** 2
    dt = np.diff(grid)
    # cells entirely below y_i (integrand F^2) or entirely above it ((1 - F)^2)
    full_lower = 0.5 * (lower[:, :-1] + lower[:, 1:]) * dt
    full_upper = 0.5 * (upper[:, :-1] + upper[:, 1:]) * dt
    inner = np.arange(len(grid) - 1)[None, :]
    left_side = inner < cell[:, None]
    right_side = inner > cell[:, None]
    total = (np.where(left_side, full_lower, 0.0).sum(1)
             + np.where(right_side, full_upper, 0.0).sum(1))
    # the split cell: [t0, y] against 0, [y, t1] against 1
    total += 0.5 * (cdf[rows, cell] ** 2 + f_y ** 2) * (y - t0).clip(0)
    total += 0.5 * ((1 - f_y) ** 2 + (1 - cdf[rows, cell + 1]) ** 2) * (t1 - y).clip(0)
    # y below or above the grid: the whole grid is on one side
    total = np.where(y < grid[0], np.sum(0.5 * ((1 - cdf[:, :-1]) ** 2 + (1 - cdf[:, 1:]) ** 2)
                                         * dt, axis=1) + (grid[0] - y), total)
    total = np.where(y > grid[-1], np.sum(0.5 * (cdf[:, :-1] ** 2 + cdf[:, 1:] ** 2) * dt,
                                          axis=1) + (y - grid[-1]), total)
    return total


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
    x, y = _x_and_y(x, y)
    closed_form = getattr(model, "closed_form_crps", None)
    exact = closed_form(x, y) if closed_form is not None else None
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


def exact_pit_and_crps(dataset, x, y, grid_points: int = 2_001):
    """PIT u_i = F_true(y_i | x_i) and CRPS of the generator's exact conditional.

    The exact density (``problems.datasets.conditional_density``) is integrated on an even y grid over
    the dataset's ``y_range`` [y_low, y_high] (for the inverse problems the prior's
    support; cumulative trapezoid rule, normalised so that F = 1 at y_high). Returns two
    ``[n]`` arrays. A positive control: its PIT is uniform in every x-bin, and its
    expected CRPS is the lowest any model can reach. ``dataset``: an object or a built-in
    name, with a 1-D x and y and an exact density.
    """
    spec = _one_dimensional_y(require_density(dataset, "exact_pit_and_crps"))
    if spec.x_dim != 1:
        raise ValueError(f"dataset {spec.name!r} has a {spec.x_dim}-dimensional x; "
                         "exact_pit_and_crps needs a 1-D x")
    x, y = checks.paired_columns(x, y)
    grid_points = checks.positive_int("grid_points", grid_points, minimum=3)
    y_low, y_high = spec.y_range
    grid = np.linspace(y_low, y_high, grid_points)
    pit = np.empty(len(y))
    crps = np.empty(len(y))
    chunk = 512
    for start in range(0, len(y), chunk):
        part = slice(start, start + chunk)
        density = conditional_density(spec, x[part, None], grid[None, :])
        cdf = np.concatenate([np.zeros((density.shape[0], 1)), np.cumsum(
            0.5 * (density[:, 1:] + density[:, :-1]) * np.diff(grid), axis=1)], axis=1)
        cdf = cdf / cdf[:, -1:]
        rows = np.arange(cdf.shape[0])
        cell = np.clip(np.searchsorted(grid, y[part]) - 1, 0, grid_points - 2)
        frac = (y[part] - grid[cell]) / (grid[cell + 1] - grid[cell])
        pit[part] = np.clip(cdf[rows, cell] + frac * (cdf[rows, cell + 1] - cdf[rows, cell]),
                            0.0, 1.0)
        crps[part] = crps_from_cdf(grid, cdf, y[part])
    return pit, crps


# --------------------------------------------------------------------------- everything
def score(model, x, y, dataset=None, *, levels=COVERAGE_LEVELS, num_samples: int = 1_000,
          seed: int = 0) -> dict:
    """Every metric for one fitted model on one test set, as a dict:

    ``nll``, ``gap`` (a ``Gap``; needs a dataset with an exact density),
    ``crps``, ``coverage`` (dict level -> ``Coverage``), ``training_seconds``,
    ``sampling_seconds`` (one draw of ``num_samples`` per test x) and ``draws_per_second``.
    Each metric the method (or the data) cannot produce is an ``Unavailable`` naming why.
    """
    model = _check_model(model)
    x, y = _x_and_y(x, y)
    if dataset is not None:
        dataset = get_dataset(dataset)
    name = getattr(model, "name", type(model).__name__)
    out = {"method": name, "training_seconds": getattr(model, "training_seconds", float("nan"))}

    def attempt(metric, function):
        try:
            out[metric] = function()
        except MetricUnavailable as error:
            out[metric] = Unavailable(name, metric, error.reason)

    attempt("nll", lambda: nll(model, x, y))
    if dataset is None or dataset.log_density is None:
        label = "no dataset given" if dataset is None else f"{dataset.name!r} has no exact density"
        out["gap"] = Unavailable(name, "gap", label)
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
