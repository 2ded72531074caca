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
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from mdn_utils import checks

tfd = tfp.distributions

COVARIANCES = ("diag", "full")


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
    def from_1d(cls, logits, means, log_sigmas) -> "MixtureParams":
        """Today's 1-D triple, each ``[n, K]``: diagonal with D = 1 (locs = means[..., None])."""
        named = {"logits": logits, "means": means, "log_sigmas": log_sigmas}
        dtype = _common_dtype(*named.values())
        arrays = {name: checks.finite_array(name, value, ndim=2, dtype=dtype)
                  for name, value in named.items()}
        shapes = {name: a.shape for name, a in arrays.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"logits, means and log_sigmas must have the same shape [n, K], "
                             f"got {shapes}")
        return cls.diag(arrays["logits"], arrays["means"][..., None],
                        arrays["log_sigmas"][..., None])

    @classmethod
    def from_head(cls, logits, locs, scale, covariance: str) -> "MixtureParams":
        """What a network head emits: ``scale`` is log_sigmas ("diag") or scale_tril ("full")."""
        checks.one_of("covariance", covariance, COVARIANCES)
        return cls.diag(logits, locs, scale) if covariance == "diag" else cls.full(
            logits, locs, scale)

    @classmethod
    def full_from_raw(cls, logits, locs, raw_scale) -> "MixtureParams":
        """Full covariance from D(D+1)/2 raw numbers per component (``scale_tril_from_raw``)."""
        return cls.full(logits, locs, scale_tril_from_raw(raw_scale).numpy())

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

    def __repr__(self) -> str:
        return (f"MixtureParams(covariance={self.covariance!r}, n={self.n}, K={self.K}, "
                f"D={self.D}, dtype={self.dtype})")

    # ---- the distribution ---------------------------------------------------------------
    def distribution(self) -> tfd.MixtureSameFamily:
        """p(y | x) = sum_k softmax(z)_k N(y | mu_k, Sigma_k) as a TFP distribution.

        ``MixtureSameFamily(Categorical(logits), MultivariateNormalDiag(locs, exp(log_sigmas)))``
        or ``...MultivariateNormalTriL(locs, scale_tril)``: batch shape [n], event shape [D].
        For D = 1 the event shape is [1], so ``log_prob`` takes y as ``[n, 1]`` (not ``[n]``).
        """
        if self.covariance == "diag":
            components = tfd.MultivariateNormalDiag(loc=self.locs,
                                                    scale_diag=np.exp(self.log_sigmas))
        else:
            components = tfd.MultivariateNormalTriL(loc=self.locs, scale_tril=self.scale_tril)
        return tfd.MixtureSameFamily(tfd.Categorical(logits=self.logits), components)

    def scalar_distribution(self) -> tfd.MixtureSameFamily:
        """For D = 1: the same mixture over a scalar y, ``MixtureSameFamily(Categorical,
        Normal)`` with event shape [] (y is ``[n]``), which also has a ``cdf``."""
        if self.D != 1:
            raise ValueError(f"scalar_distribution needs D = 1, these parameters have D = "
                             f"{self.D}; use distribution()")
        sigma = (np.exp(self.log_sigmas[..., 0]) if self.covariance == "diag"
                 else self.scale_tril[..., 0, 0])
        return tfd.MixtureSameFamily(tfd.Categorical(logits=self.logits),
                                     tfd.Normal(loc=self.locs[..., 0], scale=sigma))

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

    def sample(self, num_samples: int, tau: float = 1.0, seed: int = 0) -> np.ndarray:
        """Draw y at temperature tau, vectorised NumPy: shape ``[num_samples, n, D]``.

        Component by inverting the cumulative weights: with pi(tau) = softmax(log pi / tau)
        and u ~ U(0, 1), k is the first component whose cumulative weight reaches u (one
        uniform per draw, not one random number per component); then
        y = mu_k + sqrt(tau) L_k eps with eps ~ N(0, I_D) and L_k = diag(sigma_k) or
        scale_tril_k. As tau -> 0 this returns the mean of the heaviest component.
        """
        num_samples = checks.positive_int("num_samples", num_samples)
        tau = checks.positive_float("tau", tau)
        seed = checks.positive_int("seed", seed, minimum=0)
        rng = np.random.default_rng(seed)
        with np.errstate(over="ignore"):  # tiny tau: -inf, floored to the most negative float
            tempered = np.maximum(log_softmax(self.logits.astype(np.float64)) / tau,
                                  np.finfo(np.float64).min)
        cumulative = np.cumsum(np.exp(log_softmax(tempered)), axis=-1)          # [n, K]
        uniform = rng.random((num_samples, self.n, 1))
        component = np.minimum((cumulative < uniform).sum(axis=-1), self.K - 1)  # [S, n]
        rows = np.arange(self.n)
        noise = rng.standard_normal((num_samples, self.n, self.D))
        if self.covariance == "diag":
            scaled_noise = np.exp(self.log_sigmas[rows, component]) * noise
        else:
            scaled_noise = np.einsum("snij,snj->sni", self.scale_tril[rows, component], noise)
        return (self.locs[rows, component] + np.sqrt(tau) * scaled_noise).astype(self.dtype)


