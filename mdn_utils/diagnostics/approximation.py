"""The approximation floor: how close any K-component Gaussian mixture can get to p(y | x).

A mixture density network with K components predicts, at each x, a K-component
Gaussian mixture q_K(y | x). Even a perfect network (one that outputs the best mixture at
every x) pays

    floor(K) = E_x[ min over q_K of KL(p(. | x) || q_K(. | x)) ]
             = integral p(x) min_q integral p(y | x) log(p(y | x) / q(y)) dy dx

above the Bayes floor, because a finite sum of Gaussians cannot represent every density
exactly (Bishop's uniform-noise dataset has flat-topped boxes with vertical edges). The
rest of a trained model's gap is estimation and optimisation.

How it is computed, for a 1-D inverse problem (``problems.datasets.InverseProblem``: y ~ U(y_low,
y_high), x = forward(y) + noise), with NumPy only:

1. **Quadrature in y.** For each x the support of p(y | x) is the set
   {y in [y_low, y_high] : abs(x - forward(y)) < h}, with h the half-width of uniform noise,
   or ``NORMAL_CUTOFF`` standard deviations for Gaussian noise (beyond which p(x | y)
   is below 2e-8 of its peak). Its edges are found by bisection to machine precision,
   and each of its intervals gets composite Gauss-Legendre panels of width at most
   ``panel_width``, so the jumps of Bishop's boxes (and the ends of the prior's range)
   fall on panel ends and never inside one: the rule integrates the smooth pieces
   p log p and p log q to high order. With the weights w_i, the density at the nodes is
   p_i = p(x | y_i) p(y_i) / p(x), with p(x) = sum_i w_i p(x | y_i) p(y_i) by the same rule
   (so sum_i w_i p_i = 1 exactly).
2. **Weighted EM.** With target weights omega_i = w_i p_i, EM maximises
   sum_i omega_i log q(y_i) ~ integral p log q, i.e. it minimises KL(p || q) over mixtures:

       r_ik     = pi_k N(y_i | mu_k, sigma_k^2) / q(y_i)          (E-step, in log space)
       pi_k     = sum_i omega_i r_ik
       mu_k     = sum_i omega_i r_ik y_i / pi_k
       sigma_k^2 = sum_i omega_i r_ik (y_i - mu_k)^2 / pi_k            (M-step)

   each step does not increase the KL. sigma_k is kept above a bound, because on a finite
   set of nodes a component could otherwise collapse onto one node and make the discrete
   objective unbounded: ``MIN_SIGMA_FRACTION`` times the width of the prior's range by
   default, or, with ``sigma_per_spacing``, a multiple of the node spacing where the
   component's mean lies (with panels graded towards the support's edges, where the best
   mixtures put their narrowest components). A bound only restricts the mixtures, so the
   result stays an upper bound; the share of weight it holds is reported. EM converges
   slowly when components overlap, and it stops after ``max_iterations``, so with its
   local optima the result is an upper bound on the true floor. Several initialisations
   (one at the quantiles of p, the others random, seeded, and with ``previous`` the best
   fit for a smaller K with components split) run side by side; the best per x is kept.
   ``rescored_kl`` evaluates the fitted mixtures on a finer quadrature, the check that EM
   did not profit from the nodes it saw.
3. **Average over x** by quadrature over p(x): Gauss-Legendre on segments of
   ``dataset.x_range`` that end where the support of p(y | x) gains or loses an interval
   (``x_quadrature``, graded towards the segment ends), weights times p(x) (the evidence
   from step 1), normalised to sum to 1. KL(x) has kinks and square-root behaviour at
   those x, so a uniform grid would converge slowly.

``approximation_floor(dataset, K)`` returns the average and the per-x fits;
``rescored_kl`` evaluates those fits on a finer quadrature; ``fit_mixture(y, weights, K)``
is the weighted EM on any 1-D weighted sample. The book's table of F(K), resolved (graded
panels at the support's edges, a width bound tied to the node spacing, EM to convergence)
and checked, is the stored experiment ``mdn_utils.book.experiments.approximation_floor``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mdn_utils import checks
from mdn_utils.core.params import LOG_SQRT_2PI, MixtureParams
from mdn_utils.problems.datasets import InverseProblem, get_dataset

NORMAL_CUTOFF = 6.0            # Gaussian noise: support truncated at |x - f(y)| < 6 s
MIN_SIGMA_FRACTION = 2.5e-3    # sigma >= this times (y_high - y_low): a safeguard
DEFAULT_PANELS_PER_RANGE = 100  # default y panel width = (y_high - y_low) / 100
_DEFAULT_NODES_PER_PANEL = 4
_EDGE_GRID = 4_001             # y grid that brackets the support's edges
_BISECTIONS = 60


# --------------------------------------------------------------------------- quadrature in y
@dataclass(frozen=True)
class Quadrature:
    """Nodes ``y`` ``[n_x, N]``, weights ``w`` ``[n_x, N]`` (0 on padding), the exact
    density ``p`` at the nodes ``[n_x, N]`` (sum_i w_i p_i = 1 per row), the evidence
    ``evidence`` = p(x) ``[n_x]``, the widest panel of each row ``panel_width`` ``[n_x]``
    and the mean node spacing of each node's panel ``spacing`` ``[n_x, N]`` (its width
    over its number of nodes)."""

    y: np.ndarray
    w: np.ndarray
    p: np.ndarray
    evidence: np.ndarray
    panel_width: np.ndarray
    spacing: np.ndarray

    @property
    def target_weights(self) -> np.ndarray:
        """omega_i = w_i p_i, ``[n_x, N]``, each row summing to 1."""
        return self.w * self.p


def _inverse_problem(dataset) -> InverseProblem:
    spec = get_dataset(dataset)
    if not isinstance(spec, InverseProblem):
        raise ValueError(f"dataset must be a 1-D inverse problem with an exact density "
                         f"(such as 'sinusoid_inverse' or 'bishop'), got {spec.name!r}")
    if spec.noise not in ("normal", "uniform"):
        raise ValueError(f"dataset {spec.name!r} has noise {spec.noise!r}; "
                         "only 'normal' and 'uniform' are supported")
    return spec


def _half_width(spec: InverseProblem) -> float:
    return spec.noise_scale * (NORMAL_CUTOFF if spec.noise == "normal" else 1.0)


def _log_likelihood(spec: InverseProblem, x, y):
    """log p(x | y) inside the support (uniform noise: constant log(1 / 2h))."""
    if spec.noise == "normal":
        s = spec.noise_scale
        return -0.5 * ((x - spec.forward(y)) / s) ** 2 - math.log(s) - LOG_SQRT_2PI
    return np.full(np.broadcast(x, y).shape, -math.log(2.0 * spec.noise_scale))


def support_intervals(dataset, x: float) -> list[tuple[float, float]]:
    """The intervals of y in [y_low, y_high] where abs(x - forward(y)) < h (see module doc).

    Edges are bracketed on a grid of ``_EDGE_GRID`` points and refined by bisection of
    h^2 - (x - forward(y))^2; an interval narrower than the grid spacing between two
    grid points can be missed (it carries almost no probability).
    """
    spec = _inverse_problem(dataset)
    x = float(checks.finite_array("x", x, ndim=0))
    h = _half_width(spec)

    def margin(y):
        return h ** 2 - (x - spec.forward(y)) ** 2

    grid = np.linspace(spec.y_low, spec.y_high, _EDGE_GRID)
    inside = margin(grid) > 0
    change = np.flatnonzero(inside[1:] != inside[:-1])
    low, high = grid[change], grid[change + 1]
    low_in = inside[change]
    for _ in range(_BISECTIONS):
        middle = 0.5 * (low + high)
        middle_in = margin(middle) > 0
        move_low = middle_in == low_in
        low = np.where(move_low, middle, low)
        high = np.where(move_low, high, middle)
    edges = list(0.5 * (low + high))
    # walk the edges: the support starts inside at y_low or at the first rising edge
    points = ([spec.y_low] if inside[0] else []) + edges + ([spec.y_high] if inside[-1] else [])
    return [(float(a), float(b)) for a, b in zip(points[0::2], points[1::2]) if b > a]


def _panel_edges(a: float, b: float, count: int, edge_halvings: int) -> np.ndarray:
    """The edges of ``count`` equal panels on [a, b], with the first and the last panel cut
    further at 1/2, 1/4, ..., 2^-``edge_halvings`` of their width from a and from b (a single
    panel is split at its middle first)."""
    edges = np.linspace(a, b, count + 1)
    if edge_halvings == 0:
        return edges
    first, last = edges[1] - a, b - edges[-2]
    fractions = 0.5 ** np.arange(edge_halvings, 0, -1)               # 2^-m, ..., 1/2
    near_a = a + first * fractions
    near_b = (b - last * fractions)[::-1]
    if count == 1:   # one panel: both ends graded, towards its middle
        near_a, near_b = a + 0.5 * first * fractions, (b - 0.5 * last * fractions)[::-1]
        return np.concatenate([[a], near_a, [0.5 * (a + b)], near_b, [b]])
    return np.concatenate([[a], near_a, edges[1:-1], near_b, [b]])


def quadrature(dataset, x, panel_width: float, nodes_per_panel: int = 8,
               edge_halvings: int = 0) -> Quadrature:
    """Composite Gauss-Legendre nodes on the support of p(y | x) for each x (module doc).

    Each interval of the support is cut into ceil(length / ``panel_width``) equal panels of
    ``nodes_per_panel`` nodes; with ``edge_halvings`` = m > 0 the panel at each end of an
    interval is cut further at 2^-m, ..., 1/2 of its width from the end, so panels shrink
    geometrically towards the support's edges (where the best mixtures put their narrowest
    components). Rows are padded to the same length with zero weight.
    """
    spec = _inverse_problem(dataset)
    x = checks.finite_array("x", x, ndim=(0, 1)).reshape(-1)
    panel_width = checks.positive_float("panel_width", panel_width)
    nodes_per_panel = checks.positive_int("nodes_per_panel", nodes_per_panel)
    edge_halvings = checks.positive_int("edge_halvings", edge_halvings, minimum=0)
    unit_nodes, unit_weights = np.polynomial.legendre.leggauss(nodes_per_panel)
    rows, widths = [], []
    for x_value in x:
        intervals = support_intervals(spec, x_value)
        if not intervals:
            raise ValueError(f"x = {x_value:g} lies outside the support of dataset "
                             f"{spec.name!r} (p(x) = 0 there)")
        lengths = np.array([b - a for a, b in intervals])
        counts = np.maximum(1, np.ceil(lengths / panel_width).astype(int))
        widths.append(float(np.max(lengths / counts)))
        nodes, weights, spacing = [], [], []
        for (a, b), count in zip(intervals, counts):
            edges = _panel_edges(a, b, int(count), edge_halvings)
            half = 0.5 * np.diff(edges)[:, None]
            centre = 0.5 * (edges[1:] + edges[:-1])[:, None]
            nodes.append((centre + half * unit_nodes).ravel())
            weights.append((half * unit_weights).ravel())
            spacing.append(np.repeat(2.0 * half[:, 0] / nodes_per_panel, nodes_per_panel))
        rows.append((np.concatenate(nodes), np.concatenate(weights), np.concatenate(spacing)))
    size = max(len(r[0]) for r in rows)
    y = np.empty((len(x), size))
    w = np.zeros((len(x), size))
    gaps = np.empty((len(x), size))
    for i, (nodes, weights, spacing) in enumerate(rows):
        y[i, :len(nodes)], y[i, len(nodes):] = nodes, nodes[-1]
        w[i, :len(nodes)] = weights
        gaps[i, :len(nodes)], gaps[i, len(nodes):] = spacing, spacing[-1]
    log_joint = _log_likelihood(spec, x[:, None], y) - math.log(spec.y_high - spec.y_low)
    peak = log_joint.max(axis=1, keepdims=True)
    scaled = np.exp(log_joint - peak)
    mass = np.sum(w * scaled, axis=1, keepdims=True)
    evidence = (mass * np.exp(peak))[:, 0]
    return Quadrature(y=y, w=w, p=scaled / mass, evidence=evidence,
                      panel_width=np.array(widths), spacing=gaps)


# --------------------------------------------------------------------------- weighted EM
@dataclass(frozen=True)
class MixtureFit:
    """Per row of targets: the fitted mixture (``log_weights``, ``means``, ``log_sigmas``,
    each ``[n, K]``) and its cross-entropy -sum_i omega_i log q(y_i) ``[n]``; the EM
    ``iterations`` run and ``last_change``, the largest decrease of any row's
    cross-entropy in the last of them (at most the tolerance when EM converged); and
    ``at_floor`` ``[n, K]``, whether each component's width is held at its lower bound."""

    log_weights: np.ndarray
    means: np.ndarray
    log_sigmas: np.ndarray
    cross_entropy: np.ndarray
    iterations: int
    last_change: float
    at_floor: np.ndarray


