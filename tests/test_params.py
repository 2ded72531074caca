"""MixtureParams: layout, validation, the TFP distribution, temperature and sampling."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from mdn_utils.core import mixture
from mdn_utils.core.params import MixtureParams, scale_tril_from_raw


def random_scale_tril(rng, n, k, d, dtype=np.float64):
    """Lower-triangular [n, K, D, D] with a positive diagonal."""
    lower = np.tril(rng.normal(0, 0.5, (n, k, d, d)), k=-1)
    return (lower + np.eye(d) * rng.uniform(0.3, 1.5, (n, k, d, 1))).astype(dtype)


def random_params(covariance, n=4, k=3, d=2, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1, (n, k)).astype(dtype)
    locs = rng.normal(0, 3, (n, k, d)).astype(dtype)
    if covariance == "diag":
        return MixtureParams.diag(logits, locs, rng.normal(0, 0.5, (n, k, d)).astype(dtype))
    return MixtureParams.full(logits, locs, random_scale_tril(rng, n, k, d, dtype))


# ---- layout and construction ---------------------------------------------------------

@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_properties(covariance):
    params = random_params(covariance, n=4, k=3, d=2)
    assert (params.n, params.K, params.D, params.covariance) == (4, 3, 2, covariance)
    assert params.dtype == np.float64
    assert "n=4, K=3, D=2" in repr(params)


def test_from_1d_is_diag_with_d_1():
    rng = np.random.default_rng(1)
    logits, means, log_sigmas = (rng.normal(size=(5, 3)) for _ in range(3))
    params = MixtureParams.from_1d(logits, means, log_sigmas)
    assert (params.n, params.K, params.D, params.covariance) == (5, 3, 1, "diag")
    np.testing.assert_array_equal(params.locs[..., 0], means)
    np.testing.assert_array_equal(params.log_sigmas[..., 0], log_sigmas)


def test_dtype_float32_kept_and_tensors_accepted():
    params = MixtureParams.diag(tf.zeros((2, 3)), tf.zeros((2, 3, 4)), np.zeros((2, 3, 4),
                                                                               np.float32))
    assert params.dtype == np.float32 and params.locs.dtype == np.float32
    assert MixtureParams.diag(np.zeros((2, 3), np.float32), np.zeros((2, 3, 1)),
                              np.zeros((2, 3, 1), np.float32)).dtype == np.float64


def test_from_head_dispatches_on_covariance():
    full = random_params("full")
    assert MixtureParams.from_head(full.logits, full.locs, full.scale_tril, "full").covariance \
        == "full"
    assert MixtureParams.from_head(full.logits, full.locs, np.zeros((4, 3, 2)),
                                   "diag").covariance == "diag"


def test_is_immutable_and_owns_its_arrays():
    logits = np.zeros((2, 3))
    params = MixtureParams.diag(logits, np.zeros((2, 3, 1)), np.zeros((2, 3, 1)))
    logits[0, 0] = 5.0                                  # the caller's array, not ours
    assert params.logits[0, 0] == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.logits = logits
    with pytest.raises(ValueError):
        params.locs[0, 0, 0] = 1.0                      # read-only


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scale_tril_from_raw_is_lower_triangular_with_positive_diagonal(dtype):
    raw = np.random.default_rng(2).normal(0, 3, (4, 3, 10)).astype(dtype)   # D = 4
    scale_tril = scale_tril_from_raw(raw)
    assert scale_tril.shape == (4, 3, 4, 4) and scale_tril.dtype == dtype
    np.testing.assert_array_equal(np.triu(scale_tril, k=1), 0.0)
    assert np.all(np.diagonal(scale_tril, axis1=-2, axis2=-1) > 0)
    params = MixtureParams.full_from_raw(np.zeros((4, 3)), np.zeros((4, 3, 4)), raw)
    assert params.covariance == "full" and params.D == 4


# ---- bad input -------------------------------------------------------------------------

Z2, Z3 = np.zeros((4, 3)), np.zeros((4, 3, 2))
EYE = np.broadcast_to(np.eye(2), (4, 3, 2, 2)).copy()


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


BAD_INPUT = {
    # name: (call, error, words the message must contain)
    "logits rank 1": (lambda: MixtureParams.diag(np.zeros(4), Z3, Z3), ValueError,
                      "logits must have rank 2"),
    "logits not numeric": (lambda: MixtureParams.diag("abc", Z3, Z3), TypeError, "logits"),
    "logits ragged": (lambda: MixtureParams.diag([[0.0], [0.0, 1.0]], Z3, Z3), TypeError,
                      "logits"),
    "K = 0": (lambda: MixtureParams.diag(np.zeros((4, 0)), np.zeros((4, 0, 2)),
                                         np.zeros((4, 0, 2))), ValueError, "logits must not be empty"),
    "logits NaN": (lambda: MixtureParams.diag(_with(Z2, (1, 1), np.nan), Z3, Z3), ValueError,
                   "logits must be finite"),
    "locs rank 2": (lambda: MixtureParams.diag(Z2, Z2, Z3), ValueError, "locs must have rank 3"),
    "locs n differs": (lambda: MixtureParams.diag(Z2, np.zeros((5, 3, 2)), Z3), ValueError,
                       "locs must have shape"),
    "locs K differs": (lambda: MixtureParams.diag(Z2, np.zeros((4, 2, 2)), Z3), ValueError,
                       "locs must have shape"),
    "locs inf": (lambda: MixtureParams.diag(Z2, _with(Z3, (0, 0, 1), np.inf), Z3), ValueError,
                 "locs must be finite"),
    "log_sigmas D differs": (lambda: MixtureParams.diag(Z2, Z3, np.zeros((4, 3, 3))),
                             ValueError, "log_sigmas must have the shape of locs"),
    "log_sigmas NaN": (lambda: MixtureParams.diag(Z2, Z3, _with(Z3, (3, 2, 0), np.nan)),
                       ValueError, "log_sigmas must be finite"),
    "scale_tril rank 3": (lambda: MixtureParams.full(Z2, Z3, Z3), ValueError,
                          "scale_tril must have rank 4"),
    "scale_tril not square": (lambda: MixtureParams.full(Z2, Z3, np.ones((4, 3, 2, 3))),
                              ValueError, "scale_tril must have shape"),
    "scale_tril D differs": (lambda: MixtureParams.full(Z2, Z3, np.ones((4, 3, 3, 3))),
                             ValueError, "scale_tril must have shape"),
    "scale_tril upper entry": (lambda: MixtureParams.full(Z2, Z3, _with(EYE, (2, 1, 0, 1), 0.1)),
                               ValueError, "scale_tril must be lower-triangular"),
    "scale_tril zero diagonal": (lambda: MixtureParams.full(Z2, Z3, _with(EYE, (0, 0, 1, 1), 0)),
                                 ValueError, "scale_tril must have a positive diagonal"),
    "scale_tril negative diagonal": (
        lambda: MixtureParams.full(Z2, Z3, _with(EYE, (3, 2, 0, 0), -1.0)), ValueError,
        "scale_tril must have a positive diagonal"),
    "scale_tril NaN": (lambda: MixtureParams.full(Z2, Z3, _with(EYE, (0, 0, 1, 0), np.nan)),
                       ValueError, "scale_tril must be finite"),
    "neither scale": (lambda: MixtureParams(Z2, Z3), ValueError, "log_sigmas"),
    "both scales": (lambda: MixtureParams(Z2, Z3, log_sigmas=Z3, scale_tril=EYE), ValueError,
                    "scale_tril"),
    "covariance unknown": (lambda: MixtureParams.from_head(Z2, Z3, Z3, "spherical"), ValueError,
                           "covariance must be one of"),
    "covariance not a string": (lambda: MixtureParams.from_head(Z2, Z3, Z3, None), TypeError,
                                "covariance"),
    "from_1d shapes differ": (lambda: MixtureParams.from_1d(Z2, np.zeros((4, 2)), Z2),
                              ValueError, "means"),
    "from_1d means NaN": (lambda: MixtureParams.from_1d(Z2, _with(Z2, (0, 0), np.nan), Z2),
                          ValueError, "means must be finite"),
    "from_1d rank 3": (lambda: MixtureParams.from_1d(Z2, Z2, Z3), ValueError,
                       "log_sigmas must have rank 2"),
    "tau zero": (lambda: random_params("diag").with_temperature(0.0), ValueError, "tau"),
    "tau negative": (lambda: random_params("full").with_temperature(-1.0), ValueError, "tau"),
    "tau NaN": (lambda: random_params("diag").sample(3, tau=np.nan), ValueError, "tau"),
    "tau a string": (lambda: random_params("diag").sample(3, tau="0.5"), TypeError, "tau"),
    "num_samples zero": (lambda: random_params("diag").sample(0), ValueError, "num_samples"),
    "num_samples float": (lambda: random_params("full").sample(2.5), TypeError, "num_samples"),
    "seed negative": (lambda: random_params("diag").sample(3, seed=-1), ValueError, "seed"),
    "raw_scale not triangular": (lambda: scale_tril_from_raw(np.zeros((4, 3, 4))), ValueError,
                                 "raw_scale"),
    "raw_scale inf": (lambda: scale_tril_from_raw(_with(np.zeros((4, 3)), (0, 0), np.inf)),
                      ValueError, "raw_scale must be finite"),
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_is_rejected_naming_the_argument(name):
    call, error, words = BAD_INPUT[name]
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


# ---- the distribution -------------------------------------------------------------------

@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_distribution_shapes(covariance):
    distribution = mixture.distribution(random_params(covariance, n=4, k=3, d=2))
    assert distribution.batch_shape == [4] and distribution.event_shape == [2]


def test_distribution_d_1_has_event_shape_1_and_matches_the_1d_mixture():
    from mdn_utils.core import mixture
    rng = np.random.default_rng(3)
    logits, means, log_sigmas = (rng.normal(size=(6, 4)) for _ in range(3))
    y = rng.normal(size=6)
    distribution = mixture.distribution(MixtureParams.from_1d(logits, means, log_sigmas))
    assert distribution.event_shape == [1]
    np.testing.assert_allclose(
        distribution.log_prob(y[:, None]),
        mixture.mixture_distribution(MixtureParams.from_1d(logits, means, log_sigmas)).log_prob(y), rtol=1e-12)


# ---- temperature --------------------------------------------------------------------------

@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_temperature_one_is_the_identity(covariance):
    params = random_params(covariance)
    same = params.with_temperature(1.0)
    np.testing.assert_allclose(tf.nn.softmax(same.logits), tf.nn.softmax(params.logits),
                               rtol=1e-12)
    np.testing.assert_array_equal(same.locs, params.locs)
    scale = "log_sigmas" if covariance == "diag" else "scale_tril"
    np.testing.assert_array_equal(getattr(same, scale), getattr(params, scale))
    y = params.sample(5, seed=1)
    np.testing.assert_allclose(mixture.distribution(same).log_prob(y),
                               mixture.distribution(params).log_prob(y), rtol=1e-12)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_temperature_sharpens_weights_and_scales_covariance_by_tau(covariance):
    params, tau = random_params(covariance), 0.3
    tempered = params.with_temperature(tau)
    weights = tf.nn.softmax(params.logits).numpy()
    expected = weights ** (1 / tau) / np.sum(weights ** (1 / tau), axis=-1, keepdims=True)
    np.testing.assert_allclose(tf.nn.softmax(tempered.logits), expected, rtol=1e-10)
    np.testing.assert_allclose(
        mixture.distribution(tempered).components_distribution.covariance(),
        tau * mixture.distribution(params).components_distribution.covariance(), rtol=1e-10)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_tiny_temperature_keeps_finite_logits(covariance):
    logits, locs = np.array([[0.0, -1e3, 5.0]], np.float32), np.zeros((1, 3, 1), np.float32)
    scale = np.zeros((1, 3, 1), np.float32) if covariance == "diag" else np.ones((1, 3, 1, 1),
                                                                                  np.float32)
    tempered = MixtureParams.from_head(logits, locs, scale, covariance).with_temperature(1e-30)
    assert tempered.covariance == covariance and np.all(np.isfinite(tempered.logits))
    np.testing.assert_array_equal(tf.nn.softmax(tempered.logits), [[0.0, 0.0, 1.0]])


# ---- sampling -----------------------------------------------------------------------------

@pytest.mark.parametrize("covariance", ["diag", "full"])
@pytest.mark.parametrize("tau", [1.0, 0.5, 2.0])
def test_sample_moments_match_the_distribution(covariance, tau):
    params = random_params(covariance, n=3, k=3, d=2, seed=4)
    num_samples = 200_000
    draws = params.sample(num_samples, tau=tau, seed=5)
    assert draws.shape == (num_samples, 3, 2)
    reference = mixture.distribution(params.with_temperature(tau))
    mean, covariance_matrix = reference.mean().numpy(), reference.covariance().numpy()
    standard_error = np.sqrt(np.diagonal(covariance_matrix, axis1=-2, axis2=-1) / num_samples)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * standard_error)
    centred = draws - draws.mean(axis=0)
    sample_covariance = np.einsum("sni,snj->nij", centred, centred) / (num_samples - 1)
    scale = np.sqrt(np.einsum("nii,njj->nij", covariance_matrix, covariance_matrix))
    assert np.all(np.abs(sample_covariance - covariance_matrix) < 0.03 * scale)


@pytest.mark.parametrize("tau", [1e-12, 1e-300])
@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_tau_to_zero_returns_the_heaviest_components_mean(covariance, tau):
    params = random_params(covariance, n=5, k=4, d=3, seed=6)
    heaviest = np.argmax(params.logits, axis=-1)
    draws = params.sample(50, tau=tau, seed=7)
    expected = params.locs[np.arange(5), heaviest]
    np.testing.assert_allclose(draws, np.broadcast_to(expected, draws.shape), atol=1e-4)


def test_sample_is_seeded_and_keeps_dtype():
    params = random_params("full", dtype=np.float32)
    first, again, other = (params.sample(4, seed=s) for s in (1, 1, 2))
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_scalar_distribution_is_the_d_1_mixture_with_a_cdf(covariance):
    params = random_params(covariance, n=6, k=3, d=1, seed=9)
    y = np.linspace(-2, 2, 6)
    scalar = mixture.scalar_distribution(params)
    assert scalar.event_shape == () and scalar.batch_shape == (6,)
    np.testing.assert_allclose(scalar.log_prob(y), mixture.distribution(params).log_prob(y[:, None]),
                               rtol=1e-10)
    cdf = scalar.cdf(y).numpy()
    assert np.all((cdf > 0) & (cdf < 1))
    with pytest.raises(ValueError, match="D = 1"):
        mixture.scalar_distribution(random_params(covariance, n=2, k=2, d=2))