def _raw_dimension(size: int) -> int:
    """D from the D(D+1)/2 entries of a lower triangle; ValueError when size is not one."""
    d = int(round((np.sqrt(8 * size + 1) - 1) / 2))
    if d * (d + 1) // 2 != size:
        raise ValueError(f"raw_scale's last dimension must be D(D+1)/2 for some D "
                         f"(1, 3, 6, 10, ...), got {size}")
    return d


def scale_tril_from_raw_unchecked(raw_scale):
    """(L, log diag L) from ``[..., D(D+1)/2]`` raw numbers, tensors in, tensors out.

    ``tfp.math.fill_triangular`` fills a lower triangle with the numbers (in its own
    order); the numbers that land on the diagonal are log L_dd, so L_dd = exp(.) > 0.
    This is ``tfp.bijectors.FillScaleTriL(diag_bijector=Exp(), diag_shift=None)``, and for
    D = 1 it is the diagonal head: the one raw number is log sigma. Returning log diag L
    as well lets a loss use log det L = sum_d log L_dd without taking a log of exp.
    """
    filled = tfp.math.fill_triangular(raw_scale)
    log_diagonal = tf.linalg.diag_part(filled)
    return tf.linalg.set_diag(filled, tf.exp(log_diagonal)), log_diagonal


def scale_tril_from_raw(raw_scale):
    """Map ``[..., D(D+1)/2]`` unconstrained numbers to a valid scale_tril ``[..., D, D]``.

    The diagonal entries are exponentiated (``scale_tril_from_raw_unchecked``): this is
    what the full-covariance network head emits. Validates in NumPy, returns a tensor.
    """
    dtype = _common_dtype(raw_scale)
    raw = checks.finite_array("raw_scale", raw_scale, dtype=dtype)
    if raw.ndim < 1:
        raise ValueError(f"raw_scale must have rank >= 1, got shape {raw.shape}")
    _raw_dimension(raw.shape[-1])
    return scale_tril_from_raw_unchecked(tf.convert_to_tensor(raw))[0]


@functools.lru_cache(maxsize=None)
def triangle_index(dim: int) -> dict[tuple[int, int], int]:
    """{(row, column): position} of the D(D+1)/2 raw numbers in a D x D lower triangle,
    in ``tfp.math.fill_triangular``'s order (found by filling it with 0, 1, 2, ...)."""
    dim = checks.positive_int("dim", dim)
    size = dim * (dim + 1) // 2
    filled = np.asarray(tfp.math.fill_triangular(np.arange(size, dtype=np.float64)))
    rows, columns = np.tril_indices(dim)
    return {(int(r), int(c)): int(filled[r, c]) for r, c in zip(rows, columns)}


@dataclasses.dataclass(frozen=True)
class HeadLayout:
    """Where each parameter sits in the network head's one flat output ``[n, P]``.

        flat = [ logits (K) | locs (K * D) | scale (K * S) ],   P = K (1 + D + S)

    locs are stored component by component (mu_1 then mu_2 ...); scale holds per
    component either the D log-sigmas ("diag", S = D) or the S = D(D+1)/2 raw numbers of
    a lower-triangular scale whose diagonal entries are log L_dd ("full";
    ``scale_tril_from_raw_unchecked``). For D = 1 both are log sigma, and the flat vector
    is today's (logits, means, log_sigmas) side by side.
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

    def split(self, flat):
        """(logits [n, K], locs [n, K, D], scale [n, K, S]) from flat ``[n, P]`` (tensors)."""
        k, d = self.num_components, self.dim
        logits = flat[:, :k]
        locs = tf.reshape(flat[:, k:k + k * d], [-1, k, d])
        scale = tf.reshape(flat[:, k + k * d:], [-1, k, self.scale_size])
        return logits, locs, scale

    def params(self, flat) -> "MixtureParams":
        """The ``MixtureParams`` of a flat output (NumPy or tensor ``[n, P]``), validated."""
        flat = checks.finite_array("flat", flat, ndim=2, dtype=_common_dtype(flat))
        if flat.shape[1] != self.size:
            raise ValueError(f"flat must have {self.size} columns for K = "
                             f"{self.num_components}, D = {self.dim}, covariance="
                             f"{self.covariance!r}, got shape {flat.shape}")
        logits, locs, scale = (np.asarray(t) for t in self.split(tf.convert_to_tensor(flat)))
        if self.covariance == "diag":
            return MixtureParams.diag(logits, locs, scale)
        return MixtureParams.full(logits, locs, scale_tril_from_raw(scale).numpy())
