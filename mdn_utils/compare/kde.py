"""Method 4: kernel conditional density estimation, with bandwidths from statsmodels.

``statsmodels.nonparametric.KDEMultivariateConditional`` (Gaussian product kernels for
continuous variables) estimates p(y | x) = f(x, y) / f(x) with::

    f(x, y) = (1/n) sum_i K_hy(y - Y_i) prod_d K_hd(x_d - X_id),
    f(x)    = (1/n) sum_i prod_d K_hd(x_d - X_id),    K_h(u) = phi(u / h) / h,

see its ``pdf`` (statsmodels 0.15.0 docs,
https://www.statsmodels.org/v0.15.0/generated/statsmodels.nonparametric.kernel_density.KDEMultivariateConditional.html).
Dividing, the 1/n and the x-kernels' 1/h_d cancel, and the estimate is a mixture of n
Gaussians in y, one per training point::

    p(y | x) = sum_i w_i(x) N(y | Y_i, h_y^2),
    w_i(x) = prod_d phi((x_d - X_id)/h_d) / sum_j prod_d phi((x_d - X_jd)/h_d).

So this module takes the bandwidths (h_y, h_1, ..., h_Dx) from statsmodels and evaluates
that mixture itself, in log space (statsmodels' ``pdf`` loops over test points in Python
and underflows to 0 far from the data); the tests check it against ``pdf``. Sampling
follows from the same form: draw i with probability w_i(x), then y = Y_i + h_y eps,
eps ~ N(0, 1).

Bandwidths: ``bandwidth="cv_ml"`` (default) maximises the leave-one-out likelihood. With
repeated x values (the motorcycle data's times) it can collapse a bandwidth to
statsmodels' lower bound (1e-10): each point's leave-one-out density is then made of the
other points at the same x. ``fit`` warns (``UserWarning``) when a bandwidth falls below
1e-6 standard deviations. The cost of cv_ml grows as n^2 per evaluation, and statsmodels
evaluates it many times. Above ``bandwidth_subsample`` training points
statsmodels' own "efficient" mode is used (``EstimatorSettings(efficient=True,
n_sub=bandwidth_subsample, randomize=False)``): cv_ml on consecutive blocks of that size,
the median of their scale factors, rescaled to the full n. The mixture itself always uses
every training point.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import special

from mdn_utils import checks
from mdn_utils.compare.base import GaussianMixtureModel
from mdn_utils.core.params import MixtureParams

# statsmodels also offers "cv_ls" (least-squares cross-validation); it is left out: with
# repeated x values it can drive h_y towards zero, a density of spikes.
BANDWIDTH_METHODS = ("cv_ml", "normal_reference")
DEGENERATE_BANDWIDTH = 1e-6   # a bandwidth below this many standard deviations of its column


class KernelConditionalDensity(GaussianMixtureModel):
    """Kernel conditional density estimate with statsmodels' bandwidths (see the module).

    ``bandwidth``: one of ``BANDWIDTH_METHODS`` or fixed bandwidths (h_y, h_1, ..., h_Dx),
    all > 0. ``bandwidth_subsample``: largest n for a plain cv fit (None: always plain).
    After ``fit``, ``bandwidths`` holds (h_y, h_1, ..., h_Dx) and ``estimator`` the
    statsmodels object.
    """

    name = "kernel CDE"

    def __init__(self, *, bandwidth="cv_ml", bandwidth_subsample: int | None = 300):
        super().__init__()
        if isinstance(bandwidth, str):
            checks.one_of("bandwidth", bandwidth, BANDWIDTH_METHODS)
        else:
            bandwidth = checks.finite_array("bandwidth", bandwidth, ndim=1)
            if np.any(bandwidth <= 0):
                raise ValueError(f"bandwidth must be > 0, got {bandwidth}")
        if bandwidth_subsample is not None:
            bandwidth_subsample = checks.positive_int("bandwidth_subsample",
                                                      bandwidth_subsample, minimum=10)
        self.bandwidth = bandwidth
        self.bandwidth_subsample = bandwidth_subsample
        self.estimator = None
        self.bandwidths = None

    def _fit(self, x, y, seed):
        return self._fit_bandwidth(x, y, seed, self.bandwidth)

    def _fit_bandwidth(self, x, y, seed, bandwidth):
        """Fit with ``bandwidth`` (a rule's name or 1 + Dx numbers); the settings stay as
        they are (a subclass passes the bandwidth it chose)."""
        if not isinstance(bandwidth, str) and len(bandwidth) != 1 + x.shape[1]:
            raise ValueError(f"bandwidth must hold 1 + Dx = {1 + x.shape[1]} numbers "
                             f"(h_y, then one per column of x), got {len(bandwidth)}")
        from statsmodels.nonparametric.kernel_density import (EstimatorSettings, KDEMultivariateConditional)
        efficient = (self.bandwidth_subsample is not None and isinstance(bandwidth, str)
                     and len(y) > self.bandwidth_subsample)
        settings = EstimatorSettings(efficient=efficient, randomize=False,
                                     n_sub=self.bandwidth_subsample or 50, n_jobs=1)
        with warnings.catch_warnings():
            # The optimiser tries bandwidths whose leave-one-out likelihood has a zero term
            # (log 0); it moves on, and the result is checked below.
            warnings.filterwarnings("ignore", "invalid value encountered in log",
                                    RuntimeWarning)
            warnings.filterwarnings("ignore", "divide by zero encountered in log",
                                    RuntimeWarning)
            self.estimator = KDEMultivariateConditional(
                endog=[y], exog=[x[:, d] for d in range(x.shape[1])], dep_type="c",
                indep_type="c" * x.shape[1], bw=bandwidth, defaults=settings, rng=seed)
        self.bandwidths = np.asarray(self.estimator.bw, np.float64).copy()
        if not np.all(np.isfinite(self.bandwidths) & (self.bandwidths > 0)):
            raise FloatingPointError(f"statsmodels returned bandwidths {self.bandwidths}; "
                                     "check the data for duplicated rows")
        scales = np.concatenate([[y.std()], x.std(axis=0)])
        tiny = [name for name, h, scale in zip(["y"] + [f"x[:, {d}]" for d in range(x.shape[1])],
                                               self.bandwidths, scales)
                if h < DEGENERATE_BANDWIDTH * scale]
        if tiny:
            warnings.warn(f"{self.name}: the {bandwidth} bandwidth of {', '.join(tiny)} "
                          f"collapsed to {self.bandwidths.min():.3g} (statsmodels' lower bound "
                          "is 1e-10). Repeated x values do this: each point's leave-one-out "
                          "density is then made of the other points at the same x. The fit "
                          "becomes a nearest-neighbour rule in x; consider "
                          "bandwidth='normal_reference' or fixed bandwidths.", UserWarning,
                          stacklevel=3)
        self._x_train = x.copy()
        self._y_train = y.copy()
        self.efficient = efficient
        return None

    def _mixture(self, x):
        h_y, h_x = self.bandwidths[0], self.bandwidths[1:]
        z = (x[:, None, :] - self._x_train[None, :, :]) / h_x          # [n, M, Dx]
        log_kernel = -0.5 * np.sum(z * z, axis=2)
        log_weights = log_kernel - special.logsumexp(log_kernel, axis=1, keepdims=True)
        shape = log_weights.shape
        return MixtureParams.from_1d(log_weights, np.broadcast_to(self._y_train, shape),
                                     np.full(shape, np.log(h_y)))
