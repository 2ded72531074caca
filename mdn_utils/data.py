"""Seeded toy problems and their exact conditional densities.

Two generators, both "inverse problems": y is drawn first, x is a noisy function of y,
and the book models p(y | x), which has several modes wherever the forward map folds.

* ``"sinusoid_inverse"`` (Ha 2015):  y ~ U(-10.5, 10.5),
  x = 7 sin(0.75 y) + 0.5 y + eps,  eps ~ N(0, 1).
* ``"bishop"`` (Bishop 1994; PRML section 5.6):  y ~ U(0, 1),
  x = y + 0.3 sin(2 pi y) + eps,  eps ~ U(-0.1, 0.1).

By Bayes' rule p(y | x) = p(x | y) p(y) / p(x) with p(x) = integral p(x | y') p(y') dy',
which is computed here by quadrature over a fine y grid. The Bayes-optimal negative
log-likelihood, E[-log p(y | x)] (the conditional entropy H(Y | X)), is the floor that no
model of p(y | x) can beat in expectation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import checks

GRID_POINTS = 4_001   # y grid for the evidence p(x); quadrature error below 1e-6
_CHUNK = 512          # x values per evidence chunk (bounds memory to _CHUNK * GRID_POINTS)


@dataclass(frozen=True)
class Dataset:
    """One generator: y ~ U(y_low, y_high), x = forward(y) + noise."""

    name: str
    y_low: float
    y_high: float
    forward: Callable[[np.ndarray], np.ndarray]
    noise: str          # "normal" (scale = noise_scale) or "uniform" (half-width)
    noise_scale: float

    @property
    def x_range(self) -> tuple[float, float]:
        """A range of x that holds essentially all the data (for plots)."""
        y = np.linspace(self.y_low, self.y_high, 10_001)
        x = self.forward(y)
        pad = 3 * self.noise_scale if self.noise == "normal" else self.noise_scale
        return float(x.min() - pad), float(x.max() + pad)

    @property
    def y_range(self) -> tuple[float, float]:
        return self.y_low, self.y_high


DATASETS = {
    "sinusoid_inverse": Dataset(
        "sinusoid_inverse", -10.5, 10.5,
        lambda y: 7.0 * np.sin(0.75 * y) + 0.5 * y, "normal", 1.0),
    "bishop": Dataset(
        "bishop", 0.0, 1.0,
        lambda y: y + 0.3 * np.sin(2.0 * np.pi * y), "uniform", 0.1),
}


def get_dataset(name: str) -> Dataset:
    """Look up a generator by name (one of ``DATASETS``)."""
    return DATASETS[checks.one_of("dataset", name, DATASETS)]


def sample(dataset: str, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``num_samples`` pairs (x, y), each a float32 array of shape ``[n]``.

    The same ``seed`` gives the same pairs on every machine (NumPy's PCG64).
    """
    spec = get_dataset(dataset)
    num_samples = checks.positive_int("num_samples", num_samples)
    seed = checks.positive_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    y = rng.uniform(spec.y_low, spec.y_high, num_samples)
    if spec.noise == "normal":
        noise = rng.normal(0.0, spec.noise_scale, num_samples)
    else:
        noise = rng.uniform(-spec.noise_scale, spec.noise_scale, num_samples)
    x = spec.forward(y) + noise
    return x.astype(np.float32), y.astype(np.float32)


