"""Chapter 13's comparison on real data, cross-validated and repeated, every network method
with a small hyper-parameter search of its own inside each fold.

Every method of ``compare.METHODS`` (the kernel estimator with its bandwidths validated)
and three small-data variants (the MDN with K chosen by validation NLL inside each fit,
the MDN with noise regularisation, the kernel estimator validated on a split by x value)
on Old Faithful and the motorcycle data: k-fold cross-validation with k = ``folds``,
repeated once per seed in ``seeds`` (seed r splits the rows by ``crossval.kfold(n, k, r)``
and seeds every fit of that repeat). In each fold a network method is tuned by
``tuning.tuned_evaluate`` over the ``search`` values on top of ``budget`` (trained on a
random ``1 - validation_share`` of the fold's training rows, the same for every method
(``search_order``), scored on the rest, the best trained again on all of them); the test
fold is never seen before it is scored. The repeats (data set, seed) are independent and
spread over the CPUs, each in a fresh worker process (``results.map_pinned``; a repeat
trains hundreds of models).

Per data set and method the result keeps, for each repeat r and fold j, the mean held-out
NLL and CRPS of the fold's test pairs (``[R, k]``: the input of
``crossval.repeated_kfold_mean``), the share of held-out y inside the central interval of
mass ``coverage`` per repeat, each example's held-out NLL averaged over the repeats, the
training time per repeat (the final fits only), the searched setting chosen in each fold
(``[R][k]``, None for a method without a search) and what each fit chose inside it
(bandwidth factors, K).
"""
from __future__ import annotations

import os

import numpy as np

from mdn_utils.book import results
from mdn_utils.compare import report, tuning
from mdn_utils.compare.crossval import fold_means, kfold
from mdn_utils.compare.kde_grid import ValidatedKernelDensity
from mdn_utils.compare.mdn import (MixtureDensityNetwork, NoiseRegularisedMDN,
                                   ValidatedMixtureDensityNetwork)
from mdn_utils.problems import real

SETTINGS = {
    "datasets": ["old_faithful", "motorcycle"], "folds": 5, "seeds": [0, 1, 2, 3, 4],
    "budget": {"batch_size": 128, "jit_compile": False, "cache": False, "eval_every": 500},
    "search": {"learning_rate": [1e-3, 3e-3, 1e-2, 3e-2], "steps": [100, 300, 1_000, 3_000]},
    "validation_share": 0.2, "coverage": 0.9, "k_candidates": [2, 4, 8], "noise_c": 1.0,
    "methods": None}
SMOKE = {"folds": 2, "seeds": [0],
         "methods": ["homoscedastic_gaussian", "mdn_validated_k", "kernel_cde_by_x"],
         "budget": {"batch_size": 32, "hidden_layers": 1, "hidden_units": 8,
                    "jit_compile": False, "cache": False, "eval_every": 10},
         "search": {"learning_rate": [5e-3], "steps": [10, 20]}}


def method_specs(settings: dict) -> list[report.MethodSpec]:
    """The compared methods: ``report.method_specs`` of the budget (the kernel estimator
    validated) and the variants "mdn_validated_k", "mdn_noise" and "kernel_cde_by_x"; only
    those named in ``settings["methods"]`` unless it is None."""
    budget = settings["budget"]
    mdn_budget = {k: v for k, v in budget.items()
                  if k in report.accepted_settings(MixtureDensityNetwork)}
    specs = report.method_specs(budget, classes={"kernel_cde": ValidatedKernelDensity}) + [
        report.MethodSpec("mdn_validated_k", ValidatedMixtureDensityNetwork,
                          dict(mdn_budget, candidates=tuple(settings["k_candidates"]))),
        report.MethodSpec("mdn_noise", NoiseRegularisedMDN,
                          dict(mdn_budget, noise_scale=settings["noise_c"])),
        report.MethodSpec("kernel_cde_by_x", ValidatedKernelDensity, dict(split="x_values"))]
    keep = settings["methods"]
    return specs if keep is None else [s for s in specs if s.key in keep]


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """All rows of a real data set, in its seeded order, as float64 x ``[n]`` and y ``[n]``."""
    dataset = real.load(name)
    x, y = dataset.sample(len(dataset), seed=0)
    return np.asarray(x, np.float64).reshape(-1), np.asarray(y, np.float64).reshape(-1)