def mixture_log_density(log_weights, means, log_sigmas, y) -> np.ndarray:
    """log q(y) = logsumexp_k(log pi_k + log N(y | mu_k, sigma_k^2)): parameters ``[n, K]``,
    y ``[n, N]`` -> ``[n, N]`` (``MixtureParams.log_prob_points``)."""
    return MixtureParams.from_1d(log_weights, means, log_sigmas).log_prob_points(y)


def _initial(y, omega, num_components, rng, quantile: bool):
    """Starting mixtures: means at the quantiles of the target (or drawn from it at random),
    widths a fraction of its spread, equal weights."""
    rows = y.shape[0]
    cdf = np.cumsum(omega, axis=1)
    cdf /= cdf[:, -1:]
    if quantile:
        levels = np.broadcast_to((np.arange(num_components) + 0.5) / num_components,
                                 (rows, num_components))
    else:
        levels = np.sort(rng.uniform(size=(rows, num_components)), axis=1)
    index = np.minimum(np.array([np.searchsorted(c, l) for c, l in zip(cdf, levels)]),
                       y.shape[1] - 1)
    means = np.take_along_axis(y, index, axis=1)
    centre = np.sum(omega * y, axis=1, keepdims=True)
    spread = np.sqrt(np.sum(omega * (y - centre) ** 2, axis=1, keepdims=True))
    log_sigmas = np.broadcast_to(np.log(spread / num_components), (rows, num_components)).copy()
    log_weights = np.full((rows, num_components), -math.log(num_components))
    return log_weights, means, log_sigmas


