"""The mixture negative log-likelihood, naive and in log space.

For one observation y with mixture logits z, means mu and log-sigmas s (each ``[K]``),
pi = softmax(z), sigma_k = exp(s_k) and N(y | mu, sigma^2) the Gaussian density with
mean mu and variance sigma^2:

naive (the error function of Bishop 1994; PRML eq. 5.153), computed literally:

    NLL = -log sum_k pi_k N(y | mu_k, sigma_k^2),
    N(y | mu, sigma^2) = exp(-(y - mu)^2 / (2 sigma^2)) / (sqrt(2 pi) sigma).

It overflows or underflows once logits, log-sigmas or residuals are large: exp(z)
overflows, N underflows to 0, log 0 = -inf, and the chain rule then multiplies an
infinite derivative by 0 (or divides inf by inf), which gives NaN gradients.

log space (book chapter 3), as ``log_space_nll`` computes it:

    log pi_k  = z_k - logsumexp_j z_j
    u_k       = (y - mu_k) * exp(-s_k)                  (standardised residual)
    log N_k   = -s_k - log sqrt(2 pi) - 0.5 u_k^2
    NLL       = -logsumexp_k (log pi_k + log N_k)

``log_space_nll_exp2s_unchecked`` writes the quadratic term as the equal
0.5 (y - mu_k)^2 / exp(2 s_k) instead. The gradient of that quotient builds
(y - mu_k)^2 exp(-4 s_k), so it stops being finite at about half the abs(s) of the
standardised form (float32: s ~ -22 against ~ -45; measured in chapter 3 with
``stability.finite_limit``). Neither form is finite "for any parameters": the
standardised form overflows once u_k^2 exceeds the largest float.

``tfp_nll`` is TFP's own ``-MixtureSameFamily.log_prob``, the reference all are tested
against. All return the per-example NLL, shape ``[batch]``; average it for a loss.
"""
from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from mdn_utils import checks
from mdn_utils.core.mixture import (check_mixture_params, mixture_from_tensors,
                                    scale_tril_from_raw_unchecked, split_head)
from mdn_utils.core.params import LOG_SQRT_2PI, HeadLayout, MixtureParams, triangle_index



def check_loss_inputs(y, mixture_logits, means, log_sigmas):
    """Validate y (``[batch]`` or ``[batch, 1]``) and the ``[batch, K]`` parameters."""
    logits, mu, log_sigma = check_mixture_params(mixture_logits, means, log_sigmas)
    y = checks.column("y", y, dtype=logits.dtype.as_numpy_dtype)
    checks.same_length(y=y, mixture_logits=np.empty(logits.shape[0]))
    return tf.convert_to_tensor(y)[:, None], logits, mu, log_sigma


def naive_nll_unchecked(y, mixture_logits, means, log_sigmas):
    """-log sum_k softmax(z)_k N(y | mu_k, exp(2 s_k)), literally; y is ``[batch, 1]``."""
    weights = tf.exp(mixture_logits) / tf.reduce_sum(tf.exp(mixture_logits), -1, keepdims=True)
    sigma = tf.exp(log_sigmas)
    normal_pdf = tf.exp(-tf.square(y - means) / (2.0 * tf.square(sigma))) / (
        math.sqrt(2.0 * math.pi) * sigma)
    return -tf.math.log(tf.reduce_sum(weights * normal_pdf, axis=-1))


def log_space_nll_unchecked(y, mixture_logits, means, log_sigmas):
    """-logsumexp_k(log_softmax(z)_k - s_k - log sqrt(2 pi) - 0.5 ((y - mu_k) exp(-s_k))^2).

    The quadratic term is the squared standardised residual; in float32 the loss and its
    gradients stay finite while ((y - mu) exp(-s))^2 < 3.4e38 (s down to about -45 for
    y - mu = 0.5), and for every s > 0.
    """
    log_weights = mixture_logits - tf.reduce_logsumexp(mixture_logits, -1, keepdims=True)
    standardized = (y - means) * tf.exp(-log_sigmas)
    log_normal = -log_sigmas - LOG_SQRT_2PI - 0.5 * tf.square(standardized)
    return -tf.reduce_logsumexp(log_weights + log_normal, axis=-1)


