"""Chapter 11's comparison of every registered method, over independent training runs, each
network method with a small hyper-parameter search of its own.

For each dataset with an exact floor, each training size n and each seed s: n training
pairs drawn with seed s, and the same ``test_pairs`` test pairs (seed ``TEST_SEED``) for
every method, size and seed. Every method of ``compare.METHODS`` (the kernel estimator as
``kde_grid.ValidatedKernelDensity``) is fitted on those n pairs alone, with seed s:

* a network method (one that accepts every setting of ``search``) is tuned by
  ``tuning.tuned_evaluate``: each combination of the ``search`` values on top of
  ``budget`` is trained on the first ``1 - validation_share`` of the n pairs and scored on
  the rest (mean NLL; mean CRPS for a method without a density), and the best is trained
  again on all n pairs. A candidate whose training diverges scores +inf (stored as None);
  if the chosen one diverges when trained on all n pairs, the next best is used
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

import os

import numpy as np

from mdn_utils.book import results
from mdn_utils.compare import report, tuning
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


def _specs(budget: dict) -> dict[str, report.MethodSpec]:
    specs = report.method_specs(budget, classes={"kernel_cde": ValidatedKernelDensity})
    return {spec.key: spec for spec in specs}


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
    out = {}
    for key, spec in _specs(settings["budget"]).items():
        tuned = tuning.tuned_evaluate(spec, settings["search"], x, y, x_test, y_test, dataset,
                                      validation_share=settings["validation_share"],
                                      seed=seed, coverage_level=settings["coverage_level"])
        entry = {"name": tuned.evaluation.name, "searched": tuned.chosen is not None}
        if tuned.chosen is not None:
            entry.update(chosen=tuned.chosen, validation_score=tuned.validation_score,
                         validation=tuned.validation, diverged_refits=tuned.diverged_refits)
        out[key] = {**entry, **_summary(tuned.evaluation, settings["pit_x_bins"])}
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
    return {"candidates": tuning.candidates(settings["search"]), "floor_nll": floor_nll,
            "runs": runs, "processes": len(os.sched_getaffinity(0))}