def _likelihood(spec: Dataset, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """p(x | y) for broadcastable x and y."""
    residual = x - spec.forward(y)
    if spec.noise == "normal":
        s = spec.noise_scale
        return np.exp(-0.5 * (residual / s) ** 2) / (s * np.sqrt(2.0 * np.pi))
    half_width = spec.noise_scale
    return np.where(np.abs(residual) < half_width, 0.5 / half_width, 0.0)


def _evidence(spec: Dataset, x: np.ndarray) -> np.ndarray:
    """p(x) = integral over y of p(x | y) p(y), for a 1-D array of x.

    Gaussian noise: the trapezoid rule on a grid of ``GRID_POINTS``.
    Uniform noise: p(x | y) p(y) is a constant c on the set {y : |x - forward(y)| < w};
    its measure is found per grid cell by linear interpolation of w - |x - forward(y)|,
    which places the set's edges to second order in the grid spacing.
    """
    grid = np.linspace(spec.y_low, spec.y_high, GRID_POINTS)
    prior = 1.0 / (spec.y_high - spec.y_low)
    forward = spec.forward(grid)
    out = np.empty(len(x))
    for start in range(0, len(x), _CHUNK):
        xs = x[start:start + _CHUNK, None]
        if spec.noise == "normal":
            out[start:start + _CHUNK] = np.trapezoid(
                _likelihood(spec, xs, grid[None, :]) * prior, grid, axis=1)
            continue
        margin = spec.noise_scale - np.abs(xs - forward[None, :])  # > 0 inside the set
        left, right = margin[:, :-1], margin[:, 1:]
        inside = np.where((left > 0) & (right > 0), 1.0, 0.0)
        crossing = (left > 0) != (right > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.maximum(left, right) / np.abs(left - right)
        inside = np.where(crossing, fraction, inside)
        measure = inside.sum(axis=1) * (grid[1] - grid[0])
        out[start:start + _CHUNK] = measure * prior * 0.5 / spec.noise_scale
    return out


def conditional_density(dataset: str, x, y) -> np.ndarray:
    """The exact p(y | x) = p(x | y) p(y) / p(x) of a generator.

    ``x`` and ``y`` broadcast against each other (for a slice, a scalar x and a y grid).
    Returns float64 densities of the broadcast shape; zero outside the prior's support.
    """
    spec = get_dataset(dataset)
    x = checks.finite_array("x", x)
    y = checks.finite_array("y", y)
    try:
        x, y = np.broadcast_arrays(x, y)
    except ValueError:
        raise ValueError(f"x and y must broadcast together, got shapes "
                         f"{np.shape(x)} and {np.shape(y)}") from None
    unique_x, index = np.unique(x, return_inverse=True)
    evidence = _evidence(spec, unique_x)[index.reshape(x.shape)]
    in_support = (y >= spec.y_low) & (y <= spec.y_high)
    prior = np.where(in_support, 1.0 / (spec.y_high - spec.y_low), 0.0)
    joint = _likelihood(spec, x, y) * prior
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(evidence > 0, joint / evidence, 0.0)


def conditional_mean(dataset: str, x, grid_points: int = 4_001) -> np.ndarray:
    """E[y | x] = integral y p(y | x) dy for each x (trapezoid rule on a y grid).

    This is what a network trained with the mean squared error converges to.
    """
    spec = get_dataset(dataset)
    x = checks.finite_array("x", x, ndim=(0, 1))
    grid = np.linspace(spec.y_low, spec.y_high, checks.positive_int("grid_points", grid_points, 3))
    density = conditional_density(dataset, np.atleast_1d(x)[:, None], grid[None, :])
    return np.trapezoid(density * grid, grid, axis=-1).reshape(x.shape)


def bayes_nll(dataset: str, x, y) -> float:
    """Mean of -log p(y_i | x_i) under the true conditional: the Bayes-optimal NLL.

    On pairs drawn from the generator this estimates the conditional entropy H(Y | X);
    on a model's test set it is the floor to compare the model's test NLL with.
    """
    x, y = checks.paired_columns(x, y)
    density = conditional_density(dataset, x, y)
    if np.any(density <= 0):
        raise ValueError("some (x, y) pairs have zero probability under the "
                         f"{dataset!r} generator; pass pairs drawn from it")
    return float(-np.mean(np.log(density)))


def conditional_entropy(dataset: str, num_samples: int = 20_000, seed: int = 0) -> float:
    """Monte Carlo estimate of H(Y | X) = E[-log p(y | x)] on fresh generator samples."""
    x, y = sample(dataset, num_samples, seed)
    return bayes_nll(dataset, x, y)


def conditional_entropy_exact(dataset: str, x_points: int = 40_001) -> float:
    """H(Y | X) by one-dimensional quadrature, as a check on the Monte Carlo estimate.

    H(Y | X) = H(X, Y) - H(X) = H(Y) + H(X | Y) - H(X), where
    H(Y) = log(y_high - y_low), H(X | Y) is the noise entropy (0.5 log(2 pi e s^2) for
    Gaussian noise, log(2 w) for uniform noise of half-width w) and
    -H(X) = integral p(x) log p(x) dx over a fine x grid.
    """
    spec = get_dataset(dataset)
    x_points = checks.positive_int("x_points", x_points, minimum=101)
    low, high = spec.x_range
    pad = 5 * spec.noise_scale
    grid = np.linspace(low - pad, high + pad, x_points)
    evidence = _evidence(spec, grid)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_log_p = np.where(evidence > 0, evidence * np.log(evidence), 0.0)
    if spec.noise == "normal":
        noise_entropy = 0.5 * np.log(2 * np.pi * np.e * spec.noise_scale ** 2)
    else:
        noise_entropy = np.log(2 * spec.noise_scale)
    return float(np.log(spec.y_high - spec.y_low) + noise_entropy
                 + np.trapezoid(p_log_p, grid))
