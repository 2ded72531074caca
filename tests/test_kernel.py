"""The NumPy kernel of MixtureParams against its reference, TFP's MixtureSameFamily:
log-density (any D, diag and full), CDF, quantiles, sampling moments, CRPS (against a
numerical integral), responsibilities, and the fill order of a raw lower triangle."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import integrate, special

from mdn_utils.core import mixture
from mdn_utils.core.params import (MixtureParams, scale_tril_from_raw, triangle_index)

from test_params import random_params


@pytest.mark.parametrize("covariance", ["diag", "full"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_log_prob_matches_tfp(covariance, d):
    params = random_params(covariance, n=5, k=4, d=d, seed=d)
    y = np.random.default_rng(9).normal(0, 3, (5, d))
    np.testing.assert_allclose(params.log_prob(y),
                               mixture.distribution(params).log_prob(y).numpy(), rtol=1e-10)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_grid_points_and_components_agree_with_log_prob(covariance):
    params = random_params(covariance, n=3, k=4, d=1, seed=2)
    grid = np.linspace(-8, 8, 7)
    reference = np.stack([mixture.scalar_distribution(params).log_prob(np.full(3, g)).numpy()
                          for g in grid], axis=1)
    np.testing.assert_allclose(params.log_prob_grid(grid), reference, rtol=1e-10)
    np.testing.assert_allclose(params.log_prob_points(np.tile(grid, (3, 1))), reference,
                               rtol=1e-10)
    np.testing.assert_allclose(np.log(params.component_densities(grid).sum(-1)), reference,
                               rtol=1e-10)


def test_two_dimensional_grid_matches_tfp():
    params = random_params("full", n=2, k=3, d=2, seed=4)
    grid = np.random.default_rng(1).normal(0, 2, (6, 2))
    reference = mixture.distribution(params).log_prob(grid[:, None, :]).numpy().T
    np.testing.assert_allclose(params.log_prob_grid(grid), reference, rtol=1e-10)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_cdf_and_quantiles_match_tfp(covariance):
    params = random_params(covariance, n=4, k=3, d=1, seed=5)
    y = np.random.default_rng(2).normal(0, 3, 4)
    scalar = mixture.scalar_distribution(params)
    np.testing.assert_allclose(params.cdf(y), scalar.cdf(y).numpy(), rtol=1e-10, atol=1e-14)
    levels = np.array([0.05, 0.5, 0.9])
    quantiles = params.quantiles(levels)
    at_quantiles = np.stack([scalar.cdf(quantiles[:, j]).numpy() for j in range(3)], axis=1)
    np.testing.assert_allclose(at_quantiles, np.broadcast_to(levels, (4, 3)), atol=1e-10)


@pytest.mark.parametrize("covariance", ["diag", "full"])
@pytest.mark.parametrize("tau", [1.0, 0.5, 2.0])
def test_sample_moments_match_tfp(covariance, tau):
    params = random_params(covariance, n=3, k=3, d=2, seed=6)
    draws = params.sample(100_000, tau=tau, seed=1)
    reference = mixture.distribution(params.with_temperature(tau))
    mean = reference.mean().numpy()
    std = reference.stddev().numpy() if hasattr(reference, "stddev") else None
    covariance_matrix = reference.covariance().numpy()
    np.testing.assert_allclose(draws.mean(0), mean, atol=5 * np.sqrt(
        np.diagonal(covariance_matrix, axis1=-2, axis2=-1).max() / 100_000))
    for row in range(3):
        np.testing.assert_allclose(np.cov(draws[:, row].T), covariance_matrix[row], rtol=0.05,
                                   atol=0.05)
    del std


def test_sample_from_is_sample_with_the_same_uniforms():
    params = random_params("diag", n=5, k=4, d=1, seed=7)
    rng = np.random.default_rng(3)
    uniform, noise = rng.random((10, 5)), rng.standard_normal((10, 5, 1))
    np.testing.assert_array_equal(params.sample(10, seed=3), params.sample_from(uniform, noise))


def test_crps_matches_a_numerical_integral():
    params = random_params("diag", n=3, k=3, d=1, seed=8)
    y = np.array([-1.0, 0.5, 4.0])
    scalar = mixture.scalar_distribution(params)
    for row in range(3):
        def integrand(t, row=row):
            cdf = scalar[row].cdf(t).numpy()
            return (cdf - (t >= y[row])) ** 2
        numerical = integrate.quad(integrand, -60, 60, points=[y[row]], limit=400)[0]
        np.testing.assert_allclose(params.crps(y)[row], numerical, rtol=1e-6)


def test_crps_of_one_gaussian_is_the_gaussian_closed_form():
    mu, sigma, y = 0.3, 1.7, np.array([1.1])
    params = MixtureParams.from_1d([[0.0]], [[mu]], [[np.log(sigma)]])
    z = (y - mu) / sigma
    gaussian = sigma * (z * (2 * special.ndtr(z) - 1) + 2 * np.exp(-0.5 * z * z) /
                        np.sqrt(2 * np.pi) - 1 / np.sqrt(np.pi))
    np.testing.assert_allclose(params.crps(y), gaussian, rtol=1e-12)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_responsibilities_are_the_posterior_over_components(covariance):
    params = random_params(covariance, n=4, k=3, d=2, seed=9)
    y = np.random.default_rng(4).normal(0, 2, (4, 2))
    reference = mixture.distribution(params)
    joint = (tf.math.log_softmax(params.logits).numpy()
             + reference.components_distribution.log_prob(y[:, None, :]).numpy())
    np.testing.assert_allclose(params.responsibilities(y),
                               np.exp(joint - special.logsumexp(joint, 1, keepdims=True)),
                               rtol=1e-10)
    np.testing.assert_allclose(params.responsibilities(y).sum(1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("dim", [1, 2, 3, 4, 5])
def test_triangle_order_is_tfp_fill_triangular(dim):
    size = dim * (dim + 1) // 2
    filled = tfp.math.fill_triangular(np.arange(size, dtype=np.float64)).numpy()
    rows, columns = np.tril_indices(dim)
    assert triangle_index(dim) == {(int(r), int(c)): int(filled[r, c])
                                   for r, c in zip(rows, columns)}
    raw = np.random.default_rng(dim).normal(size=(3, 2, size))
    np.testing.assert_allclose(scale_tril_from_raw(raw),
                               mixture.scale_tril_from_raw_unchecked(tf.constant(raw))[0],
                               rtol=1e-12)


def test_one_dimensional_methods_refuse_d_2():
    params = random_params("diag", n=2, k=2, d=2)
    for call in (lambda: params.cdf(np.zeros(2)), lambda: params.quantiles([0.5]),
                 lambda: params.crps(np.zeros(2))):
        with pytest.raises(ValueError, match="D = 1"):
            call()


@pytest.mark.parametrize("call", [
    lambda: mixture.mixture_distribution((np.zeros((2, 2)),) * 3),
    lambda: __import__("mdn_utils.core.sampling", fromlist=["x"]).sample_with_temperature(
        (np.zeros((2, 2)),) * 3),
    lambda: __import__("mdn_utils.diagnostics.scoring", fromlist=["x"]).crps_mixture(
        (np.zeros((2, 2)),) * 3, np.zeros(2)),
    lambda: __import__("mdn_utils.diagnostics.gradients", fromlist=["x"]).nll_gradients(
        (np.zeros((2, 2)),) * 3, np.zeros(2)),
])
def test_functions_of_a_mixture_refuse_the_loose_triple(call):
    with pytest.raises(TypeError, match="params must be a MixtureParams"):
        call()


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_astype_and_take_keep_the_mixture(covariance):
    params = random_params(covariance, n=5, k=3, d=2, dtype=np.float32, seed=3)
    y = np.random.default_rng(5).normal(0, 2, (5, 2))
    wide = params.astype(np.float64)
    assert (wide.dtype, wide.covariance) == (np.float64, covariance)
    np.testing.assert_array_equal(wide.log_prob(y), params.log_prob(y))
    rows = params.take(slice(1, 3))
    np.testing.assert_array_equal(rows.log_prob(y[1:3]), params.log_prob(y)[1:3])
    with pytest.raises(ValueError, match="dtype"):
        params.astype(np.int64)
