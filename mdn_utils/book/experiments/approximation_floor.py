"""The approximation floor F(K) of both 1-D datasets, resolved, with its diagnostics.

``diagnostics.approximation.approximation_floor`` for K in ``components``, each K started
also from the split fit of the K before, at two strengths:

* ``quick``: the function's defaults (sigma >= 2.5e-3 of the prior's range everywhere,
  at most 150 EM iterations), the strength a reader can run in seconds;
* ``resolved``: panels graded towards the edges of the support (``edge_halvings``), each
  component's width bounded by ``sigma_per_spacing`` times the node spacing where its
  mean lies (so narrow components are allowed at the box edges, where the best mixtures
  want them, and only where the nodes can integrate them), EM run until no x's
  cross-entropy falls by more than ``tolerance`` or ``max_iterations``.

Each fit's mixtures are re-scored on two finer y quadratures (``rescore``: panels
narrower by a factor, more nodes per panel, more halvings): the first is the reported
value (the honest KL of the mixtures EM found, an upper bound on the floor), the second
checks it. Per K the result also holds the share of mixture weight held at its width
bound (``pinned_weight``), the EM iterations and the last change of the objective.
"""
from __future__ import annotations

import time

from mdn_utils.diagnostics import approximation
from mdn_utils.problems import datasets as data

SETTINGS = {
    "datasets": ["sinusoid_inverse", "bishop"],
    "components": [1, 2, 3, 4, 6, 8, 12, 24],
    "resolved": {"panels": 100, "nodes_per_panel": 4, "edge_halvings": 12,
                 "sigma_per_spacing": 1.0, "min_sigma_fraction": 1e-6,
                 "max_iterations": 3_000, "tolerance": 1e-10},
    "rescore": [{"panel_factor": 4, "nodes_per_panel": 8, "extra_halvings": 4},
                {"panel_factor": 8, "nodes_per_panel": 16, "extra_halvings": 8}],
}
SMOKE = {
    "components": [1, 2],
    "resolved": {"panels": 20, "nodes_per_panel": 4, "edge_halvings": 2,
                 "sigma_per_spacing": 1.0, "min_sigma_fraction": 1e-6,
                 "max_iterations": 20, "tolerance": 1e-10},
    "rescore": [{"panel_factor": 2, "nodes_per_panel": 4, "extra_halvings": 1},
                {"panel_factor": 4, "nodes_per_panel": 8, "extra_halvings": 2}],
}


def _width(dataset: str) -> float:
    spec = data.get_dataset(dataset)     # an inverse problem: y ~ U(y_low, y_high)
    return spec.y_high - spec.y_low


def _summary(floor, seconds: float) -> dict:
    return {"kl": floor.average_kl, "pinned_weight": floor.pinned_weight,
            "iterations": floor.fit.iterations, "last_change": floor.fit.last_change,
            "seconds": seconds}


def floors(dataset: str, components, resolved: dict, rescore: list[dict],
           progress=lambda: None) -> dict:
    """{"quick": {K: summary}, "resolved": {K: summary with "kl_fit" (on EM's own
    quadrature), "kl" (re-scored on ``rescore[0]``) and "kl_check" (on ``rescore[1]``)}},
    K as strings (JSON keys)."""
    width = _width(dataset)
    settings = dict(resolved)
    panel_width = width / settings.pop("panels")
    quick, fine, out = None, None, {"quick": {}, "resolved": {}}
    for k in sorted(components):
        start = time.perf_counter()
        quick = approximation.approximation_floor(dataset, k, previous=quick)
        out["quick"][str(k)] = _summary(quick, time.perf_counter() - start)
        start = time.perf_counter()
        fine = approximation.approximation_floor(dataset, k, previous=fine,
                                                 panel_width=panel_width, **settings)
        rescored = [approximation.rescored_kl(
            fine, panel_width / r["panel_factor"], r["nodes_per_panel"],
            settings["edge_halvings"] + r["extra_halvings"]) for r in rescore]
        summary = _summary(fine, time.perf_counter() - start)
        summary.update(kl_fit=fine.average_kl, kl=rescored[0], kl_check=rescored[1])
        out["resolved"][str(k)] = summary
        progress()
    return out


def run(settings: dict, progress) -> dict:
    """{dataset: ``floors``}."""
    total = len(settings["datasets"]) * len(settings["components"])
    done = []

    def one_more():
        done.append(1)
        progress(len(done), total)

    return {dataset: floors(dataset, settings["components"], settings["resolved"],
                            settings["rescore"], one_more)
            for dataset in settings["datasets"]}
