"""Methods 2 and 3: the MDN (``train.train_mdn``), and the heteroscedastic Gaussian, which
is the same network with K = 1 component:

    p(y | x) = sum_k pi_k(x) N(y | mu_k(x), sigma_k(x)^2),   K = 1: N(y | mu(x), sigma(x)^2).

Training goes through ``trained.trained_mdn`` (``cache=True``, the default: a chapter that
fits the same model on the same data again loads it) or ``train.train_mdn``
(``cache=False``). Every other keyword is a ``train_mdn`` setting (``steps``,
``batch_size``, ``learning_rate``, ``hidden_units``, ...), checked by ``train_mdn`` itself.
``training_seconds`` is the wall time of the run that trained the model, also when it was
loaded from the store.

Two variants for small real data (chapter 13; not in ``compare.METHODS``):

* ``ValidatedMixtureDensityNetwork``: K chosen by validation NLL on an inner split of the
  training data given to ``fit`` (``crossval.select_by_validation``).
* ``NoiseRegularisedMDN``: noise regularisation (Rothfuss et al. 2019) with the width of
  their rule of thumb, h = c n^(-1/(4 + d)) standard deviations (``train.rule_of_thumb_noise``).
"""
from __future__ import annotations

import inspect

import numpy as np

from mdn_utils import checks
from mdn_utils.compare.base import GaussianMixtureModel

# train_mdn parameters the method sets itself (a user passes num_components and seed to
# the constructor and to fit); every other train_mdn setting passes through.
SET_BY_THE_METHOD = {"num_components", "seed", "progress", "x", "y", "refresh"}


class MixtureDensityNetwork(GaussianMixtureModel):
    """The book's MDN with ``num_components`` Gaussians (default 24, the book's default)."""

    name = "MDN"

    def __init__(self, num_components: int = 24, *, cache: bool = True, **train_settings):
        super().__init__()
        self.num_components = checks.positive_int("num_components", num_components)
        if not isinstance(cache, bool):
            raise TypeError(f"cache must be True or False, got {cache!r}")
        from mdn_utils.core.train import train_mdn   # loads TensorFlow
        allowed = set(inspect.signature(train_mdn).parameters) - SET_BY_THE_METHOD
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
        return self._train(x, y, seed, self.train_settings)

    def _train(self, x, y, seed, train_settings):
        """Train with ``train_settings`` (the constructor's, or a subclass's variant of them:
        the settings themselves are never changed by ``fit``); sets ``result``."""
        from mdn_utils.core import train, trained
        settings = dict(train_settings, num_components=self.num_components, seed=seed,
                        progress=False)
        x32, y32 = x.astype(np.float32), y.astype(np.float32)
        if self.cache:
            self.result = trained.trained_mdn(x32, y32, **settings)
        else:
            self.result = train.train_mdn(x32, y32, **settings)
        return self.result.seconds

    def _mixture(self, x):
        from mdn_utils.core.model import predict_mixture
        return predict_mixture(self.model, x.astype(np.float32)).astype(np.float64)


class HeteroscedasticGaussian(MixtureDensityNetwork):
    """N(y | mu(x), sigma(x)^2): the MDN with K = 1 (same trunk, same training)."""

    name = "heteroscedastic Gaussian"

    def __init__(self, *, cache: bool = True, **train_settings):
        super().__init__(1, cache=cache, **train_settings)


def _check_candidates(candidates) -> tuple[int, ...]:
    if isinstance(candidates, (str, bytes)) or not hasattr(candidates, "__iter__"):
        raise TypeError(f"candidates must be a sequence of numbers of components, got "
                        f"{type(candidates).__name__}")
    values = tuple(checks.positive_int("candidates", k) for k in candidates)
    if not values or len(set(values)) != len(values):
        raise ValueError(f"candidates must be a non-empty sequence of distinct numbers of "
                         f"components >= 1, got {values}")
    return values


