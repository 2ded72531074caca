"""The default MDN's gap to the exact floor, over independent training runs.

For each dataset and each seed s: ``train_pairs`` fresh training pairs drawn with seed s,
``train.train_mdn`` with its defaults (and seed s: another initialisation and other
minibatches), and the gap to the exact floor (``scoring.gap_to_floor``) on
``test_pairs`` fresh test pairs drawn with seed ``TEST_SEED_OFFSET + s``. Per dataset the
result lists every run and summarises them: the mean gap over runs, the standard deviation
between runs (the spread a single run does not show) and the mean of the runs' test-set
standard errors.
"""
from __future__ import annotations

import numpy as np

from mdn_utils.core import model, trained
from mdn_utils.diagnostics import scoring
from mdn_utils.problems import datasets as data

TEST_SEED_OFFSET = 10_000

SETTINGS = {"datasets": ["sinusoid_inverse", "bishop"], "seeds": [0, 1, 2, 3, 4],
            "train_pairs": 200_000, "test_pairs": 50_000, "train": {}}
SMOKE = {"seeds": [0, 1], "train_pairs": 2_000, "test_pairs": 1_000,
         "train": {"steps": 40, "eval_every": 40, "num_components": 3, "hidden_units": 8}}


def gap_runs(dataset: str, seeds, train_pairs: int, test_pairs: int, train_settings: dict,
             progress=lambda: None) -> dict:
    """One run per seed of ``trained.trained_mdn(**train_settings)`` on ``dataset`` (data
    as in the module docstring): {"runs": [per seed: seed, gap, standard_error, model_nll,
    bayes_nll, seconds, steps_per_second], "mean_gap", "between_runs_std",
    "mean_standard_error"}. ``progress()`` is called after each run."""
    runs = []
    for seed in seeds:
        x, y = data.sample(dataset, train_pairs, seed=seed)
        x_test, y_test = data.sample(dataset, test_pairs, seed=TEST_SEED_OFFSET + seed)
        result = trained.trained_mdn(x, y, seed=seed, progress=False, **train_settings)
        gap = scoring.gap_to_floor(model.conditional(result.model), dataset, x_test, y_test)
        runs.append({"seed": seed, "gap": gap.gap, "standard_error": gap.standard_error,
                     "model_nll": gap.model_nll, "bayes_nll": gap.bayes_nll,
                     "seconds": result.seconds, "steps_per_second": result.steps_per_second})
        progress()
    return summarise_runs(runs)


def summarise_runs(runs: list[dict]) -> dict:
    """{"runs": ``runs``, "mean_gap", "between_runs_std" (the standard deviation of the runs'
    gaps, ddof 1; NaN for one run), "mean_standard_error"} of runs that each have a "gap"
    and its test-set "standard_error"."""
    gaps = np.array([r["gap"] for r in runs])
    return {"runs": runs, "mean_gap": float(gaps.mean()),
            "between_runs_std": float(gaps.std(ddof=1)) if len(gaps) > 1 else float("nan"),
            "mean_standard_error": float(np.mean([r["standard_error"] for r in runs]))}


def run(settings: dict, progress) -> dict:
    """{dataset: ``gap_runs`` of the defaults}."""
    total = len(settings["datasets"]) * len(settings["seeds"])
    done = []

    def one_more():
        done.append(1)
        progress(len(done), total)

    return {dataset: gap_runs(dataset, settings["seeds"], settings["train_pairs"],
                              settings["test_pairs"], settings["train"], one_more)
            for dataset in settings["datasets"]}
