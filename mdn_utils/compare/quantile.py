"""Method 7: quantile regression, a network with one output per probability level::

    q_j(x) = y_mean + y_std * (W_j h(x) + b_j),   j = 1..J,   h = the MDN's dense trunk,

trained by the book's compiled loop (``loop.make_train_loop``: ``steps`` Adam steps on
minibatches of ``batch_size`` drawn in-graph, learning rate decayed along a cosine to 1%
of ``learning_rate``, as ``train.train_mdn`` does) to minimise the mean pinball loss over
the J levels tau_j::

    L = mean_i mean_j rho_{tau_j}(y_i - q_j(x_i)),   rho_tau(u) = u (tau - 1{u < 0}),

whose minimiser, level by level, is the conditional tau-quantile. ``hidden_layers=0``
makes it linear in x. Nothing ties the J outputs together, so at some x the fitted
quantiles may cross (q_{j+1}(x) < q_j(x)); ``crossings`` counts them. The quantiles are
used as predicted (no rearrangement).

It predicts J quantiles, not a distribution: no density (no NLL, no gap to the floor), no
CDF and no sampler, so those raise ``MetricUnavailable``. It is compared on the CRPS
(``scoring.crps_from_quantiles``) and on interval coverage. ``quantiles(x, levels)``
interpolates linearly between neighbouring fitted levels; a level outside
[tau_1, tau_J] is unavailable (the tails are not modelled).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdn_utils.compare.base import ConditionalModel, MetricUnavailable, check_levels
from mdn_utils.compare.networks import NetworkSettings, dense_network, train_network

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
                 activation: str = "gelu", steps: int = 3_000, batch_size: int = 64,
                 learning_rate: float = 3e-3, jit_compile: bool = False):
        super().__init__()
        levels = check_levels(levels)
        if len(levels) < 2 or np.any(np.diff(levels) <= 0):
            raise ValueError(f"levels must be at least 2 strictly increasing numbers in (0, 1), "
                             f"got {levels}")
        self.levels = levels
        self.settings = NetworkSettings(hidden_units, hidden_layers, activation, steps,
                                        batch_size, learning_rate, jit_compile)
        self.network = None

    def _fit(self, x, y, seed):
        import tensorflow as tf
        self.network = dense_network(x, len(self.levels), self.settings, seed, "quantiles",
                                     y_units=y)
        levels = tf.constant(self.levels[None, :], tf.float32)

        def pinball(y_batch, q):
            """Per-example mean over the J levels of rho_tau(y - q_j): ``[batch]``."""
            residual = y_batch - q                       # [batch, 1] - [batch, J]
            return tf.reduce_mean(residual * (levels - tf.cast(residual < 0, tf.float32)),
                                  axis=1)

        self.mean_training_loss = train_network(self.network, x, y[:, None], pinball,
                                                self.settings, seed,
                                                loss_key=("pinball", tuple(self.levels)))
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
