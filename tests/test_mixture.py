import numpy as np
import tensorflow as tf
from scipy import stats

from mdn_utils.core.params import MixtureParams
from mdn_utils.core import mixture


def test_ancestral_and_mixture_same_family_agree_in_distribution():
    logits = np.array([[np.log(0.1), np.log(0.5), np.log(0.4)]])
    means = np.array([[-3.0, 0.0, 4.0]])
    log_sigmas = np.log([[0.5, 1.0, 0.7]])
    ancestral = mixture.ancestral_sample(MixtureParams.from_1d(logits, means, log_sigmas), 20_000, seed=7).numpy()[:, 0]
    reference = mixture.mixture_distribution(MixtureParams.from_1d(logits, means, log_sigmas)).sample(
        20_000, seed=11).numpy()[:, 0]
    exact_mean = float(mixture.mixture_distribution(MixtureParams.from_1d(logits, means, log_sigmas)).mean()[0])
    exact_std = float(mixture.mixture_distribution(MixtureParams.from_1d(logits, means, log_sigmas)).stddev()[0])
    for draws in (ancestral, reference):
        assert abs(draws.mean() - exact_mean) < 4 * exact_std / np.sqrt(len(draws))
        assert abs(draws.std() / exact_std - 1) < 0.03
    assert stats.ks_2samp(ancestral, reference).pvalue > 0.01


def test_ancestral_sampling_detects_a_different_mixture():
    """The KS check above can fail: a shifted mixture is told apart."""
    logits = np.zeros((1, 2))
    means = np.array([[-1.0, 1.0]])
    a = mixture.ancestral_sample(MixtureParams.from_1d(logits, means, np.zeros((1, 2))), 20_000, seed=1).numpy()[:, 0]
    b = mixture.ancestral_sample(MixtureParams.from_1d(logits, means + 0.1, np.zeros((1, 2))), 20_000, seed=2).numpy()[:, 0]
    assert stats.ks_2samp(a, b).pvalue < 1e-3


def test_ancestral_sample_is_seeded_and_shaped():
    params = (np.zeros((4, 3)), np.arange(12.0).reshape(4, 3), np.zeros((4, 3)))
    a = mixture.ancestral_sample(MixtureParams.from_1d(*params), num_samples=5, seed=3)
    b = mixture.ancestral_sample(MixtureParams.from_1d(*params), num_samples=5, seed=3)
    assert a.shape == (5, 4)
    np.testing.assert_array_equal(a, b)


def test_mixture_distribution_shapes_and_dtype():
    dist = mixture.mixture_distribution(MixtureParams.from_1d(np.zeros((6, 2)), np.zeros((6, 2)), np.zeros((6, 2))))
    assert dist.batch_shape == (6,)
    assert dist.dtype == tf.float64
