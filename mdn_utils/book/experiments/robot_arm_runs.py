"""MDNs on the robot arm over independent training runs: the comparisons of chapter 9.

For each seed s: ``train_pairs`` training pairs of the robot arm drawn with seed s and
``test_pairs`` test pairs with seed ``TEST_SEED_OFFSET + s``; every configuration is
trained on the same pairs with seed s and scored by its gap to the exact floor (the 2-D
quadrature of ``problems.robot_arm``) on the same test pairs. A configuration names the
coordinates of the angles ("angles", or "logit": ``box_transform.BoxLogit``, scored
through the change of variables -log p(theta | x) = -log q(u | x) - log abs(du / dtheta)), the
covariance, K, the number of steps and any other ``train_mdn`` setting (such as an input
encoding of x). Because every
configuration of one seed sees the same test pairs, the difference of two gaps of one seed
is a paired comparison (the floor cancels); the spread of those differences over seeds is
the spread between training runs.
"""
from __future__ import annotations

import numpy as np

from mdn_utils.book.experiments.default_gap import summarise_runs
from mdn_utils.core import box_transform, model, trained
from mdn_utils.diagnostics import scoring
from mdn_utils.problems import datasets as data

TEST_SEED_OFFSET = 10_000

_SHORT = {"steps": 5_000, "eval_every": 500}
_LONG = {"steps": 40_000, "eval_every": 5_000}
# the input encoding the experiment input_encoding chose on the 1-D datasets
_FOURIER = {"fourier_features": 8, "fourier_scale": model.FOURIER_SCALE / 2}
SETTINGS = {
    "seeds": [0, 1, 2, 3, 4], "train_pairs": 50_000, "test_pairs": 4_000,
    "train": {"learning_rate": 1e-2},
    "configs": {
        "full, K = 2": {"coordinates": "angles", "covariance": "full", "num_components": 2,
                        **_SHORT},
        "full, K = 4": {"coordinates": "angles", "covariance": "full", "num_components": 4,
                        **_SHORT},
        "full, K = 8": {"coordinates": "angles", "covariance": "full", "num_components": 8,
                        **_SHORT},
        "diag, K = 8": {"coordinates": "angles", "covariance": "diag", "num_components": 8,
                        **_SHORT},
        "logit, full, K = 8": {"coordinates": "logit", "covariance": "full",
                               "num_components": 8, **_SHORT},
        "full, K = 8, 40,000 steps": {"coordinates": "angles", "covariance": "full",
                                      "num_components": 8, **_LONG},
        "logit, full, K = 8, 40,000 steps": {"coordinates": "logit", "covariance": "full",
                                             "num_components": 8, **_LONG},
        "full, K = 8, 40,000 steps, Fourier features": {
            "coordinates": "angles", "covariance": "full", "num_components": 8, **_LONG,
            **_FOURIER},
        "logit, full, K = 8, 40,000 steps, Fourier features": {
            "coordinates": "logit", "covariance": "full", "num_components": 8, **_LONG,
            **_FOURIER}}}
SMOKE = {"seeds": [0, 1], "train_pairs": 2_000, "test_pairs": 200,
         "configs": {"full, K = 2": {"coordinates": "angles", "covariance": "full",
                                     "num_components": 2, "steps": 40, "eval_every": 40,
                                     "hidden_units": 8},
                     "logit, diag, K = 2": {"coordinates": "logit", "covariance": "diag",
                                            "num_components": 2, "steps": 40,
                                            "eval_every": 40, "hidden_units": 8}}}


def run(settings: dict, progress) -> dict:
    """{"floor": [per seed: mean -log p(theta | x) of its test pairs], "configs": {config:
    ``default_gap.summarise_runs`` of [per seed: seed, gap, standard_error, seconds,
    steps_per_second]}}."""
    arm = data.get_dataset("robot_arm")
    box = box_transform.BoxLogit(*zip(arm.theta1_range, arm.theta2_range))
    configs = settings["configs"]
    out = {"floor": [], "configs": {name: [] for name in configs}}
    done, total = 0, len(settings["seeds"]) * len(configs)
    for seed in settings["seeds"]:
        x, theta = arm.sample(settings["train_pairs"], seed=seed)
        x_test, theta_test = arm.sample(settings["test_pairs"], seed=TEST_SEED_OFFSET + seed)
        floor_nll = -arm.log_density(x_test, theta_test)
        out["floor"].append(float(floor_nll.mean()))
        for name, config in configs.items():
            config = dict(config)
            coordinates = config.pop("coordinates")
            if coordinates == "logit":
                y, y_test = box.to_unbounded(theta), box.to_unbounded(theta_test)
                log_jacobian = box.log_abs_det_jacobian(theta_test)
            else:
                y, y_test, log_jacobian = theta, theta_test, 0.0
            result = trained.trained_mdn(x, y.astype(np.float32), seed=seed, progress=False,
                                         **settings["train"], **config)
            model_nll = -model.conditional(result.model).log_prob(x_test, y_test) - log_jacobian
            gap = scoring.paired_gap(model_nll, floor_nll)
            out["configs"][name].append({
                "seed": seed, "gap": gap.gap, "standard_error": gap.standard_error,
                "seconds": result.seconds, "steps_per_second": result.steps_per_second})
            done += 1
            progress(done, total)
    out["configs"] = {name: summarise_runs(runs) for name, runs in out["configs"].items()}
    return out
