import numpy as np
import pytest

from mdn_utils import data


@pytest.mark.parametrize("dataset", sorted(data.DATASETS))
@pytest.mark.parametrize("x0_quantile", [0.1, 0.3, 0.5, 0.7, 0.95])
def test_conditional_density_integrates_to_one(dataset, x0_quantile):
    spec = data.get_dataset(dataset)
    x_low, x_high = spec.x_range
    x0 = x_low + x0_quantile * (x_high - x_low)
    # An independent, much finer grid than the one the library uses for p(x).
    grid = np.linspace(spec.y_low, spec.y_high, 2_000_001)
    total = np.trapezoid(data.conditional_density(dataset, x0, grid), grid)
    assert abs(total - 1.0) < 1e-4


def test_density_is_zero_outside_prior_support():
    assert np.all(data.conditional_density("bishop", 0.5, [-0.5, 1.5]) == 0)
    assert np.all(data.conditional_density("sinusoid_inverse", 0.0, [-11.0, 11.0]) == 0)


def test_sampling_is_seeded():
    a = data.sample("sinusoid_inverse", 100, seed=3)
    b = data.sample("sinusoid_inverse", 100, seed=3)
    c = data.sample("sinusoid_inverse", 100, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert a[0].dtype == np.float32 and a[0].shape == (100,)


def test_samples_follow_the_generator():
    x, y = data.sample("bishop", 5000, seed=0)
    residual = x - (y + 0.3 * np.sin(2 * np.pi * y))
    assert np.all(np.abs(residual) <= 0.1 + 1e-6)
    assert 0 <= y.min() and y.max() <= 1


def _entropy_by_2d_quadrature(dataset, points=2001):
    """H(Y | X) = -integral p(x, y) log p(y | x) dx dy on an (x, y) grid, written here from
    the generator's definition (not with the library's densities)."""
    spec = data.get_dataset(dataset)
    y = np.linspace(spec.y_low, spec.y_high, points)
    low, high = spec.x_range
    x = np.linspace(low - 5 * spec.noise_scale, high + 5 * spec.noise_scale, points)
    residual = x[:, None] - spec.forward(y)[None, :]
    if spec.noise == "normal":
        likelihood = (np.exp(-0.5 * (residual / spec.noise_scale) ** 2)
                      / (np.sqrt(2 * np.pi) * spec.noise_scale))
    else:
        likelihood = (np.abs(residual) <= spec.noise_scale) / (2 * spec.noise_scale)
    joint = likelihood / (spec.y_high - spec.y_low)
    evidence = np.trapezoid(joint, y, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(joint > 0, joint * np.log(joint / evidence[:, None]), 0.0)
    return -np.trapezoid(np.trapezoid(integrand, y, axis=1), x)


@pytest.mark.parametrize("dataset", sorted(data.DATASETS))
def test_conditional_entropy(dataset):
    exact = data.conditional_entropy_exact(dataset)
    # The library's 1-D formula H(Y) + H(X | Y) - H(X) against a 2-D quadrature of the
    # definition (measured agreement: 1e-5 sinusoid, 8e-5 Bishop at 2001 points).
    assert abs(exact - _entropy_by_2d_quadrature(dataset)) < 5e-4
    # The Monte Carlo estimate (20,000 pairs) within four of its standard errors.
    x, y = data.sample(dataset, 20_000, seed=0)
    nll = -np.log(data.conditional_density(dataset, x, y))
    assert abs(data.conditional_entropy(dataset, num_samples=20_000, seed=0) - nll.mean()) < 1e-12
    assert abs(nll.mean() - exact) < 4 * nll.std() / np.sqrt(len(nll))


def test_bayes_nll_beats_a_wrong_density():
    x, y = data.sample("sinusoid_inverse", 5000, seed=1)
    floor = data.bayes_nll("sinusoid_inverse", x, y)
    # A broad Gaussian around the data's mean is a worse model.
    broad = np.mean(0.5 * np.log(2 * np.pi * y.var()) + 0.5 * (y - y.mean()) ** 2 / y.var())
    assert floor < broad - 0.5
