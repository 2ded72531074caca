"""``python -m mdn_utils.book.bench OUTPUT.json``: measure speed on this machine.

``make bench`` writes book/bench_results.json (the report chapter reads it). Measures
(median of ``REPEATS`` timed runs, after an untimed warm-up):
1. training steps per second for the naive loss, the log-space loss and TFP's
   ``MixtureSameFamily.log_prob``, each eager, in ``tf.function`` and with XLA, on the
   CPU and on every GPU kind visible;
2. this package's training loop against Keras ``model.fit`` on the same model, loss,
   data, batch size and optimiser, with the validation NLL each reaches after the same
   number of steps; and ``fit`` again with each of the two settings that change what it
   compiles (``FIT_VARIANTS``: ``steps_per_execution`` steps per call, ``jit_compile``),
   all in alternating rounds;
3. temperature-sampling throughput (samples per second) at several tau;
4. ``sampler_vs_tfp``: this package's sampler against TFP's ``MixtureSameFamily.sample``
   (eager, ``tf.function``, XLA) on the same mixture parameters, in one run;
5. ``train_mdn``'s steps per second for a 2-D y: K = 8, diagonal and full covariance;
   and with the input encoding of the ``input_encoding`` experiment against without it;
6. each chapter executed alone as on Binder (one CPU, an empty model store): its wall time
   and peak memory (last: chapter 7 and the appendix read the other sections).

``section_machines[SECTION]`` records the machine, date and load (at the start and end) of
each section's run; ``--only SECTION`` runs one section and keeps the file's others;
``--chapter NOTEBOOK`` re-runs one chapter of section 6 and replaces its row (its machine
under ``section_machines["chapters: NOTEBOOK"]``).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from mdn_utils.problems.datasets import sample
from mdn_utils.core.loop import make_train_loop
from mdn_utils.core.losses import MixtureNLL, head_nll
from mdn_utils.core.model import build_mdn, conditional, head_layout, predict_params
from mdn_utils.core.params import MixtureParams
from mdn_utils.core.sampling import sample_with_temperature
from mdn_utils.core.train import train_mdn

ROOT = Path(__file__).resolve().parents[2]
REPEATS = 5
BATCH = 512
# fit's settings measured beside the default (steps_per_execution, jit_compile): Keras 3
# resolves jit_compile="auto" to False on a machine without accelerators, and runs one
# Python call (with the batch callbacks around it) per steps_per_execution steps.
FIT_STEPS_PER_EXECUTION = 64
FIT_VARIANTS = ((1, "auto"), (FIT_STEPS_PER_EXECUTION, "auto"), (1, True),
                (FIT_STEPS_PER_EXECUTION, True))
SECTIONS = ("loss_forms", "loop_vs_fit", "sampling", "sampler_vs_tfp", "two_dimensional",
            "input_encoding", "chapters")


def _median_time(function, repeats=REPEATS):
    function()  # warm-up: tracing, compilation, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _machine():
    from mdn_utils.book.results import cpu_name
    cpu = cpu_name()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(), "platform": platform.platform(), "cpu": cpu,
        "cpu_count": os.cpu_count(), "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "python": sys.version.split()[0], "tensorflow": tf.__version__,
        "tensorflow_probability": tfp.__version__, "keras": keras.__version__,
        "numpy": np.__version__,
        # other work on the machine slows every measurement: 1-minute load at the start
        "load_average": _load_average(),
    }


def _load_average():
    """The 1-minute load average (None where the system does not report one)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _mean_nll(net, x, y) -> float:
    """Mean -log q(y_i | x_i) of a trained MDN (``model.conditional``)."""
    return float(-np.mean(conditional(net).log_prob(x, y)))


def _model(x, y, seed=0):
    return build_mdn(adapt_to=(x, y), seed=seed)


