"""Chapter 11's comparison of every registered method, over independent training runs, each
network method with a small hyper-parameter search of its own.

For each dataset with an exact floor, each training size n and each seed s: n training
pairs drawn with seed s, and the same ``test_pairs`` test pairs (seed ``TEST_SEED``) for
every method, size and seed. Every method of ``compare.METHODS`` (the kernel estimator as
``kde_grid.ValidatedKernelDensity``) is fitted on those n pairs alone, with seed s:

* a network method (one that accepts every setting of ``search``) tries each combination
  of the ``search`` values on top of ``budget``, trained on the first
  ``1 - validation_share`` of the n pairs and scored on the rest (mean NLL; mean CRPS for
  a method without a density), and the best is trained again on all n pairs. A candidate
  whose training diverges (``train.NonFiniteLoss``) scores +inf (stored as None); if the
  chosen one diverges when trained on all n pairs, the next best is used
  (``diverged_refits`` counts how many were passed over);
* the kernel estimator chooses its bandwidths on a validation split of its own inside its
  fit; it is fitted once.

No method sees a pair outside its n training pairs before it is scored. Per run: what
the method cannot produce (the reasons its ``MetricUnavailable`` gave) and how its CRPS
was computed; the chosen settings and every candidate's validation score; on the test
pairs, the mean NLL, the gap to the exact floor and the CRPS with their test-set standard
errors, and the coverage of the central interval of mass ``coverage_level``; the training
seconds and sampling speed of the final fit; what a method chose inside its fit (the
kernel estimator's bandwidth factors); for a method with a CDF, the PIT tests in
``pit_x_bins`` equal-count bins of x (``scoring.pit_by_bin``: per bin its x range, count,
chi-square and Kolmogorov-Smirnov p-values and PIT histogram); and for quantile
regression its crossings (pairs of neighbouring levels crossed, test x with a crossing,
test x checked). The runs (dataset, n, seed) are independent and spread over the CPUs,
one worker process each (``results.map_pinned``).
"""
from __future__ import annotations

import itertools
import os

import numpy as np

from mdn_utils.book import results
from mdn_utils.compare import report
from mdn_utils.compare.kde_grid import ValidatedKernelDensity
from mdn_utils.diagnostics import scoring
from mdn_utils.problems import datasets as data

TEST_SEED = 10_000       # not among the training seeds: test pairs never repeat training pairs

SETTINGS = {
    "datasets": ["sinusoid_inverse", "bishop"], "sizes": [500, 2_000],
    "seeds": [0, 1, 2, 3, 4], "test_pairs": 5_000, "coverage_level": 0.9,
    "validation_share": 0.2, "pit_x_bins": 5,
    "budget": {"batch_size": 128, "jit_compile": False, "cache": False, "eval_every": 1_000},
    "search": {"learning_rate": [1e-3, 3e-3, 1e-2, 3e-2], "hidden_layers": [2],
               "steps": [1_000, 3_000, 9_000]},
}
SMOKE = {
    "datasets": ["bishop"], "sizes": [200], "seeds": [0], "test_pairs": 300, "pit_x_bins": 2,
    "budget": {"batch_size": 64, "hidden_units": 8, "jit_compile": False, "cache": False,
               "eval_every": 30},
    "search": {"learning_rate": [1e-3, 1e-2], "steps": [30]},
}


def candidates(search: dict) -> list[dict]:
    """Every combination of the ``search`` values, as settings dicts (in a fixed order)."""
    names = sorted(search)
    return [dict(zip(names, values)) for values in itertools.product(*(search[n] for n in names))]


def _specs(budget: dict, extra: dict) -> dict[str, report.MethodSpec]:
    specs = report.method_specs({**budget, **extra}, classes={"kernel_cde": ValidatedKernelDensity})
    return {spec.key: spec for spec in specs}


def _validation_score(evaluation: report.Evaluation) -> tuple[str, float]:
    if evaluation.nll is not None:
        return "nll", float(np.mean(evaluation.nll))
    return "crps", float(np.mean(evaluation.crps))


