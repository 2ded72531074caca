"""Method 1: homoscedastic Gaussian regression, the baseline every reader knows.

    p(y | x) = N(y | f(x), sigma^2),   f = the squared-error network of ``baseline``,
    sigma^2 = (1/n) sum_i (y_i - f(x_i))^2 on the training data

(the maximum-likelihood noise level for a fixed f: the residual standard deviation, one
number for every x). f is ``baseline.train_mean_regressor``: the MDN's trunk with tanh,
trained with the mean squared error by Keras ``fit``.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from .base import GaussianMixtureModel


class HomoscedasticGaussian(GaussianMixtureModel):
    """N(y | f(x), sigma^2) with one fitted sigma; ``noise_scale`` is sigma after ``fit``.

    ``epochs`` and ``batch_size`` go to ``baseline.train_mean_regressor`` (a small n needs
    many epochs: an epoch of n = 500 rows at batch 64 is 8 steps).
    """

    name = "homoscedastic Gaussian"

    def __init__(self, *, hidden_units: int = 64, hidden_layers: int = 2, epochs: int = 200,
                 batch_size: int = 64):
        super().__init__()
        self.hidden_units = checks.positive_int("hidden_units", hidden_units)
        self.hidden_layers = checks.positive_int("hidden_layers", hidden_layers)
        self.epochs = checks.positive_int("epochs", epochs)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.regressor = None
        self.noise_scale = float("nan")

    def _fit(self, x, y, seed):
        from ..baseline import train_mean_regressor   # loads TensorFlow
        self.regressor = train_mean_regressor(
            x.astype(np.float32), y.astype(np.float32), hidden_units=self.hidden_units,
            hidden_layers=self.hidden_layers, epochs=self.epochs,
            batch_size=self.batch_size, seed=seed)
        residual = y - self.mean(x, _checked=True)
        self.noise_scale = float(np.sqrt(np.mean(residual ** 2)))
        if not self.noise_scale > 0:
            raise ValueError("y is fitted exactly (zero residuals): the noise level is 0")
        return None

    def mean(self, x, _checked: bool = False) -> np.ndarray:
        """f(x), the fitted conditional mean, ``[n]`` float64."""
        x = x if _checked else self._inputs(x)
        prediction = self.regressor(x.astype(np.float32), training=False)
        return np.asarray(prediction, np.float64)[:, 0]

    def _mixture(self, x):
        mu = self.mean(x, _checked=True)[:, None]
        return np.zeros_like(mu), mu, np.full_like(mu, self.noise_scale)