def bench_loss_forms(x, y, device, steps=2000, eager_steps=100):
    """Steps per second of each loss form, eager / tf.function / XLA, on one device."""
    results = []
    for loss in ("naive", "log_space", "tfp"):
        for mode in ("eager", "tf.function", "xla"):
            with tf.device(device):
                net = _model(x, y)
                optimizer = keras.optimizers.Adam(1e-3)
                if mode == "eager":
                    step = _eager_step(net, optimizer, head_nll(head_layout(net), loss), x, y)
                    seconds = _median_time(lambda: [step(i) for i in range(eager_steps)])
                    rate = eager_steps / seconds
                else:
                    run = make_train_loop(net, optimizer, head_nll(head_layout(net), loss),
                                          BATCH, jit_compile=(mode == "xla"))
                    counter = iter(range(10**9))
                    x_run, y_run = tf.constant(x[:, None]), tf.constant(y[:, None])

                    def timed():
                        out = run(x_run, y_run, 0, next(counter) * steps, steps)
                        if int(out[1]) >= 0:
                            raise FloatingPointError(f"{loss} loss became non-finite")

                    rate = steps / _median_time(timed)
            results.append({"device": device, "loss": loss, "mode": mode,
                            "steps_per_second": rate})
            print(f"  {device:8s} {loss:10s} {mode:12s} {rate:9.0f} steps/s", flush=True)
    return results


def _eager_step(net, optimizer, loss_fn, x, y):
    x_all, y_all = tf.constant(x[:, None]), tf.constant(y[:, None])
    rng = np.random.default_rng(0)

    def step(_):
        index = rng.integers(0, len(x), BATCH)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(tf.gather(y_all, index),
                                          net(tf.gather(x_all, index), training=True)))
        optimizer.apply_gradients(zip(tape.gradient(loss, net.trainable_variables),
                                      net.trainable_variables))
    return step