def search_order(train_rows: np.ndarray, seed: int, fold: int) -> np.ndarray:
    """The training rows of fold ``fold`` of repeat ``seed`` in the order the search uses
    (its validation rows are the last ``validation_share`` of them): a permutation seeded
    by (seed, fold), the same for every method."""
    return np.random.default_rng([seed, fold]).permutation(train_rows)


def one_repeat(name: str, seed: int, settings: dict) -> dict:
    """One repeat of k-fold cross-validation on data set ``name`` split with ``seed``:
    {method key: {"name", "nll" ([n] held-out, rows in data order, or None), "crps" ([n]),
    "inside" ([n]), "training_seconds", "searched" ([k] chosen settings or None),
    "chosen" ([k] what each fit chose inside it)}}."""
    x, y = data(name)
    x = x.reshape(-1, 1)
    out = {}
    for spec in method_specs(settings):
        nll, crps, inside = (np.full(len(y), np.nan) for _ in range(3))
        seconds, searched, chosen, has_nll = 0.0, [], [], True
        for fold, (train, test) in enumerate(kfold(len(y), settings["folds"], seed)):
            train = search_order(train, seed, fold)
            tuned = tuning.tuned_evaluate(
                spec, settings["search"], x[train], y[train], x[test], y[test], None,
                validation_share=settings["validation_share"], seed=seed,
                coverage_level=settings["coverage"], use_cache=False)
            evaluation = tuned.evaluation
            if evaluation.nll is None:
                has_nll = False
            else:
                nll[test] = evaluation.nll
            crps[test], inside[test] = evaluation.crps, evaluation.inside
            seconds += evaluation.training_seconds
            searched.append(tuned.chosen)
            chosen.extend(evaluation.chosen)
        out[spec.key] = {"name": evaluation.name, "nll": nll if has_nll else None,
                         "crps": crps, "inside": inside, "training_seconds": seconds,
                         "searched": searched, "chosen": chosen}
    return out


def run(settings: dict, progress) -> dict:
    """{dataset: {"n", "methods": {key: {"name", "fold_nll" ([R, k] or None), "fold_crps",
    "coverage" ([R] shares), "example_nll" ([n] or None), "training_seconds" ([R]),
    "searched" ([R][k]), "chosen" ([R][k])}}}, "processes": the worker processes}."""
    seeds, folds = settings["seeds"], settings["folds"]
    tasks = [(name, seed, settings) for name in settings["datasets"] for seed in seeds]
    done = []

    def one_more():
        done.append(1)
        progress(len(done), len(tasks))

    repeats = results.map_pinned(one_repeat, tasks, one_more, tasks_per_worker=1)
    out = {}
    for name in settings["datasets"]:
        runs = [r for (task_name, _, _), r in zip(tasks, repeats) if task_name == name]
        methods = {}
        for key, first in runs[0].items():
            per = [r[key] for r in runs]
            nll = None if first["nll"] is None else np.array([p["nll"] for p in per])
            methods[key] = {
                "name": first["name"],
                "fold_nll": None if nll is None else fold_means(nll, folds, seeds).tolist(),
                "fold_crps": fold_means([p["crps"] for p in per], folds, seeds).tolist(),
                "coverage": [float(np.mean(p["inside"])) for p in per],
                "example_nll": None if nll is None else nll.mean(axis=0).tolist(),
                "training_seconds": [p["training_seconds"] for p in per],
                "searched": [p["searched"] for p in per],
                "chosen": [p["chosen"] for p in per]}
        out[name] = {"n": len(data(name)[1]), "methods": methods}
    out["processes"] = len(os.sched_getaffinity(0))
    return out
