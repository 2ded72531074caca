"""Network outputs to TensorFlow Probability mixtures.

An MDN head emits, per input, K mixture logits z_k, K means mu_k and K log-sigmas
s_k (each ``[batch, K]``). With pi = softmax(z) and sigma_k = exp(s_k),

    p(y | x) = sum_k pi_k N(y | mu_k, sigma_k^2)            (Bishop 1994; PRML section 5.6)

Two equivalent TFP forms are built here, each from a 1-D ``params.MixtureParams``
(``MixtureParams.from_1d(z, mu, s)``):

* ``mixture_distribution``: ``tfd.MixtureSameFamily(tfd.Categorical, tfd.Normal)``, which
  has ``log_prob``, ``cdf``, ``mean`` and ``sample`` (for densities and losses).
* ``ancestral_sample``: the explicit generative story, as the original
  ``tf.contrib.distributions`` code wrote it: draw a one-hot component indicator from
  ``tfd.OneHotCategorical``, draw one value from every ``tfd.Normal``, and keep the
  selected one.

This is also the TensorFlow side of ``params.MixtureParams`` (which imports no
TensorFlow): ``distribution`` and ``scalar_distribution`` give its TFP form,
``split_head`` splits a network head's flat output tensor by ``params.HeadLayout``, and
``scale_tril_from_raw_unchecked`` is ``params.scale_tril_from_raw`` on tensors.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from mdn_utils import checks
from mdn_utils.core.params import HeadLayout, MixtureParams, scalar_mixture

tfd = tfp.distributions


def check_mixture_params(mixture_logits, means, log_sigmas, dtype=None):
    """The 1-D triple validated by ``params.MixtureParams.from_1d`` (its dtype rule unless
    ``dtype`` is given), returned as tensors."""
    params = MixtureParams.from_1d(mixture_logits, means, log_sigmas)
    return tuple(tf.convert_to_tensor(a) for a in params.as_1d(dtype))


def _scalar_tensors(params: MixtureParams):
    """(logits, means, log_sigmas) ``[n, K]`` tensors of a 1-D diagonal ``MixtureParams``
    (checked by ``params.scalar_mixture``; its stored dtype kept)."""
    params = scalar_mixture(params, diagonal=True, dtype=None)
    return tuple(tf.convert_to_tensor(a) for a in params.as_1d())


def mixture_from_tensors(mixture_logits, means, log_sigmas):
    """``MixtureSameFamily`` from tensors that are already checked (used in graphs)."""
    return tfd.MixtureSameFamily(
        mixture_distribution=tfd.Categorical(logits=mixture_logits),
        components_distribution=tfd.Normal(loc=means, scale=tf.exp(log_sigmas)))


def mixture_distribution(params: MixtureParams):
    """p(y | x) = sum_k softmax(z)_k N(y | mu_k, exp(2 s_k)) of a 1-D ``MixtureParams``,
    batch shape ``[n]``, event shape [] (the widths exp(s_k) computed by TensorFlow)."""
    return mixture_from_tensors(*_scalar_tensors(params))


def ancestral_sample(params: MixtureParams, num_samples: int = 1, seed: int = 0):
    """Draw ``[num_samples, n]`` values of y from a 1-D ``MixtureParams`` by ancestral sampling.

    one_hot ~ OneHotCategorical(logits = z)      shape [S, n, K]
    draws   ~ Normal(mu, exp(s))                 shape [S, n, K]
    y       = sum_k one_hot_k * draws_k          (the draw of the selected component)
    """
    logits, mu, log_sigma = _scalar_tensors(params)
    num_samples = checks.positive_int("num_samples", num_samples)
    seed = checks.positive_int("seed", seed, minimum=0)
    stateless_seed = tf.constant([seed % 2**31, 0], tf.int32)
    selector_seed, normal_seed = tfp.random.split_seed(stateless_seed, n=2)
    one_hot = tfd.OneHotCategorical(logits=logits, dtype=logits.dtype).sample(
        num_samples, seed=selector_seed)
    draws = tfd.Normal(loc=mu, scale=tf.exp(log_sigma)).sample(num_samples, seed=normal_seed)
    return tf.reduce_sum(one_hot * draws, axis=-1)


def distribution(params: MixtureParams) -> tfd.MixtureSameFamily:
    """p(y | x) = sum_k softmax(z)_k N(y | mu_k, Sigma_k) as a TFP distribution.

    ``MixtureSameFamily(Categorical(logits), MultivariateNormalDiag(locs, exp(log_sigmas)))``
    or ``...MultivariateNormalTriL(locs, scale_tril)``: batch shape [n], event shape [D].
    For D = 1 the event shape is [1], so ``log_prob`` takes y as ``[n, 1]`` (not ``[n]``).
    """
    if not isinstance(params, MixtureParams):
        raise TypeError(f"params must be a MixtureParams, got {type(params).__name__}")
    if params.covariance == "diag":
        components = tfd.MultivariateNormalDiag(loc=params.locs,
                                                scale_diag=np.exp(params.log_sigmas))
    else:
        components = tfd.MultivariateNormalTriL(loc=params.locs, scale_tril=params.scale_tril)
    return tfd.MixtureSameFamily(tfd.Categorical(logits=params.logits), components)


def scalar_distribution(params: MixtureParams) -> tfd.MixtureSameFamily:
    """For D = 1: the same mixture over a scalar y, ``MixtureSameFamily(Categorical,
    Normal)`` with event shape [] (y is ``[n]``), which also has a ``cdf``."""
    params = scalar_mixture(params, dtype=None)
    sigma = (np.exp(params.log_sigmas[..., 0]) if params.covariance == "diag"
             else params.scale_tril[..., 0, 0])
    return tfd.MixtureSameFamily(tfd.Categorical(logits=params.logits),
                                 tfd.Normal(loc=params.locs[..., 0], scale=sigma))


def split_head(layout: HeadLayout, flat):
    """(logits [n, K], locs [n, K, D], scale [n, K, S]) from a flat head output ``[n, P]``
    (tensors, in a graph), in the order ``params.HeadLayout`` writes down."""
    k, d = layout.num_components, layout.dim
    logits = flat[:, :k]
    locs = tf.reshape(flat[:, k:k + k * d], [-1, k, d])
    scale = tf.reshape(flat[:, k + k * d:], [-1, k, layout.scale_size])
    return logits, locs, scale


def scale_tril_from_raw_unchecked(raw_scale):
    """(L, log diag L) from ``[..., D(D+1)/2]`` raw numbers, tensors in, tensors out.

    ``tfp.math.fill_triangular`` fills a lower triangle with the numbers (in its own
    order, ``params.triangle_index``); the numbers that land on the diagonal are log L_dd,
    so L_dd = exp(.) > 0. This is ``params.scale_tril_from_raw`` inside a graph, and
    ``tfp.bijectors.FillScaleTriL(diag_bijector=Exp(), diag_shift=None)``. Returning
    log diag L as well lets a loss use log det L = sum_d log L_dd without a log of exp.
    """
    filled = tfp.math.fill_triangular(raw_scale)
    log_diagonal = tf.linalg.diag_part(filled)
    return tf.linalg.set_diag(filled, tf.exp(log_diagonal)), log_diagonal
