"""The parameters of a mixture density network's output, for targets y of any width D.

Layout (the one place it is written down). For n inputs, K components and D target
dimensions, with dtype float32 or float64::

    logits      [n, K]        mixture logits z_k; pi = softmax(z)
    locs        [n, K, D]     component means mu_k
    and either
    log_sigmas  [n, K, D]     covariance="diag": s_kd = log sigma_kd, Sigma_k = diag(exp(2 s_k))
    or
    scale_tril  [n, K, D, D]  covariance="full": L_k lower-triangular with a positive
                              diagonal, Sigma_k = L_k L_k^T

so that  p(y | x) = sum_k pi_k N(y | mu_k, Sigma_k).  Today's 1-D triple (logits, means,
log_sigmas), each ``[n, K]``, is the diagonal case with D = 1 (``MixtureParams.from_1d``).

Everything is validated in NumPy when a ``MixtureParams`` is made, before any TensorFlow
op: wrong rank, shapes that disagree on n, K or D, NaN or inf, a scale that is not
lower-triangular or has a diagonal entry <= 0 raise ``ValueError``/``TypeError`` naming
the argument. The arrays are stored as read-only NumPy copies.

One dtype rule: the arrays are stored as float32 when every input is a float32 (or
narrower float) array, else as float64 (lists, integers, float64). The NumPy kernel
(``log_prob``, ``log_prob_grid``, ``log_prob_points``, ``component_densities``,
``responsibilities``, ``cdf``, ``quantiles``, ``crps``) computes in float64 and returns
float64; ``sample`` returns the stored dtype. This module imports no TensorFlow: the TFP
forms of the same mixture (``MixtureSameFamily``, the reference the kernel is tested
against) are ``core.mixture.distribution`` and ``core.mixture.scalar_distribution``.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from scipy import special

from mdn_utils import checks

COVARIANCES = ("diag", "full")
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)   # a Python float, for NumPy and TensorFlow alike
_CHUNK = 2_048  # rows per chunk in the CRPS pair term (K^2 numbers per row)


def _common_dtype(*values) -> np.dtype:
    """float32 when every input is float32 (or a narrower float), else float64."""
    def dtype_of(value):
        try:
            return np.asarray(value).dtype
        except Exception:  # ragged lists and the like: checks.finite_array names them
            return np.dtype(object)
    if all(np.issubdtype(d, np.floating) and d.itemsize <= 4 for d in map(dtype_of, values)):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log pi_k = z_k - logsumexp_j z_j over the last axis (NumPy, max-shifted first)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class MixtureParams:
    """Mixture parameters of an MDN's output; exactly one of log_sigmas, scale_tril is set.

    Make one with ``diag``, ``full``, ``from_1d`` or ``from_head``; see the module
    docstring for the shapes.
    """

    logits: np.ndarray
    locs: np.ndarray
    log_sigmas: np.ndarray | None = None
    scale_tril: np.ndarray | None = None

    def __post_init__(self):
        if (self.log_sigmas is None) == (self.scale_tril is None):
            raise ValueError("exactly one of log_sigmas (covariance='diag') and scale_tril "
                             "(covariance='full') must be given")
        scale_name = "log_sigmas" if self.log_sigmas is not None else "scale_tril"
        scale = getattr(self, scale_name)
        dtype = _common_dtype(self.logits, self.locs, scale)
        logits = checks.finite_array("logits", self.logits, ndim=2, dtype=dtype)
        locs = checks.finite_array("locs", self.locs, ndim=3, dtype=dtype)
        n, k = logits.shape
        if locs.shape[:2] != (n, k):
            raise ValueError(f"locs must have shape [n, K, D] with [n, K] = {[n, k]} from "
                             f"logits, got {locs.shape}")
        d = locs.shape[2]
        if scale_name == "log_sigmas":
            scale = checks.finite_array("log_sigmas", scale, ndim=3, dtype=dtype)
            if scale.shape != locs.shape:
                raise ValueError(f"log_sigmas must have the shape of locs [n, K, D] = "
                                 f"{list(locs.shape)}, got {scale.shape}")
        else:
            scale = checks.finite_array("scale_tril", scale, ndim=4, dtype=dtype)
            if scale.shape != (n, k, d, d):
                raise ValueError(f"scale_tril must have shape [n, K, D, D] = {[n, k, d, d]}, "
                                 f"got {scale.shape}")
            above = np.abs(np.triu(scale, k=1)).max()
            if above > 0:
                raise ValueError("scale_tril must be lower-triangular, found an entry above "
                                 f"the diagonal of size {above:.3g}")
            diagonal = np.diagonal(scale, axis1=-2, axis2=-1)
            if np.any(diagonal <= 0):
                raise ValueError("scale_tril must have a positive diagonal, smallest entry "
                                 f"is {diagonal.min():.3g}")
        object.__setattr__(self, "logits", _frozen(logits))
        object.__setattr__(self, "locs", _frozen(locs))
        object.__setattr__(self, scale_name, _frozen(scale))

    # ---- constructors -------------------------------------------------------------
    @classmethod
    def diag(cls, logits, locs, log_sigmas) -> "MixtureParams":
        """Diagonal covariance: logits [n, K], locs and log_sigmas [n, K, D]."""
        return cls(logits, locs, log_sigmas=log_sigmas)

    @classmethod
    def full(cls, logits, locs, scale_tril) -> "MixtureParams":
        """Full covariance Sigma_k = L_k L_k^T: logits [n, K], locs [n, K, D], L [n, K, D, D]."""
        return cls(logits, locs, scale_tril=scale_tril)

    @classmethod
    def from_1d(cls, mixture_logits, means, log_sigmas) -> "MixtureParams":
        """The 1-D triple, each ``[n, K]``: diagonal with D = 1 (locs = means[..., None]).

        The one validator of the triple: errors name ``mixture_logits``, ``means`` or
        ``log_sigmas``; the dtype rule is the module's.
        """
        named = {"mixture_logits": mixture_logits, "means": means, "log_sigmas": log_sigmas}
        dtype = _common_dtype(*named.values())
        arrays = {name: checks.finite_array(name, value, ndim=2, dtype=dtype)
                  for name, value in named.items()}
        shapes = {name: a.shape for name, a in arrays.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"mixture_logits, means and log_sigmas must have the same shape "
                             f"[n, K], got {shapes}")
        return cls.diag(arrays["mixture_logits"], arrays["means"][..., None],
                        arrays["log_sigmas"][..., None])

    def as_1d(self, dtype=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mixture_logits, means, log_sigmas), each ``[n, K]``, for a diagonal D = 1 mixture,
        in ``dtype`` (default: the stored one)."""
        if self.D != 1 or self.covariance != "diag":
            raise ValueError(f"as_1d needs covariance='diag' and D = 1, these parameters have "
                             f"covariance={self.covariance!r}, D = {self.D}")
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        return (self.logits.astype(dtype), self.locs[..., 0].astype(dtype),
                self.log_sigmas[..., 0].astype(dtype))

    @classmethod
    def from_head(cls, logits, locs, scale, covariance: str) -> "MixtureParams":
        """What a network head emits: ``scale`` is log_sigmas ("diag") or scale_tril ("full")."""
        checks.one_of("covariance", covariance, COVARIANCES)
        return cls.diag(logits, locs, scale) if covariance == "diag" else cls.full(
            logits, locs, scale)

    @classmethod
    def full_from_raw(cls, logits, locs, raw_scale) -> "MixtureParams":
        """Full covariance from D(D+1)/2 raw numbers per component (``scale_tril_from_raw``)."""
        return cls.full(logits, locs, scale_tril_from_raw(raw_scale))

    # ---- shape ----------------------------------------------------------------------
    @property
    def covariance(self) -> str:
        return "diag" if self.log_sigmas is not None else "full"

    @property
    def n(self) -> int:
        return self.logits.shape[0]

    @property
    def K(self) -> int:  # noqa: N802 (the book's symbol)
        return self.logits.shape[1]

    @property
    def D(self) -> int:  # noqa: N802
        return self.locs.shape[2]

    @property
    def dtype(self) -> np.dtype:
        return self.logits.dtype

    @property
    def _scale(self) -> np.ndarray:
        """log_sigmas ("diag") or scale_tril ("full")."""
        return self.log_sigmas if self.covariance == "diag" else self.scale_tril

    def _replaced(self, logits, locs, scale) -> "MixtureParams":
        """A ``MixtureParams`` of the same covariance form with these arrays."""
        return MixtureParams.from_head(logits, locs, scale, self.covariance)

    def astype(self, dtype) -> "MixtureParams":
        """The same mixture stored in ``dtype`` (float32 or float64)."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        return self._replaced(self.logits.astype(dtype), self.locs.astype(dtype),
                              self._scale.astype(dtype))

    def take(self, rows) -> "MixtureParams":
        """The mixtures of some rows (a slice or an index array), as a ``MixtureParams``."""
        return self._replaced(self.logits[rows], self.locs[rows], self._scale[rows])

    def __repr__(self) -> str:
        return (f"MixtureParams(covariance={self.covariance!r}, n={self.n}, K={self.K}, "
                f"D={self.D}, dtype={self.dtype})")

    # ---- the NumPy kernel: density, CDF, quantiles, CRPS, responsibilities ------------
    # Every method computes in float64 (whatever the stored dtype) and returns float64,
    # except ``sample``/``sample_from``, which return the stored dtype.

    def _float64(self):
        """(log pi [n, K], locs [n, K, D], scale) as float64; scale is log_sigmas or L."""
        return (log_softmax(self.logits.astype(np.float64)), self.locs.astype(np.float64),
                self._scale.astype(np.float64))

    def _points(self, name: str, value, shared: bool) -> np.ndarray:
        """Points as float64 ``[n or 1, G, D]``: per row (``[n, G, D]``, or ``[n, G]`` when
        D = 1) or one grid shared by every row (``[G, D]``, or ``[G]`` when D = 1)."""
        rank = 1 if shared else 2
        points = checks.finite_array(name, value, ndim=(rank, rank + 1))
        if points.ndim == rank:
            if self.D != 1:
                raise ValueError(f"{name} needs a last axis of size D = {self.D}, got shape "
                                 f"{points.shape}")
            points = points[..., None]
        if points.shape[-1] != self.D:
            raise ValueError(f"{name} must end in D = {self.D}, got shape {points.shape}")
        if shared:
            return points[None]
        if points.shape[0] != self.n:
            raise ValueError(f"{name} must have n = {self.n} rows (one per mixture), got "
                             f"shape {points.shape}")
        return points

    def _component_log_prob(self, points: np.ndarray) -> np.ndarray:
        """log N(y_g | mu_k, Sigma_k) for points ``[n or 1, G, D]``: ``[n, G, K]``.

        diag: sum_d [-s_kd - log sqrt(2 pi) - u_kd^2 / 2],  u_kd = (y_d - mu_kd) exp(-s_kd);
        full: -sum_d log L_kdd - D log sqrt(2 pi) - |z_k|^2 / 2,  L_k z_k = y - mu_k.
        """
        _, locs, scale = self._float64()
        difference = points[:, :, None, :] - locs[:, None, :, :]               # [n, G, K, D]
        if self.covariance == "diag":
            u = difference * np.exp(-scale)[:, None, :, :]
            with np.errstate(over="ignore"):   # u^2 = inf: log N = -inf, p = 0
                return np.sum(-scale[:, None, :, :] - LOG_SQRT_2PI - 0.5 * u ** 2, axis=-1)
        z = np.linalg.solve(np.broadcast_to(scale[:, None], difference.shape + (self.D,)),
                            difference[..., None])[..., 0]
        log_det = np.log(np.diagonal(scale, axis1=-2, axis2=-1)).sum(-1)[:, None, :]
        return -log_det - self.D * LOG_SQRT_2PI - 0.5 * np.sum(z * z, axis=-1)

    def _log_joint(self, points: np.ndarray) -> np.ndarray:
        """log pi_k + log N(y_g | mu_k, Sigma_k): ``[n, G, K]``."""
        return self._float64()[0][:, None, :] + self._component_log_prob(points)

    def log_prob(self, y) -> np.ndarray:
        """log p(y_i | x_i) = logsumexp_k(log pi_k + log N(y_i | mu_k, Sigma_k)), float64 ``[n]``;
        y is ``[n, D]`` (``[n]`` or ``[n, 1]`` when D = 1)."""
        return special.logsumexp(self._log_joint(self._row_points(y))[:, 0], axis=-1)

    def log_prob_points(self, points) -> np.ndarray:
        """log p at G points per row: points ``[n, G, D]`` (``[n, G]`` when D = 1) -> ``[n, G]``."""
        return special.logsumexp(self._log_joint(self._points("points", points, shared=False)),
                                 axis=-1)

    def log_prob_grid(self, y_grid) -> np.ndarray:
        """log p on one grid shared by every row: ``[G, D]`` (``[G]`` when D = 1) -> ``[n, G]``."""
        return special.logsumexp(self._log_joint(self._points("y_grid", y_grid, shared=True)),
                                 axis=-1)

    def component_densities(self, y_grid) -> np.ndarray:
        """pi_k N(y_g | mu_k, Sigma_k) on a shared grid: ``[n, G, K]`` (sums over k to p)."""
        return np.exp(self._log_joint(self._points("y_grid", y_grid, shared=True)))

    def log_responsibilities(self, y) -> np.ndarray:
        """log gamma_ik = log pi_k + log N(y_i | mu_k, Sigma_k) - log p(y_i): ``[n, K]``.

        Raises ValueError at rows where p(y_i) underflows to 0 in float64 (gamma undefined).
        """
        log_joint = self._log_joint(self._row_points(y))[:, 0]
        log_evidence = special.logsumexp(log_joint, axis=-1, keepdims=True)
        if not np.all(np.isfinite(log_evidence)):
            rows = np.flatnonzero(~np.isfinite(log_evidence))
            raise ValueError(f"y is so far from every component (in standard deviations) that "
                             f"p(y | x) underflows to 0 in float64 at rows {rows[:5].tolist()}; "
                             "the responsibilities are undefined there")
        return log_joint - log_evidence

    def responsibilities(self, y) -> np.ndarray:
        """gamma_ik = pi_k N(y_i | mu_k, Sigma_k) / p(y_i), ``[n, K]``; each row sums to 1."""
        return np.exp(self.log_responsibilities(y))

    def _row_points(self, y) -> np.ndarray:
        """One point per row as ``[n, 1, D]`` from y ``[n, D]`` (``[n]`` or ``[n, 1]`` when D = 1)."""
        if self.D == 1:
            y = checks.column("y", y)[:, None]
        else:
            y = checks.finite_array("y", y, ndim=2)
            if y.shape[1] != self.D:
                raise ValueError(f"y must have shape [n, D] with D = {self.D}, got {y.shape}")
        if len(y) != self.n:
            raise ValueError(f"y must have n = {self.n} rows (one per mixture), got {len(y)}")
        return y[:, None, :]

    # ---- 1-D only: CDF, quantiles, CRPS ------------------------------------------------
    def _scalar(self, what: str):
        """(pi [n, K], mu [n, K], sigma [n, K]) float64 for D = 1; ValueError otherwise."""
        if self.D != 1:
            raise ValueError(f"{what} is defined for a scalar y (D = 1), these parameters "
                             f"have D = {self.D}")
        log_weights, locs, scale = self._float64()
        sigma = np.exp(scale[..., 0]) if self.covariance == "diag" else scale[..., 0, 0]
        return np.exp(log_weights), locs[..., 0], sigma

    def _scalar_y(self, y) -> np.ndarray:
        return self._row_points(y)[:, 0, 0]

    def cdf(self, y) -> np.ndarray:
        """F(y_i) = sum_k pi_k Phi((y_i - mu_k) / sigma_k) for D = 1, float64 ``[n]`` in [0, 1]."""
        weights, mu, sigma = self._scalar("cdf")
        y = self._scalar_y(y)
        return np.clip(np.sum(weights * special.ndtr((y[:, None] - mu) / sigma), 1), 0.0, 1.0)

    def quantiles(self, levels, iterations: int = 60) -> np.ndarray:
        """F^-1(c) for each row and level c in (0, 1), D = 1: float64 ``[n, len(levels)]``.

        Bisection on the continuous, increasing F, bracket [min_k(mu_k - 12 sigma_k),
        max_k(mu_k + 12 sigma_k)]; each step halves it (``iterations`` steps).
        """
        weights, mu, sigma = self._scalar("quantiles")
        levels = checks.finite_array("levels", levels, ndim=1)
        if np.any((levels <= 0) | (levels >= 1)):
            raise ValueError(f"levels must lie in (0, 1), got {levels}")
        iterations = checks.positive_int("iterations", iterations)
        w = weights[:, None, :]
        low = np.broadcast_to((mu - 12 * sigma).min(1)[:, None], (self.n, len(levels))).copy()
        high = np.broadcast_to((mu + 12 * sigma).max(1)[:, None], low.shape).copy()
        for _ in range(iterations):
            middle = 0.5 * (low + high)
            below = np.sum(w * special.ndtr((middle[:, :, None] - mu[:, None, :])
                                            / sigma[:, None, :]), axis=2) < levels
            low = np.where(below, middle, low)
            high = np.where(below, high, middle)
        return 0.5 * (low + high)

    def crps(self, y) -> np.ndarray:
        """CRPS of sum_k pi_k N(mu_k, sigma_k^2) at each y_i (D = 1), float64 ``[n]``.

        The closed form of Grimit et al. (2006), from CRPS(F, y) = E|Y - y| - E|Y - Y'| / 2:

            CRPS = sum_k pi_k A(y - mu_k, sigma_k^2)
                   - 1/2 sum_k sum_m pi_k pi_m A(mu_k - mu_m, sigma_k^2 + sigma_m^2),

        A(mu, s^2) = E|Z| for Z ~ N(mu, s^2) = 2 s phi(mu / s) + mu (2 Phi(mu / s) - 1).
        A single Gaussian is K = 1. In the units of y; lower is better.
        """
        weights, means, sigmas = self._scalar("crps")
        y = self._scalar_y(y)
        out = np.empty(len(y))
        for start in range(0, len(y), _CHUNK):
            part = slice(start, start + _CHUNK)
            w, mu, var = weights[part], means[part], sigmas[part] ** 2
            first = np.sum(w * _expected_absolute(y[part, None] - mu, var), axis=1)
            pair = _expected_absolute(mu[:, :, None] - mu[:, None, :],
                                      var[:, :, None] + var[:, None, :])
            second = np.einsum("nk,nkm,nm->n", w, pair, w)
            out[part] = first - 0.5 * second
        return out

    def with_temperature(self, tau: float) -> "MixtureParams":
        """The parameters at temperature tau > 0 (World Models convention, Ha & Schmidhuber 2018).

            logits(tau)     = log_softmax(z) / tau        i.e. pi_k(tau) = softmax(log pi_k / tau)
            Sigma_k(tau)    = tau Sigma_k                 i.e. scale x sqrt(tau):
            log_sigmas(tau) = s + 0.5 log tau,   scale_tril(tau) = L sqrt(tau)

        This is a CONVENTION (one knob for sharpness), not the tempered density
        p(y | x)^(1/tau). tau = 1 leaves the distribution unchanged. For tiny tau, logits
        of weights that underflow are stored as the dtype's most negative finite number.
        """
        tau = checks.positive_float("tau", tau)
        floor = np.finfo(self.dtype).min
        with np.errstate(over="ignore"):  # -inf for weights that underflow, floored below
            logits = np.maximum(log_softmax(self.logits) / tau, floor).astype(self.dtype)
        if self.covariance == "diag":
            return MixtureParams.diag(logits, self.locs, self.log_sigmas + 0.5 * np.log(tau))
        return MixtureParams.full(logits, self.locs, self.scale_tril * np.sqrt(tau))

    def sample(self, num_samples: int, tau: float = 1.0, seed=0) -> np.ndarray:
        """Draw y at temperature tau, vectorised NumPy: shape ``[num_samples, n, D]``.

        ``seed`` is an int >= 0 or a ``numpy.random.Generator``; the draws are
        ``sample_from(u, eps, tau)`` with u ~ U(0, 1) ``[num_samples, n]`` drawn first and
        eps ~ N(0, I_D) ``[num_samples, n, D]`` second.
        """
        num_samples = checks.positive_int("num_samples", num_samples)
        tau = checks.positive_float("tau", tau)
        if isinstance(seed, np.random.Generator):
            rng = seed
        else:
            rng = np.random.default_rng(checks.positive_int("seed", seed, minimum=0))
        uniform = rng.random((num_samples, self.n))
        noise = rng.standard_normal((num_samples, self.n, self.D))
        return self.sample_from(uniform, noise, tau)

    def sample_from(self, uniform, noise, tau: float = 1.0) -> np.ndarray:
        """y from given uniforms ``[S, n]`` and standard normals ``[S, n, D]``: ``[S, n, D]``.

        Component by inverting the cumulative weights (``categorical_draws``): with
        pi(tau) = softmax(log pi / tau), k is the first component whose cumulative weight
        reaches u (one uniform per draw); then y = mu_k + sqrt(tau) L_k eps with
        L_k = diag(sigma_k) or scale_tril_k (World Models convention, ``with_temperature``).
        As tau -> 0 this returns the mean of the heaviest component.
        """
        tau = checks.positive_float("tau", tau)
        uniform = checks.finite_array("uniform", uniform, ndim=2)
        noise = checks.finite_array("noise", noise, ndim=3)
        if uniform.shape[1] != self.n or noise.shape != uniform.shape + (self.D,):
            raise ValueError(f"uniform must have shape [S, n = {self.n}] and noise [S, n, D = "
                             f"{self.D}], got {uniform.shape} and {noise.shape}")
        with np.errstate(over="ignore"):  # tiny tau: -inf, floored to the most negative float
            tempered = np.maximum(log_softmax(self.logits.astype(np.float64)) / tau,
                                  np.finfo(np.float64).min)
        component = categorical_draws(np.exp(log_softmax(tempered)), uniform)   # [S, n]
        rows = np.arange(self.n)
        if self.covariance == "diag":
            scaled_noise = np.exp(self.log_sigmas[rows, component]) * noise
        else:
            scaled_noise = np.einsum("snij,snj->sni", self.scale_tril[rows, component], noise)
        return (self.locs[rows, component] + np.sqrt(tau) * scaled_noise).astype(self.dtype)


def scalar_mixture(params, diagonal: bool = False, dtype=np.float64) -> MixtureParams:
    """``params`` checked to be a ``MixtureParams`` over a scalar y (D = 1; also
    covariance='diag' when ``diagonal``), in ``dtype`` (``None``: the stored one).
    TypeError or ValueError naming ``params`` otherwise."""
    if not isinstance(params, MixtureParams):
        raise TypeError(f"params must be a MixtureParams (MixtureParams.from_1d(mixture_logits, "
                        f"means, log_sigmas)), got {type(params).__name__}")
    if params.D != 1 or (diagonal and params.covariance != "diag"):
        kind = "diagonal mixture" if diagonal else "mixture"
        raise ValueError(f"params must be a {kind} over a scalar y (D = 1), got D = {params.D}, "
                         f"covariance={params.covariance!r}")
    return params if dtype is None else params.astype(dtype)


class ConditionalMixture:
    """A conditional density p(y | x) that is a Gaussian mixture at each x, scored by the
    NumPy kernel: ``predict(x [n, Dx]) -> MixtureParams`` gives the mixture of each row.

    The methods of a conditional model (``diagnostics.scoring``'s interface), computed
    ``chunk`` rows of x at a time:

    * ``log_prob(x, y)`` ``[n]``: ``MixtureParams.log_prob``, any D (y ``[n]`` or ``[n, D]``)
    * ``cdf(x, y)`` ``[n]``, ``quantiles(x, levels)`` ``[n, L]`` (bisection with
      ``quantile_iterations`` halvings), ``sample(x, num_samples, seed)``
      ``[num_samples, n]``, ``closed_form_crps(x, y)`` ``[n]``: a 1-D y (D = 1). The
      closed-form CRPS costs K^2 per row: above ``max_crps_components`` it returns None
      (the caller estimates the CRPS from samples instead). Draws come chunk by chunk
      from one generator seeded with ``seed``.
    """

    def __init__(self, predict, chunk: int = 512, max_crps_components: int = 64,
                 quantile_iterations: int = 60):
        if not callable(predict):
            raise TypeError(f"predict must be a function x -> MixtureParams, got "
                            f"{type(predict).__name__}")
        self.predict = predict
        self.chunk = checks.positive_int("chunk", chunk)
        self.max_crps_components = checks.positive_int("max_crps_components",
                                                       max_crps_components)
        self.quantile_iterations = checks.positive_int("quantile_iterations",
                                                       quantile_iterations)

    def mixture(self, x) -> MixtureParams:
        """The predictive mixture of each row of x, ``[n]`` or ``[n, Dx]``."""
        return self.predict(self._x(x))

    @staticmethod
    def _x(x) -> np.ndarray:
        return checks.matrix("x", x)

    def _pairs(self, x, y):
        x = self._x(x)
        y = checks.finite_array("y", y, ndim=(1, 2))
        checks.same_length(x=x, y=y)
        return x, y

    def _chunks(self, x, *others):
        for start in range(0, len(x), self.chunk):
            part = slice(start, start + self.chunk)
            yield (part, self.predict(x[part])) + tuple(o[part] for o in others)

    def _per_pair(self, x, y, score) -> np.ndarray:
        x, y = self._pairs(x, y)
        out = np.empty(len(x))
        for part, params, y_part in self._chunks(x, y):
            out[part] = score(params, y_part)
        return out

    def log_prob(self, x, y) -> np.ndarray:
        """log p(y_i | x_i), ``[n]`` float64."""
        return self._per_pair(x, y, MixtureParams.log_prob)

    def cdf(self, x, y) -> np.ndarray:
        """F(y_i | x_i), the PIT, ``[n]`` float64 (D = 1)."""
        return self._per_pair(x, y, MixtureParams.cdf)

    def sample(self, x, num_samples: int, seed: int = 0) -> np.ndarray:
        """``num_samples`` draws of y for each row of x, ``[num_samples, n]`` (D = 1)."""
        x = self._x(x)
        num_samples = checks.positive_int("num_samples", num_samples)
        rng = np.random.default_rng(checks.positive_int("seed", seed, minimum=0))
        out = np.empty((num_samples, len(x)))
        for part, params in self._chunks(x):
            out[:, part] = params.sample(num_samples, seed=rng)[..., 0]
        return out

    def quantiles(self, x, levels) -> np.ndarray:
        """F^-1(level | x_i) for each row of x and level: ``[n, L]`` float64 (D = 1)."""
        x = self._x(x)
        levels = np.atleast_1d(checks.finite_array("levels", levels, ndim=(0, 1)))
        out = np.empty((len(x), len(levels)))
        for part, params in self._chunks(x):
            out[part] = params.quantiles(levels, iterations=self.quantile_iterations)
        return out

    def closed_form_crps(self, x, y) -> np.ndarray | None:
        """``MixtureParams.crps`` per pair, ``[n]``; None above ``max_crps_components``."""
        x, y = self._pairs(x, y)
        out = np.empty(len(x))
        for part, params, y_part in self._chunks(x, y):
            if params.K > self.max_crps_components:
                return None
            out[part] = params.crps(y_part)
        return out


def categorical_draws(weights, uniform) -> np.ndarray:
    """Category indices ``[S, n]`` from weights ``[n, M]`` (rows need not sum to 1) and
    uniforms ``[S, n]``: for each draw, the first m whose cumulative weight reaches u
    (inverse-CDF sampling, one uniform per draw).

    One ``searchsorted`` over all rows at once: row r's cumulative weights, normalised to
    end at 1, are shifted by r, so the rows occupy disjoint intervals [r, r + 1] of one
    sorted array; memory O(n M + S n), not the O(S n M) of comparing every draw with every
    cumulative weight.
    """
    weights = np.asarray(weights, np.float64)
    cumulative = np.cumsum(weights, axis=1)
    cumulative /= cumulative[:, -1:]
    n, m = cumulative.shape
    offsets = np.arange(n, dtype=np.float64)
    flat = (cumulative + offsets[:, None]).ravel()
    position = np.searchsorted(flat, uniform + offsets[None, :], side="left")
    return np.clip(position - (np.arange(n) * m)[None, :], 0, m - 1)


def _expected_absolute(mu, variance):
    """A(mu, s^2) = E|Z| for Z ~ N(mu, s^2) = 2 s phi(mu/s) + mu (2 Phi(mu/s) - 1)."""
    s = np.sqrt(variance)
    ratio = mu / s
    return (2 / np.sqrt(2 * np.pi)) * s * np.exp(-0.5 * ratio * ratio) + mu * special.erf(
        ratio / np.sqrt(2))


def _raw_dimension(size: int) -> int:
    """D from the D(D+1)/2 entries of a lower triangle; ValueError when size is not one."""
    d = int(round((np.sqrt(8 * size + 1) - 1) / 2))
    if d * (d + 1) // 2 != size:
        raise ValueError(f"raw_scale's last dimension must be D(D+1)/2 for some D "
                         f"(1, 3, 6, 10, ...), got {size}")
    return d


@functools.lru_cache(maxsize=None)
def _fill_order(dim: int) -> np.ndarray:
    """``[D, D]`` position of each raw number in the lower triangle (-1 above it).

    ``tfp.math.fill_triangular``'s order: the raw numbers x (length m = D(D+1)/2) are laid
    out as concat(x[D:], reverse(x)), reshaped to D x D, and the lower triangle is kept.
    """
    size = dim * (dim + 1) // 2
    order = np.concatenate([np.arange(size)[dim:], np.arange(size)[::-1]]).reshape(dim, dim)
    return np.where(np.tril(np.ones((dim, dim), bool)), order, -1)


def triangle_index(dim: int) -> dict[tuple[int, int], int]:
    """{(row, column): position} of the D(D+1)/2 raw numbers in a D x D lower triangle,
    in ``tfp.math.fill_triangular``'s order (``_fill_order``)."""
    dim = checks.positive_int("dim", dim)
    order = _fill_order(dim)
    rows, columns = np.tril_indices(dim)
    return {(int(r), int(c)): int(order[r, c]) for r, c in zip(rows, columns)}


def scale_tril_from_raw(raw_scale) -> np.ndarray:
    """Map ``[..., D(D+1)/2]`` unconstrained numbers to a valid scale_tril ``[..., D, D]``.

    The numbers fill a lower triangle in ``tfp.math.fill_triangular``'s order
    (``triangle_index``); those on the diagonal are log L_dd, so L_dd = exp(.) > 0. This is
    ``tfp.bijectors.FillScaleTriL(diag_bijector=Exp(), diag_shift=None)`` and what the
    full-covariance network head emits; for D = 1 the one raw number is log sigma.
    NumPy in and out (validated); ``mixture.scale_tril_from_raw_unchecked`` is the same map
    on tensors inside a graph.
    """
    dtype = _common_dtype(raw_scale)
    raw = checks.finite_array("raw_scale", raw_scale, dtype=dtype)
    if raw.ndim < 1:
        raise ValueError(f"raw_scale must have rank >= 1, got shape {raw.shape}")
    dim = _raw_dimension(raw.shape[-1])
    order = _fill_order(dim)
    filled = np.where(order >= 0, raw[..., np.maximum(order, 0)], 0).astype(dtype)
    diagonal = np.arange(dim)
    filled[..., diagonal, diagonal] = np.exp(filled[..., diagonal, diagonal])
    return filled


@dataclasses.dataclass(frozen=True)
class HeadLayout:
    """Where each parameter sits in the network head's one flat output ``[n, P]``.

        flat = [ logits (K) | locs (K * D) | scale (K * S) ],   P = K (1 + D + S)

    locs are stored component by component (mu_1 then mu_2 ...); scale holds per
    component either the D log-sigmas ("diag", S = D) or the S = D(D+1)/2 raw numbers of
    a lower-triangular scale whose diagonal entries are log L_dd ("full";
    ``scale_tril_from_raw``). For D = 1 both are log sigma, and the flat vector is the
    1-D (logits, means, log_sigmas) side by side. ``mixture.split_head`` splits a tensor.
    """

    num_components: int
    dim: int
    covariance: str = "diag"

    def __post_init__(self):
        checks.positive_int("num_components", self.num_components)
        checks.positive_int("dim", self.dim)
        checks.one_of("covariance", self.covariance, COVARIANCES)

    @property
    def scale_size(self) -> int:
        """S: numbers per component that set its covariance."""
        d = self.dim
        return d if self.covariance == "diag" else d * (d + 1) // 2

    @property
    def size(self) -> int:
        """P = K (1 + D + S), the width of the flat output."""
        return self.num_components * (1 + self.dim + self.scale_size)

    def params(self, flat) -> "MixtureParams":
        """The ``MixtureParams`` of a flat output (NumPy ``[n, P]``), validated."""
        flat = checks.finite_array("flat", flat, ndim=2, dtype=_common_dtype(flat))
        if flat.shape[1] != self.size:
            raise ValueError(f"flat must have {self.size} columns for K = "
                             f"{self.num_components}, D = {self.dim}, covariance="
                             f"{self.covariance!r}, got shape {flat.shape}")
        k, d = self.num_components, self.dim
        logits = flat[:, :k]
        locs = flat[:, k:k + k * d].reshape(-1, k, d)
        scale = flat[:, k + k * d:].reshape(-1, k, self.scale_size)
        if self.covariance == "diag":
            return MixtureParams.diag(logits, locs, scale)
        return MixtureParams.full(logits, locs, scale_tril_from_raw(scale))
