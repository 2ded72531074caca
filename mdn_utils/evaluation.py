"""Measurements for the report: test NLL against the Bayes floor, calibration, and where
each form of the loss stops being finite.

* ``nll_gap``: the paired gap mean_i[-log p_model(y_i|x_i) + log p_true(y_i|x_i)] with its
  standard error; pairing on the same test points removes most of the sampling noise.
* ``pit_values``: the probability integral transform u_i = F_model(y_i | x_i). For a
  calibrated model u is uniform on [0, 1]; the central interval of mass c contains y_i
  exactly when (1 - c)/2 <= u_i <= (1 + c)/2, so ``interval_coverage`` needs no quantiles.
* ``loss_and_gradients_finite`` / ``finite_limit``: whether a loss and its gradients are
  finite on given values, and the largest magnitude of one input at which they still are.

A uniform pooled PIT is necessary, not sufficient, for calibration: ``mdn_utils.calibration``
checks it per bin of x, with coverage standard errors, HDR coverage and the CRPS.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from . import checks
from .data import log_density, require_density
from .losses import mixture_nll
from .mixture import mixture_from_tensors
from .model import head_layout, paired_data, predict_mixture, predict_params


@dataclass(frozen=True)
class Gap:
    """Model NLL, Bayes-optimal NLL and their paired gap (nats) on one test set.

    ``standard_error`` is the gap's (paired); ``bayes_nll_standard_error`` is that of the
    floor alone, std(-log p_true(y_i | x_i)) / sqrt(n), for comparing it with H(Y | X).
    """

    model_nll: float
    bayes_nll: float
    gap: float
    standard_error: float
    bayes_nll_standard_error: float = float("nan")


def nll_gap(model, dataset, x, y) -> Gap:
    """Test NLL of ``model`` and the exact floor on the same (x, y), with the gap's s.e.

    ``dataset`` is a dataset object or a built-in name (``mdn_utils.data``); it must have
    an exact density (a ``ValueError`` naming it otherwise, before the model runs).
    """
    dataset = require_density(dataset, "nll_gap (the gap to the Bayes floor)")
    model_nll = model_nll_per_example(model, x, y).astype(np.float64)
    x, y = paired_data(x, y)
    true_nll = -log_density(dataset, x[:, 0] if x.shape[1] == 1 else x,
                            y[:, 0] if y.shape[1] == 1 else y)
    difference = model_nll - true_nll
    root_n = np.sqrt(len(difference))
    return Gap(float(model_nll.mean()), float(true_nll.mean()), float(difference.mean()),
               float(difference.std(ddof=1) / root_n), float(true_nll.std(ddof=1) / root_n))


def pit_values(model, x, y) -> np.ndarray:
    """u_i = F(y_i | x_i), the model's predictive CDF at each observation, ``[n]``."""
    x, y = checks.paired_columns(x, y, dtype=np.float32)
    params = [tf.constant(p, tf.float64) for p in predict_params(model, x)]
    return mixture_from_tensors(*params).cdf(tf.constant(y, tf.float64)).numpy()


def interval_coverage(pit, levels=(0.5, 0.8, 0.95)) -> dict[float, float]:
    """Share of observations inside the model's central interval of each mass level."""
    pit = checks.finite_array("pit", pit, ndim=1)
    levels = checks.finite_array("levels", levels, ndim=1)
    if np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"levels must lie strictly between 0 and 1, got {levels}")
    return {float(c): float(np.mean((pit >= (1 - c) / 2) & (pit <= (1 + c) / 2)))
            for c in levels}


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


def model_nll_per_example(model, x, y) -> np.ndarray:
    """-log p(y_i | x_i) under an MDN for each row, ``[n]`` float32, any widths.

    x and y are checked against the model's widths before the model runs.
    """
    layout = head_layout(model)
    x, y = paired_data(x, y)
    if y.shape[1] != layout.dim:
        raise ValueError(f"y must have D = {layout.dim} columns for this model, got shape "
                         f"{y.shape}")
    return mixture_nll(y, predict_mixture(model, x)).numpy()


def evaluate_nll(model, x, y) -> float:
    """Mean log-space NLL of an MDN on (x, y), in nats: mean_i -log p(y_i | x_i), any D."""
    return float(np.mean(model_nll_per_example(model, x, y)))
