"""Sampling from a mixture with a temperature tau (the World Models convention).

    pi_k(tau)    = softmax(log pi_k / tau)
    sigma_k(tau) = sigma_k * sqrt(tau)          i.e.  log sigma_k(tau) = s_k + 0.5 log tau

(Ha and Schmidhuber 2018). tau = 1 is the model itself; tau -> 0 puts all weight on the
most probable component and shrinks it to its mean; tau > 1 flattens the weights and
widens every component.

Sampling is vectorised NumPy: the component is chosen by the Gumbel-max trick,
k = argmax_k(log pi_k / tau + g_k) with g_k ~ Gumbel(0, 1), computed as
argmax_k(log pi_k + tau g_k) (same argmax, finite for tiny tau); then
y = mu_k + sigma_k(tau) * eps with eps ~ N(0, 1).
"""
from __future__ import annotations

import numpy as np

from . import checks
from .model import predict_params


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_params(mixture_logits, means, log_sigmas):
    arrays = [checks.finite_array(name, value, ndim=2) for name, value in
              (("mixture_logits", mixture_logits), ("means", means),
               ("log_sigmas", log_sigmas))]
    shapes = [a.shape for a in arrays]
    if len(set(shapes)) > 1:
        raise ValueError("mixture_logits, means and log_sigmas must have the same shape "
                         f"[batch, K], got {shapes}")
    if shapes[0][1] < 1:
        raise ValueError(f"mixture_logits must have K >= 1 components, got {shapes[0]}")
    return arrays


def apply_temperature(mixture_logits, log_sigmas, tau: float):
    """Return (log pi(tau), log sigma(tau)), each ``[batch, K]``, for temperature tau > 0."""
    tau = checks.positive_float("tau", tau)
    logits = checks.finite_array("mixture_logits", mixture_logits, ndim=2)
    log_sigmas = checks.finite_array("log_sigmas", log_sigmas, ndim=2)
    return _log_softmax(_log_softmax(logits) / tau), log_sigmas + 0.5 * np.log(tau)


def sample_with_temperature(mixture_logits, means, log_sigmas, tau: float = 1.0,
                            num_samples: int = 1, seed: int = 0) -> np.ndarray:
    """Draw y for every row at temperature tau: shape ``[num_samples, batch]``."""
    tau = checks.positive_float("tau", tau)
    num_samples = checks.positive_int("num_samples", num_samples)
    seed = checks.positive_int("seed", seed, minimum=0)
    logits, means, log_sigmas = _check_params(mixture_logits, means, log_sigmas)
    rng = np.random.default_rng(seed)
    log_weights = _log_softmax(logits)
    gumbel = rng.gumbel(size=(num_samples,) + logits.shape)
    component = np.argmax(log_weights + tau * gumbel, axis=-1)        # [n, batch]
    rows = np.arange(logits.shape[0])
    mu = means[rows, component]
    sigma = np.exp(log_sigmas[rows, component]) * np.sqrt(tau)
    return mu + sigma * rng.standard_normal(component.shape)


def sample_model(model, x, tau: float = 1.0, num_samples: int = 1, seed: int = 0):
    """Sample y ~ p_tau(y | x) from a trained MDN for each x: ``[num_samples, n]``."""
    return sample_with_temperature(*predict_params(model, x), tau=tau,
                                   num_samples=num_samples, seed=seed)
