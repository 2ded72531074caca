"""Method 1: homoscedastic Gaussian regression, the baseline every reader knows::

    p(y | x) = N(y | f(x), sigma^2),   f = the squared-error network of ``baseline``,
    sigma^2 = (1/n) sum_i (y_i - f(x_i))^2 on the training data

(the maximum-likelihood noise level for a fixed f: the residual standard deviation, one
number for every x). f is ``baseline.build_mean_regressor`` (the MDN's trunk with tanh and
one output in the units of y), trained on the mean squared error by the compiled loop
that the other network methods use (``networks.train_network``: ``steps`` Adam steps,
cosine-decayed learning rate). Chapter 1 trains the same network with Keras ``fit``
(``baseline.train_mean_regressor``), whose per-epoch overhead would dominate a small n
trained for many epochs.
"""
from __future__ import annotations

import numpy as np

from mdn_utils.compare.base import GaussianMixtureModel
from mdn_utils.core.params import MixtureParams
from mdn_utils.compare.networks import NetworkSettings, train_network


class HomoscedasticGaussian(GaussianMixtureModel):
    """N(y | f(x), sigma^2) with one fitted sigma; ``noise_scale`` is sigma after ``fit``."""

    name = "homoscedastic Gaussian"

    def __init__(self, *, hidden_units: int = 64, hidden_layers: int = 2, steps: int = 3_000,
                 batch_size: int = 64, learning_rate: float = 3e-3, jit_compile: bool = False):
        super().__init__()
        self.settings = NetworkSettings(hidden_units, hidden_layers, "tanh", steps, batch_size,
                                        learning_rate, jit_compile)
        self.regressor = None
        self.noise_scale = float("nan")

    def _fit(self, x, y, seed):
        import tensorflow as tf

        from mdn_utils.core.baseline import build_mean_regressor
        self.regressor = build_mean_regressor(self.settings.hidden_units,
                                              self.settings.hidden_layers, "tanh",
                                              adapt_to=(x, y), seed=seed)

        def squared_error(y_batch, prediction):
            return tf.reduce_sum(tf.square(y_batch - prediction), axis=1)

        self.mean_training_loss = train_network(self.regressor, x, y[:, None], squared_error,
                                                self.settings, seed, loss_key="squared_error")
        residual = y - self._mean(x)
        self.noise_scale = float(np.sqrt(np.mean(residual ** 2)))
        if not self.noise_scale > 0:
            raise ValueError("y is fitted exactly (zero residuals): the noise level is 0")
        return None

    def mean(self, x) -> np.ndarray:
        """f(x), the fitted conditional mean, ``[n]`` float64."""
        return self._mean(self._inputs(x))

    def _mean(self, x):
        prediction = self.regressor(x.astype(np.float32), training=False)
        return np.asarray(prediction, np.float64)[:, 0]

    def _mixture(self, x):
        mu = self._mean(x)[:, None]
        return MixtureParams.from_1d(np.zeros_like(mu), mu,
                                     np.full_like(mu, np.log(self.noise_scale)))
