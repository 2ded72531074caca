"""One interface for every method of the comparison, and the Gaussian-mixture family.

Every method is a ``ConditionalModel``::

    model = SomeMethod(...settings).fit(x, y, seed=0)   # returns the model itself
    model.log_prob(x, y)                 # [n] float64: log p(y_i | x_i), nats
    model.cdf(x, y)                      # [n] float64: F(y_i | x_i) (the PIT)
    model.sample(x, num_samples, seed)   # [num_samples, n] float64 draws of y given each x_i
    model.quantiles(x, levels)           # [n, L] float64: F^-1(level | x_i)
    model.fit_seconds                    # wall time of the fit call
    model.training_seconds               # time the training took (for a model loaded from
                                         # the cache: that of the run that trained it)

Shapes: x is ``[n]`` or ``[n, Dx]``; y is a scalar per example, ``[n]`` or ``[n, 1]``:
the methods model a 1-D y only, and say so with a ``ValueError`` naming ``y``.
Arguments are checked in NumPy before any TensorFlow op runs.

A method that cannot produce a quantity raises ``MetricUnavailable`` (a
``NotImplementedError``) that names the method, the quantity and the reason, for
example quantile regression's ``log_prob``: it predicts a few quantiles, not a density.
The scoring code (``diagnostics.scoring.score``) catches it and prints the reason in the table
instead of leaving a blank.

``GaussianMixtureModel`` is the family whose predictive distribution is a mixture of M
Gaussians per x, p(y | x) = sum_m w_m(x) N(y | mu_m(x), sigma_m(x)^2): the homoscedastic
Gaussian (M = 1), the MDN (M = K) and kernel conditional density estimation (M = the
number of training points, one kernel each). A subclass supplies only ``_mixture(x)``;
log-density, CDF, sampling, quantiles and (for small M) the closed-form CRPS follow here.
"""
from __future__ import annotations

import abc
import inspect
import time

import numpy as np

from mdn_utils import checks
from mdn_utils.core.params import ConditionalMixture, MixtureParams
from mdn_utils.diagnostics.scoring import MetricUnavailable, check_levels

CHUNK = 512                       # rows of x per chunk in the mixture computations
CLOSED_FORM_CRPS_MAX_COMPONENTS = 64   # above this, the CRPS comes from samples
QUANTILE_ITERATIONS = 60          # bisection steps: the bracket shrinks by 2^-60


class NotFittedError(RuntimeError):
    """The model was used before ``fit``."""


def y_column(name: str, value) -> np.ndarray:
    """Finite float64 ``[n]`` from ``[n]`` or ``[n, 1]``; a wider y is refused by name."""
    array = checks.finite_array(name, value, ndim=(1, 2))
    if array.ndim == 2:
        if array.shape[1] != 1:
            raise ValueError(f"{name} must be 1-D, shape [n] or [n, 1]: the comparison methods "
                             f"model a scalar y, got shape {array.shape}")
        array = array[:, 0]
    return array