def fit_mixture(y, weights, num_components: int, initialisations: int = 3,
                max_iterations: int = 500, tolerance: float = 1e-10,
                min_sigma=None, seed: int = 0, starts=()) -> MixtureFit:
    """Weighted EM: for each row of ``y`` ``[n, N]`` with ``weights`` ``[n, N]`` (>= 0, each
    row normalised here to sum to 1), the K-component Gaussian mixture that maximises
    sum_i omega_i log q(y_i) (module doc, step 2), best of ``initialisations`` starts.

    Stops when no row's cross-entropy improves by more than ``tolerance`` or after
    ``max_iterations``. ``min_sigma`` bounds sigma from below: a scalar, one value per row
    ``[n]``, or one per node ``[n, N]`` (then each component's bound is the value at the
    node nearest its mean, so narrow components are allowed only where the nodes are
    dense enough to integrate them); default four times the median gap between
    neighbouring values of y that carry weight. The nodes of each row must be in
    increasing order for a bound per node.
    ``starts``: further starting mixtures, each a tuple (log_weights, means, log_sigmas) of
    ``[n, K]`` arrays, run beside the ``initialisations``.
    """
    y = checks.finite_array("y", y, ndim=(1, 2))
    weights = checks.finite_array("weights", weights, ndim=(1, 2))
    if y.ndim == 1:
        y, weights = y[None, :], weights[None, :] if weights.ndim == 1 else weights
    if weights.shape != y.shape:
        raise ValueError(f"weights must have the shape of y, got {weights.shape} and {y.shape}")
    if np.any(weights < 0):
        raise ValueError("weights must be >= 0")
    totals = weights.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError("each row of weights must have a positive sum")
    num_components = checks.positive_int("num_components", num_components)
    initialisations = checks.positive_int("initialisations", initialisations)
    max_iterations = checks.positive_int("max_iterations", max_iterations)
    tolerance = checks.positive_float("tolerance", tolerance)
    seed = checks.positive_int("seed", seed, minimum=0)
    omega = weights / totals
    if min_sigma is None:
        ordered = np.sort(np.where(omega > 0, y, np.nan), axis=1)
        min_sigma = 4.0 * np.nanmedian(np.diff(ordered, axis=1), axis=1)
    else:
        min_sigma = checks.finite_array("min_sigma", min_sigma, ndim=(0, 1, 2))
        if min_sigma.ndim == 2 and np.any(np.diff(y, axis=1) < 0):
            raise ValueError("a min_sigma per node needs the nodes of each row of y in "
                             "increasing order")
        if min_sigma.ndim < 2:
            min_sigma = np.broadcast_to(min_sigma, (y.shape[0],))
        if np.any(min_sigma <= 0):
            raise ValueError("min_sigma must be > 0")
    if min_sigma.ndim < 2:
        min_sigma = np.broadcast_to(np.asarray(min_sigma, float)[:, None], y.shape)
    if min_sigma.shape != y.shape:
        raise ValueError(f"min_sigma per node must have the shape of y {y.shape}, "
                         f"got {min_sigma.shape}")
    log_min_sigma = np.log(np.maximum(min_sigma, 1e-300))

    rng = np.random.default_rng(seed)
    extra = []
    for start in starts:
        arrays = tuple(checks.finite_array("starts", a, ndim=2) for a in start)
        if len(arrays) != 3 or any(a.shape != (y.shape[0], num_components) for a in arrays):
            raise ValueError(f"each of starts must be (log_weights, means, log_sigmas) of "
                             f"shape [{y.shape[0]}, {num_components}]")
        extra.append(arrays)
    starts = [_initial(y, omega, num_components, rng, quantile=(i == 0))
              for i in range(initialisations)] + extra
    initialisations = len(starts)
    # run all starts side by side: stack them along the row axis
    stack = lambda arrays: np.concatenate(arrays, axis=0)  # noqa: E731
    log_weights, means, log_sigmas = (stack([s[j] for s in starts]) for j in range(3))
    ys, omegas = stack([y] * initialisations), stack([omega] * initialisations)
    # centre each row (the M-step's variance is E[y^2] - mu^2, exact enough once centred)
    shift = np.sum(omegas * ys, axis=1, keepdims=True)
    ys = ys - shift
    means = means - shift
    ys_squared = ys * ys
    # Each component's width bound is the bound of the node nearest its mean, found with one
    # search in a single sorted array (row r's nodes shifted by r times more than any span).
    node_floor = stack([log_min_sigma] * initialisations)
    rows, row_size = np.arange(len(ys))[:, None], ys.shape[1]
    offsets = (2.0 * (np.max(ys) - np.min(ys)) + 1.0) * rows
    flat_nodes = (ys + offsets).ravel()

    def floor_at(means):
        index = np.searchsorted(flat_nodes, means + offsets) - rows * row_size
        after = np.clip(index, 0, row_size - 1)
        before = np.clip(index - 1, 0, row_size - 1)
        nearer_before = np.abs(ys[rows, before] - means) < np.abs(ys[rows, after] - means)
        return node_floor[rows, np.where(nearer_before, before, after)]

    floor = floor_at(means)
    log_sigmas = np.maximum(log_sigmas, floor)
    previous = np.full(len(ys), np.inf)
    iterations, last_change = 0, float("inf")
    for iterations in range(1, max_iterations + 1):
        inverse_sigma = np.exp(-log_sigmas)
        work = ys[..., None] * inverse_sigma[:, None, :]                    # [rows, N, K]
        work -= (means * inverse_sigma)[:, None, :]                         # u_ik
        work *= work
        work *= -0.5
        work += (log_weights - log_sigmas - LOG_SQRT_2PI)[:, None, :]       # log pi_k N_ik
        peak = work.max(axis=-1, keepdims=True)
        work -= peak
        np.exp(work, out=work)
        total = work.sum(axis=-1)                                           # q(y_i) / e^peak
        cross_entropy = -np.sum(omegas * (peak[..., 0] + np.log(total)), axis=1)
        last_change = float(np.max(previous - cross_entropy))
        if last_change <= tolerance:
            break
        previous = cross_entropy
        work *= (omegas / total)[..., None]                                 # omega_i r_ik
        mass = np.maximum(work.sum(axis=1), 1e-300)                         # pi_k
        means = np.matmul(ys[:, None, :], work)[:, 0] / mass
        variance = np.matmul(ys_squared[:, None, :], work)[:, 0] / mass - means ** 2
        floor = floor_at(means)
        log_sigmas = np.maximum(0.5 * np.log(np.maximum(variance, 1e-300)), floor)
        log_weights = np.log(mass) - np.log(mass.sum(axis=1, keepdims=True))
    ys, means = ys + shift, means + shift
    log_q = mixture_log_density(log_weights, means, log_sigmas, ys)
    cross_entropy = -np.sum(omegas * log_q, axis=1).reshape(initialisations, -1)
    best = np.argmin(cross_entropy, axis=0)
    rows = np.arange(y.shape[0])
    pick = lambda a: a.reshape(initialisations, y.shape[0], -1)[best, rows]  # noqa: E731
    return MixtureFit(log_weights=pick(log_weights), means=pick(means),
                      log_sigmas=pick(log_sigmas), cross_entropy=cross_entropy[best, rows],
                      iterations=iterations, last_change=last_change,
                      at_floor=pick(log_sigmas <= floor + 1e-9))


