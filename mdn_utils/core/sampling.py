"""Sampling from a mixture with a temperature tau, and what that temperature means.

The sampler uses the World Models convention (Ha and Schmidhuber 2018; their code,
doomrnn/doomrnn.py, divides the log-weights by tau and multiplies the Gaussian noise by
sqrt(tau)):

    pi_k(tau)    = softmax(log pi_k / tau)
    sigma_k(tau) = sigma_k * sqrt(tau)          i.e.  log sigma_k(tau) = s_k + 0.5 log tau

This is a CONVENTION, a heuristic with one knob, not a derivation. Each Gaussian on its
own obeys N(y | mu, sigma^2)^(1/tau) proportional to N(y | mu, tau sigma^2), but for a
mixture neither the convention nor the tempered joint p(k, y)^(1/tau) (whose weights are
proportional to pi_k^(1/tau) sigma_k^(1 - 1/tau)) equals the tempered predictive density
p(y | x)^(1/tau) / Z(tau). ``convention_density``, ``joint_tempered_params`` and
``tempered_density`` compute the three so that they can be compared on a grid.

tau = 1 is the model itself; tau -> 0 puts all weight on the component with the largest
pi_k and shrinks it to its mean (that mean need not be the most probable y); tau > 1
flattens the weights and widens every component.

Sampling is ``params.MixtureParams.sample`` (vectorised NumPy, any D): the component is
found by inverting the cumulative weights pi(tau) at one uniform draw, then
y = mu_k + sigma_k(tau) * eps with eps ~ N(0, 1).
"""
from __future__ import annotations

import numpy as np

from mdn_utils import checks
from mdn_utils.core.model import predict_mixture
from mdn_utils.core.params import MixtureParams, log_softmax, scalar_mixture


def apply_temperature(mixture_logits, log_sigmas, tau: float):
    """Return (log pi(tau), log sigma(tau)), each ``[batch, K]``, for temperature tau > 0."""
    tau = checks.positive_float("tau", tau)
    logits = checks.finite_array("mixture_logits", mixture_logits, ndim=2)
    log_sigmas = checks.finite_array("log_sigmas", log_sigmas, ndim=2)
    return log_softmax(log_softmax(logits) / tau), log_sigmas + 0.5 * np.log(tau)


def sample_with_temperature(params: MixtureParams, tau: float = 1.0, num_samples: int = 1,
                            seed: int = 0) -> np.ndarray:
    """Draw y for every row of a 1-D mixture at temperature tau: float64 ``[num_samples, n]``.

    ``MixtureParams.sample`` of the mixture in float64 (same draws for the same seed).
    """
    tau = checks.positive_float("tau", tau)
    num_samples = checks.positive_int("num_samples", num_samples)
    seed = checks.positive_int("seed", seed, minimum=0)
    return scalar_mixture(params, diagonal=True).sample(num_samples, tau=tau, seed=seed)[..., 0]


def sample_model(model, x, tau: float = 1.0, num_samples: int = 1, seed: int = 0):
    """Sample y ~ p_tau(y | x) from a trained MDN for each x: ``[num_samples, n]`` for a
    1-D y, ``[num_samples, n, D]`` otherwise."""
    tau = checks.positive_float("tau", tau)
    num_samples = checks.positive_int("num_samples", num_samples)
    seed = checks.positive_int("seed", seed, minimum=0)
    draws = predict_mixture(model, x).sample(num_samples, tau=tau, seed=seed)
    return draws[..., 0] if draws.shape[-1] == 1 else draws


def _y_grid(y_grid) -> np.ndarray:
    grid = checks.finite_array("y_grid", y_grid, ndim=1)
    if grid.size < 3 or not np.all(np.diff(grid) > 0):
        raise ValueError("y_grid must be strictly increasing with at least 3 points, "
                         f"got {grid.size} points")
    return grid


