"""Held-out data without an exact floor: k-fold splits and a validation split.

* ``kfold(num_examples, num_folds, seed)``: a seeded permutation cut into ``num_folds``
  nearly equal folds; each fold is the test set once, the rest the training set
  (``report.cross_validated`` fits and scores every method on them).
* ``fold_means(scores, num_folds, seeds)`` and ``repeated_kfold_mean(folds)``: k-fold
  cross-validation repeated with several seeds, summarised per fold, and the corrected
  repeated k-fold t-test on those fold values (one method's scores, or the differences
  of two methods' on the same splits).
* ``select_by_validation(make_model, candidates, x, y, ...)``: hold out a seeded share of
  the training data, fit one model per candidate setting on the rest, and pick the
  candidate with the lowest validation NLL (for example the MDN's K:
  ``select_by_validation(lambda k: MixtureDensityNetwork(k, steps=...), (4, 8, 16), x, y)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import stats

from mdn_utils import checks
from mdn_utils.compare.base import ConditionalModel, y_column


def kfold(num_examples: int, num_folds: int = 5, seed: int = 0
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``num_folds`` pairs (train_rows, test_rows) of sorted row indices; every row is in
    exactly one test fold. Fold sizes differ by at most one."""
    num_examples = checks.positive_int("num_examples", num_examples, minimum=2)
    num_folds = checks.positive_int("num_folds", num_folds, minimum=2)
    if num_folds > num_examples:
        raise ValueError(f"num_folds = {num_folds} exceeds num_examples = {num_examples}")
    seed = checks.positive_int("seed", seed, minimum=0)
    order = np.random.default_rng(seed).permutation(num_examples)
    folds = np.array_split(order, num_folds)
    return [(np.sort(np.concatenate(folds[:i] + folds[i + 1:])), np.sort(test))
            for i, test in enumerate(folds)]


@dataclass(frozen=True)
class CorrectedTest:
    """A mean over the folds of repeated k-fold cross-validation with its corrected standard
    error; ``t`` = value / standard_error on ``degrees_of_freedom``, and the two-sided
    ``p_value`` of value = 0."""

    value: float
    standard_error: float
    t: float
    degrees_of_freedom: int
    p_value: float


def fold_means(scores, num_folds: int, seeds) -> np.ndarray:
    """``[R, k]`` means of per-example held-out ``scores`` ``[R, n]`` over the test rows of
    each fold, row r split by ``kfold(n, num_folds, seeds[r])``."""
    scores = np.asarray(scores, np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be [repeats, examples], got shape {scores.shape}")
    seeds = [checks.positive_int("seeds", s, minimum=0) for s in seeds]
    if len(seeds) != len(scores):
        raise ValueError(f"seeds has {len(seeds)} entries, scores {len(scores)} repeats")
    return np.array([[row[test].mean() for _, test in kfold(scores.shape[1], num_folds, seed)]
                     for row, seed in zip(scores, seeds)])


def repeated_kfold_mean(folds) -> CorrectedTest:
    """The corrected repeated k-fold t statistic of fold values d_rj ``[R, k]`` (for two
    methods, the fold means of their per-example differences):

        d = mean_rj d_rj,   s^2 = var(d_rj, ddof=1),
        se = sqrt((1 / (k R) + n_test / n_train) s^2),   n_test / n_train = 1 / (k - 1),
        t = d / se on k R - 1 degrees of freedom.

    The term n_test / n_train is Nadeau and Bengio's correction for the overlap of the
    training sets (Machine Learning 52, 239-281, 2003); without it the folds are treated
    as independent and the variance is underestimated. Bouckaert and Frank (PAKDD 2004,
    https://doi.org/10.1007/978-3-540-24775-3_3) apply it to k-fold repeated R times.
    """
    folds = checks.finite_array("folds", folds, ndim=2)
    repeats, k = folds.shape
    if k < 2 or repeats * k < 3:
        raise ValueError(f"folds must be [repeats, k] with k >= 2 and at least 3 values, "
                         f"got shape {folds.shape}")
    value = float(folds.mean())
    error = float(np.sqrt((1 / (k * repeats) + 1 / (k - 1)) * folds.var(ddof=1)))
    dof = repeats * k - 1
    if error == 0:
        t = 0.0 if value == 0 else float(np.copysign(np.inf, value))
    else:
        t = value / error
    return CorrectedTest(value, error, t, dof, float(2 * stats.t.sf(abs(t), dof)))


def _make(make_model, *args) -> ConditionalModel:
    model = make_model(*args)
    if not isinstance(model, ConditionalModel):
        raise TypeError(f"make_model must return a ConditionalModel, got "
                        f"{type(model).__name__}")
    return model


@dataclass(frozen=True)
class Selection:
    """The chosen candidate, every candidate's validation NLL, the chosen model (fitted
    on the training part only) and every candidate's training time (seconds)."""

    best: object
    validation_nll: dict
    model: ConditionalModel
    training_seconds: dict = field(default_factory=dict)


def select_by_validation(make_model: Callable[[object], ConditionalModel], candidates, x, y,
                         validation_fraction: float = 0.2, seed: int = 0) -> Selection:
    """Fit ``make_model(candidate)`` for each candidate on a seeded (1 - validation_fraction)
    share of (x, y) and keep the one with the lowest mean NLL on the rest. Candidates are
    hashable settings (numbers, strings, tuples); each model is fitted with ``seed``."""
    if not callable(make_model):
        raise TypeError(f"make_model must be callable, got {type(make_model).__name__}")
    candidates = list(candidates) if not isinstance(candidates, (str, bytes)) else None
    if not candidates:
        raise ValueError("candidates must be a non-empty sequence of settings")
    try:
        len(set(candidates))
    except TypeError:
        raise TypeError("candidates must be hashable settings (numbers, strings, tuples)") \
            from None
    fraction = checks.fraction("validation_fraction", validation_fraction)
    x, y = checks.matrix("x", x), y_column("y", y)
    checks.same_length(x=x, y=y)
    num_validation = int(round(fraction * len(y)))
    if not 1 <= num_validation < len(y) - 1:
        raise ValueError(f"validation_fraction = {fraction} leaves no validation or no "
                         f"training data out of {len(y)} examples")
    order = np.random.default_rng(checks.positive_int("seed", seed, minimum=0)).permutation(len(y))
    held_out, train = np.sort(order[:num_validation]), np.sort(order[num_validation:])
    scores, models, seconds = {}, {}, {}
    for candidate in candidates:
        model = _make(make_model, candidate).fit(x[train], y[train], seed)
        scores[candidate] = float(np.mean(-model.log_prob(x[held_out], y[held_out])))
        models[candidate] = model
        seconds[candidate] = float(model.training_seconds)
    best = min(scores, key=scores.get)
    return Selection(best, scores, models[best], seconds)
