"""Fourier features of x (``model.FourierFeatures``) against the plain input, over
independent training runs.

Two stages, on data that never meet:

1. *Tuning.* Every candidate encoding in ``candidates`` is trained once per dataset
   (``train_pairs`` pairs drawn with seed ``TUNING_SEED``, the default ``train_mdn``
   otherwise) and scored by its NLL on ``validation_pairs`` pairs drawn with seed
   ``TUNING_SEED + 1``. One encoding must serve every dataset, so the chosen one has the
   lowest sum over datasets of validation NLL (the sum of the gaps plus a constant: each
   dataset's floor).
2. *Measurement.* The chosen encoding and the plain input, each trained with seeds
   ``seeds`` on the data of ``default_gap`` (training pairs drawn with seed s, test pairs
   with ``TEST_SEED_OFFSET + s``): the gap to the exact floor per run, and per seed the
   paired difference (encoded minus plain, the same training and test pairs), so the
   comparison is between runs, not only within one test set.
"""
from __future__ import annotations

import numpy as np

from mdn_utils.book.experiments.default_gap import gap_runs
from mdn_utils.core import model, trained
from mdn_utils.problems import datasets as data

TUNING_SEED = 100
_HALF_PERIOD = model.FOURIER_SCALE / 2   # half a period across a standardised uniform x

SETTINGS = {
    "datasets": ["sinusoid_inverse", "bishop"], "seeds": [0, 1, 2, 3, 4],
    "train_pairs": 200_000, "test_pairs": 50_000, "validation_pairs": 50_000, "train": {},
    "candidates": {
        "ladder 2, half period": {"fourier_features": 2, "fourier_scale": _HALF_PERIOD},
        "ladder 4, half period": {"fourier_features": 4, "fourier_scale": _HALF_PERIOD},
        "ladder 8, half period": {"fourier_features": 8, "fourier_scale": _HALF_PERIOD},
        "ladder 4, one period": {"fourier_features": 4},
        "gaussian 16, scale 1": {"fourier_features": 16, "fourier_kind": "gaussian",
                                 "fourier_scale": 1.0},
        "gaussian 16, scale 3": {"fourier_features": 16, "fourier_kind": "gaussian",
                                 "fourier_scale": 3.0}}}
SMOKE = {"seeds": [0, 1], "train_pairs": 2_000, "test_pairs": 1_000, "validation_pairs": 1_000,
         "train": {"steps": 40, "eval_every": 40, "num_components": 3, "hidden_units": 8},
         "candidates": {"ladder 2, half period": {"fourier_features": 2,
                                                  "fourier_scale": _HALF_PERIOD},
                        "gaussian 4, scale 1": {"fourier_features": 4,
                                                "fourier_kind": "gaussian",
                                                "fourier_scale": 1.0}}}


def run(settings: dict, progress) -> dict:
    """{"validation_nll": {candidate: {dataset: NLL}}, "chosen": candidate,
    "plain": {dataset: gap_runs}, "encoded": {dataset: gap_runs}, "difference": {dataset:
    {"per_seed", "mean", "between_runs_std", "better_runs"}}, "steps_per_second_ratio":
    {dataset: mean over seeds of encoded / plain steps per second}}."""
    datasets, seeds, candidates = settings["datasets"], settings["seeds"], settings["candidates"]
    total = len(datasets) * (len(candidates) + 2 * len(seeds))
    done = []

    def one_more():
        done.append(1)
        progress(len(done), total)

    validation = {}
    for name, encoding in candidates.items():
        validation[name] = {}
        for dataset in datasets:
            x, y = data.sample(dataset, settings["train_pairs"], seed=TUNING_SEED)
            x_val, y_val = data.sample(dataset, settings["validation_pairs"],
                                       seed=TUNING_SEED + 1)
            result = trained.trained_mdn(x, y, seed=TUNING_SEED, progress=False,
                                         **settings["train"], **encoding)
            validation[name][dataset] = float(-np.mean(
                model.conditional(result.model).log_prob(x_val, y_val)))
            one_more()
    chosen = min(validation, key=lambda name: sum(validation[name].values()))
    out = {"validation_nll": validation, "chosen": chosen, "plain": {}, "encoded": {},
           "difference": {}, "steps_per_second_ratio": {}}
    for dataset in datasets:
        common = (dataset, seeds, settings["train_pairs"], settings["test_pairs"])
        plain = out["plain"][dataset] = gap_runs(*common, settings["train"], one_more)
        encoded = out["encoded"][dataset] = gap_runs(
            *common, {**settings["train"], **candidates[chosen]}, one_more)
        differences = np.array([e["gap"] - p["gap"] for e, p in zip(encoded["runs"],
                                                                      plain["runs"])])
        out["difference"][dataset] = {
            "per_seed": differences.tolist(), "mean": float(differences.mean()),
            "between_runs_std": float(differences.std(ddof=1)) if len(seeds) > 1
            else float("nan"),
            "better_runs": int(np.sum(differences < 0))}
        out["steps_per_second_ratio"][dataset] = float(np.mean(
            [e["steps_per_second"] / p["steps_per_second"]
             for e, p in zip(encoded["runs"], plain["runs"])]))
    return out
