"""Datasets as objects: seeded toy problems with exact conditional densities, and data
without one.

A dataset is any object with the members of the ``Dataset`` protocol:

* ``name`` (str), ``x_dim`` and ``y_dim`` (ints: the widths of x and y);
* ``sample(num_samples, seed=0) -> (x, y)``: float32 arrays, ``[n]`` for a width of 1 and
  ``[n, D]`` for a width D > 1; the same seed gives the same rows on every machine;
* ``x_range`` / ``y_range``: a range that holds essentially all the data (for plots and
  grids): ``(low, high)`` for a width of 1, else a tuple of D such pairs, one per dimension;
* ``log_density``: the exact log p(y | x) as a method ``log_density(x, y)`` (float64), or
  ``None`` when the density is not known (data loaded from a file). ``has_density``
  tells which; ``require_density`` raises a clear ``ValueError`` for the second kind.

The built-in datasets (``DATASETS``, looked up by ``get_dataset(name)``):

* ``"sinusoid_inverse"`` (Ha 2015):  y ~ U(-10.5, 10.5),
  x = 7 sin(0.75 y) + 0.5 y + eps,  eps ~ N(0, 1).
* ``"bishop"`` (Bishop 1994; PRML section 5.6):  y ~ U(0, 1),
  x = y + 0.3 sin(2 pi y) + eps,  eps ~ U(-0.1, 0.1).
* ``"two_gaussians_2d"``: x ~ U(-1, 1), y in R^2 from a mixture of two correlated
  Gaussians whose weights and means depend on x (``TwoGaussians2D``).
* ``"robot_arm"`` (Bishop 1994): x = noisy end-effector position of a two-link arm,
  y = its two joint angles (``mdn_utils.problems.robot_arm.RobotArm``).

The first two are "inverse problems" (``InverseProblem``): y is drawn first, x is a noisy
function of y, and the book models p(y | x), which has several modes wherever the forward
map folds. By Bayes' rule p(y | x) = p(x | y) p(y) / p(x) with
p(x) = integral p(x | y') p(y') dy', computed here by quadrature over a fine y grid.
``ArrayDataset`` wraps arrays (for example columns of a CSV file): it samples rows and has
no exact density.

The Bayes-optimal negative log-likelihood, E[-log p(y | x)] (the conditional entropy
H(Y | X)), is the floor that no model of p(y | x) can beat in expectation; it exists only
for datasets with an exact density. The module functions (``sample``,
``conditional_density``, ``bayes_nll``, ...) take a dataset object or a built-in name.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Callable, ClassVar, Protocol, runtime_checkable

import numpy as np

from mdn_utils import checks
from mdn_utils.problems.robot_arm import ROBOT_ARM  # the 2-D robot arm (imports only checks)

GRID_POINTS = 4_001   # y grid for the evidence p(x); quadrature error below 1e-6
EVIDENCE_NODES = 4_001  # x nodes of the spline through log p(x) (Gaussian noise)
_CHUNK = 512          # x values per evidence chunk (bounds memory to _CHUNK * GRID_POINTS)


# --------------------------------------------------------------------------- the protocol
@runtime_checkable
class Dataset(Protocol):
    """What every dataset provides (see the module docstring for the conventions).

    ``log_density`` is either a method ``log_density(x, y) -> log p(y | x)`` or ``None``
    (no exact density is known).
    """

    name: str
    x_dim: int
    y_dim: int
    log_density: Callable[[np.ndarray, np.ndarray], np.ndarray] | None

    @property
    def x_range(self): ...

    @property
    def y_range(self): ...

    def sample(self, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]: ...


def _label(dataset) -> str:
    source = getattr(dataset, "source", None)
    return repr(dataset.name) + (f" (from {source})" if source else "")


def _rows(name: str, value, dim: int, label: str) -> np.ndarray:
    """A finite float64 array of rows: ``[n]`` (from ``[n]`` or ``[n, 1]``) for dim 1,
    ``[n, dim]`` otherwise."""
    if dim == 1:
        return checks.column(name, value)
    array = checks.finite_array(name, value, ndim=2)
    if array.shape[1] != dim:
        raise ValueError(f"{name} must have shape [n, {dim}] for dataset {label}, "
                         f"got {array.shape}")
    return array


def _seed(seed) -> int:
    return checks.positive_int("seed", seed, minimum=0)


# --------------------------------------------------------------------------- 1-D inverse problems
@dataclass(frozen=True)
class InverseProblem:
    """One 1-D generator: y ~ U(y_low, y_high), x = forward(y) + noise.

    ``noise`` is "normal" (standard deviation ``noise_scale``) or "uniform" (half-width
    ``noise_scale``). The exact p(y | x) comes from Bayes' rule by quadrature.
    """

    name: str
    y_low: float
    y_high: float
    forward: Callable[[np.ndarray], np.ndarray]
    noise: str
    noise_scale: float

    x_dim: ClassVar[int] = 1
    y_dim: ClassVar[int] = 1

    @property
    def x_range(self) -> tuple[float, float]:
        """A range of x that holds essentially all the data (for plots)."""
        y = np.linspace(self.y_low, self.y_high, 10_001)
        x = self.forward(y)
        pad = 3 * self.noise_scale if self.noise == "normal" else self.noise_scale
        return float(x.min() - pad), float(x.max() + pad)

    @property
    def y_range(self) -> tuple[float, float]:
        """The prior's support [y_low, y_high]."""
        return self.y_low, self.y_high

    def sample(self, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``num_samples`` pairs (x, y), each a float32 array of shape ``[n]``.

        The same ``seed`` gives the same pairs on every machine (NumPy's PCG64).
        """
        num_samples = checks.positive_int("num_samples", num_samples)
        seed = _seed(seed)
        rng = np.random.default_rng(seed)
        y = rng.uniform(self.y_low, self.y_high, num_samples)
        if self.noise == "normal":
            noise = rng.normal(0.0, self.noise_scale, num_samples)
        else:
            noise = rng.uniform(-self.noise_scale, self.noise_scale, num_samples)
        x = self.forward(y) + noise
        return x.astype(np.float32), y.astype(np.float32)

    def _likelihood(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """p(x | y) for broadcastable x and y."""
        residual = x - self.forward(y)
        if self.noise == "normal":
            s = self.noise_scale
            return np.exp(-0.5 * (residual / s) ** 2) / (s * np.sqrt(2.0 * np.pi))
        half_width = self.noise_scale
        return np.where(np.abs(residual) < half_width, 0.5 / half_width, 0.0)

    def _evidence(self, x: np.ndarray) -> np.ndarray:
        """p(x) for a 1-D array of x: by quadrature (``_evidence_by_quadrature``), except that
        for Gaussian noise log p(x), a smooth function of x, is read from a cubic spline
        through its quadrature values at ``EVIDENCE_NODES`` equally spaced x (within 3e-10
        of the quadrature; tests/test_data.py); x outside the nodes gets the quadrature.
        The spline is made once per dataset: 4,001 quadratures instead of one per x.
        """
        if self.noise != "normal":
            return self._evidence_by_quadrature(x)
        nodes, spline = _log_evidence_spline(self)
        inside = (x >= nodes[0]) & (x <= nodes[-1])
        out = np.empty(len(x))
        out[inside] = np.exp(spline(x[inside]))
        out[~inside] = self._evidence_by_quadrature(x[~inside])
        return out

    def _evidence_by_quadrature(self, x: np.ndarray) -> np.ndarray:
        """p(x) = integral over y of p(x | y) p(y), for a 1-D array of x.

        Gaussian noise: the trapezoid rule on a grid of ``GRID_POINTS``.
        Uniform noise: p(x | y) p(y) is a constant c on the set {y : abs(x - forward(y)) < w};
        its measure is found per grid cell by linear interpolation of w - abs(x - forward(y)),
        which places the set's edges to second order in the grid spacing.
        """
        grid = np.linspace(self.y_low, self.y_high, GRID_POINTS)
        prior = 1.0 / (self.y_high - self.y_low)
        forward = self.forward(grid)
        out = np.empty(len(x))
        for start in range(0, len(x), _CHUNK):
            xs = x[start:start + _CHUNK, None]
            if self.noise == "normal":
                out[start:start + _CHUNK] = np.trapezoid(
                    self._likelihood(xs, grid[None, :]) * prior, grid, axis=1)
                continue
            margin = self.noise_scale - np.abs(xs - forward[None, :])  # > 0 inside the set
            left, right = margin[:, :-1], margin[:, 1:]
            inside = np.where((left > 0) & (right > 0), 1.0, 0.0)
            crossing = (left > 0) != (right > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                fraction = np.maximum(left, right) / np.abs(left - right)
            inside = np.where(crossing, fraction, inside)
            measure = inside.sum(axis=1) * (grid[1] - grid[0])
            out[start:start + _CHUNK] = measure * prior * 0.5 / self.noise_scale
        return out

    def density(self, x, y) -> np.ndarray:
        """The exact p(y | x) = p(x | y) p(y) / p(x).

        ``x`` and ``y`` broadcast against each other (for a slice, a scalar x and a y grid).
        Returns float64 densities of the broadcast shape; zero outside the prior's support.
        """
        x = checks.finite_array("x", x)
        y = checks.finite_array("y", y)
        try:
            x, y = np.broadcast_arrays(x, y)
        except ValueError:
            raise ValueError(f"x and y must broadcast together, got shapes "
                             f"{np.shape(x)} and {np.shape(y)}") from None
        unique_x, index = np.unique(x, return_inverse=True)
        evidence = self._evidence(unique_x)[index.reshape(x.shape)]
        in_support = (y >= self.y_low) & (y <= self.y_high)
        prior = np.where(in_support, 1.0 / (self.y_high - self.y_low), 0.0)
        joint = self._likelihood(x, y) * prior
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(evidence > 0, joint / evidence, 0.0)

    def log_density(self, x, y) -> np.ndarray:
        """log p(y | x) = log of ``density`` (-inf outside the support)."""
        with np.errstate(divide="ignore"):
            return np.log(self.density(x, y))

    def conditional_mean(self, x, grid_points: int = 4_001) -> np.ndarray:
        """E[y | x] = integral y p(y | x) dy for each x (trapezoid rule on a y grid).

        This is what a network trained with the mean squared error converges to.
        """
        x = checks.finite_array("x", x, ndim=(0, 1))
        grid = np.linspace(self.y_low, self.y_high,
                           checks.positive_int("grid_points", grid_points, 3))
        density = self.density(np.atleast_1d(x)[:, None], grid[None, :])
        return np.trapezoid(density * grid, grid, axis=-1).reshape(x.shape)

    def conditional_entropy_exact(self, x_points: int = 40_001) -> float:
        """H(Y | X) by one-dimensional quadrature, as a check on the Monte Carlo estimate.

        H(Y | X) = H(X, Y) - H(X) = H(Y) + H(X | Y) - H(X), where
        H(Y) = log(y_high - y_low), H(X | Y) is the noise entropy (0.5 log(2 pi e s^2) for
        Gaussian noise, log(2 w) for uniform noise of half-width w) and
        -H(X) = integral p(x) log p(x) dx over a fine x grid.
        """
        x_points = checks.positive_int("x_points", x_points, minimum=101)
        low, high = self.x_range
        pad = 5 * self.noise_scale
        grid = np.linspace(low - pad, high + pad, x_points)
        evidence = self._evidence(grid)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_log_p = np.where(evidence > 0, evidence * np.log(evidence), 0.0)
        if self.noise == "normal":
            noise_entropy = 0.5 * np.log(2 * np.pi * np.e * self.noise_scale ** 2)
        else:
            noise_entropy = np.log(2 * self.noise_scale)
        return float(np.log(self.y_high - self.y_low) + noise_entropy
                     + np.trapezoid(p_log_p, grid))


@functools.lru_cache(maxsize=None)
def _log_evidence_spline(problem: InverseProblem):
    """x nodes over the data's x range plus 12 noise widths each side, and a cubic spline
    through log p(x) at them (Gaussian noise only)."""
    from scipy.interpolate import CubicSpline

    low, high = problem.x_range
    pad = 12 * problem.noise_scale
    nodes = np.linspace(low - pad, high + pad, EVIDENCE_NODES)
    return nodes, CubicSpline(nodes, np.log(problem._evidence_by_quadrature(nodes)))


# --------------------------------------------------------------------------- 2-D toy
@dataclass(frozen=True)
class TwoGaussians2D:
    """x ~ U(-1, 1); y in R^2 from a two-component Gaussian mixture that depends on x:

        p(y | x) = (1 - w(x)) N(y | mu_0(x), Sigma_0) + w(x) N(y | mu_1(x), Sigma_1),
        w(x) = sigmoid(weight_slope * x),   mu_k(x) = mean_offsets[k] + x * mean_slopes[k],
        Sigma_k = [[s_k1^2, rho_k s_k1 s_k2], [rho_k s_k1 s_k2, s_k2^2]],

    with (s_k1, s_k2) = ``sigmas[k]`` and rho_k = ``correlations[k]``. The defaults
    (rho = +0.8 and -0.8) make a diagonal-covariance mixture of the same K = 2 clearly
    worse: a Gaussian that drops its correlation loses -0.5 log(1 - rho^2) = 0.51 nats.
    ``sample`` returns x float32 ``[n]`` and y float32 ``[n, 2]``; ``log_density`` is exact
    in closed form (float64).
    """

    name: str = "two_gaussians_2d"
    weight_slope: float = 3.0
    mean_offsets: tuple = ((-1.0, 0.0), (1.0, 0.0))
    mean_slopes: tuple = ((0.5, 1.0), (0.5, -1.0))
    sigmas: tuple = ((0.5, 0.5), (0.4, 0.6))
    correlations: tuple = (0.8, -0.8)

    x_dim: ClassVar[int] = 1
    y_dim: ClassVar[int] = 2
    x_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        checks.finite_array("weight_slope", self.weight_slope, ndim=0)
        for field_name in ("mean_offsets", "mean_slopes", "sigmas"):
            array = checks.finite_array(field_name, getattr(self, field_name), ndim=2)
            if array.shape != (2, 2):
                raise ValueError(f"{field_name} must have shape [2 components, 2 dimensions], "
                                 f"got {array.shape}")
        if np.any(np.asarray(self.sigmas, float) <= 0):
            raise ValueError(f"sigmas must be > 0, got {self.sigmas}")
        rho = checks.finite_array("correlations", self.correlations, ndim=1)
        if rho.shape != (2,) or np.any(np.abs(rho) >= 1):
            raise ValueError(f"correlations must be two numbers in (-1, 1), got {self.correlations}")

    # ---- parameters as functions of x
    def log_weights(self, x) -> np.ndarray:
        """log(1 - w(x)), log w(x) with w = sigmoid(a x), computed stably: ``[..., 2]``."""
        ax = self.weight_slope * np.asarray(x, np.float64)
        return np.stack([-np.logaddexp(0.0, ax), -np.logaddexp(0.0, -ax)], axis=-1)

    def means(self, x) -> np.ndarray:
        """mu_k(x) = mean_offsets[k] + x mean_slopes[k]: ``[..., 2 components, 2]``."""
        x = np.asarray(x, np.float64)[..., None, None]
        return np.asarray(self.mean_offsets, np.float64) + x * np.asarray(self.mean_slopes,
                                                                            np.float64)

    @property
    def covariances(self) -> np.ndarray:
        """Sigma_k, ``[2 components, 2, 2]``."""
        scale = self.scale_trils
        return scale @ np.swapaxes(scale, -1, -2)

    @property
    def scale_trils(self) -> np.ndarray:
        """Lower-triangular L_k with L_k L_k^T = Sigma_k: [[s1, 0], [rho s2, s2 sqrt(1 - rho^2)]]."""
        s = np.asarray(self.sigmas, np.float64)
        rho = np.asarray(self.correlations, np.float64)
        out = np.zeros((2, 2, 2))
        out[:, 0, 0] = s[:, 0]
        out[:, 1, 0] = rho * s[:, 1]
        out[:, 1, 1] = s[:, 1] * np.sqrt(1 - rho ** 2)
        return out

    @property
    def y_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Per dimension of y, (low, high) = means over x in [-1, 1] -/+ 4 sigma."""
        return self._box(4.0)

    def _box(self, widths: float):
        ends = self.means(np.array([-1.0, 1.0]))                 # means are linear in x
        sigma = np.asarray(self.sigmas, np.float64)
        low = (ends - widths * sigma).min(axis=(0, 1))
        high = (ends + widths * sigma).max(axis=(0, 1))
        return tuple((float(a), float(b)) for a, b in zip(low, high))

    # ---- sampling and density
    def sample(self, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """x float32 ``[n]``, y float32 ``[n, 2]``: x ~ U(-1, 1), component 1 with
        probability w(x), then y = mu_k(x) + L_k z with z ~ N(0, I_2)."""
        num_samples = checks.positive_int("num_samples", num_samples)
        rng = np.random.default_rng(_seed(seed))
        x = rng.uniform(-1.0, 1.0, num_samples)
        component = (rng.uniform(size=num_samples)
                     < np.exp(self.log_weights(x)[:, 1])).astype(int)
        z = rng.standard_normal((num_samples, 2))
        rows = np.arange(num_samples)
        y = (self.means(x)[rows, component]
             + np.einsum("nij,nj->ni", self.scale_trils[component], z))
        return x.astype(np.float32), y.astype(np.float32)

    def log_density(self, x, y) -> np.ndarray:
        """log p(y | x), float64, by the logsumexp of log w_k(x) + log N(y | mu_k(x), Sigma_k):

            log N = -log(2 pi) - log s_1 - log s_2 - 0.5 log(1 - rho^2)
                    - (z_1^2 - 2 rho z_1 z_2 + z_2^2) / (2 (1 - rho^2)),  z_i = (y_i - mu_i) / s_i.

        ``x`` has shape S, ``y`` shape S' + [2] with S and S' broadcastable; returns their
        broadcast shape.
        """
        x = checks.finite_array("x", x)
        y = checks.finite_array("y", y)
        if y.ndim == 0 or y.shape[-1] != 2:
            raise ValueError(f"y must have a last dimension of 2 for dataset {self.name!r}, "
                             f"got shape {y.shape}")
        try:
            shape = np.broadcast_shapes(x.shape, y.shape[:-1])
        except ValueError:
            raise ValueError(f"x and y must broadcast together (y without its last axis), "
                             f"got shapes {x.shape} and {y.shape}") from None
        x = np.broadcast_to(x, shape)
        y = np.broadcast_to(y, shape + (2,))
        s = np.asarray(self.sigmas, np.float64)
        rho = np.asarray(self.correlations, np.float64)
        z = (y[..., None, :] - self.means(x)) / s                  # [..., 2 components, 2]
        one_minus = 1.0 - rho ** 2
        quadratic = (z[..., 0] ** 2 - 2 * rho * z[..., 0] * z[..., 1] + z[..., 1] ** 2) / one_minus
        log_normal = (-np.log(2 * np.pi) - np.log(s).sum(-1) - 0.5 * np.log(one_minus)
                      - 0.5 * quadratic)
        joint = self.log_weights(x) + log_normal
        return np.logaddexp(joint[..., 0], joint[..., 1])

    def density(self, x, y) -> np.ndarray:
        """p(y | x) = exp(``log_density``)."""
        return np.exp(self.log_density(x, y))

    def conditional_mean(self, x) -> np.ndarray:
        """E[y | x] = (1 - w(x)) mu_0(x) + w(x) mu_1(x), ``[..., 2]``."""
        x = checks.finite_array("x", x)
        weights = np.exp(self.log_weights(x))
        return np.einsum("...k,...kd->...d", weights, self.means(x))

    def conditional_entropy_exact(self, x_points: int = 32, y_points: int = 401) -> float:
        """H(Y | X) = 1/2 integral_{-1}^{1} H(Y | X = x) dx by quadrature.

        Gauss-Legendre with ``x_points`` nodes in x; per node,
        H(Y | x) = -integral p log p dy by the trapezoid rule on a ``y_points`` square grid
        over the means -/+ 8 sigma (the Gaussian tails beyond hold < 1e-14 of the mass).
        """
        x_points = checks.positive_int("x_points", x_points, minimum=2)
        y_points = checks.positive_int("y_points", y_points, minimum=101)
        nodes, weights = np.polynomial.legendre.leggauss(x_points)
        (low_1, high_1), (low_2, high_2) = self._box(8.0)
        grid_1 = np.linspace(low_1, high_1, y_points)
        grid_2 = np.linspace(low_2, high_2, y_points)
        y = np.stack(np.meshgrid(grid_1, grid_2, indexing="ij"), axis=-1)
        entropies = np.empty(x_points)
        for i, x0 in enumerate(nodes):
            log_p = self.log_density(x0, y)
            integrand = -np.exp(log_p) * log_p
            entropies[i] = np.trapezoid(np.trapezoid(integrand, grid_2, axis=1), grid_1)
        return float(0.5 * np.dot(weights, entropies))


# --------------------------------------------------------------------------- data without a density
class ArrayDataset:
    """Data given as arrays (for example columns of a CSV file), with no exact density.

    ``x`` is ``[n]`` or ``[n, Dx]``, ``y`` ``[n]`` or ``[n, Dy]`` (a width of 1 is stored as
    ``[n]``), finite, with the same n; both are stored as float32. ``sample(num_samples,
    seed)`` draws rows without replacement (seeded); ``log_density`` is ``None``, so the
    Bayes floor and the gap to it are not available: compare models by held-out NLL.
    """

    log_density = None

    def __init__(self, x, y, name: str = "array", source: str | os.PathLike | None = None):
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        if source is not None and not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"source must be a string, a path or None, got "
                            f"{type(source).__name__}")
        self.name = name
        self.source = None if source is None else os.fspath(source)
        self._x = self._store("x", x)
        self._y = self._store("y", y)
        checks.same_length(x=self._x, y=self._y)

    @staticmethod
    def _store(name: str, value) -> np.ndarray:
        array = checks.finite_array(name, value, ndim=(1, 2))
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        with np.errstate(over="ignore"):
            stored = array.astype(np.float32)
        if not np.all(np.isfinite(stored)):
            raise ValueError(f"{name} has values outside the float32 range")
        stored.flags.writeable = False
        return stored

    @classmethod
    def from_csv(cls, path, x_columns, y_columns, name: str | None = None,
                 delimiter: str = ","):
        """Read the named columns of a CSV file whose first line is a header.

        ``x_columns`` / ``y_columns``: one column name (a width of 1) or a list of names.
        ``name`` defaults to the file's stem; ``source`` is the path.
        """
        path = os.fspath(path)
        with open(path, encoding="utf-8") as handle:
            header = [h.strip() for h in handle.readline().rstrip("\r\n").split(delimiter)]
        indices = {}
        for argument, columns in (("x_columns", x_columns), ("y_columns", y_columns)):
            names = [columns] if isinstance(columns, str) else list(columns)
            if not names or not all(isinstance(c, str) for c in names):
                raise TypeError(f"{argument} must be a column name or a non-empty list of "
                                f"names, got {columns!r}")
            missing = [c for c in names if c not in header]
            if missing:
                raise ValueError(f"{argument}: no column {missing} in {path} "
                                 f"(header: {header})")
            indices[argument] = ([header.index(c) for c in names], isinstance(columns, str))
        try:
            table = np.loadtxt(path, delimiter=delimiter, skiprows=1, ndmin=2, dtype=np.float64)
        except ValueError as error:
            raise ValueError(f"{path} must hold numbers below its header: {error}") from None
        arrays = [table[:, index][:, 0] if single else table[:, index]
                  for index, single in indices.values()]
        stem = os.path.splitext(os.path.basename(path))[0]
        return cls(*arrays, name=name if name is not None else stem, source=path)

    def __len__(self) -> int:
        return len(self._x)

    def __repr__(self) -> str:
        return (f"ArrayDataset(name={self.name!r}, rows={len(self)}, x_dim={self.x_dim}, "
                f"y_dim={self.y_dim}, source={self.source!r})")

    @property
    def x_dim(self) -> int:
        return 1 if self._x.ndim == 1 else self._x.shape[1]

    @property
    def y_dim(self) -> int:
        return 1 if self._y.ndim == 1 else self._y.shape[1]

    @staticmethod
    def _range(array):
        low, high = array.min(axis=0), array.max(axis=0)
        if array.ndim == 1:
            return float(low), float(high)
        return tuple((float(a), float(b)) for a, b in zip(low, high))

    @property
    def x_range(self):
        """The data's (min, max) of x (per dimension when Dx > 1)."""
        return self._range(self._x)

    @property
    def y_range(self):
        """The data's (min, max) of y (per dimension when Dy > 1)."""
        return self._range(self._y)

    def sample(self, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``num_samples`` rows drawn without replacement (seeded), as float32 copies."""
        num_samples = checks.positive_int("num_samples", num_samples)
        if num_samples > len(self):
            raise ValueError(f"num_samples={num_samples} exceeds the {len(self)} rows of "
                             f"dataset {_label(self)} (rows are drawn without replacement)")
        rows = np.random.default_rng(_seed(seed)).choice(len(self), num_samples, replace=False)
        return self._x[rows], self._y[rows]


# --------------------------------------------------------------------------- the built-in table
SINUSOID_INVERSE = InverseProblem(
    "sinusoid_inverse", -10.5, 10.5, lambda y: 7.0 * np.sin(0.75 * y) + 0.5 * y, "normal", 1.0)
BISHOP = InverseProblem(
    "bishop", 0.0, 1.0, lambda y: y + 0.3 * np.sin(2.0 * np.pi * y), "uniform", 0.1)
TWO_GAUSSIANS_2D = TwoGaussians2D()

DATASETS = {d.name: d for d in (SINUSOID_INVERSE, BISHOP, TWO_GAUSSIANS_2D, ROBOT_ARM)}


def get_dataset(dataset) -> Dataset:
    """The dataset object: ``dataset`` is a built-in name (one of ``DATASETS``) or already
    an object with the ``Dataset`` members (returned as it is)."""
    if isinstance(dataset, str):
        return DATASETS[checks.one_of("dataset", dataset, DATASETS)]
    if isinstance(dataset, Dataset):
        return dataset
    raise TypeError(f"dataset must be a name (one of {sorted(DATASETS)}) or an object with "
                    f"name, x_dim, y_dim, x_range, y_range, sample and log_density; "
                    f"got {type(dataset).__name__}")


def has_density(dataset) -> bool:
    """True when the dataset knows its exact log p(y | x)."""
    return get_dataset(dataset).log_density is not None


def require_density(dataset, purpose: str) -> Dataset:
    """The dataset object, or a ``ValueError`` naming it when it has no exact density."""
    spec = get_dataset(dataset)
    if spec.log_density is None:
        raise ValueError(f"dataset {_label(spec)} has no exact density; {purpose} needs the "
                         "true p(y | x), which only synthetic datasets have (compare models "
                         "by their NLL on held-out data instead)")
    return spec


def sample(dataset, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``get_dataset(dataset).sample(num_samples, seed)``: float32 (x, y), seeded."""
    return get_dataset(dataset).sample(num_samples, seed)


def log_density(dataset, x, y) -> np.ndarray:
    """The exact log p(y | x) of a dataset that has one (float64)."""
    return require_density(dataset, "log_density").log_density(x, y)


def conditional_density(dataset, x, y) -> np.ndarray:
    """The exact p(y | x) of a dataset that has one (float64, broadcast shape).

    For the 1-D inverse problems: p(x | y) p(y) / p(x), zero outside the prior's support.
    """
    spec = require_density(dataset, "conditional_density")
    density = getattr(spec, "density", None)
    return density(x, y) if density is not None else np.exp(spec.log_density(x, y))


def _method(dataset, method: str):
    spec = require_density(dataset, method)
    function = getattr(spec, method, None)
    if function is None:
        raise ValueError(f"dataset {_label(spec)} does not provide {method}")
    return function


def conditional_mean(dataset, x, **options) -> np.ndarray:
    """E[y | x], what a network trained with the mean squared error converges to.

    ``options`` go to the dataset's method (``grid_points`` for the 1-D inverse problems,
    which integrate y p(y | x) on a y grid; the 2-D toy has a closed form).
    """
    return _method(dataset, "conditional_mean")(x, **options)


def bayes_nll(dataset, x, y) -> float:
    """Mean of -log p(y_i | x_i) under the true conditional: the Bayes-optimal NLL.

    On pairs drawn from the generator this estimates the conditional entropy H(Y | X);
    on a model's test set it is the floor to compare the model's test NLL with.
    """
    spec = require_density(dataset, "bayes_nll")
    x = _rows("x", x, spec.x_dim, _label(spec))
    y = _rows("y", y, spec.y_dim, _label(spec))
    checks.same_length(x=x, y=y)
    log_p = spec.log_density(x, y)
    if np.any(np.isneginf(log_p)):
        raise ValueError("some (x, y) pairs have zero probability under the "
                         f"{spec.name!r} generator; pass pairs drawn from it")
    return float(-np.mean(log_p))


def conditional_entropy(dataset, num_samples: int = 20_000, seed: int = 0) -> float:
    """Monte Carlo estimate of H(Y | X) = E[-log p(y | x)] on fresh generator samples."""
    spec = require_density(dataset, "conditional_entropy")
    x, y = spec.sample(num_samples, seed)
    return bayes_nll(spec, x, y)


def conditional_entropy_exact(dataset, **options) -> float:
    """H(Y | X) by quadrature (``options`` go to the dataset's method): a check on the
    Monte Carlo estimate. See ``InverseProblem.conditional_entropy_exact`` and
    ``TwoGaussians2D.conditional_entropy_exact``."""
    return _method(dataset, "conditional_entropy_exact")(**options)