# --------------------------------------------------------------------------- the floor
@dataclass(frozen=True)
class ApproximationFloor:
    """The approximation floor of K-component mixtures on one dataset.

    ``average_kl``: sum_j v_j KL(x_j), with ``x_weights`` v_j (``x_quadrature`` times p(x),
    normalised); ``kl`` ``[n_x]`` per x of the grid ``x``; ``fit`` the best mixtures.
    """

    dataset: str
    num_components: int
    x: np.ndarray
    x_weights: np.ndarray
    kl: np.ndarray
    average_kl: float
    fit: MixtureFit

    @property
    def pinned_weight(self) -> float:
        """sum_j v_j sum_k pi_k(x_j) [sigma_k(x_j) held at its bound]: the average mixture
        weight of the components whose width the lower bound holds, the share of the fit
        that the bound restrains (0 when it binds nowhere)."""
        pinned = np.exp(self.fit.log_weights) * self.fit.at_floor
        return float(self.x_weights @ np.sum(pinned, axis=1))


def kl_divergence(quad: Quadrature, log_weights, means, log_sigmas) -> np.ndarray:
    """KL(p(. | x) || q(. | x)) = sum_i w_i p_i (log p_i - log q(y_i)) for each row ``[n_x]``."""
    omega = quad.target_weights
    with np.errstate(divide="ignore"):
        log_p = np.where(quad.w > 0, np.log(np.maximum(quad.p, 1e-300)), 0.0)
    log_q = mixture_log_density(log_weights, means, log_sigmas, quad.y)
    return np.sum(omega * (log_p - log_q), axis=1)


