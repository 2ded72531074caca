"""Scoring a form of the loss by its relative error, not by finiteness alone.

A finite number can still be wrong (a density that underflows to a subnormal float keeps
only a few significant bits). So each form of the mixture NLL is evaluated in a low
precision (float32) and compared with a reference evaluated in a higher one (by default
TFP's ``-MixtureSameFamily.log_prob`` in float64):

    relative error = ||v - v_ref|| / ||v_ref||          (Euclidean norm; abs for the loss)

for the loss and for its gradient with respect to (z, mu, s) stacked into one vector.
A non-finite value scores ``inf``; a non-finite reference gives ``nan`` (no score: the
reference itself has failed, and the table must say so).

``loss_and_gradients_finite`` / ``finite_limit``: whether a loss and its gradients are
finite on given values, and the largest magnitude of one input at which they still are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from mdn_utils import checks
from mdn_utils.core.losses import tfp_nll_unchecked


@dataclass(frozen=True)
class Score:
    """One form on one case: its loss, the reference loss, and both relative errors."""

    loss: float
    reference_loss: float
    loss_error: float
    gradient_error: float


def _check_case(y, logits, means, log_sigmas):
    y = checks.finite_array("y", y, ndim=0)
    arrays = {name: checks.finite_array(name, value, ndim=1)
              for name, value in (("logits", logits), ("means", means),
                                  ("log_sigmas", log_sigmas))}
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"logits, means and log_sigmas must all have K entries, got {lengths}")
    return float(y), arrays["logits"], arrays["means"], arrays["log_sigmas"]


def _check_dtype(name, dtype):
    try:
        dtype = tf.as_dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be a floating dtype, got {dtype!r}") from None
    if not dtype.is_floating:
        raise TypeError(f"{name} must be a floating dtype, got {dtype.name}")
    return dtype


def _check_loss(name, loss_fn):
    if not callable(loss_fn):
        raise TypeError(f"{name} must be callable (y, logits, means, log_sigmas) -> [batch], "
                        f"got {type(loss_fn).__name__}")
    return loss_fn


def _value_and_gradients(loss_fn, dtype, y, logits, means, log_sigmas):
    variables = [tf.Variable(v[None, :], dtype=dtype) for v in (logits, means, log_sigmas)]
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(loss_fn(tf.constant([[y]], dtype), *variables))
    gradients = tape.gradient(value, variables)
    return (float(value.numpy()),
            np.concatenate([g.numpy().astype(np.float64).ravel() for g in gradients]))


def value_and_gradients(loss_fn, y, logits, means, log_sigmas, dtype=tf.float32):
    """Loss of one observation y under a K-component mixture (z, mu, s each of length K),
    evaluated in ``dtype``, and its gradient d loss / d(z, mu, s) as one float64 ``[3K]``."""
    loss_fn = _check_loss("loss_fn", loss_fn)
    dtype = _check_dtype("dtype", dtype)
    return _value_and_gradients(loss_fn, dtype, *_check_case(y, logits, means, log_sigmas))


def relative_error(value, reference) -> float:
    """||value - reference|| / ||reference||; ``inf`` if ``value`` is not finite, ``nan``
    if ``reference`` is not finite; 0 when both are exactly zero."""
    value = np.asarray(value, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if value.shape != reference.shape:
        raise ValueError(f"value and reference must have the same shape, "
                         f"got {value.shape} and {reference.shape}")
    if not np.all(np.isfinite(reference)):
        return float("nan")
    if not np.all(np.isfinite(value)):
        return float("inf")
    error, size = np.linalg.norm(value - reference), np.linalg.norm(reference)
    if size == 0.0:
        return 0.0 if error == 0.0 else float("inf")
    return float(error / size)


def score(loss_fn, y, logits, means, log_sigmas, dtype=tf.float32,
          reference_fn=tfp_nll_unchecked, reference_dtype=tf.float64) -> Score:
    """Relative error of ``loss_fn`` in ``dtype`` (loss and gradient) against
    ``reference_fn`` in ``reference_dtype`` on one observation (see the module docstring)."""
    loss_fn = _check_loss("loss_fn", loss_fn)
    reference_fn = _check_loss("reference_fn", reference_fn)
    dtype = _check_dtype("dtype", dtype)
    reference_dtype = _check_dtype("reference_dtype", reference_dtype)
    case = _check_case(y, logits, means, log_sigmas)
    loss, gradients = _value_and_gradients(loss_fn, dtype, *case)
    reference_loss, reference_gradients = _value_and_gradients(reference_fn, reference_dtype,
                                                               *case)
    return Score(loss, reference_loss, relative_error(loss, reference_loss),
                 relative_error(gradients, reference_gradients))


def loss_and_gradients_finite(loss_fn, dtype, y, logits, means, log_sigmas):
    """Evaluate ``loss_fn`` on one observation and a K-component mixture (lists of K).

    Returns (loss, True if the loss and its gradients with respect to logits, means and
    log-sigmas are all finite).
    """
    variables = [tf.Variable([list(v)], dtype=dtype) for v in (logits, means, log_sigmas)]
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(loss_fn(tf.constant([[y]], dtype), *variables))
    gradients = tape.gradient(value, variables)
    finite = bool(tf.math.is_finite(value)) and all(
        bool(tf.reduce_all(tf.math.is_finite(g))) for g in gradients)
    return float(value), finite


def _is_finite(loss_fn, dtype, parameter: str, magnitude: float) -> bool:
    y, logits, means, log_sigmas = 0.0, [0.0, 0.0, 0.0], [0.0, 1.0, -1.0], [0.0] * 3
    if parameter == "logits":
        logits = [magnitude, -magnitude, 0.0]
    elif parameter == "log_sigma":
        log_sigmas, y = [-magnitude] * 3, 0.5
    elif parameter == "log_sigma_wide":
        log_sigmas = [magnitude] * 3
    else:
        y = magnitude
    return loss_and_gradients_finite(loss_fn, dtype, y, logits, means, log_sigmas)[1]


PARAMETERS = ("logits", "log_sigma", "log_sigma_wide", "residual")


def finite_limit(loss_fn, dtype, parameter: str, high: float = 1e308,
                 iterations: int = 60) -> float:
    """Largest magnitude m in [1, high] at which the loss of a 3-component mixture and its
    gradients are finite, found by bisection on log10(m); 0.0 if m = 1 already fails.

    ``parameter`` is what grows: "logits" (z = (m, -m, 0)), "log_sigma" (s = -m on every
    component: sharp components, y = 0.5 off the nearest mean), "log_sigma_wide" (s = +m)
    or "residual" (y = m, means near 0). Assumes that once it fails it keeps failing.
    """
    checks.one_of("parameter", parameter, PARAMETERS)
    high = checks.positive_float("high", high)
    iterations = checks.positive_int("iterations", iterations)
    if not _is_finite(loss_fn, dtype, parameter, 1.0):
        return 0.0
    if _is_finite(loss_fn, dtype, parameter, high):
        return high
    low_exponent, high_exponent = 0.0, float(np.log10(high))
    for _ in range(iterations):
        middle = 0.5 * (low_exponent + high_exponent)
        if _is_finite(loss_fn, dtype, parameter, 10.0 ** middle):
            low_exponent = middle
        else:
            high_exponent = middle
    return float(10.0 ** low_exponent)
