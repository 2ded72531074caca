"""Calibration and scoring beyond the pooled PIT histogram.

A flat histogram of the PIT values u_i = F(y_i | x_i), pooled over all x, is necessary
for calibration but not sufficient: a model that ignores x and predicts the marginal
p(y) has a uniform pooled PIT too. The checks here look at calibration conditional on x
and at the sharpness the pooled check cannot see:

* ``pit_by_bin``: split the test points into equal-count bins of x and test the PIT
  values of each bin for uniformity (Pearson chi-square on ``pit_bins`` equal cells, and
  Kolmogorov-Smirnov), with a Bonferroni-corrected flag.
* ``prior_pit`` / ``crps_uniform``: the negative control, the marginal model
  p(y | x) = p(y) = U(y_low, y_high) of a 1-D inverse problem (``data.InverseProblem``).
* ``coverage_report``: central-interval coverage with its binomial standard error
  sqrt(c (1 - c) / n) and a flag when it is more than ``tolerance`` standard errors off.
* ``hdr_coverage``: coverage of the highest-density region of mass c (central intervals
  of a multimodal density also cover the gaps between its modes); its threshold is a
  quantile of the model's density at draws from the model. ``hdr_thresholds`` finds the
  same thresholds on a y grid (used to check it).
* ``crps_mixture``: the continuous ranked probability score of a Gaussian mixture in
  closed form (Grimit et al. 2006); ``crps_from_cdf`` integrates it from a CDF on a grid.
* ``exact_pit_and_crps``: PIT and CRPS of a dataset's exact conditional (a positive control).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from mdn_utils import checks
from mdn_utils.core.params import MixtureParams
from mdn_utils.problems.datasets import conditional_density, get_dataset, require_density

_CHUNK = 2_048  # observations per chunk in the grid computations


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
    """Observed coverage of a region of nominal mass ``level`` on ``count`` points."""

    level: float
    coverage: float
    count: int
    tolerance: float

    @property
    def standard_error(self) -> float:
        """Binomial s.e. of the coverage of a calibrated model: sqrt(c (1 - c) / n)."""
        return float(np.sqrt(self.level * (1 - self.level) / self.count))

    @property
    def z(self) -> float:
        """(coverage - level) / standard_error."""
        return (self.coverage - self.level) / self.standard_error

    @property
    def flagged(self) -> bool:
        """True when abs(coverage - level) > tolerance standard errors."""
        return abs(self.z) > self.tolerance


def _check_levels(levels) -> np.ndarray:
    levels = checks.finite_array("levels", levels, ndim=1)
    if np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"levels must lie strictly between 0 and 1, got {levels}")
    return levels


def coverage_report(pit, levels=(0.5, 0.8, 0.95), tolerance: float = 3.0) -> list[Coverage]:
    """Central-interval coverage for each level c: share of u_i in [(1-c)/2, (1+c)/2]."""
    pit = checks.finite_array("pit", pit, ndim=1)
    levels = _check_levels(levels)
    tolerance = checks.positive_float("tolerance", tolerance)
    return [Coverage(float(c), float(np.mean((pit >= (1 - c) / 2) & (pit <= (1 + c) / 2))),
                     len(pit), tolerance) for c in levels]


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
    levels = _check_levels(levels)
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
    if not isinstance(params, MixtureParams):
        raise TypeError(f"params must be a MixtureParams (MixtureParams.from_1d(mixture_logits, "
                        f"means, log_sigmas)), got {type(params).__name__}")
    if params.D != 1:
        raise ValueError(f"params must be a mixture over a scalar y (D = 1), got D = {params.D}")
    y = checks.column("y", y)
    checks.same_length(y=y, params=params.logits)
    return params.astype(np.float64), y


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
    levels = _check_levels(levels)
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
    1-D ``MixtureParams`` of n rows and y is ``[n]``; returns ``[n]`` in the units of y. Lower is better; it rewards calibration and
    sharpness together.
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


def exact_pit_and_crps(dataset, x, y, grid_points: int = 2_001):
    """PIT u_i = F_true(y_i | x_i) and CRPS of the generator's exact conditional.

    The exact density (``data.conditional_density``) is integrated on an even y grid over
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
