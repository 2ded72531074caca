import numpy as np
import pytest
import tensorflow as tf

from mdn_utils.core import losses, stability


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_log_space_nll_equals_tfp(random_params, dtype, tolerance):
    y, logits, means, log_sigmas = (a.astype(dtype) for a in random_params)
    ours = losses.log_space_nll(y, logits, means, log_sigmas).numpy()
    reference = losses.tfp_nll(y, logits, means, log_sigmas).numpy()
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, reference, rtol=tolerance, atol=tolerance)


def test_naive_nll_equals_tfp_on_moderate_values(random_params):
    y, logits, means, log_sigmas = random_params
    np.testing.assert_allclose(losses.naive_nll(y, logits, means, log_sigmas),
                               losses.tfp_nll(y, logits, means, log_sigmas), rtol=1e-10)


def test_y_as_column_gives_the_same_result(random_params):
    y, logits, means, log_sigmas = random_params
    np.testing.assert_array_equal(losses.log_space_nll(y[:, None], logits, means, log_sigmas),
                                  losses.log_space_nll(y, logits, means, log_sigmas))


EXTREMES = {
    "huge logits": dict(logits=[[1e4, -1e4, 0.0]]),
    "tiny log-sigma": dict(log_sigmas=[[-20.0, -20.0, -20.0]], y=[0.5]),
    "huge log-sigma": dict(log_sigmas=[[20.0, 20.0, 20.0]]),
    "far residual": dict(y=[1e4]),
    "far residual, tiny sigma": dict(y=[1e4], log_sigmas=[[-20.0, -20.0, -20.0]]),
    "all extremes": dict(y=[-1e4], logits=[[-1e4, 1e4, 1e4]], log_sigmas=[[-20.0, 20.0, -20.0]]),
}


def _extreme_case(name):
    case = dict(y=[0.0], logits=[[0.0, 0.0, 0.0]], means=[[0.0, 1.0, -1.0]],
                log_sigmas=[[0.0, 0.0, 0.0]])
    case.update(EXTREMES[name])
    return [tf.Variable(np.asarray(case[k], np.float32))
            for k in ("y", "logits", "means", "log_sigmas")]


def _value_and_gradients(loss, variables):
    with tf.GradientTape() as tape:
        y, logits, means, log_sigmas = variables
        value = tf.reduce_sum(loss(y[:, None], logits, means, log_sigmas))
    return value.numpy(), [g.numpy() for g in tape.gradient(value, variables[1:])]


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_log_space_nll_stays_finite_on_extremes(name):
    value, grads = _value_and_gradients(losses.log_space_nll_unchecked, _extreme_case(name))
    assert np.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_naive_nll_breaks_on_extremes(name):
    value, grads = _value_and_gradients(losses.naive_nll_unchecked, _extreme_case(name))
    finite = np.isfinite(value) and all(np.all(np.isfinite(g)) for g in grads)
    # sigma = exp(20) ~ 5e8 is still representable, so there the naive form survives.
    assert finite == (name == "huge log-sigma")


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_exp2s_form_equals_tfp(random_params, dtype, tolerance):
    y, logits, means, log_sigmas = losses.check_loss_inputs(
        *(a.astype(dtype) for a in random_params))
    ours = losses.log_space_nll_exp2s_unchecked(y, logits, means, log_sigmas).numpy()
    reference = losses.tfp_nll_unchecked(y, logits, means, log_sigmas).numpy()
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, reference, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_standardised_form_reaches_about_twice_as_far_in_log_sigma(dtype):
    exp2s = stability.finite_limit(losses.log_space_nll_exp2s_unchecked, dtype, "log_sigma",
                                   iterations=30)
    library = stability.finite_limit(losses.log_space_nll_unchecked, dtype, "log_sigma",
                                     iterations=30)
    log_max = np.log(np.finfo(dtype.as_numpy_dtype).max)
    assert exp2s < library
    assert 1.8 < library / exp2s < 2.2
    # exp2s: the quotient's gradient builds a * exp(-4 s); library: u^2 = r^2 exp(-2 s).
    assert abs(exp2s - log_max / 4) < 0.03 * log_max / 4
    assert abs(library - log_max / 2) < 0.03 * log_max / 2


def test_exp2s_form_breaks_for_wide_components_and_the_library_form_does_not():
    exp2s = stability.finite_limit(losses.log_space_nll_exp2s_unchecked, tf.float32,
                                   "log_sigma_wide", iterations=30)
    library = stability.finite_limit(losses.log_space_nll_unchecked, tf.float32,
                                     "log_sigma_wide", iterations=30)
    assert abs(exp2s - np.log(np.finfo(np.float32).max) / 2) < 1.0   # exp(2s) overflows
    assert library > 1e38
