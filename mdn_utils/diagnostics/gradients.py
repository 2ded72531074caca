"""Responsibilities and the closed-form derivatives of the mixture NLL (1-D y).

For one observation y with mixture logits z_k, means mu_k and log-sigmas s_k
(sigma_k = exp(s_k), pi = softmax(z)), the per-example loss is

    E = -log sum_k pi_k N(y | mu_k, sigma_k^2).

With the responsibilities (posterior probabilities of the components given y)

    gamma_k = pi_k N(y | mu_k, sigma_k^2) / sum_j pi_j N(y | mu_j, sigma_j^2)

and the standardised residual u_k = (y - mu_k) / sigma_k, its derivatives are

    dE/dz_k  = pi_k - gamma_k
    dE/dmu_k = gamma_k (mu_k - y) / sigma_k^2        = -gamma_k u_k / sigma_k
    dE/ds_k  = gamma_k (1 - (y - mu_k)^2 / sigma_k^2) =  gamma_k (1 - u_k^2)

and, for comparison, with respect to sigma itself dE/dsigma_k = dE/ds_k / sigma_k.
The first two are Bishop's PRML eqs. (5.155) and (5.156) for a 1-D target; the third
follows from sigma_k = exp(s_k), the parameterisation of PRML eq. (5.151).

Everything is computed in log space, as ``losses.log_space_nll`` computes the loss::

    log gamma_k = log_softmax(z)_k - s_k - log sqrt(2 pi) - u_k^2 / 2
                  - logsumexp_j(same for j)
    log abs(u_k) = log abs(y - mu_k) - s_k

and products such as gamma_k u_k^2 are formed as exp(log gamma_k + 2 log abs(u_k)), so a
component with gamma_k = 0 (underflowed) and a huge u_k gives 0, not 0 * inf = NaN.
The arrays are ``[n, K]`` (y is ``[n]``), float64 NumPy; inputs are checked by
``mixture.mixture_arrays`` and ``checks`` before any arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from mdn_utils import checks
from mdn_utils.core.mixture import mixture_arrays
from mdn_utils.core.params import log_softmax

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _inputs(mixture_logits, means, log_sigmas, y):
    logits, mu, log_sigma = mixture_arrays(mixture_logits, means, log_sigmas, dtype=np.float64)
    y = checks.column("y", y)
    checks.same_length(y=y, mixture_logits=logits)
    return logits, mu, log_sigma, y[:, None]


def _log_responsibilities(logits, mu, log_sigma, y):
    """log gamma ``[n, K]`` and log abs(u) ``[n, K]`` from checked arrays."""
    log_weights = log_softmax(logits)
    with np.errstate(divide="ignore"):
        log_abs_u = np.log(np.abs(y - mu)) - log_sigma          # -inf where y = mu
    with np.errstate(over="ignore"):
        u_squared = np.exp(2.0 * log_abs_u)                     # inf only beyond 1.8e308
    log_joint = log_weights - log_sigma - LOG_SQRT_2PI - 0.5 * u_squared
    log_evidence = logsumexp(log_joint, axis=-1, keepdims=True)
    if not np.all(np.isfinite(log_evidence)):
        rows = np.flatnonzero(~np.isfinite(log_evidence))
        raise ValueError(f"y is so far from every component (in standard deviations) that "
                         f"p(y | x) underflows to 0 in float64 at rows {rows[:5].tolist()}; "
                         "the responsibilities are undefined there")
    return log_joint - log_evidence, log_abs_u


def log_responsibilities(mixture_logits, means, log_sigmas, y) -> np.ndarray:
    """log gamma_k = log pi_k + log N(y | mu_k, sigma_k^2) - log p(y), ``[n, K]`` float64."""
    return _log_responsibilities(*_inputs(mixture_logits, means, log_sigmas, y))[0]


def responsibilities(mixture_logits, means, log_sigmas, y) -> np.ndarray:
    """gamma_k = pi_k N(y | mu_k, sigma_k^2) / sum_j pi_j N(y | mu_j, sigma_j^2), ``[n, K]``.

    Each row sums to 1. Computed as exp of ``log_responsibilities`` (no underflow of the
    densities themselves, only of gamma_k below about 1e-308).
    """
    return np.exp(log_responsibilities(mixture_logits, means, log_sigmas, y))


@dataclass(frozen=True)
class NllGradients:
    """The derivatives of E = -log p(y | x) for each example and component, ``[n, K]``.

    ``logits``: dE/dz_k = pi_k - gamma_k;  ``means``: dE/dmu_k = gamma_k (mu_k - y)/sigma_k^2;
    ``log_sigmas``: dE/ds_k = gamma_k (1 - u_k^2);  ``sigmas``: dE/dsigma_k = dE/ds_k / sigma_k;
    ``responsibilities``: gamma_k.
    """

    logits: np.ndarray
    means: np.ndarray
    log_sigmas: np.ndarray
    sigmas: np.ndarray
    responsibilities: np.ndarray


def nll_gradients(mixture_logits, means, log_sigmas, y) -> NllGradients:
    """Bishop's closed-form derivatives of the per-example mixture NLL (module docstring).

    ``mixture_logits``, ``means``, ``log_sigmas``: ``[n, K]``; ``y``: ``[n]`` or ``[n, 1]``.
    Returns an ``NllGradients`` of float64 ``[n, K]`` arrays, computed in log space:

        dE/dz_k  = exp(log_softmax(z)_k) - exp(log gamma_k)
        dE/dmu_k = -sign(y - mu_k) exp(log gamma_k + log abs(u_k) - s_k)
        dE/ds_k  = exp(log gamma_k) - exp(log gamma_k + 2 log abs(u_k))
    """
    logits, mu, log_sigma, y = _inputs(mixture_logits, means, log_sigmas, y)
    log_gamma, log_abs_u = _log_responsibilities(logits, mu, log_sigma, y)
    gamma = np.exp(log_gamma)
    weights = np.exp(log_softmax(logits))
    with np.errstate(over="ignore"):
        gamma_u_over_sigma = np.exp(log_gamma + log_abs_u - log_sigma)
        gamma_u_squared = np.exp(log_gamma + 2.0 * log_abs_u)
    d_means = -np.sign(y - mu) * gamma_u_over_sigma
    d_log_sigmas = gamma - gamma_u_squared
    with np.errstate(over="ignore"):
        d_sigmas = (np.exp(log_gamma - log_sigma)
                    - np.exp(log_gamma + 2.0 * log_abs_u - log_sigma))
    return NllGradients(logits=weights - gamma, means=d_means, log_sigmas=d_log_sigmas,
                        sigmas=d_sigmas, responsibilities=gamma)
