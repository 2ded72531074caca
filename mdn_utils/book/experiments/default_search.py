"""The default training settings, searched at a fixed wall-clock budget over independent runs.

Every candidate in ``candidates`` overrides some of ``train.train_mdn``'s defaults (the
input encoding, depth, width, peak learning rate, batch size; "default" overrides nothing).
Each is trained on every dataset with every seed in ``seeds`` and scored by its gap to the
exact floor on fresh test pairs.

* *The same time for every candidate.* A candidate's training rate (optimiser steps per
  second, compilation excluded) is measured once per dataset by ``calibration_steps``
  steps on seed 0's training pairs; its runs then take ``budget_seconds[dataset]`` times
  that rate, rounded down to a multiple of ``step_multiple``. A slower candidate takes
  fewer steps, so the search asks what a default should do with a given time, not with a
  given number of steps.
* *Data and scoring.* The sinusoid and Bishop's data as in ``default_gap`` (``train_pairs``
  pairs drawn with seed s, ``test_pairs`` test pairs with seed ``TEST_SEED_OFFSET + s``);
  the robot arm as in ``robot_arm_runs``, with the modelling choices of ``arm`` (angle
  coordinates, covariance, K) and its own pair counts. Every candidate of one seed sees the
  same training and test pairs, so its gap minus the default's is a paired difference (the
  floor cancels), and the spread of those differences over seeds is the spread between
  training runs (``runs.runs_difference``).
* *One run per CPU.* The runs are independent; they are spread over the CPUs this process
  may use, one worker process pinned to each CPU, so every run has one core to itself, as
  a budget in seconds assumes. The rates are measured under the same sharing.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import os

from mdn_utils.book.experiments import default_gap, robot_arm_runs
from mdn_utils.core import model
from mdn_utils.diagnostics import runs as runs_stats

DATASETS = ("sinusoid_inverse", "bishop", "robot_arm")
_LADDER_8 = {"fourier_features": 8, "fourier_scale": model.FOURIER_SCALE / 2}
_LADDER_2 = {"fourier_features": 2, "fourier_scale": model.FOURIER_SCALE / 2}

SETTINGS = {
    "seeds": [0, 1, 2, 3, 4],
    "budget_seconds": {"sinusoid_inverse": 60, "bishop": 60, "robot_arm": 90},
    "calibration_steps": 3_000, "step_multiple": 1_000,
    "train_pairs": 200_000, "test_pairs": 50_000,
    "arm": {"train_pairs": 50_000, "test_pairs": 4_000, "coordinates": "logit",
            "covariance": "full", "num_components": 8},
    "train": {},
    "candidates": {
        "default": {},
        "Fourier ladder 8, half period": _LADDER_8,
        "Fourier ladder 2, half period": _LADDER_2,
        "3 hidden layers": {"hidden_layers": 3},
        "128 hidden units": {"hidden_units": 128},
        "peak learning rate 0.01": {"learning_rate": 1e-2},
        "batch 1,024": {"batch_size": 1_024},
        "Fourier ladder 8, half period, 3 hidden layers": {**_LADDER_8, "hidden_layers": 3}}}
SMOKE = {"seeds": [0, 1],
         "budget_seconds": {"sinusoid_inverse": 0.2, "bishop": 0.2, "robot_arm": 0.2},
         "calibration_steps": 40, "step_multiple": 10,
         "train_pairs": 2_000, "test_pairs": 1_000,
         "arm": {"train_pairs": 2_000, "test_pairs": 200, "coordinates": "logit",
                 "covariance": "full", "num_components": 2},
         "train": {"eval_every": 10, "num_components": 3, "hidden_units": 8},
         "candidates": {"default": {}, "Fourier ladder 2, half period": _LADDER_2}}


def one_run(dataset: str, seed: int, steps: int, training: dict, settings: dict) -> dict:
    """One training run of ``train_mdn(**training, steps=steps)`` on ``dataset`` with seed
    ``seed``, data and scoring as in the module docstring: {seed, gap, standard_error,
    seconds, steps_per_second}."""
    if dataset == "robot_arm":
        arm = dict(settings["arm"])
        counts = {"train_pairs": arm.pop("train_pairs"), "test_pairs": arm.pop("test_pairs")}
        arm_settings = {"seeds": [seed], **counts,   # the arm's own choices win
                        "train": {k: v for k, v in training.items() if k not in arm},
                        "configs": {"run": {**arm, "steps": steps}}}
        run = robot_arm_runs.run(arm_settings, lambda done, total: None)["configs"]["run"]
    else:
        run = default_gap.gap_runs(dataset, [seed], settings["train_pairs"],
                                   settings["test_pairs"], {**training, "steps": steps})
    return {key: run["runs"][0][key]
            for key in ("seed", "gap", "standard_error", "seconds", "steps_per_second")}


def _pin_to_one_cpu(cpus) -> None:
    """Pool initializer: this worker runs on one CPU of the queue ``cpus`` from now on."""
    os.sched_setaffinity(0, {cpus.get()})


def _task(arguments) -> tuple:
    label, (dataset, seed, steps, training, settings) = arguments
    return label, one_run(dataset, seed, steps, training, settings)


def _map_pinned(tasks: list, progress) -> dict:
    """{label: one_run(*arguments)} for ``tasks`` = [(label, arguments)], one worker
    process per CPU this process may use, each pinned to its CPU. ``progress()`` is called
    after each run."""
    cpus = sorted(os.sched_getaffinity(0))
    context = multiprocessing.get_context("spawn")   # a fresh TensorFlow in each worker
    queue = context.Queue()
    for cpu in cpus:
        queue.put(cpu)
    out = {}
    with context.Pool(len(cpus), initializer=_pin_to_one_cpu, initargs=(queue,)) as pool:
        for label, run in pool.imap_unordered(_task, tasks):
            out[label] = run
            progress()
    return out


def run(settings: dict, progress) -> dict:
    """{"rates": {dataset: {candidate: steps per second of the calibration run}},
    "steps": {dataset: {candidate: steps of its runs}}, "gaps": {dataset: {candidate:
    ``default_gap.summarise_runs`` of its runs (seed, gap, standard_error, seconds,
    steps_per_second)}}, "against_default": {dataset: {candidate other than "default": the
    fields of ``runs.runs_difference`` of its gaps minus the default's, paired by seed}},
    "processes": the worker processes (CPUs) used}."""
    candidates, seeds = settings["candidates"], settings["seeds"]
    if "default" not in candidates or candidates["default"]:
        raise ValueError("candidates must include 'default' with no overrides")
    budgets = settings["budget_seconds"]
    if set(budgets) != set(DATASETS):
        raise ValueError(f"budget_seconds must name every dataset of {DATASETS}")
    training = {name: {**settings["train"], **overrides}
                for name, overrides in candidates.items()}
    pairs = [(dataset, name) for dataset in DATASETS for name in candidates]
    total = len(pairs) * (1 + len(seeds))
    done = []

    def one_more():
        done.append(1)
        progress(len(done), total)

    calibration = _map_pinned(
        [((dataset, name), (dataset, seeds[0], settings["calibration_steps"],
                            training[name], settings)) for dataset, name in pairs],
        one_more)
    multiple = settings["step_multiple"]
    rates = {dataset: {name: calibration[dataset, name]["steps_per_second"]
                       for name in candidates} for dataset in DATASETS}
    steps = {dataset: {name: max(multiple, int(budgets[dataset] * rates[dataset][name]
                                               // multiple * multiple))
                       for name in candidates} for dataset in DATASETS}
    measured = _map_pinned(
        [((dataset, name, seed), (dataset, seed, steps[dataset][name], training[name],
                                  settings))
         for dataset, name in pairs for seed in seeds], one_more)
    gaps = {dataset: {name: default_gap.summarise_runs(
        [measured[dataset, name, seed] for seed in seeds]) for name in candidates}
        for dataset in DATASETS}
    against = {dataset: {name: dataclasses.asdict(runs_stats.runs_difference(
        [r["gap"] for r in gaps[dataset][name]["runs"]],
        [r["gap"] for r in gaps[dataset]["default"]["runs"]]))
        for name in candidates if name != "default"} for dataset in DATASETS}
    return {"rates": rates, "steps": steps, "gaps": gaps, "against_default": against,
            "processes": len(os.sched_getaffinity(0))}
