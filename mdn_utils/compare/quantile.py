"""Method 5: quantile regression, a network with one output per probability level::

    q_j(x) = y_mean + y_std * (W_j h(x) + b_j),   j = 1..J,   h = the MDN's dense trunk,

trained by the book's compiled loop (``loop.make_train_loop``: ``steps`` Adam steps on
minibatches of ``batch_size`` drawn in-graph, learning rate decayed along a cosine to 1%
of ``learning_rate``, as ``train.train_mdn`` does) to minimise the mean pinball loss over
the J levels tau_j::

    L = mean_i mean_j rho_{tau_j}(y_i - q_j(x_i)),   rho_tau(u) = u (tau - 1{u < 0}),

whose minimiser, level by level, is the conditional tau-quantile. ``hidden_layers=0``
makes it linear in x. Nothing ties the J outputs together, so at some x the fitted
quantiles may cross (q_{j+1}(x) < q_j(x)); ``crossings`` counts them. The quantiles are used as predicted (no rearrangement).

It predicts J quantiles, not a distribution: no density (no NLL, no gap to the floor), no
CDF and no sampler, so those raise ``MetricUnavailable``. It is compared on the CRPS
(``metrics.crps_from_quantiles``) and on interval coverage. ``quantiles(x, levels)``
interpolates linearly between neighbouring fitted levels; a level outside
[tau_1, tau_J] is unavailable (the tails are not modelled).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import checks
from .base import ConditionalModel, MetricUnavailable, check_levels

# 0.025, 0.05, 0.10, ..., 0.95, 0.975: the central 50, 80, 90 and 95 % intervals' ends.
DEFAULT_LEVELS = (0.025,) + tuple(round(0.05 * j, 2) for j in range(1, 20)) + (0.975,)


@dataclass(frozen=True)
class Crossings:
    """Crossed quantiles on a set of x: ``pairs`` is the number of (x_i, j) with
    q_{j+1}(x_i) < q_j(x_i) (out of ``num_x * (J - 1)``); ``x_with_crossing`` the number of
    x_i with at least one."""

    num_x: int
    pairs: int
    x_with_crossing: int

    @property
    def share_of_x(self) -> float:
        return self.x_with_crossing / self.num_x


class QuantileRegression(ConditionalModel):
    """A network of J quantile outputs, trained with the pinball loss (see the module)."""

    name = "quantile regression"
    unavailable_reason = ("it predicts a few quantiles, not a distribution (no density, "
                          "no CDF, no sampler)")

    def __init__(self, levels=DEFAULT_LEVELS, *, hidden_units: int = 64, hidden_layers: int = 2,
                 activation: str = "tanh", steps: int = 3_000, batch_size: int = 64,
                 learning_rate: float = 3e-3, jit_compile: bool = False):
        super().__init__()
        levels = check_levels(levels)
        if len(levels) < 2 or np.any(np.diff(levels) <= 0):
            raise ValueError(f"levels must be at least 2 strictly increasing numbers in (0, 1), "
                             f"got {levels}")
        self.levels = levels
        from ..model import _check_trunk   # names the bad argument; no TensorFlow op
        self.hidden_units, self.hidden_layers, self.activation, _ = _check_trunk(
            hidden_units, hidden_layers, activation, 0)
        self.steps = checks.positive_int("steps", steps)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.learning_rate = checks.positive_float("learning_rate", learning_rate)
        if not isinstance(jit_compile, bool):
            raise TypeError(f"jit_compile must be True or False, got {jit_compile!r}")
        self.jit_compile = jit_compile
        self.network = None

    def _build(self, x, y, seed):
        import keras

        from ..model import _glorot, _moments, _trunk
        hidden_units, hidden_layers, activation = (self.hidden_units, self.hidden_layers,
                                                   self.activation)
        y_mean, y_variance = _moments(y[:, None], 1)
        inputs, h = _trunk(hidden_units, hidden_layers, activation, x, x.shape[1], seed)
        raw = keras.layers.Dense(len(self.levels), kernel_initializer=_glorot(seed, 100),
                                 name="raw_quantiles")(h)
        out = keras.layers.Normalization(mean=np.repeat(y_mean, len(self.levels)),
                                         variance=np.repeat(y_variance, len(self.levels)),
                                         invert=True, name="quantiles")(raw)
        return keras.Model(inputs, out, name="quantile_regression")

    def _fit(self, x, y, seed):
        import keras
        import tensorflow as tf

        from ..device import set_seed
        from ..loop import make_train_loop
        set_seed(seed)
        self.network = self._build(x, y, seed)
        levels = tf.constant(self.levels[None, :], tf.float32)

        def pinball(y_batch, q):
            """Per-example mean over the J levels of rho_tau(y - q_j): ``[batch]``."""
            residual = y_batch - q                       # [batch, 1] - [batch, J]
            return tf.reduce_mean(residual * (levels - tf.cast(residual < 0, tf.float32)),
                                  axis=1)

        schedule = keras.optimizers.schedules.CosineDecay(self.learning_rate, self.steps,
                                                          alpha=0.01)
        optimizer = keras.optimizers.Adam(schedule)
        run = make_train_loop(self.network, optimizer, x.astype(np.float32),
                              y[:, None].astype(np.float32), self.batch_size, seed, pinball,
                              jit_compile=self.jit_compile)
        mean_loss, bad_step = run(tf.constant(0, tf.int64), tf.constant(self.steps, tf.int64))
        if int(bad_step) >= 0:
            raise FloatingPointError(f"the pinball loss became non-finite at step "
                                     f"{int(bad_step)}; lower learning_rate")
        self.mean_training_loss = float(mean_loss)   # mean over all steps
        return None

    def predict(self, x) -> np.ndarray:
        """The J fitted quantiles at each x, as predicted: ``[n, J]`` float64."""
        x = self._inputs(x)
        return np.asarray(self.network(x.astype(np.float32), training=False), np.float64)

    def _quantiles(self, x, levels):
        low, high = self.levels[0], self.levels[-1]
        outside = levels[(levels < low - 1e-12) | (levels > high + 1e-12)]
        if len(outside):
            raise MetricUnavailable(self.name, f"the quantile at level {outside[0]:g}",
                                    f"its levels span only [{low:g}, {high:g}]")
        fitted = np.asarray(self.network(x.astype(np.float32), training=False), np.float64)
        position = np.interp(levels, self.levels, np.arange(len(self.levels)))
        lower = np.floor(position).astype(int)
        upper = np.minimum(lower + 1, len(self.levels) - 1)
        fraction = position - lower
        return fitted[:, lower] * (1 - fraction) + fitted[:, upper] * fraction

    def crossings(self, x) -> Crossings:
        """Count crossed neighbouring quantiles at the given x (see ``Crossings``)."""
        crossed = np.diff(self.predict(x), axis=1) < 0
        return Crossings(len(crossed), int(crossed.sum()), int(crossed.any(axis=1).sum()))
