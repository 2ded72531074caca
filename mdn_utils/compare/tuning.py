"""A method's own small hyper-parameter search: fit each candidate on part of the training
pairs, score it on the rest, refit the best on all of them.

* ``candidates(search)``: every combination of a search's values, e.g.
  ``{"learning_rate": [1e-3, 1e-2], "steps": [500, 2000]}`` gives four settings dicts.
* ``searchable(spec, search)``: whether the method accepts every searched setting (a
  method that does not, such as the kernel estimator, is fitted as it is).
* ``tuned_evaluate(spec, search, x, y, x_test, y_test, ...)``: each candidate is trained on
  the first ``1 - validation_share`` of the training pairs and scored on the rest (mean
  NLL; mean CRPS for a method without a density); the best is trained on all the training
  pairs and scored on the test pairs (``report.evaluate``). A candidate whose training
  diverges (``train.NonFiniteLoss``, a ``FloatingPointError``) scores +inf; if the chosen
  one diverges when refitted, the next best is used. The training pairs must be in random
  order (the validation pairs are the last ones).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from mdn_utils import checks
from mdn_utils.compare import report
from mdn_utils.compare.base import y_column


def candidates(search: dict) -> list[dict]:
    """Every combination of the ``search`` values (name -> list of values), as settings
    dicts, in a fixed order (names sorted, values as listed)."""
    if not isinstance(search, dict) or not search:
        raise TypeError(f"search must be a non-empty dict of setting -> values, got {search!r}")
    for name, values in search.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not values:
            raise ValueError(f"search[{name!r}] must be a non-empty list of values, "
                             f"got {values!r}")
    names = sorted(search)
    return [dict(zip(names, values)) for values in itertools.product(*(search[n] for n in names))]


def searchable(spec: report.MethodSpec, search: dict) -> bool:
    """True when ``spec``'s class accepts every setting named in ``search``."""
    accepted = report.accepted_settings(spec.cls)
    return all(name in accepted for name in search)


@dataclass(frozen=True)
class Tuned:
    """The final fit's ``report.Evaluation`` on the test pairs and how it was chosen:
    ``chosen`` (None for a method fitted as it is), the validation metric ("nll" or
    "crps"), every candidate's validation score (None where training diverged) and how
    many better-ranked candidates diverged when refitted (``diverged_refits``)."""

    evaluation: report.Evaluation
    chosen: dict | None = None
    validation_score: str | None = None
    validation: list | None = None
    diverged_refits: int = 0


def _validation_score(evaluation: report.Evaluation) -> tuple[str, float]:
    if evaluation.nll is not None:
        return "nll", float(np.mean(evaluation.nll))
    return "crps", float(np.mean(evaluation.crps))


def tuned_evaluate(spec: report.MethodSpec, search: dict, x, y, x_test, y_test, dataset=None,
                   *, validation_share: float = 0.2, seed: int = 0,
                   coverage_level: float = 0.9, use_cache: bool = True) -> Tuned:
    """The method of ``spec`` tuned over ``candidates(search)`` on (x, y) and scored on
    (x_test, y_test) (module docstring); a method that is not ``searchable`` is fitted once
    with its own settings. ``dataset``, ``seed``, ``coverage_level`` and ``use_cache`` are
    passed to every ``report.evaluate``."""
    tried = candidates(search)
    share = checks.fraction("validation_share", validation_share)
    x, y = checks.matrix("x", x), y_column("y", y)
    checks.same_length(x=x, y=y)
    fit_rows = int(round(len(y) * (1 - share)))
    if not 1 <= fit_rows < len(y):
        raise ValueError(f"validation_share = {share} leaves no training or no validation "
                         f"pairs out of {len(y)}")
    options = dict(seed=seed, coverage_level=coverage_level, use_cache=use_cache)
    if not searchable(spec, search):
        return Tuned(report.evaluate(spec, x, y, x_test, y_test, dataset, **options))
    specs = [replace(spec, settings={**spec.settings, **candidate}) for candidate in tried]
    scores, score_name = [], None
    for candidate_spec in specs:
        try:
            validation = report.evaluate(candidate_spec, x[:fit_rows], y[:fit_rows],
                                         x[fit_rows:], y[fit_rows:], dataset, **options)
        except FloatingPointError:          # training diverged (train.NonFiniteLoss)
            scores.append(float("inf"))
            continue
        score_name, value = _validation_score(validation)
        scores.append(value)
    ranked = np.argsort(np.where(np.isfinite(scores), scores, np.inf), kind="stable")
    for diverged, best in enumerate(ranked):
        try:
            evaluation = report.evaluate(specs[best], x, y, x_test, y_test, dataset, **options)
            break
        except FloatingPointError:
            if diverged == len(ranked) - 1:
                raise
    return Tuned(evaluation, tried[int(best)], score_name,
                 [v if np.isfinite(v) else None for v in scores], diverged)