class ConditionalModel(abc.ABC):
    """A model of p(y | x) for a scalar y (see the module docstring for the interface).

    As in scikit-learn's estimators, the settings given to the constructor are kept as
    given: ``fit`` sets only fitted attributes (what it learned or chose), so the same
    settings build a fresh, equivalent method (for each fold of a cross-validation, say):
    ``get_params()`` returns them and ``clone()`` builds that method.

    Subclasses implement ``_fit(x [n, Dx], y [n], seed)`` (returning the training time in
    seconds if it differs from the wall time of the call, else None) and whichever of
    ``_log_prob``, ``_cdf``, ``_sample``, ``_quantiles`` they can; the others raise
    ``MetricUnavailable`` with ``unavailable_reason``.
    """

    name: str = "model"
    unavailable_reason: str = "not implemented for this method"

    def __init__(self):
        self.fit_seconds = float("nan")
        self.training_seconds = float("nan")
        self.x_dim: int | None = None

    # ---- the public interface (checks first, then the subclass's hook) ----------------
    def fit(self, x, y, seed: int = 0) -> "ConditionalModel":
        """Fit to training pairs; x ``[n]`` or ``[n, Dx]``, y ``[n]`` or ``[n, 1]``."""
        x = checks.matrix("x", x)
        y = y_column("y", y)
        checks.same_length(x=x, y=y)
        if len(y) < 2:
            raise ValueError(f"x and y must hold at least 2 examples to fit, got {len(y)}")
        seed = checks.positive_int("seed", seed, minimum=0)
        start = time.perf_counter()
        reported = self._fit(x, y, seed)
        self.fit_seconds = time.perf_counter() - start
        self.training_seconds = self.fit_seconds if reported is None else float(reported)
        self.x_dim = x.shape[1]
        return self

    @property
    def fitted(self) -> bool:
        return self.x_dim is not None

    def get_params(self) -> dict:
        """The constructor's settings by name (scikit-learn's ``get_params``): each argument
        of ``__init__`` read from the attribute of that name, or from ``self.settings`` (the
        networks keep theirs in a ``networks.NetworkSettings``); a ``**name`` argument adds
        the dict kept in the attribute ``name`` (the MDN's ``train_settings``)."""
        params, settings = {}, getattr(self, "settings", None)
        for name, p in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or p.kind is p.VAR_POSITIONAL:
                continue
            if p.kind is p.VAR_KEYWORD:
                params.update(getattr(self, name))
            else:
                params[name] = (getattr(self, name) if hasattr(self, name)
                                else getattr(settings, name))
        return params

    def clone(self) -> "ConditionalModel":
        """A new, unfitted model with the same settings (scikit-learn's ``clone``)."""
        return type(self)(**self.get_params())

    def log_prob(self, x, y) -> np.ndarray:
        """log p(y_i | x_i) for each pair, ``[n]`` float64 (nats)."""
        x, y = self._pairs(x, y)
        return self._log_prob(x, y)

    def cdf(self, x, y) -> np.ndarray:
        """F(y_i | x_i) for each pair, ``[n]`` float64: the probability integral transform."""
        x, y = self._pairs(x, y)
        return self._cdf(x, y)

    def sample(self, x, num_samples: int, seed: int = 0) -> np.ndarray:
        """``num_samples`` draws of y for each row of x: ``[num_samples, n]`` float64."""
        x = self._inputs(x)
        num_samples = checks.positive_int("num_samples", num_samples)
        seed = checks.positive_int("seed", seed, minimum=0)
        return self._sample(x, num_samples, seed)

    def quantiles(self, x, levels) -> np.ndarray:
        """F^-1(level | x_i) for each row of x and each level: ``[n, L]`` float64."""
        x = self._inputs(x)
        return self._quantiles(x, check_levels(levels))

    def closed_form_crps(self, x, y) -> np.ndarray | None:
        """The CRPS per pair in closed form when the method has one (``[n]``), else None."""
        return None

    # ---- hooks --------------------------------------------------------------------------
    @abc.abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray, seed: int) -> float | None: ...

    def _log_prob(self, x, y):
        raise MetricUnavailable(self.name, "a log-density (NLL)", self.unavailable_reason)

    def _cdf(self, x, y):
        raise MetricUnavailable(self.name, "a CDF (PIT)", self.unavailable_reason)

    def _sample(self, x, num_samples, seed):
        raise MetricUnavailable(self.name, "samples", self.unavailable_reason)

    def _quantiles(self, x, levels):
        raise MetricUnavailable(self.name, "quantiles", self.unavailable_reason)

    # ---- argument checks ---------------------------------------------------------------
    def _inputs(self, x) -> np.ndarray:
        if not self.fitted:
            raise NotFittedError(f"{self.name}: call fit(x, y) before using the model")
        x = checks.matrix("x", x)
        if x.shape[1] != self.x_dim:
            raise ValueError(f"x must have {self.x_dim} columns like the training x, got "
                             f"shape {x.shape}")
        return x

    def _pairs(self, x, y):
        x = self._inputs(x)
        y = y_column("y", y)
        checks.same_length(x=x, y=y)
        return x, y

    def __repr__(self) -> str:
        state = f"fitted in {self.fit_seconds:.2f} s" if self.fitted else "not fitted"
        return f"{type(self).__name__}(name={self.name!r}, {state})"


class GaussianMixtureModel(ConditionalModel):
    """p(y | x) = sum_m w_m(x) N(y | mu_m(x), sigma_m(x)^2); subclasses give ``_mixture``,
    a ``MixtureParams`` (D = 1), and every score is ``core.params.ConditionalMixture`` of
    it, the NumPy kernel a chunk of rows at a time (as for a trained MDN in the chapters):

    * log p: ``MixtureParams.log_prob``;  F(y): ``MixtureParams.cdf``
    * sample: ``MixtureParams.sample`` (m by inverting the cumulative weights with one
      uniform, then mu_m + sigma_m eps), chunk by chunk of rows from one generator
    * quantile: ``MixtureParams.quantiles`` (bisection on F)
    * CRPS: ``MixtureParams.crps``, the closed form (Grimit et al. 2006) for M up to
      ``CLOSED_FORM_CRPS_MAX_COMPONENTS``; its pair term costs M^2 per row, so larger
      mixtures (the kernel estimator) leave it to the samples.
    """

    @abc.abstractmethod
    def _mixture(self, x: np.ndarray) -> MixtureParams:
        """The predictive mixture (float64, D = 1) for x ``[n, Dx]``."""

    def mixture(self, x) -> MixtureParams:
        """The predictive mixture for each row of x, a float64 ``MixtureParams`` with D = 1."""
        return self._mixture(self._inputs(x))

    def _conditional(self) -> ConditionalMixture:
        return ConditionalMixture(self._mixture, CHUNK, CLOSED_FORM_CRPS_MAX_COMPONENTS,
                                  QUANTILE_ITERATIONS)

    def _log_prob(self, x, y):
        return self._conditional().log_prob(x, y)

    def _cdf(self, x, y):
        return self._conditional().cdf(x, y)

    def _sample(self, x, num_samples, seed):
        return self._conditional().sample(x, num_samples, seed)

    def _quantiles(self, x, levels):
        return self._conditional().quantiles(x, levels)

    def closed_form_crps(self, x, y):
        x, y = self._pairs(x, y)
        return self._conditional().closed_form_crps(x, y)
