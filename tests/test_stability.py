import numpy as np
import pytest
import tensorflow as tf

from mdn_utils.core import losses, stability

CASE = dict(y=0.0, logits=[0.0, 0.0, 0.0], means=[0.0, 1.0, -1.0], log_sigmas=[0.0] * 3)


def test_relative_error_is_the_normwise_relative_difference():
    assert stability.relative_error(1.1, 1.0) == pytest.approx(0.1)
    assert stability.relative_error([3.0, 4.0], [0.0, 0.0]) == np.inf
    assert stability.relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert stability.relative_error([1.0, 1.0], [1.0, 2.0]) == pytest.approx(1 / np.sqrt(5))


def test_relative_error_of_non_finite_values_and_references():
    assert stability.relative_error(np.nan, 1.0) == np.inf
    assert stability.relative_error([1.0, np.inf], [1.0, 1.0]) == np.inf
    assert np.isnan(stability.relative_error(1.0, np.inf))
    assert np.isnan(stability.relative_error(np.nan, np.nan))


def test_gradients_match_tfp_and_come_in_z_mu_s_order():
    value, gradient = stability.value_and_gradients(losses.log_space_nll_unchecked,
                                                    dtype=tf.float64, **CASE)
    assert gradient.shape == (9,)
    # Equal logits and widths, y = 0 at the first mean: d/dz sums to 0, d/dmu_1 = 0.
    assert abs(gradient[:3].sum()) < 1e-12 and gradient[3] == 0.0
    reference_value, reference_gradient = stability.value_and_gradients(
        losses.tfp_nll_unchecked, dtype=tf.float64, **CASE)
    np.testing.assert_allclose(value, reference_value, rtol=1e-12)
    np.testing.assert_allclose(gradient, reference_gradient, rtol=1e-10, atol=1e-14)


def test_library_form_in_float32_is_accurate_to_float32_precision():
    for log_sigma in (-40.0, -20.0, 0.0, 20.0, 1000.0):
        score = stability.score(losses.log_space_nll_unchecked,
                                **{**CASE, "y": 0.5, "log_sigmas": [log_sigma] * 3})
        if np.isfinite(score.reference_loss):
            assert score.loss_error < 1e-6 and score.gradient_error < 1e-6, log_sigma


def test_score_catches_a_finite_but_wrong_gradient():
    # sigma^2 = e^100 overflows float32: the naive loss is right, its d/ds is 0, not 1/3.
    score = stability.score(losses.naive_nll_unchecked, **{**CASE, "log_sigmas": [50.0] * 3})
    assert np.isfinite(score.loss) and score.loss_error < 1e-6
    assert 0.5 < score.gradient_error < np.inf


def test_score_has_no_reference_when_float64_overflows():
    score = stability.score(losses.log_space_nll_unchecked,
                            **{**CASE, "y": 0.5, "log_sigmas": [-400.0] * 3})
    assert not np.isfinite(score.reference_loss)
    assert np.isnan(score.loss_error) and np.isnan(score.gradient_error)


@pytest.mark.parametrize("call, error, name", [
    (lambda: stability.score("loss", **CASE), TypeError, "loss_fn"),
    (lambda: stability.score(losses.log_space_nll_unchecked, reference_fn=None, **CASE),
     TypeError, "reference_fn"),
    (lambda: stability.score(losses.log_space_nll_unchecked, dtype=tf.int32, **CASE),
     TypeError, "dtype"),
    (lambda: stability.score(losses.log_space_nll_unchecked, reference_dtype="text", **CASE),
     TypeError, "reference_dtype"),
    (lambda: stability.score(losses.log_space_nll_unchecked, **{**CASE, "y": np.nan}),
     ValueError, "y"),
    (lambda: stability.score(losses.log_space_nll_unchecked, **{**CASE, "means": [0.0, 1.0]}),
     ValueError, "means"),
    (lambda: stability.value_and_gradients(losses.log_space_nll_unchecked,
                                           **{**CASE, "logits": [[0.0]]}), ValueError, "logits"),
    (lambda: stability.relative_error([1.0, 2.0], 1.0), ValueError, "reference"),
])
def test_bad_input_is_rejected_with_the_argument_named(call, error, name):
    with pytest.raises(error, match=name):
        call()


@pytest.mark.slow
def test_finite_limits_order_the_two_forms():
    for parameter in stability.PARAMETERS:
        naive = stability.finite_limit(losses.naive_nll_unchecked, tf.float32, parameter, iterations=20)
        log_space = stability.finite_limit(losses.log_space_nll_unchecked, tf.float32, parameter,
                                           iterations=20)
        assert log_space >= naive
    # Known float32 facts: exp overflows just above 88.7.
    limit = stability.finite_limit(losses.naive_nll_unchecked, tf.float32, "logits", iterations=40)
    assert 85 < limit < 89
