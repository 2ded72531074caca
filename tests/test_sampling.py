import numpy as np
import pytest
from scipy import stats

from mdn_utils.core.params import MixtureParams
from mdn_utils.core import mixture, sampling

PARAMS = (np.log([[0.2, 0.5, 0.3]]), np.array([[-4.0, 0.0, 3.0]]), np.log([[0.5, 0.8, 0.3]]))


def test_tau_one_matches_the_model_in_distribution():
    ours = sampling.sample_with_temperature(MixtureParams.from_1d(*PARAMS), tau=1.0, num_samples=20_000, seed=0)[:, 0]
    reference = mixture.mixture_distribution(MixtureParams.from_1d(*PARAMS)).sample(20_000, seed=5).numpy()[:, 0]
    assert stats.ks_2samp(ours, reference).pvalue > 0.01


def test_a_different_tau_is_detected():
    hot = sampling.sample_with_temperature(MixtureParams.from_1d(*PARAMS), tau=2.0, num_samples=20_000, seed=0)[:, 0]
    reference = mixture.mixture_distribution(MixtureParams.from_1d(*PARAMS)).sample(20_000, seed=5).numpy()[:, 0]
    assert stats.ks_2samp(hot, reference).pvalue < 1e-3


def test_tau_to_zero_concentrates_at_the_most_probable_mean():
    draws = sampling.sample_with_temperature(MixtureParams.from_1d(*PARAMS), tau=1e-6, num_samples=1000, seed=0)
    np.testing.assert_allclose(draws, 0.0, atol=1e-2)


def test_temperature_convention():
    log_weights, log_sigmas = sampling.apply_temperature(PARAMS[0], PARAMS[2], tau=0.5)
    expected = np.log(np.array([0.2, 0.5, 0.3]) ** 2 / np.sum(np.array([0.2, 0.5, 0.3]) ** 2))
    np.testing.assert_allclose(log_weights[0], expected, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_sigmas), np.exp(PARAMS[2]) * np.sqrt(0.5))


def test_vectorised_over_inputs_and_seeded():
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(10, 4)), rng.normal(size=(10, 4)), rng.normal(size=(10, 4)))
    a = sampling.sample_with_temperature(MixtureParams.from_1d(*params), tau=0.7, num_samples=3, seed=9)
    b = sampling.sample_with_temperature(MixtureParams.from_1d(*params), tau=0.7, num_samples=3, seed=9)
    assert a.shape == (3, 10)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf")])
def test_invalid_tau_raises(tau):
    with pytest.raises(ValueError, match="tau"):
        sampling.sample_with_temperature(MixtureParams.from_1d(*PARAMS), tau=tau)


def test_hundred_thousand_inputs_in_one_call():
    """Vectorised over all inputs; its throughput is measured by `make bench`."""
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(100_000, 24)), rng.normal(size=(100_000, 24)),
              rng.normal(size=(100_000, 24)))
    draws = sampling.sample_with_temperature(MixtureParams.from_1d(*params), tau=1.0)
    assert draws.shape == (1, 100_000) and np.all(np.isfinite(draws))


# --- What the temperature means: convention, tempered joint, exactly tempered density ---

GRID = np.linspace(-25.0, 25.0, 20_001)
# Heaviest component wide and low, a lighter one narrow and tall: the global mode of the
# mixture is NOT the mean of the heaviest component.
TWO = (np.log([[0.6, 0.4]]), np.array([[-3.0, 3.0]]), np.log([[2.0, 0.2]]))


@pytest.mark.parametrize("tau", [0.5, 2.0])
def test_samples_follow_the_convention_density(tau):
    draws = sampling.sample_with_temperature(MixtureParams.from_1d(*PARAMS), tau=tau, num_samples=200_000, seed=1)[:, 0]
    edges = np.linspace(-12, 12, 241)
    histogram, _ = np.histogram(draws, bins=edges, density=True)
    histogram *= np.mean((draws >= edges[0]) & (draws <= edges[-1]))
    centres = 0.5 * (edges[1:] + edges[:-1])
    density = sampling.convention_density(MixtureParams.from_1d(*PARAMS), centres, tau)[0]
    assert np.sum(np.abs(histogram - density)) * (edges[1] - edges[0]) < 0.03
    exact = sampling.tempered_density(MixtureParams.from_1d(*PARAMS), GRID, tau)[0]
    exact_at_centres = np.interp(centres, GRID, exact)
    # ... and not the exactly tempered density, which is measurably different here.
    assert np.sum(np.abs(histogram - exact_at_centres)) * (edges[1] - edges[0]) > 0.05


