"""Method 6: a conditional normalising flow, a rational-quadratic spline whose knots the
network emits for each x.

The flow, for a scalar y. Standardise y with the training mean and standard deviation,
z = (y - y_mean) / y_std, and map z to a base variable u by a monotone increasing
rational-quadratic spline g(. ; x) (Durkan et al. 2019, arXiv:1906.04032, as TFP's
``tfp.bijectors.RationalQuadraticSpline`` implements it) whose parameters are the outputs
of the MDN's trunk at x (``networks.dense_network``). The base is u ~ N(0, 1). By the
change of variables::

    log p(y | x) = log N(g(z; x) | 0, 1) + log g'(z; x) - log y_std,   z = (y - y_mean) / y_std.

The spline. K = ``num_bins`` bins cover the interval [-B, B] of z (B = ``bound``) and are
mapped onto the same interval [-B, B] of u. The network's 3K - 1 outputs per x are split
into raw widths a (K), raw heights b (K) and raw interior slopes c (K - 1), constrained as::

    widths  w = m + (2B - K m) softmax(a)           (positive, sum to 2B)
    heights h = m + (2B - K m) softmax(b)           (positive, sum to 2B)
    slopes  d = s + softplus(c + softplus^-1(1 - s))  (positive; d = 1 at c = 0)

with m = ``MIN_BIN_SIZE`` and s = ``MIN_SLOPE``. TFP places the knots at
-B + cumsum(w) (and -B + cumsum(h) in u), with ``range_min = -B`` as the first knot, and
pads slope 1 at the two end knots. At a = b = c = 0 the spline is the identity. Outside
[-B, B] TFP's spline is the identity (``out_of_bounds`` in its source), so there the
density of z is N(z | 0, 1) itself: the tails of standardised y are Gaussian, and since g
maps [-B, B] onto [-B, B], the mass beyond them, P(abs(z) > B) = 2 Phi(-B), is fixed by
the bound, not learned (about 6e-5 at the default B = 4). Training y should lie inside
[-B, B] after standardisation (the default covers four standard deviations).

Everything is exact, no numerical integration or root search:

* CDF: F(y | x) = Phi(g(z; x)) (g is increasing).
* sampling: y = y_mean + y_std g^-1(u; x), u ~ N(0, 1) (TFP's analytic inverse: the root
  of a quadratic in each bin).
* quantiles: F^-1(tau | x) = y_mean + y_std g^-1(Phi^-1(tau); x).

Training minimises the NLL above (per example) with the book's compiled loop
(``networks.train_network``), in float32; the constant log y_std has no gradient and is
added to the reported mean training loss afterwards, to keep it in nats of y;
evaluation rebuilds the spline from the network's outputs in float64.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from mdn_utils import checks
from mdn_utils.compare.base import ConditionalModel
from mdn_utils.core.params import LOG_SQRT_2PI
from mdn_utils.compare.networks import NetworkSettings, dense_network, train_network

MIN_BIN_SIZE = 1e-3   # lower bound of every bin's width and height (units of z and u)
MIN_SLOPE = 1e-3      # lower bound of the slope at the interior knots
CHUNK_ELEMENTS = 1 << 22   # rows x draws x knots per chunk (TFP's spline broadcasts its
                           # knots to every input, so memory grows with this product)


def spline_parameters(raw, num_bins: int, bound: float):
    """(widths [n, K], heights [n, K], interior slopes [n, K - 1]) from the network's raw
    outputs ``[n, 3K - 1]`` (a TensorFlow tensor; the dtype is kept), as in the module
    docstring: softmax for widths and heights, softplus for the slopes."""
    import tensorflow as tf
    k = num_bins
    scale = 2.0 * bound - k * MIN_BIN_SIZE
    widths = MIN_BIN_SIZE + scale * tf.nn.softmax(raw[:, :k], axis=-1)
    heights = MIN_BIN_SIZE + scale * tf.nn.softmax(raw[:, k:2 * k], axis=-1)
    shift = float(np.log(np.expm1(1.0 - MIN_SLOPE)))   # softplus^-1(1 - s): slope 1 at 0
    slopes = MIN_SLOPE + tf.nn.softplus(raw[:, 2 * k:] + shift)
    return widths, heights, slopes


def make_spline(raw, num_bins: int, bound: float):
    """The ``tfp.bijectors.RationalQuadraticSpline`` g(. ; x) for each row of ``raw``;
    its forward maps standardised y (z) to the base variable u, batch shape [n]."""
    import tensorflow_probability as tfp
    widths, heights, slopes = spline_parameters(raw, num_bins, bound)
    return tfp.bijectors.RationalQuadraticSpline(widths, heights, slopes,
                                                 range_min=-bound)


class ConditionalSplineFlow(ConditionalModel):
    """p(y | x) by a rational-quadratic spline flow with an N(0, 1) base (see the module).

    ``num_bins`` K >= 2 bins over [-``bound``, ``bound``] of standardised y; the other
    arguments are the trunk and training settings shared with the other network methods.
    After ``fit``: ``y_mean``, ``y_std`` and ``network`` (x to the 3K - 1 raw parameters).
    """

    name = "spline flow"

    def __init__(self, num_bins: int = 32, *, bound: float = 4.0, hidden_units: int = 64,
                 hidden_layers: int = 2, activation: str = "gelu", steps: int = 3_000,
                 batch_size: int = 64, learning_rate: float = 3e-3, jit_compile: bool = False):
        super().__init__()
        self.num_bins = checks.positive_int("num_bins", num_bins, minimum=2)
        self.bound = checks.positive_float("bound", bound)
        if 2 * self.bound <= self.num_bins * MIN_BIN_SIZE:
            raise ValueError(f"bound must exceed num_bins * MIN_BIN_SIZE / 2 = "
                             f"{self.num_bins * MIN_BIN_SIZE / 2:g} so that {self.num_bins} "
                             f"bins of width >= {MIN_BIN_SIZE:g} fit in [-bound, bound], "
                             f"got bound = {self.bound:g}")
        self.settings = NetworkSettings(hidden_units, hidden_layers, activation, steps,
                                        batch_size, learning_rate, jit_compile)
        self.network = None
        self.y_mean = self.y_std = None

    @property
    def num_outputs(self) -> int:
        """3K - 1: K raw widths, K raw heights, K - 1 raw interior slopes."""
        return 3 * self.num_bins - 1

    def _fit(self, x, y, seed):
        y_mean, y_std = float(y.mean()), float(y.std())
        if not y_std > 0:
            raise ValueError(f"y must not be constant to standardise it, got every y = {y_mean}")
        import tensorflow as tf
        self.y_mean, self.y_std = y_mean, y_std
        self.network = dense_network(x, self.num_outputs, self.settings, seed, "spline_params")
        num_bins, bound = self.num_bins, self.bound

        def negative_log_likelihood(z_batch, raw):
            """-log p(z | x) per example, ``[batch]``: the module's formula for standardised
            y, negated (the constant log y_std, which has no gradient, is added after)."""
            z = z_batch[:, 0]
            spline = make_spline(raw, num_bins, bound)
            u = spline.forward(z)
            log_jacobian = spline.forward_log_det_jacobian(z, event_ndims=0)
            return 0.5 * tf.square(u) + LOG_SQRT_2PI - log_jacobian

        z = (y - y_mean) / y_std
        self.mean_training_loss = np.log(y_std) + train_network(
            self.network, x, z[:, None], negative_log_likelihood, self.settings, seed,
            loss_key=("spline_nll", num_bins, bound))
        return None

    # ---- evaluation, in float64 ---------------------------------------------------------
    def _splines(self, x):
        """The spline of each row of x, its parameters in float64."""
        import tensorflow as tf
        raw = self.network(x.astype(np.float32), training=False)
        return make_spline(tf.cast(raw, tf.float64), self.num_bins, self.bound)

    def _standardise(self, y):
        return (y - self.y_mean) / self.y_std

    def _rows_per_chunk(self, draws_per_row: int = 1) -> int:
        return max(1, CHUNK_ELEMENTS // (draws_per_row * (self.num_bins + 1)))

    def _log_prob(self, x, y):
        out = np.empty(len(x))
        rows = self._rows_per_chunk()
        for start in range(0, len(x), rows):
            part = slice(start, start + rows)
            spline, z = self._splines(x[part]), self._standardise(y[part])
            u = spline.forward(z).numpy()
            log_jacobian = spline.forward_log_det_jacobian(z, event_ndims=0).numpy()
            out[part] = -0.5 * u * u - LOG_SQRT_2PI + log_jacobian - np.log(self.y_std)
        return out

    def _cdf(self, x, y):
        out = np.empty(len(x))
        rows = self._rows_per_chunk()
        for start in range(0, len(x), rows):
            part = slice(start, start + rows)
            out[part] = special.ndtr(
                self._splines(x[part]).forward(self._standardise(y[part])).numpy())
        return out

    def _inverse(self, x, u):
        """y = y_mean + y_std g^-1(u; x) for u ``[S, n]`` (draw s of row i in u[s, i])."""
        out = np.empty_like(u)
        rows = self._rows_per_chunk(u.shape[0])
        for start in range(0, len(x), rows):
            part = slice(start, start + rows)
            spline = self._splines(x[part])        # batch [rows], broadcast against [S, rows]
            out[:, part] = spline.inverse(u[:, part]).numpy()
        return self.y_mean + self.y_std * out

    def _sample(self, x, num_samples, seed):
        rng = np.random.default_rng(seed)
        return self._inverse(x, rng.standard_normal((num_samples, len(x))))

    def _quantiles(self, x, levels):
        u = np.broadcast_to(special.ndtri(levels)[:, None], (len(levels), len(x)))
        return self._inverse(x, np.ascontiguousarray(u)).T
