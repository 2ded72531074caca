"""Method 5: a binned (histogram, categorical) head over y.

The range of y is cut into B equal bins [e_b, e_{b+1}) of width Delta, spanning the
training y widened by ``padding`` times its range on each side. The network (the MDN's
trunk, ``networks.dense_network``) emits B logits z_b(x), and the density is flat in each
bin::

    p(y | x) = softmax(z(x))_b / Delta     for y in bin b,   0 outside [e_0, e_B],

so log p(y | x) = log_softmax(z)_b - log Delta, and the NLL is the cross-entropy of the bin
index plus the constant log Delta: training is classification (sparse softmax
cross-entropy, the compiled loop of ``networks.train_network``).

The CDF is piecewise linear (cumulative bin weights, plus a share of the bin that holds y);
sampling picks a bin, then a uniform point in it; a quantile inverts the CDF inside its
bin. The price of a histogram: a density resolved only to Delta, and zero density beyond
the padded range (a test y there has log p = -inf, which ``scoring.nll`` reports as such).
"""
from __future__ import annotations

import numpy as np
from scipy import special

from mdn_utils import checks
from mdn_utils.compare.base import ConditionalModel
from mdn_utils.core.params import categorical_draws
from mdn_utils.compare.networks import NetworkSettings, dense_network, train_network


class BinnedHead(ConditionalModel):
    """A categorical distribution over ``num_bins`` equal bins of y (see the module).

    After ``fit``: ``edges`` (B + 1 bin edges) and ``bin_width``.
    """

    name = "binned head"

    def __init__(self, num_bins: int = 40, *, padding: float = 0.1, hidden_units: int = 64,
                 hidden_layers: int = 2, activation: str = "gelu", steps: int = 3_000,
                 batch_size: int = 64, learning_rate: float = 3e-3, jit_compile: bool = False):
        super().__init__()
        self.num_bins = checks.positive_int("num_bins", num_bins, minimum=2)
        if isinstance(padding, bool) or not isinstance(padding, (int, float)):
            raise TypeError(f"padding must be a number >= 0, got {type(padding).__name__}")
        if not np.isfinite(padding) or padding < 0:
            raise ValueError(f"padding must be a finite number >= 0, got {padding}")
        self.padding = float(padding)
        self.settings = NetworkSettings(hidden_units, hidden_layers, activation, steps,
                                        batch_size, learning_rate, jit_compile)
        self.network = None
        self.edges = None

    @property
    def bin_width(self) -> float:
        return float(self.edges[1] - self.edges[0])

    def _fit(self, x, y, seed):
        low, high = float(y.min()), float(y.max())
        if not high > low:
            raise ValueError(f"y must not be constant to set the bins, got every y = {low}")
        pad = self.padding * (high - low)
        self.edges = np.linspace(low - pad, high + pad, self.num_bins + 1)
        import tensorflow as tf
        self.network = dense_network(x, self.num_bins, self.settings, seed, "bin_logits")

        def cross_entropy(bin_index, logits):
            return tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(bin_index[:, 0], tf.int32), logits=logits)

        self.mean_training_loss = train_network(self.network, x, self._bin(y)[:, None],
                                                cross_entropy, self.settings, seed,
                                                loss_key="bin_cross_entropy")
        return None

    def _bin(self, y):
        """The bin index of each y, clipped to [0, B - 1] (y on the last edge is in bin B-1)."""
        position = (y - self.edges[0]) / self.bin_width
        return np.clip(np.floor(position).astype(int), 0, self.num_bins - 1)

    def bin_log_probs(self, x) -> np.ndarray:
        """log softmax(z(x)): the log-probability of each bin, ``[n, B]`` float64."""
        return self._bin_log_probs(self._inputs(x))

    def _bin_log_probs(self, x):
        logits = np.asarray(self.network(x.astype(np.float32), training=False), np.float64)
        return special.log_softmax(logits, axis=1)

    def _inside(self, y):
        return (y >= self.edges[0]) & (y <= self.edges[-1])

    def _log_prob(self, x, y):
        log_p = self._bin_log_probs(x)[np.arange(len(y)), self._bin(y)] - np.log(self.bin_width)
        return np.where(self._inside(y), log_p, -np.inf)

    def _cumulative(self, x):
        """(bin probabilities [n, B], cumulative weights at the edges [n, B + 1])."""
        p = np.exp(self._bin_log_probs(x))
        p /= p.sum(axis=1, keepdims=True)
        return p, np.concatenate([np.zeros((len(p), 1)), np.cumsum(p, axis=1)], axis=1)

    def _cdf(self, x, y):
        p, cumulative = self._cumulative(x)
        rows, index = np.arange(len(y)), self._bin(y)
        fraction = np.clip((y - self.edges[index]) / self.bin_width, 0.0, 1.0)
        return np.clip(cumulative[rows, index] + p[rows, index] * fraction, 0.0, 1.0)

    def _sample(self, x, num_samples, seed):
        rng = np.random.default_rng(seed)
        p, _ = self._cumulative(x)
        index = categorical_draws(p, rng.random((num_samples, len(x))))
        return self.edges[index] + self.bin_width * rng.random((num_samples, len(x)))

    def _quantiles(self, x, levels):
        p, cumulative = self._cumulative(x)
        rows = np.arange(len(x))[:, None]
        # the bin b with cumulative[b] < level <= cumulative[b + 1]
        index = np.minimum((cumulative[:, None, 1:] < levels[None, :, None]).sum(-1),
                           self.num_bins - 1)
        inside = (levels[None, :] - cumulative[rows, index]) / np.maximum(p[rows, index], 1e-300)
        return self.edges[index] + self.bin_width * np.clip(inside, 0.0, 1.0)