def test_convention_density_is_normalised_and_is_the_model_at_tau_one():
    for tau in (0.3, 1.0, 3.0):
        assert np.trapezoid(sampling.convention_density(MixtureParams.from_1d(*PARAMS), GRID, tau)[0], GRID) \
            == pytest.approx(1.0, abs=1e-6)
    reference = np.exp(mixture.mixture_distribution(MixtureParams.from_1d(*PARAMS)).log_prob(GRID[:, None]).numpy()[:, 0])
    np.testing.assert_allclose(sampling.convention_density(MixtureParams.from_1d(*PARAMS), GRID, 1.0)[0], reference,
                               rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(sampling.tempered_density(MixtureParams.from_1d(*PARAMS), GRID, 1.0)[0], reference,
                               rtol=1e-5, atol=1e-12)


def test_one_gaussian_tempered_exactly_is_the_same_gaussian_with_tau_times_the_variance():
    one = (np.zeros((1, 1)), np.array([[1.5]]), np.log([[0.7]]))
    for tau in (0.25, 2.0):
        exact = sampling.tempered_density(MixtureParams.from_1d(*one), GRID, tau)[0]
        np.testing.assert_allclose(exact, stats.norm.pdf(GRID, 1.5, 0.7 * np.sqrt(tau)),
                                   rtol=1e-6, atol=1e-12)
        # For one component the convention is exact.
        np.testing.assert_allclose(sampling.convention_density(MixtureParams.from_1d(*one), GRID, tau)[0], exact,
                                   rtol=1e-6, atol=1e-12)


def test_for_a_mixture_the_convention_is_not_exact_tempering():
    for tau in (0.5, 2.0):
        exact = sampling.tempered_density(MixtureParams.from_1d(*TWO), GRID, tau)[0]
        convention = sampling.convention_density(MixtureParams.from_1d(*TWO), GRID, tau)[0]
        assert sampling.density_distances(convention, exact, GRID)["l1"] > 0.1


def test_joint_tempering_weights_by_brute_force():
    tau = 0.5
    log_weights, log_sigmas = sampling.joint_tempered_params(TWO[0], TWO[2], tau)
    np.testing.assert_allclose(np.exp(log_sigmas), np.exp(TWO[2]) * np.sqrt(tau))
    # Integrate pi_k^(1/tau) N(y | mu_k, sigma_k^2)^(1/tau) over y for each k.
    pi = np.array([0.6, 0.4])
    masses = [np.trapezoid((pi[k] * stats.norm.pdf(GRID, TWO[1][0, k], np.exp(TWO[2][0, k])))
                           ** (1 / tau), GRID) for k in range(2)]
    np.testing.assert_allclose(np.exp(log_weights[0]), np.array(masses) / np.sum(masses),
                               rtol=1e-6)
    # pi_k^(1/tau) sigma_k^(1 - 1/tau), normalised
    closed = pi ** (1 / tau) * np.exp(TWO[2][0]) ** (1 - 1 / tau)
    np.testing.assert_allclose(np.exp(log_weights[0]), closed / closed.sum(), rtol=1e-10)


def test_cold_limit_heaviest_mean_versus_most_probable_y():
    # The sampler's tau -> 0 limit: the heaviest component's mean (-3) ...
    cold = sampling.sample_with_temperature(MixtureParams.from_1d(*TWO), tau=1e-6, num_samples=200, seed=0)
    np.testing.assert_allclose(cold, -3.0, atol=1e-2)
    # ... while exact tempering concentrates at the most probable y (the narrow peak, 3).
    exact = sampling.tempered_density(MixtureParams.from_1d(*TWO), GRID, 0.02)[0]
    assert abs(GRID[np.argmax(exact)] - 3.0) < 0.01
    assert np.trapezoid(exact * (np.abs(GRID - 3.0) < 0.5), GRID) > 0.999


def test_density_distances_known_values():
    p = stats.norm.pdf(GRID, 0.0, 1.0)
    assert sampling.density_distances(p, p, GRID) == pytest.approx({"l1": 0.0, "kl": 0.0},
                                                                    abs=1e-12)
    far = stats.norm.pdf(GRID, 15.0, 1.0)
    assert sampling.density_distances(p, far, GRID)["l1"] == pytest.approx(2.0, abs=1e-6)
    q = stats.norm.pdf(GRID, 0.5, 2.0)
    closed_kl = np.log(2.0) + (1.0 + 0.5 ** 2) / (2 * 2.0 ** 2) - 0.5
    assert sampling.density_distances(p, q, GRID)["kl"] == pytest.approx(closed_kl, rel=1e-6)


@pytest.mark.parametrize("call, words", [
    (lambda: sampling.tempered_density(MixtureParams.from_1d(*PARAMS), [0.0, 2.0, 1.0], 1.0), "y_grid"),
    (lambda: sampling.tempered_density(MixtureParams.from_1d(*PARAMS), GRID, 0.0), "tau"),
    (lambda: sampling.convention_density(MixtureParams.from_1d(*PARAMS), GRID[::-1], 1.0), "y_grid"),
    (lambda: sampling.joint_tempered_params(PARAMS[0], PARAMS[2][:, :2], 1.0), "same shape"),
    (lambda: sampling.density_distances(np.ones(3), np.ones(4), [0.0, 1.0, 2.0]), "y_grid"),
    (lambda: sampling.density_distances(-np.ones(3), np.ones(3), [0.0, 1.0, 2.0]), "non-negative"),
])
def test_bad_input_to_the_density_functions(call, words):
    with pytest.raises(ValueError, match=words):
        call()
