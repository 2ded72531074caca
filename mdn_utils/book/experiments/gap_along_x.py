"""Where along x the default MDN loses its nats, with and without the input encoding.

The models are those of ``input_encoding``'s measurement stage: the default ``train_mdn``
on ``train_pairs`` pairs drawn with seed s, plain or with the chosen Fourier features
(``encoding``), scored on ``test_pairs`` pairs drawn with seed ``TEST_SEED_OFFSET + s``.
Per seed and model it keeps

* the gap per bin of x: the mean over the test pairs whose x falls in each of ``bins``
  equal bins of the dataset's ``x_range`` of -log q(y | x) + log p(y | x), and the pairs
  per bin (a bin's share of the whole gap is its mean times its pairs over all pairs);
* the learning curve: every ``eval_every`` steps, the mean training NLL of the steps since
  the last record minus the conditional entropy H(y | x) of the dataset (the floor of the
  training NLL on average).
"""
from __future__ import annotations

import numpy as np

from mdn_utils.book.experiments.default_gap import TEST_SEED_OFFSET
from mdn_utils.core import model, trained
from mdn_utils.problems import datasets as data

SETTINGS = {"datasets": ["bishop", "sinusoid_inverse"], "seeds": [0, 1, 2, 3, 4],
            "train_pairs": 200_000, "test_pairs": 50_000, "bins": 40, "train": {},
            "encoding": {"fourier_features": 8, "fourier_scale": model.FOURIER_SCALE / 2}}
SMOKE = {"seeds": [0], "train_pairs": 2_000, "test_pairs": 1_000, "bins": 8,
         "train": {"steps": 40, "eval_every": 20, "num_components": 3, "hidden_units": 8}}


def run(settings: dict, progress) -> dict:
    """{dataset: {"bin_edges" [B + 1], "entropy", "step" [T], "plain" and "encoded": {
    "gap_by_bin" [S][B], "pairs_by_bin" [S][B], "gap" [S], "train_gap" [S][T]}}}."""
    seeds = settings["seeds"]
    total, done = 2 * len(settings["datasets"]) * len(seeds), 0
    out = {}
    for dataset in settings["datasets"]:
        spec = data.get_dataset(dataset)
        edges = np.linspace(*spec.x_range, settings["bins"] + 1)
        entropy = data.conditional_entropy_exact(dataset, x_points=8_001)
        out[dataset] = {"bin_edges": edges.tolist(), "entropy": entropy}
        for kind, extra in (("plain", {}), ("encoded", settings["encoding"])):
            runs = {"gap_by_bin": [], "pairs_by_bin": [], "gap": [], "train_gap": []}
            for seed in seeds:
                x, y = data.sample(dataset, settings["train_pairs"], seed=seed)
                x_test, y_test = data.sample(dataset, settings["test_pairs"],
                                             seed=TEST_SEED_OFFSET + seed)
                result = trained.trained_mdn(x, y, seed=seed, progress=False,
                                             **settings["train"], **extra)
                gap = (-model.conditional(result.model).log_prob(x_test, y_test)
                       + spec.log_density(x_test, y_test))
                which = np.clip(np.digitize(x_test, edges) - 1, 0, len(edges) - 2)
                pairs = np.bincount(which, minlength=len(edges) - 1)
                sums = np.bincount(which, weights=gap, minlength=len(edges) - 1)
                runs["gap_by_bin"].append(np.where(pairs > 0, sums / np.maximum(pairs, 1),
                                                   np.nan).tolist())
                runs["pairs_by_bin"].append(pairs.tolist())
                runs["gap"].append(float(gap.mean()))
                runs["train_gap"].append((np.array(result.history["train_nll"])
                                          - entropy).tolist())
                out[dataset]["step"] = list(result.history["step"])
                done += 1
                progress(done, total)
            out[dataset][kind] = runs
    return out