def _fit_rate(x, y, x_val, y_val, epochs, steps_per_execution=1, jit_compile="auto"):
    """Keras ``fit`` on a fresh model: (steps/s over the epochs after the first, validation
    NLL, the jit_compile Keras resolved). Steps per second are those of epochs 2.. (the
    first includes tracing and compilation)."""
    net = _model(x, y)

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    seconds = []
    net.compile(optimizer=keras.optimizers.Adam(1e-3), loss=MixtureNLL(head_layout(net)),
                steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    net.fit(x[:, None], y[:, None], batch_size=BATCH, epochs=epochs, verbose=0,
            shuffle=True, callbacks=[EpochTimer()])
    steps_per_epoch = -(-len(x) // BATCH)
    rate = steps_per_epoch * (epochs - 1) / sum(seconds[1:])
    return rate, _mean_nll(net, x_val, y_val), bool(net.jit_compile)


def bench_against_fit(x, y, x_val, y_val, epochs=3, variants=FIT_VARIANTS, repeats=REPEATS):
    """Keras fit against make_train_loop (XLA): same model, loss, data, batch, optimiser.

    Each of ``repeats`` rounds times ``fit`` once with each (steps_per_execution,
    jit_compile) of ``variants`` (the first is the default), then the loop, so that a
    change of the machine's load reaches every setting alike. Each rate is the median of
    its rounds, with every round's rate kept (``*_runs``); ``speedup`` is the median of the
    rounds' loop/default-fit ratios. The validation NLL of each setting is its first
    round's.
    """
    steps = epochs * (len(x) // BATCH)
    runs = {setting: [] for setting in variants}
    nll, resolved, loop_runs = {}, {}, []
    x_loop, y_loop = tf.constant(x[:, None]), tf.constant(y[:, None])
    for round_ in range(repeats):
        for steps_per_execution, jit_compile in variants:
            rate, variant_nll, variant_resolved = _fit_rate(
                x, y, x_val, y_val, epochs, steps_per_execution, jit_compile)
            runs[(steps_per_execution, jit_compile)].append(rate)
            nll.setdefault((steps_per_execution, jit_compile), variant_nll)
            resolved[(steps_per_execution, jit_compile)] = variant_resolved
        net_loop = _model(x, y)
        run = make_train_loop(net_loop, keras.optimizers.Adam(1e-3),
                              head_nll(head_layout(net_loop)), BATCH, jit_compile=True)
        run(x_loop, y_loop, 0, 0, 0)  # compile only (zero steps)
        start = time.perf_counter()
        float(run(x_loop, y_loop, 0, 0, steps)[0])
        loop_runs.append(steps / (time.perf_counter() - start))
        nll.setdefault("loop", _mean_nll(net_loop, x_val, y_val))
        print(f"  round {round_ + 1}: fit " + ", ".join(
            f"{runs[v][-1]:.0f}" for v in variants) + f"; loop {loop_runs[-1]:.0f} steps/s",
            flush=True)
    fit_variants = [{"steps_per_execution": spe, "jit_compile": jit,
                     "jit_compile_resolved": resolved[(spe, jit)],
                     "steps_per_second": statistics.median(runs[(spe, jit)]),
                     "steps_per_second_runs": runs[(spe, jit)],
                     "validation_nll": nll[(spe, jit)]} for spe, jit in variants]
    default_runs = runs[variants[0]]
    return {"steps": steps, "batch_size": BATCH, "repeats": repeats,
            "fit_steps_per_second": fit_variants[0]["steps_per_second"],
            "loop_steps_per_second": statistics.median(loop_runs),
            "loop_steps_per_second_runs": loop_runs,
            "speedup": statistics.median(l / f for l, f in zip(loop_runs, default_runs)),
            "fit_validation_nll": fit_variants[0]["validation_nll"],
            "loop_validation_nll": nll["loop"], "fit_variants": fit_variants}


def bench_sampling(x, y, taus=(0.1, 1.0, 3.0), rows=200_000, per_row=5):
    net = _model(x, y)
    params = MixtureParams.from_1d(*predict_params(net, np.linspace(x.min(), x.max(), rows)))
    results = []
    for tau in taus:
        seconds = _median_time(lambda: sample_with_temperature(params, tau=tau,
                                                               num_samples=per_row, seed=0))
        results.append({"tau": tau, "samples_per_second": rows * per_row / seconds})
        print(f"  tau {tau:4}: {rows * per_row / seconds:,.0f} samples/s", flush=True)
    return results


def bench_sampler_vs_tfp(x, y, rows=200_000, per_row=5, seed=0):
    """This package's sampler against TFP's ``MixtureSameFamily.sample``, in one run.

    The same mixture parameters (an untrained default MDN's output at ``rows`` x, float32
    NumPy) and ``per_row`` draws per row; each variant starts from those NumPy arrays and
    ends with a NumPy array of ``[per_row, rows]`` draws, and is timed as the median of
    ``REPEATS`` runs after a warm-up (which also traces and compiles):

    * ``mdn_utils``: ``sampling.sample_with_temperature`` at tau = 1 (NumPy, float64,
      with its argument checks; ``params.MixtureParams.sample``);
    * ``tfp eager``, ``tfp tf.function``, ``tfp xla``: ``mixture.mixture_from_tensors``
      (``MixtureSameFamily(Categorical(logits), Normal(mu, exp(s)))``) and its
      ``sample(per_row, seed=stateless seed)``, eagerly, in a ``tf.function`` and in one
      compiled with XLA (``jit_compile=True``).

    Also returns the mean and standard deviation of each variant's draws (all draw from the
    same mixture, so they agree up to Monte Carlo error).
    """
    from mdn_utils.core.mixture import mixture_from_tensors
    params = predict_params(_model(x, y), np.linspace(x.min(), x.max(), rows))
    stateless_seed = tf.constant([seed, 0], tf.int32)

    def tfp_draws(logits, means, log_sigmas):
        return mixture_from_tensors(logits, means, log_sigmas).sample(per_row,
                                                                      seed=stateless_seed)

    compiled = {"tf.function": tf.function(tfp_draws),
                "xla": tf.function(tfp_draws, jit_compile=True)}
    variants = {
        "mdn_utils": lambda: sample_with_temperature(MixtureParams.from_1d(*params), tau=1.0,
                                                     num_samples=per_row,
                                                     seed=seed),
        "tfp eager": lambda: tfp_draws(*map(tf.constant, params)).numpy(),
        "tfp tf.function": lambda: compiled["tf.function"](*map(tf.constant, params)).numpy(),
        "tfp xla": lambda: compiled["xla"](*map(tf.constant, params)).numpy(),
    }
    results = []
    for name, draw in variants.items():
        draws = draw()
        if draws.shape != (per_row, rows):
            raise AssertionError(f"{name} drew shape {draws.shape}, not {(per_row, rows)}")
        seconds = _median_time(draw)
        results.append({"sampler": name, "rows": rows, "samples_per_row": per_row,
                        "dtype": str(draws.dtype), "seconds": seconds,
                        "samples_per_second": rows * per_row / seconds,
                        "mean": float(draws.mean()), "std": float(draws.std())})
        print(f"  {name:16s} {rows * per_row / seconds:14,.0f} samples/s", flush=True)
    return results


def bench_two_dimensional(rows=200_000, steps=4_000, num_components=8):
    """``train_mdn``'s steps/s on a 2-D y (x scalar), diagonal and full covariance."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, rows).astype(np.float32)
    y = np.column_stack([np.sin(3 * x), x ** 2]) + rng.normal(0, 0.1, (rows, 2))
    results = []
    for covariance in ("diag", "full"):
        rates = [train_mdn(x, y.astype(np.float32), num_components=num_components,
                           covariance=covariance, steps=steps, eval_every=steps,
                           progress=False, seed=seed).steps_per_second
                 for seed in range(3)]
        rate = statistics.median(rates)
        results.append({"y_dim": 2, "num_components": num_components,
                        "covariance": covariance, "steps_per_second": rate})
        print(f"  D = 2, K = {num_components}, {covariance:4s}: {rate:6.0f} steps/s", flush=True)
    return results


def bench_input_encoding(encoding=None, rows=200_000, steps=4_000):
    """``train_mdn``'s steps/s with the default input and with an input encoding (default:
    the one the stored experiment ``input_encoding`` chose), on the sinusoid: the two
    alternate, ``REPEATS`` runs each (other seeds), and each rate is the median."""
    if encoding is None:
        from mdn_utils.book import results
        record = results.stored("input_encoding")
        encoding = record["settings"]["candidates"][record["result"]["chosen"]]
    x, y = sample("sinusoid_inverse", rows, seed=0)
    rates = {"plain": [], "encoded": []}
    for seed in range(REPEATS):
        for name, settings in (("plain", {}), ("encoded", encoding)):
            rates[name].append(train_mdn(x, y, steps=steps, eval_every=steps, progress=False,
                                         seed=seed, **settings).steps_per_second)
    result = {"encoding": dict(encoding), "steps": steps,
              "plain_steps_per_second": statistics.median(rates["plain"]),
              "encoded_steps_per_second": statistics.median(rates["encoded"])}
    result["ratio"] = result["encoded_steps_per_second"] / result["plain_steps_per_second"]
    print(f"  plain {result['plain_steps_per_second']:6.0f} steps/s, encoded "
          f"{result['encoded_steps_per_second']:6.0f} steps/s ({result['ratio']:.2f})", flush=True)
    return result


# Run in a process of its own for each chapter: executes the notebook (argv[1]) in a new
# kernel started in argv[2] and prints the wall time and the kernel's peak resident memory
# (the largest ru_maxrss among this process's children, which the kernel is; Linux gives it
# in kB).
_EXECUTE_ALONE = """
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
start = time.perf_counter()
NotebookClient(notebook, timeout=1800, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))
"""


def execute_alone(path: Path) -> dict:
    """Execute one notebook as a reader runs it on Binder (about one CPU, 1-2 GB of memory,
    no stored models): a new kernel in the notebook's folder, an empty model store
    (``MDN_CACHE_DIR`` a new folder, so every model is trained), the process and its kernel
    pinned to one CPU. Returns ``{"seconds": wall time, "peak_mb": the kernel's peak
    resident memory in MB (2**20 bytes)}``; a failing notebook raises ``RuntimeError``."""
    import tempfile
    path = Path(path)
    if not path.is_file() or path.suffix != ".ipynb":
        raise ValueError(f"path must be a notebook file (.ipynb), got {str(path)!r}")
    cpu = min(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as store:
        run = subprocess.run(
            [sys.executable, "-c", _EXECUTE_ALONE, str(path), str(path.parent)],
            env={**os.environ, "MDN_CACHE_DIR": store}, capture_output=True, text=True,
            preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    if run.returncode != 0:
        raise RuntimeError(f"{path.name} failed when run alone:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def chapter_paths(names=None) -> list[Path]:
    """The chapters (numbered notebooks of book/), or those of them named in ``names``."""
    paths = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    if names is None:
        return paths
    known = {path.name: path for path in paths}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"names must be chapters of book/, got {unknown} (known: {sorted(known)})")
    return [known[name] for name in sorted(set(names))]


def bench_chapters(names=None):
    """Every chapter (or those in ``names``) executed alone by ``execute_alone`` (not the
    appendix, which reads this section)."""
    results = []
    for path in chapter_paths(names):
        measured = execute_alone(path)
        results.append({"chapter": path.name, "cpus": 1, "empty_store": True, **measured})
        print(f"  {path.name:28s} {measured['seconds']:6.1f} s, peak "
              f"{measured['peak_mb']:6.0f} MB", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="JSON file to write the results to")
    parser.add_argument("--no-chapters", action="store_true",
                        help="skip executing the chapters (section 6)")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only this section (repeatable); the file's other sections "
                             "are kept")
    parser.add_argument("--chapter", action="append", metavar="NOTEBOOK",
                        help="execute only this chapter (repeatable, e.g. 04_training.ipynb) "
                             "and replace its row of the chapters section; nothing else runs")
    options = parser.parse_args(argv)
    if options.chapter:
        results = json.loads(options.output.read_text())
        machine = _machine()
        measured = {row["chapter"]: row for row in bench_chapters(options.chapter)}
        results["chapters"] = [measured.get(row["chapter"], row) for row in results["chapters"]]
        results["chapters"] += [row for name, row in measured.items()
                                if name not in {r["chapter"] for r in results["chapters"]}]
        machine["load_average_end"] = _load_average()
        results.setdefault("section_machines", {}).update(
            {f"chapters: {name}": machine for name in measured})
        options.output.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {options.output}")
        return
    if options.only:   # keep the other sections (and the machine of the last full run)
        results = json.loads(options.output.read_text()) if options.output.exists() else {}
        sections = options.only
    else:
        results = {"machine": _machine(), "repeats": REPEATS}
        sections = [s for s in SECTIONS if not (options.no_chapters and s == "chapters")]
    for number, section in enumerate(sections, 1):
        print(f"{number}. {section}", flush=True)
        machine = _machine()
        results[section] = _run_section(section)
        machine["load_average_end"] = _load_average()
        results.setdefault("section_machines", {})[section] = machine
        # written after every section: the report chapter reads the file
        options.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {options.output}")


def _run_section(section):
    if section in ("loss_forms", "loop_vs_fit", "sampling", "sampler_vs_tfp"):
        x, y = sample("sinusoid_inverse", 200_000, seed=0)
        if section == "loss_forms":
            devices = ["/CPU:0"] + (["/GPU:0"] if tf.config.list_physical_devices("GPU") else [])
            return [r for d in devices for r in bench_loss_forms(x, y, d)]
        if section == "loop_vs_fit":
            return bench_against_fit(x, y, *sample("sinusoid_inverse", 20_000, seed=1))
        if section == "sampler_vs_tfp":
            return bench_sampler_vs_tfp(x, y)
        return bench_sampling(x, y)
    return {"two_dimensional": bench_two_dimensional, "chapters": bench_chapters,
            "input_encoding": bench_input_encoding}[section]()


if __name__ == "__main__":
    main()
