"""The D-dimensional log-space mixture NLL against TFP's log_prob, on ordinary and extreme values."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from mdn_utils.core import mixture
from mdn_utils.core import losses
from mdn_utils.core.params import HeadLayout, MixtureParams, triangle_index

tfd = tfp.distributions

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
# extreme values: |logits|, |log sigma|, |y - mu|; float64 gets wider ones
EXTREME = {np.float32: (1e3, 20.0, 1e4), np.float64: (1e4, 200.0, 1e8)}


def make_case(covariance, d, k, dtype, extreme, n=24, seed=0):
    """(y [n, D], logits, locs, scale) with scale = log_sigmas or scale_tril."""
    rng = np.random.default_rng(seed)
    if extreme:
        logit_size, log_sigma_size, residual_size = EXTREME[dtype]
        logits = rng.choice([-logit_size, 0.0, logit_size], (n, k)) + rng.normal(0, 1, (n, k))
        log_sigmas = rng.choice([-log_sigma_size, 0.0, log_sigma_size], (n, k, d))
        locs = rng.normal(0, 3, (n, k, d))
        y = locs[:, 0, :] + rng.choice([-residual_size, 0.0, residual_size], (n, d))
    else:
        logits, locs = rng.normal(0, 2, (n, k)), rng.normal(0, 3, (n, k, d))
        log_sigmas, y = rng.normal(0, 0.7, (n, k, d)), rng.normal(0, 3, (n, d))
    if covariance == "diag":
        scale = log_sigmas
    else:  # L = diag(sigma) C with C unit lower-triangular: the diagonal of L is sigma
        unit_lower = np.tril(rng.normal(0, 0.3, (n, k, d, d)), k=-1) + np.eye(d)
        scale = np.exp(log_sigmas)[..., None] * unit_lower
    return tuple(a.astype(dtype) for a in (y, logits, locs, scale))


def tfp_reference_nll(covariance, y, logits, locs, scale):
    """-log_prob of a MixtureSameFamily built here, independently of MixtureParams."""
    if covariance == "diag":
        components = tfd.MultivariateNormalDiag(loc=locs, scale_diag=np.exp(scale))
    else:
        components = tfd.MultivariateNormalTriL(loc=locs, scale_tril=scale)
    return -tfd.MixtureSameFamily(tfd.Categorical(logits=logits), components).log_prob(y).numpy()


CASES = [(cov, d, k, dtype, extreme) for cov in ("diag", "full") for d in (1, 2, 5)
         for k in (1, 4) for dtype in (np.float32, np.float64) for extreme in (False, True)]


@pytest.mark.parametrize("covariance, d, k, dtype, extreme", CASES,
                         ids=[f"{c}-D{d}-K{k}-{t.__name__}-{'extreme' if e else 'ordinary'}"
                              for c, d, k, t, e in CASES])
def test_mixture_nll_equals_tfp_log_prob(covariance, d, k, dtype, extreme):
    y, logits, locs, scale = make_case(covariance, d, k, dtype, extreme)
    params = MixtureParams.from_head(logits, locs, scale, covariance)
    ours = losses.mixture_nll(y, params).numpy()
    assert ours.shape == (len(y),) and ours.dtype == dtype and np.all(np.isfinite(ours))
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(ours, tfp_reference_nll(covariance, y, logits, locs, scale),
                               rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(ours, -mixture.distribution(params).log_prob(y).numpy(),
                               rtol=tolerance, atol=tolerance)


def test_diag_and_full_agree_when_the_scale_is_diagonal():
    y, logits, locs, log_sigmas = make_case("diag", 3, 4, np.float64, extreme=False)
    scale_tril = np.exp(log_sigmas)[..., None] * np.eye(3)
    np.testing.assert_allclose(losses.mixture_nll(y, MixtureParams.diag(logits, locs, log_sigmas)),
                               losses.mixture_nll(y, MixtureParams.full(logits, locs, scale_tril)),
                               rtol=1e-12)


@pytest.mark.parametrize("extreme", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_d_1_diag_equals_the_1d_log_space_nll(dtype, extreme):
    y, logits, locs, log_sigmas = make_case("diag", 1, 4, dtype, extreme)
    ours = losses.mixture_nll(y[:, 0], MixtureParams.from_1d(logits, locs[..., 0],
                                                             log_sigmas[..., 0]))
    np.testing.assert_array_equal(ours, losses.log_space_nll(y[:, 0], logits, locs[..., 0],
                                                             log_sigmas[..., 0]))


@pytest.mark.parametrize("covariance", ["diag", "full"])
@pytest.mark.parametrize("d", [1, 2, 5])
def test_gradients_are_finite_on_extremes(covariance, d):
    y, *parameters = make_case(covariance, d, 4, np.float32, extreme=True)
    variables = [tf.Variable(p) for p in parameters]
    loss = {"diag": losses.diag_mixture_nll_unchecked,
            "full": losses.full_mixture_nll_unchecked}[covariance]
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(loss(tf.constant(y), *variables))
    gradients = tape.gradient(value, variables)
    assert np.isfinite(value.numpy())
    for variable, gradient in zip(("logits", "locs", "scale"), gradients):
        assert np.all(np.isfinite(gradient.numpy())), variable


def test_unchecked_losses_run_in_a_compiled_function():
    y, logits, locs, scale_tril = make_case("full", 2, 4, np.float32, extreme=False)
    compiled = tf.function(losses.full_mixture_nll_unchecked, jit_compile=True)
    np.testing.assert_allclose(compiled(y, logits, locs, scale_tril),
                               losses.full_mixture_nll_unchecked(y, logits, locs, scale_tril),
                               rtol=1e-5)


PARAMS_D2 = MixtureParams.diag(np.zeros((4, 3)), np.zeros((4, 3, 2)), np.zeros((4, 3, 2)))
PARAMS_D1 = MixtureParams.from_1d(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 3)))
BAD_TARGETS = {
    "y rows differ": (lambda: losses.mixture_nll(np.zeros((5, 2)), PARAMS_D2), ValueError,
                      "y has 5"),
    "y width differs": (lambda: losses.mixture_nll(np.zeros((4, 3)), PARAMS_D2), ValueError,
                        "y must have D = 2"),
    "y 1-D when D = 2": (lambda: losses.mixture_nll(np.zeros(4), PARAMS_D2), ValueError,
                         "y must have shape [n, D]"),
    "y rank 3": (lambda: losses.mixture_nll(np.zeros((4, 2, 1)), PARAMS_D2), ValueError,
                 "y must have rank"),
    "y NaN": (lambda: losses.mixture_nll(np.array([0.0, np.nan, 0.0, 0.0]), PARAMS_D1),
              ValueError, "y must be finite"),
    "y not numeric": (lambda: losses.mixture_nll("abcd", PARAMS_D1), TypeError, "y"),
    "params a tuple": (lambda: losses.mixture_nll(np.zeros(4), (np.zeros((4, 3)),) * 3),
                       TypeError, "params must be a MixtureParams"),
}


@pytest.mark.parametrize("name", list(BAD_TARGETS))
def test_bad_targets_are_rejected_naming_the_argument(name):
    call, error, words = BAD_TARGETS[name]
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


def flat_head(covariance, logits, locs, scale):
    """The head's flat output for these parameters (``params.HeadLayout``)."""
    n, k, d = locs.shape
    if covariance == "full":   # raw numbers: L's entries with log L_dd on the diagonal
        index = triangle_index(d)
        raw = np.zeros((n, k, d * (d + 1) // 2), scale.dtype)
        for (row, column), position in index.items():
            entry = scale[..., row, column]
            raw[..., position] = np.log(entry) if row == column else entry
        scale = raw
    return np.concatenate([logits, locs.reshape(n, -1), scale.reshape(n, -1)], axis=1)


@pytest.mark.parametrize("covariance, d, k, dtype, extreme", CASES,
                         ids=[f"{c}-D{d}-K{k}-{t.__name__}-{'extreme' if e else 'ordinary'}"
                              for c, d, k, t, e in CASES])
def test_head_nll_on_the_flat_output_equals_tfp(covariance, d, k, dtype, extreme):
    y, logits, locs, scale = make_case(covariance, d, k, dtype, extreme)
    layout = HeadLayout(k, d, covariance)
    flat = flat_head(covariance, logits, locs, scale)
    assert flat.shape == (len(y), layout.size)
    reference = tfp_reference_nll(covariance, y, logits, locs, scale)
    tolerance = TOLERANCE[dtype]
    for loss in ("log_space", "tfp"):
        ours = losses.head_nll(layout, loss)(tf.constant(y), tf.constant(flat)).numpy()
        np.testing.assert_allclose(ours, reference, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(mixture.distribution(layout.params(flat)).log_prob(y).numpy(),
                               -reference, rtol=tolerance, atol=tolerance)
