"""``mdn_utils.bench``: running one section keeps the others, and the robot-arm budget
section measures a gap to the exact floor (on a tiny budget here; timing is never tested)."""
import json

import numpy as np

from mdn_utils import bench


def test_only_runs_one_section_and_keeps_the_others(tmp_path, monkeypatch):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps({"machine": {"date": "before"}, "sampling": [1, 2]}))
    calls = []
    monkeypatch.setattr(bench, "_run_section", lambda section: calls.append(section) or ["new"])
    bench.main([str(output), "--only", "robot_arm_budget"])
    results = json.loads(output.read_text())
    assert calls == ["robot_arm_budget"]
    assert results["sampling"] == [1, 2] and results["machine"] == {"date": "before"}
    assert results["robot_arm_budget"] == ["new"]
    assert set(results["section_machines"]) == {"robot_arm_budget"}
    assert {"date", "load_average", "load_average_end"} <= set(
        results["section_machines"]["robot_arm_budget"])


def test_a_full_run_runs_every_section_in_order(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(bench, "_run_section", lambda section: calls.append(section) or [])
    bench.main([str(tmp_path / "bench.json"), "--no-chapters"])
    assert calls == [s for s in bench.SECTIONS if s != "chapters"]
    results = json.loads((tmp_path / "bench.json").read_text())
    assert set(results["section_machines"]) == set(calls)
    # the chapters read sections 1-5, so the chapters are timed last
    assert bench.SECTIONS[-1] == "chapters"


def test_robot_arm_budget_measures_a_gap_to_the_floor():
    (run,) = bench.bench_robot_arm_budget(budget_seconds=0.01, configs=(("logit", 2),))
    assert run["coordinates"] == "logit" and run["num_components"] == 2
    assert run["steps"] == 1_000                      # the smallest budget still trains
    assert np.isfinite(run["gap"]) and run["gap_se"] > 0
    assert run["gap"] > -3 * run["gap_se"]            # no model beats the exact floor
    assert run["seconds"] >= run["step_seconds"] > 0
