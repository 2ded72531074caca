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


@pytest.mark.parametrize("dataset, expected", [("sinusoid_inverse", 1.29), ("bishop", -1.29)])
def test_conditional_entropy(dataset, expected):
    exact = data.conditional_entropy_exact(dataset)
    estimate = data.conditional_entropy(dataset, num_samples=20_000, seed=0)
    # The Monte Carlo estimate agrees with the quadrature value, and both with the
    # values quoted for these generators.
    assert abs(estimate - exact) < 0.01
    assert abs(estimate - expected) < 0.01
    assert abs(exact - expected) < 0.01


def test_bayes_nll_beats_a_wrong_density():
    x, y = data.sample("sinusoid_inverse", 5000, seed=1)
    floor = data.bayes_nll("sinusoid_inverse", x, y)
    # A broad Gaussian around the data's mean is a worse model.
    broad = np.mean(0.5 * np.log(2 * np.pi * y.var()) + 0.5 * (y - y.mean()) ** 2 / y.var())
    assert floor < broad - 0.5