def x_quadrature(dataset, nodes_per_segment: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights in x for integrals over p(x): Gauss-Legendre on segments of
    ``dataset.x_range`` whose ends are the x values where the number or the shape of the
    support's intervals changes (forward(y_e) -/+ h at each extremum y_e of the forward map
    and at y_low, y_high; for Gaussian noise h is the truncation of step 1, and the
    segments only split the range where KL(x) changes fastest). With uniform noise KL(x) behaves like sqrt(x - x_fold) at a fold
    (a box's width grows like that), which the plain rule integrates slowly; there the
    substitution x = a + (b - a)(3t^2 - 2t^3), whose derivative vanishes at both ends,
    turns such a square root into a smooth function of t. With Gaussian noise KL(x) is
    smooth and the plain rule is used. Returns (x, weights); multiply the weights by p(x)
    to average.
    """
    spec = _inverse_problem(dataset)
    nodes_per_segment = checks.positive_int("nodes_per_segment", nodes_per_segment)
    h = _half_width(spec)
    grid = np.linspace(spec.y_low, spec.y_high, _EDGE_GRID)
    slope = np.diff(spec.forward(grid))
    turning = grid[1:-1][np.sign(slope[1:]) != np.sign(slope[:-1])]
    special = np.concatenate([turning, [spec.y_low, spec.y_high]])
    low, high = spec.x_range
    breaks = np.concatenate([spec.forward(special) - h, spec.forward(special) + h, [low, high]])
    breaks = np.unique(np.clip(breaks, low, high))
    breaks = breaks[np.concatenate([[True], np.diff(breaks) > 1e-9 * (high - low)])]
    unit_nodes, unit_weights = np.polynomial.legendre.leggauss(nodes_per_segment)
    t = 0.5 * (unit_nodes + 1.0)                 # Gauss-Legendre on [0, 1] ...
    if spec.noise == "uniform":                  # ... mapped by x = a + (b - a)(3t^2 - 2t^3)
        smooth, jacobian = t * t * (3.0 - 2.0 * t), 3.0 * t * (1.0 - t) * unit_weights
    else:                                        # Gaussian noise: KL(x) is smooth, no map
        smooth, jacobian = t, 0.5 * unit_weights
    length = np.diff(breaks)[:, None]
    return (breaks[:-1, None] + length * smooth).ravel(), (length * jacobian).ravel()


def split_components(log_weights, means, log_sigmas, num_components: int):
    """A K-component start from a smaller mixture: split the component with the largest
    pi_k sigma_k into two halves at mu_k -/+ sigma_k / 2 with width sigma_k sqrt(3) / 2
    (which keeps its weight, mean and variance), until there are ``num_components``."""
    log_weights, means, log_sigmas = (np.array(a, float) for a in (log_weights, means,
                                                                   log_sigmas))
    rows = np.arange(len(means))
    while means.shape[1] < num_components:
        k = np.argmax(log_weights + log_sigmas, axis=1)
        w, m, s = log_weights[rows, k], means[rows, k], log_sigmas[rows, k]
        half = np.exp(s) / 2
        log_weights[rows, k] = w - math.log(2.0)
        means[rows, k] = m - half
        log_sigmas[rows, k] = s + 0.5 * math.log(0.75)
        log_weights = np.column_stack([log_weights, w - math.log(2.0)])
        means = np.column_stack([means, m + half])
        log_sigmas = np.column_stack([log_sigmas, s + 0.5 * math.log(0.75)])
    return log_weights, means, log_sigmas


def _mirror_centre(spec: InverseProblem):
    """c with forward(y_low + y_high - y) = c - forward(y) on the prior's range, else None.

    Then p(y | x) = p(y_low + y_high - y | c - x) (both noise kinds are symmetric and the
    prior is uniform), so KL(x) = KL(c - x) and the best mixture at c - x is the mirror
    image of the one at x.
    """
    y = np.linspace(spec.y_low, spec.y_high, 1_001)
    forward = spec.forward(y)
    centre = forward[0] + forward[-1]
    tolerance = 1e-12 * (np.abs(forward).max() + 1.0)
    if np.allclose(spec.forward(spec.y_low + spec.y_high - y), centre - forward,
                   rtol=0.0, atol=tolerance):
        return float(centre)
    return None


def approximation_floor(dataset, num_components: int, nodes_per_segment: int = 6,
                        panel_width: float | None = None,
                        nodes_per_panel: int = _DEFAULT_NODES_PER_PANEL,
                        initialisations: int = 2, max_iterations: int = 150,
                        seed: int = 0, previous: "ApproximationFloor | None" = None,
                        min_sigma_fraction: float = MIN_SIGMA_FRACTION,
                        sigma_per_spacing: float | None = None, edge_halvings: int = 0,
                        tolerance: float = 1e-10) -> ApproximationFloor:
    """min over K-component mixtures of KL(p(. | x) || q), averaged over p(x) (module doc).

    x: ``x_quadrature(dataset, nodes_per_segment)``, weights times p(x), normalised; when
    the dataset is mirror-symmetric (``_mirror_centre``), each mirrored pair of x is
    fitted once.
    y: ``quadrature`` with ``panel_width`` (default ``DEFAULT_PANELS_PER_RANGE`` panels
    across the prior's range), ``nodes_per_panel`` and ``edge_halvings``. EM:
    ``fit_mixture`` with ``initialisations``, ``max_iterations``, ``tolerance``, ``seed``
    and sigma >= ``min_sigma_fraction`` times the prior's range; with
    ``sigma_per_spacing`` = c, also sigma >= c times the node spacing of the panel nearest
    the component's mean (``Quadrature.spacing``), so that with panels graded towards the
    support's edges (``edge_halvings``) narrow components are allowed where the nodes can
    integrate them, and only there. ``previous``: the result for a smaller K with the same
    settings; its mixtures, split (``split_components``), are one more EM start, so the
    floor does not rise with K except by EM's tolerance.
    """
    spec = _inverse_problem(dataset)
    num_components = checks.positive_int("num_components", num_components)
    min_sigma_fraction = checks.fraction("min_sigma_fraction", min_sigma_fraction)
    if sigma_per_spacing is not None:
        sigma_per_spacing = checks.positive_float("sigma_per_spacing", sigma_per_spacing)
    width = spec.y_high - spec.y_low
    if panel_width is None:
        panel_width = width / DEFAULT_PANELS_PER_RANGE
    x, weights = x_quadrature(spec, nodes_per_segment)
    # Mirror symmetry (both built-in datasets have it): fit each mirrored pair of x once.
    centre = _mirror_centre(spec)
    if centre is None:
        unique_x, first = x, np.arange(len(x))
        inverse, mirrored = first, np.zeros(len(x), bool)
    else:
        mirrored = x > 0.5 * centre
        folded = np.where(mirrored, centre - x, x)
        scale = 1e-9 * (spec.x_range[1] - spec.x_range[0])
        unique_x, first, inverse = np.unique(np.round(folded / scale), return_index=True,
                                             return_inverse=True)
        unique_x = folded[first]
    quad = quadrature(spec, unique_x, panel_width, nodes_per_panel, edge_halvings)
    starts = []
    if previous is not None:
        if not isinstance(previous, ApproximationFloor) or previous.dataset != spec.name \
                or previous.x.shape != x.shape or previous.num_components > num_components:
            raise ValueError("previous must be the ApproximationFloor of the same dataset and "
                             "settings with at most num_components components")
        # rows at `first` are the unmirrored x (np.unique keeps the first, smaller x)
        starts.append(split_components(previous.fit.log_weights[first],
                                       previous.fit.means[first],
                                       previous.fit.log_sigmas[first], num_components))
    min_sigma = min_sigma_fraction * width
    if sigma_per_spacing is not None:
        min_sigma = np.maximum(min_sigma, sigma_per_spacing * quad.spacing)
    fit = fit_mixture(quad.y, quad.target_weights, num_components, initialisations,
                      max_iterations, tolerance, min_sigma=min_sigma, seed=seed, starts=starts)
    kl = kl_divergence(quad, fit.log_weights, fit.means, fit.log_sigmas)[inverse]
    means = fit.means[inverse]
    means = np.where(mirrored[:, None], spec.y_low + spec.y_high - means, means)
    fit = MixtureFit(log_weights=fit.log_weights[inverse], means=means,
                     log_sigmas=fit.log_sigmas[inverse],
                     cross_entropy=fit.cross_entropy[inverse], iterations=fit.iterations,
                     last_change=fit.last_change, at_floor=fit.at_floor[inverse])
    x_weights = weights * quad.evidence[inverse]
    x_weights = x_weights / x_weights.sum()
    return ApproximationFloor(dataset=spec.name, num_components=num_components, x=x,
                              x_weights=x_weights, kl=kl, average_kl=float(x_weights @ kl),
                              fit=fit)


def rescored_kl(floor: ApproximationFloor, panel_width: float, nodes_per_panel: int = 8,
                edge_halvings: int = 0, rows_per_chunk: int = 8) -> float:
    """The average KL of ``floor``'s fitted mixtures on another y quadrature (``quadrature``
    with these settings), a few x at a time. On a finer quadrature than the one EM saw,
    this is the honest value of those mixtures: EM maximises the quadrature's sum, and a
    narrow component could gain from sitting between nodes; the rescored value is then
    higher."""
    if not isinstance(floor, ApproximationFloor):
        raise TypeError(f"floor must be an ApproximationFloor, got {type(floor).__name__}")
    rows_per_chunk = checks.positive_int("rows_per_chunk", rows_per_chunk)
    spec = _inverse_problem(floor.dataset)
    kl = np.empty(len(floor.x))
    for start in range(0, len(floor.x), rows_per_chunk):
        part = slice(start, start + rows_per_chunk)
        quad = quadrature(spec, floor.x[part], panel_width, nodes_per_panel, edge_halvings)
        kl[part] = kl_divergence(quad, floor.fit.log_weights[part], floor.fit.means[part],
                                 floor.fit.log_sigmas[part])
    return float(floor.x_weights @ kl)
