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
``params.MixtureParams.from_1d`` and ``checks`` before any arithmetic, and the
responsibilities are ``MixtureParams.log_responsibilities``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdn_utils import checks
from mdn_utils.core.params import MixtureParams, log_softmax, scalar_mixture


def _inputs(params, y):
    """(params, logits, mu, log_sigma [n, K] float64, y [n, 1]), validated."""
    params = scalar_mixture(params, diagonal=True)
    y = checks.column("y", y)
    checks.same_length(y=y, params=params.logits)
    return (params,) + params.as_1d(np.float64) + (y[:, None],)


def log_responsibilities(params: MixtureParams, y) -> np.ndarray:
    """log gamma_k = log pi_k + log N(y | mu_k, sigma_k^2) - log p(y), ``[n, K]`` float64."""
    params, *_, y = _inputs(params, y)
    return params.log_responsibilities(y)


def responsibilities(params: MixtureParams, y) -> np.ndarray:
    """gamma_k = pi_k N(y | mu_k, sigma_k^2) / sum_j pi_j N(y | mu_j, sigma_j^2), ``[n, K]``.

    Each row sums to 1. Computed as exp of ``log_responsibilities`` (no underflow of the
    densities themselves, only of gamma_k below about 1e-308).
    """
    return np.exp(log_responsibilities(params, y))


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


def nll_gradients(params: MixtureParams, y) -> NllGradients:
    """Bishop's closed-form derivatives of the per-example mixture NLL (module docstring).

    ``params``: a 1-D ``MixtureParams`` (``MixtureParams.from_1d(mixture_logits, means,
    log_sigmas)``, each ``[n, K]``); ``y``: ``[n]`` or ``[n, 1]``.
    Returns an ``NllGradients`` of float64 ``[n, K]`` arrays, computed in log space:

        dE/dz_k  = exp(log_softmax(z)_k) - exp(log gamma_k)
        dE/dmu_k = -sign(y - mu_k) exp(log gamma_k + log abs(u_k) - s_k)
        dE/ds_k  = exp(log gamma_k) - exp(log gamma_k + 2 log abs(u_k))
    """
    params, logits, mu, log_sigma, y = _inputs(params, y)
    log_gamma = params.log_responsibilities(y)
    with np.errstate(divide="ignore"):
        log_abs_u = np.log(np.abs(y - mu)) - log_sigma          # -inf where y = mu
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
