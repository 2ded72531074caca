"""``mdn_utils.book.bench``: running one section keeps the others, and the sections measure
what they say (on tiny sizes here; timing is never tested)."""
import json

import numpy as np
import pytest

from mdn_utils.book import bench


def test_only_runs_one_section_and_keeps_the_others(tmp_path, monkeypatch):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps({"machine": {"date": "before"}, "sampling": [1, 2]}))
    calls = []
    monkeypatch.setattr(bench, "_run_section", lambda section: calls.append(section) or ["new"])
    bench.main([str(output), "--only", "input_encoding"])
    results = json.loads(output.read_text())
    assert calls == ["input_encoding"]
    assert results["sampling"] == [1, 2] and results["machine"] == {"date": "before"}
    assert results["input_encoding"] == ["new"]
    assert set(results["section_machines"]) == {"input_encoding"}
    assert {"date", "load_average", "load_average_end"} <= set(
        results["section_machines"]["input_encoding"])


def test_chapter_replaces_only_that_chapters_row(tmp_path, monkeypatch):
    output = tmp_path / "bench.json"
    rows = [{"chapter": "01_problem.ipynb", "seconds": 1.0}, {"chapter": "02_mixtures.ipynb", "seconds": 2.0}]
    output.write_text(json.dumps({"machine": {"date": "before"}, "chapters": rows}))
    executed = []

    def alone(path):
        executed.append(path.name)
        return {"seconds": 9.0, "peak_mb": 100.0}

    monkeypatch.setattr(bench, "execute_alone", alone)
    bench.main([str(output), "--chapter", "02_mixtures.ipynb"])
    results = json.loads(output.read_text())
    assert executed == ["02_mixtures.ipynb"]
    assert [r["seconds"] for r in results["chapters"]] == [1.0, 9.0]
    assert results["machine"] == {"date": "before"}
    assert set(results["section_machines"]) == {"chapters: 02_mixtures.ipynb"}
    with pytest.raises(ValueError, match="names must be chapters"):
        bench.main([str(output), "--chapter", "99_missing.ipynb"])


def test_a_full_run_runs_every_section_in_order(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(bench, "_run_section", lambda section: calls.append(section) or [])
    bench.main([str(tmp_path / "bench.json"), "--no-chapters"])
    assert calls == [s for s in bench.SECTIONS if s != "chapters"]
    results = json.loads((tmp_path / "bench.json").read_text())
    assert set(results["section_machines"]) == set(calls)
    # the chapters read sections 1-6, so the chapters are timed last
    assert bench.SECTIONS[-1] == "chapters"


@pytest.mark.slow
def test_input_encoding_times_both_inputs_alike():
    run = bench.bench_input_encoding({"fourier_features": 2}, rows=2_000, steps=20)
    assert run["encoding"] == {"fourier_features": 2} and run["steps"] == 20
    assert run["ratio"] == pytest.approx(run["encoded_steps_per_second"]
                                         / run["plain_steps_per_second"])


def test_sampler_vs_tfp_is_a_section_of_its_own(monkeypatch):
    calls = []
    monkeypatch.setattr(bench, "bench_sampler_vs_tfp", lambda x, y: calls.append(len(x)) or ["s"])
    assert "sampler_vs_tfp" in bench.SECTIONS
    assert bench._run_section("sampler_vs_tfp") == ["s"] and calls == [200_000]


@pytest.mark.slow
def test_every_sampler_draws_from_the_same_mixture():
    from mdn_utils.problems.datasets import sample
    x, y = sample("sinusoid_inverse", 2_000, seed=0)
    results = bench.bench_sampler_vs_tfp(x, y, rows=4_000, per_row=5)
    assert [r["sampler"] for r in results] == ["mdn_utils", "tfp eager", "tfp tf.function",
                                               "tfp xla"]
    reference = results[0]
    standard_error = reference["std"] / np.sqrt(4_000 * 5)
    for r in results:
        assert r["samples_per_second"] > 0 and r["rows"] == 4_000
        # the same mixture: means and spreads agree up to Monte Carlo error
        assert abs(r["mean"] - reference["mean"]) < 6 * standard_error, r
        assert abs(r["std"] / reference["std"] - 1) < 0.05, r


@pytest.mark.slow
def test_fit_variants_record_what_keras_ran():
    from mdn_utils.problems.datasets import sample
    x, y = sample("sinusoid_inverse", 4 * bench.BATCH, seed=0)
    x_val, y_val = sample("sinusoid_inverse", 500, seed=1)
    result = bench.bench_against_fit(x, y, x_val, y_val, epochs=2,
                                     variants=((1, "auto"), (3, "auto")), repeats=3)
    default, variant = result["fit_variants"]
    assert (default["steps_per_execution"], default["jit_compile"]) == (1, "auto")
    assert result["fit_steps_per_second"] == default["steps_per_second"]
    assert variant["steps_per_execution"] == 3
    assert isinstance(variant["jit_compile_resolved"], bool)
    # medians of alternating rounds, every round kept
    assert len(default["steps_per_second_runs"]) == len(result["loop_steps_per_second_runs"]) == 3
    assert default["steps_per_second"] == np.median(default["steps_per_second_runs"])
    ratios = np.array(result["loop_steps_per_second_runs"]) / default["steps_per_second_runs"]
    assert result["speedup"] == pytest.approx(np.median(ratios))
    assert all(np.isfinite(v["validation_nll"]) for v in result["fit_variants"])


@pytest.mark.slow
def test_a_notebook_run_alone_reports_its_kernels_peak_memory(tmp_path):
    """The peak is the kernel's: a notebook that holds 300 MB shows at least that, one
    that holds nothing much less; the kernel sees one CPU and an empty model store."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    def notebook(name, source):
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(new_notebook(cells=[new_code_cell(source)]), path)
        return path

    check = ("import os; assert len(os.sched_getaffinity(0)) == 1; "
             "assert not os.listdir(os.environ['MDN_CACHE_DIR'])")
    small = bench.execute_alone(notebook("small", check))
    large = bench.execute_alone(notebook(
        "large", check + "\nimport numpy as np; held = np.ones(300 * 2**20 // 8)"))
    assert large["peak_mb"] > 300 > small["peak_mb"], (small, large)
    assert large["seconds"] > 0


@pytest.mark.slow
def test_a_failing_notebook_run_alone_is_reported(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook
    path = tmp_path / "fails.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("raise ValueError('on purpose')")]), path)
    with pytest.raises(RuntimeError, match="fails.ipynb failed when run alone"):
        bench.execute_alone(path)
    with pytest.raises(ValueError, match="path must be a notebook"):
        bench.execute_alone(tmp_path / "missing.ipynb")