def _summary(evaluation: report.Evaluation, pit_x_bins: int) -> dict:
    out = {"unavailable": dict(evaluation.unavailable), "crps_how": evaluation.crps_how,
           "crps": float(evaluation.crps.mean()),
           "crps_standard_error": float(evaluation.crps.std(ddof=1) / np.sqrt(len(evaluation.crps))),
           "coverage": float(np.mean(evaluation.inside)),
           "training_seconds": evaluation.training_seconds,
           "draws_per_second": (None if np.isnan(evaluation.draws_per_second)
                                else evaluation.draws_per_second)}
    if evaluation.chosen:                  # what the method chose inside its fit
        out["chosen_in_fit"] = evaluation.chosen
    if evaluation.nll is not None:
        gap = evaluation.gap_estimate()
        out.update(nll=float(np.mean(evaluation.nll)), gap=float(gap.value),
                   gap_standard_error=float(gap.standard_error))
    if evaluation.pit is not None:
        binned = scoring.pit_by_bin(evaluation.x_test, evaluation.pit, num_bins=pit_x_bins)
        out["pit_bins"] = [{"x_low": b.x_low, "x_high": b.x_high, "count": b.count,
                            "chi_square": b.chi_square, "chi_square_p": b.chi_square_p,
                            "ks_p": b.ks_p, "histogram": list(b.histogram)}
                           for b in binned.bins]
    if evaluation.crossings is not None:
        out["crossings"] = [int(c) for c in evaluation.crossings]
    return out


def one_run(dataset: str, n: int, seed: int, settings: dict) -> dict:
    """Every method on the n pairs of ``seed`` (module docstring): {method key: summary}."""
    x, y = data.sample(dataset, n, seed=seed)
    x_test, y_test = data.sample(dataset, settings["test_pairs"], seed=TEST_SEED)
    fit_rows = int(round(n * (1 - settings["validation_share"])))
    level = settings["coverage_level"]
    tried = candidates(settings["search"])
    specs_by_candidate = [_specs(settings["budget"], c) for c in tried]
    out = {}
    for key, spec in _specs(settings["budget"], {}).items():
        accepted = report.accepted_settings(spec.cls)
        searched = all(name in accepted for name in settings["search"])
        entry = {"name": None, "searched": searched}
        ranked = [None]                     # a method without a search is fitted as it is
        if searched:
            scores, score_name = [], None
            for candidate_specs in specs_by_candidate:
                try:
                    validation = report.evaluate(candidate_specs[key], x[:fit_rows],
                                                 y[:fit_rows], x[fit_rows:], y[fit_rows:],
                                                 dataset, seed=seed, coverage_level=level)
                except FloatingPointError:     # training diverged (train.NonFiniteLoss)
                    scores.append(float("inf"))
                    continue
                score_name, value = _validation_score(validation)
                scores.append(value)
            finite = np.where(np.isfinite(scores), scores, np.inf)
            ranked = [int(i) for i in np.argsort(finite, kind="stable")]
        for diverged, best in enumerate(ranked):
            final_spec = spec if best is None else specs_by_candidate[best][key]
            try:
                evaluation = report.evaluate(final_spec, x, y, x_test, y_test, dataset,
                                             seed=seed, coverage_level=level)
                break
            except FloatingPointError:
                if diverged == len(ranked) - 1:
                    raise
        if searched:
            entry.update(chosen=tried[best], validation_score=score_name,
                         validation=[v if np.isfinite(v) else None for v in scores],
                         diverged_refits=diverged)
        entry["name"] = evaluation.name
        out[key] = {**entry, **_summary(evaluation, settings["pit_x_bins"])}
    return out


def run(settings: dict, progress) -> dict:
    """{"candidates": the searched settings, "floor_nll": {dataset: mean -log p_true on the
    test pairs}, "runs": {dataset: {str(n): {method key: [one summary per seed]}}},
    "processes": the worker processes (CPUs) the runs were spread over}."""
    tasks = [(dataset, n, seed, settings) for dataset in settings["datasets"]
             for n in settings["sizes"] for seed in settings["seeds"]]
    done = []

    def one_more():
        done.append(1)
        progress(len(done), len(tasks))

    summaries = results.map_pinned(one_run, tasks, one_more)
    runs, floor_nll = {}, {}
    for (dataset, n, seed, _), by_key in zip(tasks, summaries):
        by_method = runs.setdefault(dataset, {}).setdefault(str(n), {})
        for key, summary in by_key.items():
            by_method.setdefault(key, []).append({"seed": seed, **summary})
    for dataset in settings["datasets"]:
        x_test, y_test = data.sample(dataset, settings["test_pairs"], seed=TEST_SEED)
        floor_nll[dataset] = float(-np.mean(data.get_dataset(dataset).log_density(x_test, y_test)))
    return {"candidates": candidates(settings["search"]), "floor_nll": floor_nll, "runs": runs,
            "processes": len(os.sched_getaffinity(0))}
