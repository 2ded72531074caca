"""Measurements for the report: test NLL against the Bayes floor, and calibration.

* ``nll_gap``: the paired gap mean_i[-log p_model(y_i|x_i) + log p_true(y_i|x_i)] with its
  standard error; pairing on the same test points removes most of the sampling noise.
* ``pit_values``: the probability integral transform u_i = F_model(y_i | x_i). For a
  calibrated model u is uniform on [0, 1]; the central interval of mass c contains y_i
  exactly when (1 - c)/2 <= u_i <= (1 + c)/2, so ``interval_coverage`` needs no quantiles.

A uniform pooled PIT is necessary, not sufficient, for calibration: ``mdn_utils.diagnostics.calibration``
checks it per bin of x, with coverage standard errors, HDR coverage and the CRPS.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from mdn_utils import checks
from mdn_utils.problems.datasets import log_density, require_density
from mdn_utils.core.losses import mixture_nll
from mdn_utils.core.mixture import mixture_from_tensors
from mdn_utils.core.model import head_layout, paired_data, predict_mixture, predict_params


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

    ``dataset`` is a dataset object or a built-in name (``mdn_utils.problems.datasets``); it must have
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
