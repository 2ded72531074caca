"""Methods 2 and 3: the MDN (``train.train_mdn``), and the heteroscedastic Gaussian, which
is the same network with K = 1 component:

    p(y | x) = sum_k pi_k(x) N(y | mu_k(x), sigma_k(x)^2),   K = 1: N(y | mu(x), sigma(x)^2).

Training goes through ``cache.trained_mdn`` (``cache=True``, the default: a chapter that
fits the same model on the same data again loads it) or ``train.train_mdn``
(``cache=False``). Every other keyword is a ``train_mdn`` setting (``steps``,
``batch_size``, ``learning_rate``, ``hidden_units``, ...), checked by ``train_mdn`` itself.
``training_seconds`` is the wall time of the run that trained the model, also when it was
loaded from the cache.
"""
from __future__ import annotations

import inspect

import numpy as np
from scipy import special

from .. import checks
from .base import GaussianMixtureModel

_RESERVED = {"num_components", "seed", "progress", "x", "y", "refresh"}


class MixtureDensityNetwork(GaussianMixtureModel):
    """The book's MDN with ``num_components`` Gaussians (default 24, the book's default)."""

    name = "MDN"

    def __init__(self, num_components: int = 24, *, cache: bool = True, **train_settings):
        super().__init__()
        self.num_components = checks.positive_int("num_components", num_components)
        if not isinstance(cache, bool):
            raise TypeError(f"cache must be True or False, got {cache!r}")
        from ..train import train_mdn   # loads TensorFlow
        allowed = set(inspect.signature(train_mdn).parameters) - _RESERVED
        unknown = sorted(set(train_settings) - allowed)
        if unknown:
            raise TypeError(f"unknown train_mdn settings: {', '.join(unknown)} (allowed: "
                            f"{', '.join(sorted(allowed))})")
        self.cache = cache
        self.train_settings = dict(train_settings)
        self.result = None

    @property
    def model(self):
        """The trained ``keras.Model`` (None before ``fit``)."""
        return None if self.result is None else self.result.model

    def _fit(self, x, y, seed):
        from .. import cache, train
        settings = dict(self.train_settings, num_components=self.num_components, seed=seed,
                        progress=False)
        x32, y32 = x.astype(np.float32), y.astype(np.float32)
        if self.cache:
            self.result = cache.trained_mdn(x32, y32, **settings)
        else:
            self.result = train.train_mdn(x32, y32, **settings)
        return self.result.seconds

    def _mixture(self, x):
        from ..model import predict_params
        logits, means, log_sigmas = (a.astype(np.float64)
                                     for a in predict_params(self.model, x.astype(np.float32)))
        return special.log_softmax(logits, axis=1), means, np.exp(log_sigmas)


class HeteroscedasticGaussian(MixtureDensityNetwork):
    """N(y | mu(x), sigma(x)^2): the MDN with K = 1 (same trunk, same training)."""

    name = "heteroscedastic Gaussian"

    def __init__(self, *, cache: bool = True, **train_settings):
        super().__init__(1, cache=cache, **train_settings)
