"""The mixture negative log-likelihood, naive and in log space.

For one observation y with mixture logits z, means mu and log-sigmas s (each ``[K]``):

naive (Bishop 1994, eq. 29), computed literally:

    NLL = -log sum_k pi_k N(y | mu_k, sigma_k),   pi = softmax(z),  sigma_k = exp(s_k),
    N(y | mu, sigma) = exp(-(y - mu)^2 / (2 sigma^2)) / (sqrt(2 pi) sigma).

It overflows or underflows once logits, log-sigmas or residuals are large: exp(z)
overflows, N underflows to 0, log 0 = -inf, and its gradient is NaN.

log space (the derivation of the book's chapter 3):

    log pi_k      = z_k - logsumexp_j z_j
    log N_k       = -s_k - log sqrt(2 pi) - 0.5 (y - mu_k)^2 / exp(2 s_k)
    NLL           = -logsumexp_k (log pi_k + log N_k)

Every exponential that remains is inside ``reduce_logsumexp``, which subtracts its
maximum first, so the result and its gradient stay finite. ``tfp_nll`` is TFP's own
``-MixtureSameFamily.log_prob``, the reference both are tested against.

All three return the per-example NLL, shape ``[batch]``; average it for a loss.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from . import checks
from .mixture import check_mixture_params, mixture_from_tensors

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def check_loss_inputs(y, mixture_logits, means, log_sigmas):
    """Validate y (``[batch]`` or ``[batch, 1]``) and the ``[batch, K]`` parameters."""
    logits, mu, log_sigma = check_mixture_params(mixture_logits, means, log_sigmas)
    y = checks.column("y", y, dtype=logits.dtype.as_numpy_dtype)
    checks.same_length(y=y, mixture_logits=np.empty(logits.shape[0]))
    return tf.convert_to_tensor(y)[:, None], logits, mu, log_sigma


def naive_nll_unchecked(y, mixture_logits, means, log_sigmas):
    """-log sum_k softmax(z)_k N(y | mu_k, exp(s_k)), literally; y is ``[batch, 1]``."""
    weights = tf.exp(mixture_logits) / tf.reduce_sum(tf.exp(mixture_logits), -1, keepdims=True)
    sigma = tf.exp(log_sigmas)
    normal_pdf = tf.exp(-tf.square(y - means) / (2.0 * tf.square(sigma))) / (
        math.sqrt(2.0 * math.pi) * sigma)
    return -tf.math.log(tf.reduce_sum(weights * normal_pdf, axis=-1))


def log_space_nll_unchecked(y, mixture_logits, means, log_sigmas):
    """-logsumexp_k(log_softmax(z)_k - s_k - log sqrt(2 pi) - 0.5 (y - mu_k)^2 / exp(2 s_k)).

    The quadratic term is computed as 0.5 * ((y - mu) * exp(-s))^2, the same number,
    which stays finite for residuals y - mu up to 1e4 and s down to -20 in float32.
    """
    log_weights = mixture_logits - tf.reduce_logsumexp(mixture_logits, -1, keepdims=True)
    standardized = (y - means) * tf.exp(-log_sigmas)
    log_normal = -log_sigmas - LOG_SQRT_2PI - 0.5 * tf.square(standardized)
    return -tf.reduce_logsumexp(log_weights + log_normal, axis=-1)


def log_space_nll_exp2s_unchecked(y, mixture_logits, means, log_sigmas):
    """The same log-space NLL with the quadratic term written 0.5 (y - mu)^2 / exp(2 s).

    Equal to ``log_space_nll_unchecked`` as mathematics; kept to show (book chapter 3) that
    exp(2 s) overflows or underflows at half the |s| at which exp(-s) does.
    """
    log_weights = mixture_logits - tf.reduce_logsumexp(mixture_logits, -1, keepdims=True)
    log_normal = (-log_sigmas - LOG_SQRT_2PI
                  - 0.5 * tf.square(y - means) / tf.exp(2.0 * log_sigmas))
    return -tf.reduce_logsumexp(log_weights + log_normal, axis=-1)


def tfp_nll_unchecked(y, mixture_logits, means, log_sigmas):
    """-MixtureSameFamily(Categorical(z), Normal(mu, exp(s))).log_prob(y)."""
    return -mixture_from_tensors(mixture_logits, means, log_sigmas).log_prob(y[:, 0])


def naive_nll(y, mixture_logits, means, log_sigmas):
    """Per-example naive mixture NLL, ``[batch]`` (numerically fragile; for teaching)."""
    return naive_nll_unchecked(*check_loss_inputs(y, mixture_logits, means, log_sigmas))


def log_space_nll(y, mixture_logits, means, log_sigmas):
    """Per-example mixture NLL computed in log space, ``[batch]`` (the one to train with)."""
    return log_space_nll_unchecked(*check_loss_inputs(y, mixture_logits, means, log_sigmas))


def tfp_nll(y, mixture_logits, means, log_sigmas):
    """Per-example ``-MixtureSameFamily.log_prob(y)``, ``[batch]`` (the reference)."""
    return tfp_nll_unchecked(*check_loss_inputs(y, mixture_logits, means, log_sigmas))


LOSSES = {"naive": naive_nll_unchecked, "log_space": log_space_nll_unchecked,
          "tfp": tfp_nll_unchecked}