def log_space_nll_exp2s_unchecked(y, mixture_logits, means, log_sigmas):
    """The same log-space NLL with the quadratic term written 0.5 (y - mu)^2 / exp(2 s).

    Equal to ``log_space_nll_unchecked`` as mathematics (the form of the 2018 post); kept
    to show (book chapter 3) that it is not equal as a program: the quotient's gradient
    builds (y - mu)^2 exp(-4 s), and exp(2 s) itself overflows for s > 0, so loss and
    gradients stay finite only for about half the abs(s) of the standardised form.
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


# ---- D-dimensional targets: one MixtureParams instead of the 1-D triple ----------------

def diag_mixture_nll_unchecked(y, logits, locs, log_sigmas):
    """Per-example NLL ``[n]`` of a diagonal-covariance mixture; y ``[n, D]``, tensors.

    With Sigma_k = diag(sigma_k^2), sigma_kd = exp(s_kd), the density factorises over
    dimensions, so its log is a sum of D one-dimensional log-densities, each written with
    the standardised residual u_kd = (y_d - mu_kd) exp(-s_kd) as in ``log_space_nll``:

        log N(y | mu_k, diag(sigma_k^2)) = sum_d [ -s_kd - log sqrt(2 pi) - 0.5 u_kd^2 ]
        NLL = -logsumexp_k( log_softmax(z)_k + sum_d [ ... ] )

    The sum over d sits inside the logsumexp (it is one component's log-density); the
    logsumexp over k is the only place where log-densities of different components meet.
    For D = 1 this is ``log_space_nll_unchecked``. No checks: for compiled training loops.
    """
    log_weights = logits - tf.reduce_logsumexp(logits, -1, keepdims=True)     # [n, K]
    standardized = (y[:, None, :] - locs) * tf.exp(-log_sigmas)               # [n, K, D]
    log_normal = tf.reduce_sum(-log_sigmas - LOG_SQRT_2PI - 0.5 * tf.square(standardized),
                               axis=-1)                                        # [n, K]
    return -tf.reduce_logsumexp(log_weights + log_normal, axis=-1)


def _full_nll(y, logits, locs, entry, log_diagonal):
    """The full-covariance NLL given ``entry(d, j)`` = L_dj and ``log_diagonal(d)`` =
    log L_dd, each ``[n, K]``. ||L^{-1} r||^2 comes from forward substitution,

        w_d = (r_d - sum_{j<d} L_dj w_j) exp(-log L_dd),

    a Python loop over the static, small D: plain elementwise ops that XLA fuses, no
    batched triangular solve and no D x D matrix; exp(-log L_dd) mirrors the diagonal
    form's standardised residual.
    """
    log_weights = logits - tf.reduce_logsumexp(logits, -1, keepdims=True)     # [n, K]
    residual = y[:, None, :] - locs                                            # [n, K, D]
    dimension = locs.shape[-1]
    whitened = []
    for d in range(dimension):
        remainder = residual[..., d]
        for j, w_j in enumerate(whitened):
            remainder = remainder - entry(d, j) * w_j
        whitened.append(remainder * tf.exp(-log_diagonal(d)))
    log_normal = (-tf.add_n([log_diagonal(d) for d in range(dimension)])
                  - dimension * LOG_SQRT_2PI - 0.5 * tf.add_n([tf.square(w) for w in whitened]))
    return -tf.reduce_logsumexp(log_weights + log_normal, axis=-1)


def full_mixture_nll_unchecked(y, logits, locs, scale_tril):
    """Per-example NLL ``[n]`` of a full-covariance mixture; y ``[n, D]``, tensors.

    With Sigma_k = L_k L_k^T (L_k lower-triangular, positive diagonal), log det Sigma_k =
    2 sum_d log L_kdd and (y - mu)^T Sigma_k^{-1} (y - mu) = ||w_k||^2 for the whitened
    residual w_k = L_k^{-1}(y - mu_k), found by forward substitution (no inverse formed):

        log N(y | mu_k, Sigma_k) = -sum_d log L_kdd - (D/2) log 2 pi - 0.5 ||w_k||^2
        NLL = -logsumexp_k( log_softmax(z)_k + log N(y | mu_k, Sigma_k) )

    No checks: for compiled training loops.
    """
    log_diagonal = tf.math.log(tf.linalg.diag_part(scale_tril))
    return _full_nll(y, logits, locs, lambda d, j: scale_tril[..., d, j],
                     lambda d: log_diagonal[..., d])


def full_mixture_nll_from_raw_unchecked(y, logits, locs, raw_scale):
    """The same NLL from the head's raw scale ``[n, K, D(D+1)/2]``, whose numbers are the
    entries of L_k with log L_kdd in place of L_kdd (``params.triangle_index``): the
    entries are read straight from it, so sum_d log L_kdd needs no log of an exp.
    No checks.
    """
    index = triangle_index(locs.shape[-1])
    return _full_nll(y, logits, locs, lambda d, j: raw_scale[..., index[d, j]],
                     lambda d: raw_scale[..., index[d, d]])


def check_targets(y, params):
    """Validate y against ``params``: ``[n, D]`` (or ``[n]`` when D = 1), finite; NumPy."""
    if not isinstance(params, MixtureParams):
        raise TypeError(f"params must be a MixtureParams, got {type(params).__name__}")
    y = checks.finite_array("y", y, ndim=(1, 2), dtype=params.dtype)
    if y.ndim == 1:
        if params.D != 1:
            raise ValueError(f"y must have shape [n, D] = [n, {params.D}], got {y.shape}")
        y = y[:, None]
    if y.shape[1] != params.D:
        raise ValueError(f"y must have D = {params.D} columns like params.locs, "
                         f"got shape {y.shape}")
    checks.same_length(y=y, params=params.logits)
    return y


def mixture_nll(y, params):
    """Per-example mixture NLL ``-log p(y | x)``, ``[n]``, for any D; computed in log space.

    y is ``[n, D]`` (``[n]`` allowed when D = 1), ``params`` a ``MixtureParams``; dispatches
    to ``diag_mixture_nll_unchecked`` or ``full_mixture_nll_unchecked`` (maths there).
    """
    y = tf.convert_to_tensor(check_targets(y, params))
    logits, locs = tf.convert_to_tensor(params.logits), tf.convert_to_tensor(params.locs)
    if params.covariance == "diag":
        return diag_mixture_nll_unchecked(y, logits, locs, tf.convert_to_tensor(params.log_sigmas))
    return full_mixture_nll_unchecked(y, logits, locs, tf.convert_to_tensor(params.scale_tril))


def head_nll(layout: HeadLayout, loss: str = "log_space"):
    """The per-example NLL ``f(y [n, D], flat [n, P]) -> [n]`` of a head with ``layout``.

    ``loss`` is "log_space" (any layout: ``log_space_nll_unchecked`` for D = 1, else the
    diagonal or full form above), "tfp" (``-MixtureSameFamily.log_prob``, any layout) or
    "naive" (the literal Bishop form; only D = 1). Unchecked: for compiled loops.
    """
    if not isinstance(layout, HeadLayout):
        raise TypeError(f"layout must be a HeadLayout, got {type(layout).__name__}")
    checks.one_of("loss", loss, LOSSES)
    k = layout.num_components
    if layout.dim == 1:   # one column: diag and full are the same (the raw number is log sigma)
        one_d = LOSSES[loss]
        return lambda y, flat: one_d(y, flat[:, :k], flat[:, k:2 * k], flat[:, 2 * k:])
    if loss == "naive":
        raise ValueError(f"loss='naive' is written for D = 1 only, got D = {layout.dim}; "
                         "use 'log_space' or 'tfp'")
    if loss == "tfp":
        def tfp_nll_flat(y, flat):
            logits, locs, scale = split_head(layout, flat)
            if layout.covariance == "diag":
                components = tfp.distributions.MultivariateNormalDiag(locs, tf.exp(scale))
            else:
                components = tfp.distributions.MultivariateNormalTriL(
                    locs, scale_tril_from_raw_unchecked(scale)[0])
            return -tfp.distributions.MixtureSameFamily(
                tfp.distributions.Categorical(logits=logits), components).log_prob(y)
        return tfp_nll_flat
    nll = (diag_mixture_nll_unchecked if layout.covariance == "diag"
           else full_mixture_nll_from_raw_unchecked)
    return lambda y, flat: nll(y, *split_head(layout, flat))


@keras.saving.register_keras_serializable(package="mdn_utils")
class MixtureNLL(keras.losses.Loss):
    """The mean log-space mixture NLL as a Keras loss, for ``model.compile``/``fit``.

    ``y_true`` is ``[batch, D]`` (or ``[batch]`` for D = 1), ``y_pred`` the head's flat
    output ``[batch, P]``; ``MixtureNLL(mdn_utils.core.model.head_layout(model))``.
    """

    def __init__(self, layout: HeadLayout, name: str = "mixture_nll", **kwargs):
        if isinstance(layout, dict):   # from get_config
            layout = HeadLayout(**layout)
        super().__init__(name=name, **kwargs)
        self.layout = layout
        self._nll = head_nll(layout)

    def call(self, y_true, y_pred):
        y_true = tf.reshape(tf.cast(y_true, y_pred.dtype), [-1, self.layout.dim])
        return self._nll(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "layout": dataclasses.asdict(self.layout)}
