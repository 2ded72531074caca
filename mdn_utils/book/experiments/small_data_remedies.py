"""The remedies of chapter 12 on small samples, over independent training runs.

For each size n and seed s: n training pairs of ``dataset`` drawn with seed s (the
``remedies.training_pairs``), ``test_pairs`` fresh test pairs (``remedies.remedy_run``'s),
and every remedy trained on those n pairs alone with seed s and ``train`` settings:

* ``none``: the default model;
* each remedy of ``tuned`` (a floor on sigma, gradient clipping, weight decay, noise with
  a rule-of-thumb factor, the number of components): its setting chosen among the listed
  values by ``remedies.select_by_validation`` (trained on 80% of the n pairs, scored on
  the other 20%, the best retrained on all n);
* each setting of ``fixed`` as given (a larger learning rate: how many components stay
  in use, and what dead components cost).

Per run: the gap to the exact floor on the test pairs with its standard error, the paired
change from ``none`` of the same seed (same test pairs: the floor cancels) with its
standard error, the gap on the training pairs, the components in use, the narrowest
responsible width and the chosen setting.
"""
from __future__ import annotations

from mdn_utils.book import remedies
from mdn_utils.diagnostics.scoring import paired_difference

SETTINGS = {
    "dataset": "sinusoid_inverse", "sizes": [500, 2_000], "seeds": [0, 1, 2, 3, 4],
    "test_pairs": 20_000, "validation_share": 0.2,
    "train": {"steps": 3_000, "eval_every": 150},
    "tuned": {
        "floor": [{"min_sigma": v} for v in (0.05, 0.1, 0.2, 0.4, 0.8)],
        "clip": [{"clip_norm": v} for v in (0.01, 0.1, 1.0, 10.0)],
        "decay": [{"weight_decay": v} for v in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)],
        "noise": [{"noise_factor": v} for v in (1.0, 0.7, 0.5, 0.3, 0.1, 0.03)],
        "components": [{"num_components": k} for k in (3, 6, 12, 24)],
    },
    "fixed": {"large learning rate": {"learning_rate": 0.1}},
}
SMOKE = {
    "seeds": [0], "test_pairs": 300,
    "train": {"steps": 40, "eval_every": 20, "num_components": 3, "hidden_units": 8,
              "hidden_layers": 1, "jit_compile": False},
    "tuned": {"floor": [{"min_sigma": 0.1}, {"min_sigma": 0.2}]},
    "fixed": {"large learning rate": {"learning_rate": 0.1}},
}


def _summary(run, baseline=None, chosen=None, validation_nll=None) -> dict:
    out = {"gap": run.test_gap.gap, "standard_error": run.test_gap.standard_error,
           "train_gap": run.train_gap.gap, "components_in_use": run.components_in_use,
           "narrowest_sigma": run.narrowest_sigma, "seconds": run.seconds}
    if baseline is not None:
        change = paired_difference(run.test_nll, baseline.test_nll)
        out.update(change=change.value, change_standard_error=change.standard_error)
    if chosen is not None:
        out.update(chosen=chosen, validation_nll=validation_nll)
    return out


def run(settings: dict, progress) -> dict:
    """{str(n): {remedy: [one summary per seed]}} (module docstring)."""
    dataset, sizes, seeds = settings["dataset"], settings["sizes"], settings["seeds"]
    total = len(sizes) * len(seeds) * (1 + len(settings["tuned"]) + len(settings["fixed"]))
    done = []

    def one_more():
        done.append(1)
        progress(len(done), total)

    out = {}
    for n in sizes:
        # a minibatch never holds more than the n pairs (train_mdn draws by index)
        common = {**settings["train"], "batch_size": min(settings["train"].get(
            "batch_size", 512), n), "test_pairs": settings["test_pairs"]}
        by_remedy = {"none": []}
        for seed in seeds:
            base = remedies.remedy_run(dataset, n, seed=seed, **common)
            by_remedy["none"].append(_summary(base))
            one_more()
            for name, candidates in settings["tuned"].items():
                selection = remedies.select_by_validation(
                    dataset, n, candidates, seed=seed,
                    validation_share=settings["validation_share"], **common)
                by_remedy.setdefault(name, []).append(_summary(
                    selection.run, base, selection.chosen, selection.validation_nll))
                one_more()
            for name, extra in settings["fixed"].items():
                by_remedy.setdefault(name, []).append(
                    _summary(remedies.remedy_run(dataset, n, seed=seed, **common, **extra), base))
                one_more()
        out[str(n)] = by_remedy
    return out