class ValidatedMixtureDensityNetwork(MixtureDensityNetwork):
    """The MDN with K chosen by validation NLL inside its own ``fit``.

    ``fit(x, y)`` holds out a seeded share ``validation_fraction`` of (x, y) -- the training
    data it was given, never anything else -- fits ``MixtureDensityNetwork(K)`` on the rest
    for every K in ``candidates`` and keeps the K with the lowest mean validation NLL
    (``crossval.select_by_validation``), V the held-out pairs::

        K* = argmin_K  -(1/|V|) sum_{i in V} log p_K(y_i | x_i)

    With ``refit=True`` the chosen K is then trained
    again on all of (x, y); with ``refit=False`` (default, one fit fewer) the model fitted on
    the (1 - validation_fraction) share is kept. After ``fit``: ``chosen_components`` (K*),
    ``validation_nll`` (K -> mean NLL), ``candidate_seconds`` (K -> training time);
    ``training_seconds`` sums every fit it made.
    """

    name = "MDN, K by validation"

    def __init__(self, candidates=(2, 4, 8), *, validation_fraction: float = 0.2,
                 refit: bool = False, cache: bool = True, **train_settings):
        candidates = _check_candidates(candidates)
        fraction = checks.fraction("validation_fraction", validation_fraction)
        if not isinstance(refit, bool):
            raise TypeError(f"refit must be True or False, got {refit!r}")
        super().__init__(max(candidates), cache=cache, **train_settings)
        self.candidates, self.validation_fraction, self.refit = candidates, fraction, refit
        self.validation_nll = self.candidate_seconds = self.chosen_components = None

    def _candidate(self, num_components) -> MixtureDensityNetwork:
        return MixtureDensityNetwork(num_components, cache=self.cache, **self.train_settings)

    def _fit(self, x, y, seed):
        from mdn_utils.compare.crossval import select_by_validation
        selection = select_by_validation(self._candidate, self.candidates, x, y,
                                         self.validation_fraction, seed)
        self.validation_nll = dict(selection.validation_nll)
        self.chosen_components = int(selection.best)
        self.candidate_seconds = dict(selection.training_seconds)
        seconds = float(sum(self.candidate_seconds.values()))
        chosen = selection.model
        if self.refit:
            chosen = self._candidate(self.chosen_components).fit(x, y, seed)
            seconds += chosen.training_seconds
        self.result = chosen.result
        return seconds

    def chosen_settings(self) -> dict:
        """What ``fit`` chose: ``{"num_components": K*}`` (for ``report.evaluate``)."""
        return {"num_components": self.chosen_components}


class NoiseRegularisedMDN(MixtureDensityNetwork):
    """The MDN trained with noise regularisation at Rothfuss et al.'s rule-of-thumb width.

    At ``fit`` on n pairs with one column of x, h = c n^(-1/(4 + d)), d = 2, in standard
    deviations of the training data (``train.rule_of_thumb_noise``), so each training
    step sees (x + h std(x) e, y + h std(y) e'), e, e' ~ N(0, 1) (``train_mdn``'s noise_x,
    noise_y). The widths follow the data the model is fitted on (each fold its own). After
    ``fit``: ``noise`` = {"noise_x": ..., "noise_y": ...}.
    """

    name = "MDN, noise regularised"

    def __init__(self, num_components: int = 24, *, noise_scale: float = 1.0,
                 cache: bool = True, **train_settings):
        clash = sorted({"noise_x", "noise_y"} & set(train_settings))
        if clash:
            raise TypeError(f"{', '.join(clash)}: the noise widths are set by the rule of "
                            "thumb at fit; change noise_scale (c) instead")
        self.noise_scale = checks.positive_float("noise_scale", noise_scale)
        super().__init__(num_components, cache=cache, **train_settings)
        self.noise = None

    def _fit(self, x, y, seed):
        if x.shape[1] != 1:
            raise ValueError(f"x must have one column for the rule of thumb (d = 2), got "
                             f"shape {x.shape}")
        from mdn_utils.core.train import rule_of_thumb_noise
        self.noise = rule_of_thumb_noise(x[:, 0], y, c=self.noise_scale)
        return self._train(x, y, seed, dict(self.train_settings, **self.noise))
