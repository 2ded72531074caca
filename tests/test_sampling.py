import numpy as np
import pytest
from scipy import stats

from mdn_utils import mixture, sampling

PARAMS = (np.log([[0.2, 0.5, 0.3]]), np.array([[-4.0, 0.0, 3.0]]), np.log([[0.5, 0.8, 0.3]]))


def test_tau_one_matches_the_model_in_distribution():
    ours = sampling.sample_with_temperature(*PARAMS, tau=1.0, num_samples=20_000, seed=0)[:, 0]
    reference = mixture.mixture_distribution(*PARAMS).sample(20_000, seed=5).numpy()[:, 0]
    assert stats.ks_2samp(ours, reference).pvalue > 0.01


def test_a_different_tau_is_detected():
    hot = sampling.sample_with_temperature(*PARAMS, tau=2.0, num_samples=20_000, seed=0)[:, 0]
    reference = mixture.mixture_distribution(*PARAMS).sample(20_000, seed=5).numpy()[:, 0]
    assert stats.ks_2samp(hot, reference).pvalue < 1e-3


def test_tau_to_zero_concentrates_at_the_most_probable_mean():
    draws = sampling.sample_with_temperature(*PARAMS, tau=1e-6, num_samples=1000, seed=0)
    np.testing.assert_allclose(draws, 0.0, atol=1e-2)


def test_temperature_convention():
    log_weights, log_sigmas = sampling.apply_temperature(PARAMS[0], PARAMS[2], tau=0.5)
    expected = np.log(np.array([0.2, 0.5, 0.3]) ** 2 / np.sum(np.array([0.2, 0.5, 0.3]) ** 2))
    np.testing.assert_allclose(log_weights[0], expected, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_sigmas), np.exp(PARAMS[2]) * np.sqrt(0.5))


def test_vectorised_over_inputs_and_seeded():
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(10, 4)), rng.normal(size=(10, 4)), rng.normal(size=(10, 4)))
    a = sampling.sample_with_temperature(*params, tau=0.7, num_samples=3, seed=9)
    b = sampling.sample_with_temperature(*params, tau=0.7, num_samples=3, seed=9)
    assert a.shape == (3, 10)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf")])
def test_invalid_tau_raises(tau):
    with pytest.raises(ValueError, match="tau"):
        sampling.sample_with_temperature(*PARAMS, tau=tau)


def test_hundred_thousand_inputs_in_one_call():
    """Vectorised over all inputs; its throughput is measured by `make bench`."""
    rng = np.random.default_rng(0)
    params = (rng.normal(size=(100_000, 24)), rng.normal(size=(100_000, 24)),
              rng.normal(size=(100_000, 24)))
    draws = sampling.sample_with_temperature(*params, tau=1.0)
    assert draws.shape == (1, 100_000) and np.all(np.isfinite(draws))
