"""mdn_utils.diagnostics.gradients: responsibilities and Bishop's closed-form derivatives of the
mixture NLL, checked against tf.GradientTape of the book's log-space loss (float64)."""
import numpy as np
import pytest
import tensorflow as tf

from mdn_utils.core.params import MixtureParams
from mdn_utils.diagnostics import gradients
from mdn_utils.core import losses


def tape_gradients(logits, means, log_sigmas, y):
    """d(sum_n E_n)/d(z, mu, s) by automatic differentiation of losses.log_space_nll."""
    z, mu, s = (tf.constant(a, tf.float64) for a in (logits, means, log_sigmas))
    with tf.GradientTape() as tape:
        tape.watch([z, mu, s])
        loss = tf.reduce_sum(losses.log_space_nll_unchecked(
            tf.constant(np.asarray(y, np.float64)[:, None]), z, mu, s))
    return [g.numpy() for g in tape.gradient(loss, [z, mu, s])]


def random_params(seed, n=40, k=5, logit_scale=1.0, mean_scale=1.0, sigma_scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, k)) * logit_scale, rng.normal(size=(n, k)) * mean_scale,
            rng.normal(size=(n, k)) * sigma_scale, rng.normal(size=n) * mean_scale)


@pytest.mark.parametrize("scales", [
    dict(),                                                     # ordinary values
    dict(logit_scale=30.0, mean_scale=20.0, sigma_scale=4.0),   # extreme: weights ~1e-26,
])                                                              # widths e^-12..e^12, far y
def test_each_derivative_matches_gradient_tape(scales):
    logits, means, log_sigmas, y = random_params(0, **scales)
    grad_z, grad_mu, grad_s = tape_gradients(logits, means, log_sigmas, y)
    closed = gradients.nll_gradients(MixtureParams.from_1d(logits, means, log_sigmas), y)
    for name, tape, ours in (("logits", grad_z, closed.logits), ("means", grad_mu, closed.means),
                             ("log_sigmas", grad_s, closed.log_sigmas)):
        assert np.all(np.isfinite(ours)), name
        np.testing.assert_allclose(ours, tape, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(tape).max()),
                                   err_msg=name)
    # dE/dsigma = dE/ds / sigma
    np.testing.assert_allclose(closed.sigmas, closed.log_sigmas * np.exp(-log_sigmas),
                               rtol=1e-9, atol=1e-300)


def test_responsibilities_are_a_posterior():
    logits, means, log_sigmas, y = random_params(1)
    gamma = gradients.responsibilities(MixtureParams.from_1d(logits, means, log_sigmas), y)
    np.testing.assert_allclose(gamma.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(gamma >= 0)
    # by hand, for row 0
    pi = np.exp(logits[0]) / np.exp(logits[0]).sum()
    sigma = np.exp(log_sigmas[0])
    joint = pi * np.exp(-0.5 * ((y[0] - means[0]) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(gamma[0], joint / joint.sum(), rtol=1e-12)


def test_underflowed_component_gets_zero_gradient_not_nan():
    # component 1 is 1e4 standard deviations away: its density underflows in float64
    logits = np.zeros((1, 2))
    means = np.array([[0.0, 1e4]])
    log_sigmas = np.zeros((1, 2))
    closed = gradients.nll_gradients(MixtureParams.from_1d(logits, means, log_sigmas), [0.5])
    assert closed.responsibilities[0, 1] == 0.0
    assert closed.means[0, 1] == 0.0 and closed.log_sigmas[0, 1] == 0.0
    assert np.all(np.isfinite(closed.logits))


def test_log_sigma_gradient_bounded_sigma_gradient_not():
    # one component centred on y: dE/ds = 1 - u^2 = 1 for every sigma, dE/dsigma = 1/sigma
    for log_sigma in (-20.0, 0.0, 20.0):
        closed = gradients.nll_gradients(MixtureParams.from_1d([[0.0]], [[0.0]], [[log_sigma]]), [0.0])
        assert closed.log_sigmas[0, 0] == pytest.approx(1.0)
        assert closed.sigmas[0, 0] == pytest.approx(np.exp(-log_sigma))


@pytest.mark.parametrize("call, error, match", [
    (lambda: gradients.nll_gradients(MixtureParams.from_1d([[0.0]], [[0.0]], [[0.0]]), [0.0, 1.0]), ValueError,
     "batch sizes"),
    (lambda: gradients.nll_gradients(MixtureParams.from_1d([[0.0, 1.0]], [[0.0]], [[0.0]]), [0.0]), ValueError,
     "same shape"),
    (lambda: gradients.nll_gradients(MixtureParams.from_1d([[np.nan]], [[0.0]], [[0.0]]), [0.0]), ValueError,
     "mixture_logits must be finite"),
    (lambda: gradients.responsibilities(MixtureParams.from_1d([[0.0]], [[0.0]], [[0.0]]), "y"), TypeError, "y"),
    (lambda: gradients.responsibilities(MixtureParams.from_1d([0.0], [0.0], [0.0]), [0.0]), ValueError, "rank 2"),
    (lambda: gradients.responsibilities(MixtureParams.from_1d([[0.0]], [[0.0]], [[-400.0]]), [1.0]), ValueError,
     "underflows"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