def mixture_log_density(params: MixtureParams, y_grid) -> np.ndarray:
    """log p(y | x) = logsumexp_k(log pi_k + log N(y | mu_k, sigma_k^2)) of a 1-D mixture on
    ``y_grid``: ``[n, len(y_grid)]`` (``MixtureParams.log_prob_grid``)."""
    return scalar_mixture(params, diagonal=True).log_prob_grid(_y_grid(y_grid))


def convention_density(params: MixtureParams, y_grid, tau: float) -> np.ndarray:
    """Density of the World Models convention at tau (what the sampler draws from).

    p_conv(y) = sum_k softmax(log pi / tau)_k N(y | mu_k, tau sigma_k^2); a mixture of
    normalised Gaussians, so it needs no numerical normalisation. ``[batch, len(y_grid)]``.
    """
    tau = checks.positive_float("tau", tau)
    tempered = scalar_mixture(params, diagonal=True).with_temperature(tau)
    return np.exp(mixture_log_density(tempered, y_grid))


def joint_tempered_params(mixture_logits, log_sigmas, tau: float):
    """Tempering the joint p(k, y)^(1/tau): return (log weights, log sigmas), each ``[batch, K]``.

    pi_k^(1/tau) N(y | mu_k, sigma_k^2)^(1/tau) is proportional to
    pi_k^(1/tau) sigma_k^(1 - 1/tau) N(y | mu_k, tau sigma_k^2), so the weights are
    softmax((log pi_k + (tau - 1) s_k) / tau) and the widths sigma_k sqrt(tau).
    """
    tau = checks.positive_float("tau", tau)
    logits = checks.finite_array("mixture_logits", mixture_logits, ndim=2)
    log_sigmas = checks.finite_array("log_sigmas", log_sigmas, ndim=2)
    if logits.shape != log_sigmas.shape:
        raise ValueError("mixture_logits and log_sigmas must have the same shape [batch, K], "
                         f"got {logits.shape} and {log_sigmas.shape}")
    log_weights = log_softmax((log_softmax(logits) + (tau - 1.0) * log_sigmas) / tau)
    return log_weights, log_sigmas + 0.5 * np.log(tau)


def tempered_density(params: MixtureParams, y_grid, tau: float) -> np.ndarray:
    """The exactly tempered predictive density p(y | x)^(1/tau) / Z(tau) on a grid.

    Z(tau) = integral p(y | x)^(1/tau) dy is computed by the trapezoid rule on ``y_grid``,
    so the grid must cover the mass (for tau > 1 the tails get heavier: widen it).
    ``[batch, len(y_grid)]``.
    """
    tau = checks.positive_float("tau", tau)
    grid = _y_grid(y_grid)
    log_tempered = mixture_log_density(params, grid) / tau
    unnormalised = np.exp(log_tempered - log_tempered.max(axis=-1, keepdims=True))
    return unnormalised / np.trapezoid(unnormalised, grid, axis=-1)[:, None]


def density_distances(p, q, y_grid) -> dict:
    """L1 distance integral abs(p - q) dy (0 to 2) and KL(p || q) = integral p log(p / q) dy.

    ``p`` and ``q`` are densities on ``y_grid`` (``[len(y_grid)]`` or ``[batch, len(y_grid)]``);
    each is renormalised on the grid first. Returns floats (or arrays for a batch).
    KL is infinite where q = 0 and p > 0.
    """
    grid = _y_grid(y_grid)
    p = checks.finite_array("p", p, ndim=(1, 2))
    q = checks.finite_array("q", q, ndim=(1, 2))
    if p.shape != q.shape or p.shape[-1] != grid.size:
        raise ValueError(f"p and q must both have shape [..., {grid.size}] (the y_grid), "
                         f"got {p.shape} and {q.shape}")
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("p and q must be non-negative densities")
    p = p / np.trapezoid(p, grid, axis=-1)[..., None]
    q = q / np.trapezoid(q, grid, axis=-1)[..., None]
    l1 = np.trapezoid(np.abs(p - q), grid, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    kl = np.trapezoid(integrand, grid, axis=-1)
    if np.ndim(l1) == 0:
        return {"l1": float(l1), "kl": float(kl)}
    return {"l1": l1, "kl": kl}
