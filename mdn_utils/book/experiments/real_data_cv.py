"""Chapter 13's comparison on real data, cross-validated and repeated.

Every method of ``compare.METHODS`` (the kernel estimator with its bandwidths validated)
and three small-data variants (the MDN with K chosen by validation NLL inside each fit,
the MDN with noise regularisation, the kernel estimator validated on a split by x value)
on Old Faithful and the motorcycle data: k-fold cross-validation with k = ``folds``,
repeated once per seed in ``seeds`` (seed r splits the rows by ``crossval.kfold(n, k, r)``
and seeds every fit of that repeat). The networks share one ``budget``.

Per data set and method the result keeps, for each repeat r and fold j, the mean held-out
NLL and CRPS of the fold's test pairs (``[R, k]``: the input of
``crossval.repeated_kfold_mean``), the share of held-out y inside the central interval of
mass ``coverage`` per repeat, each example's held-out NLL averaged over the repeats, the
training time per repeat and what each fit chose (bandwidth factors, K).
"""
from __future__ import annotations

import numpy as np

from mdn_utils.compare import report
from mdn_utils.compare.crossval import fold_means
from mdn_utils.compare.kde_grid import ValidatedKernelDensity
from mdn_utils.compare.mdn import (MixtureDensityNetwork, NoiseRegularisedMDN,
                                   ValidatedMixtureDensityNetwork)
from mdn_utils.problems import real

SETTINGS = {
    "datasets": ["old_faithful", "motorcycle"], "folds": 5, "seeds": [0, 1, 2],
    "budget": {"steps": 500, "batch_size": 128, "learning_rate": 5e-3, "hidden_layers": 1,
               "jit_compile": False, "cache": False, "eval_every": 500},
    "coverage": 0.9, "k_candidates": [2, 4, 8], "noise_c": 1.0, "methods": None}
SMOKE = {"folds": 2, "seeds": [0],
         "methods": ["homoscedastic_gaussian", "mdn_validated_k", "kernel_cde_by_x"],
         "budget": {"steps": 10, "batch_size": 32, "learning_rate": 5e-3, "hidden_layers": 1,
                    "hidden_units": 8, "jit_compile": False, "cache": False,
                    "eval_every": 10}}


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


def run(settings: dict, progress) -> dict:
    """{dataset: {"n", "methods": {key: {"name", "fold_nll" ([R, k] or None), "fold_crps",
    "coverage" ([R] shares), "example_nll" ([n] or None), "training_seconds" ([R]),
    "chosen" ([R][k])}}}}."""
    specs = method_specs(settings)
    seeds, folds = settings["seeds"], settings["folds"]
    done, total = 0, len(settings["datasets"]) * len(seeds)
    out = {}
    for name in settings["datasets"]:
        x, y = data(name)
        repeats = []
        for seed in seeds:
            repeats.append(report.cross_validated(specs, x, y, folds, seed=seed,
                                                  coverage_level=settings["coverage"],
                                                  use_cache=False))
            done += 1
            progress(done, total)
        methods = {}
        for spec in specs:
            runs = [r[spec.key] for r in repeats]
            nll = None if runs[0].nll is None else np.array([r.nll for r in runs])
            methods[spec.key] = {
                "name": runs[0].name,
                "fold_nll": None if nll is None else fold_means(nll, folds, seeds).tolist(),
                "fold_crps": fold_means([r.crps for r in runs], folds, seeds).tolist(),
                "coverage": [float(np.mean(r.inside)) for r in runs],
                "example_nll": None if nll is None else nll.mean(axis=0).tolist(),
                "training_seconds": [r.training_seconds for r in runs],
                "chosen": [r.chosen for r in runs]}
        out[name] = {"n": len(y), "methods": methods}
    return out
