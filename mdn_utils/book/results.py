"""Stored experiments: evidence run once at full strength, committed, read by the chapters.

An *experiment* is a module of ``mdn_utils.book.experiments`` with

* ``SETTINGS``: the full-strength settings (seeds, sizes, budgets), a JSON-able dict;
* ``SMOKE``: settings that run every code path of the experiment in seconds;
* ``run(settings, progress) -> dict``: the result, JSON-able; ``progress(done, total)``
  reports how far it is.

``run_experiment(name)`` (``python -m mdn_utils.book.results run NAME``, or ``make
experiments``) runs it at full strength, for as long as it takes, and writes
``book/results/NAME.json``::

    {"name", "key", "settings", "result",
     "provenance": {"commit", "date", "machine", "cores", "seconds", "python", "versions"}}

``key`` is ``store.entry_key(NAME, code=[the experiment's module], settings=SETTINGS)``:
the syntax trees of every module of the package the experiment imports, its settings (and
through them its data, which each experiment draws from seeds in its settings) and the
installed versions. ``read(name)`` returns the stored result and raises ``StaleResult``,
naming the command that refreshes it, when the key no longer matches the code: a chapter
never shows a result its code would not produce. The provenance says where and when the
result was made; it is reported, never asserted.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import multiprocessing
import multiprocessing.util
import os
import pkgutil
import platform
import subprocess
import sys
import time
from pathlib import Path

from mdn_utils import checks, store

EXPERIMENTS_PACKAGE = "mdn_utils.book.experiments"
RESULTS_DIR = store.PACKAGE_DIR.parent / "book" / "results"


class StaleResult(RuntimeError):
    """A stored result whose key does not match what the code would compute now."""


def names() -> list[str]:
    """Every experiment, by module name."""
    package = importlib.import_module(EXPERIMENTS_PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__))


def experiment(name: str):
    """The module of the experiment ``name`` (a ``ValueError`` lists the names)."""
    if not isinstance(name, str) or name not in names():
        raise ValueError(f"name must be one of {names()}, got {name!r}")
    return importlib.import_module(f"{EXPERIMENTS_PACKAGE}.{name}")


def result_key(name: str, settings: dict | None = None) -> str:
    """The key of ``name``'s result at ``settings`` (default: its full-strength ``SETTINGS``)."""
    module = experiment(name)
    return store.entry_key(name, code=[module.__name__],
                           settings=module.SETTINGS if settings is None else settings)


def result_path(name: str, folder: Path | None = None) -> Path:
    return Path(folder if folder is not None else RESULTS_DIR) / f"{name}.json"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=RESULTS_DIR.parent,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(seconds: float) -> dict:
    """Where, when and with what a result was made."""
    return {"commit": _commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": cpu_name(), "cores": os.cpu_count(), "seconds": round(seconds, 1),
            "python": platform.python_version(), "versions": store.package_versions()}


def _progress_bar(name: str, enabled: bool):
    if not enabled:
        return lambda done, total: None
    from tqdm.auto import tqdm
    bar = {}

    def report(done, total):
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=name, unit="run")
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar["bar"].close()

    return report


def run_experiment(name: str, *, smoke: bool = False, progress: bool = True,
                   folder: Path | None = None) -> dict:
    """Run ``name`` and return its record; at full strength (``smoke=False``) also write it
    to ``result_path(name, folder)``. A smoke run writes nothing."""
    module = experiment(name)
    if not isinstance(smoke, bool):
        raise TypeError(f"smoke must be True or False, got {smoke!r}")
    settings = {**module.SETTINGS, **module.SMOKE} if smoke else dict(module.SETTINGS)
    key = result_key(name, settings)       # of the code as it is when the run starts
    start = time.perf_counter()
    result = module.run(settings, _progress_bar(name, progress))
    record = {"name": name, "key": key, "settings": settings,
              "result": result, "provenance": provenance(time.perf_counter() - start)}
    json.dumps(record)                     # a result that is not JSON fails here, not later
    if not smoke:
        store.write_atomically(result_path(name, folder), lambda partial: partial.write_text(
            json.dumps(record, indent=1, sort_keys=True) + "\n"))
    return record


def _pin_to_one_cpu(cpus) -> None:
    """Pool initializer: this worker runs on one CPU of the queue ``cpus`` until it exits,
    and then gives the CPU back to the queue for the worker that replaces it."""
    cpu = cpus.get()
    os.sched_setaffinity(0, {cpu})
    multiprocessing.util.Finalize(None, cpus.put, args=(cpu,), exitpriority=100)


def _numbered_call(task: tuple) -> tuple:
    i, function, arguments = task
    return i, function(*arguments)


def map_pinned(function, tasks: list, progress=None, *, tasks_per_worker: int | None = None
               ) -> list:
    """``[function(*arguments) for arguments in tasks]``, in the order of ``tasks``, computed
    by one worker process per CPU this process may use, each pinned to its CPU and started
    afresh (a TensorFlow of its own). For independent training runs of an experiment:
    ``function`` must be a module-level function (workers import it by name) whose result
    depends on its arguments only. ``progress()``, if given, is called after each task.
    ``tasks_per_worker``: a worker that has run this many tasks is replaced by a fresh one
    (None: never). TensorFlow keeps every function it traced for the life of its process,
    a few MB per trained model, so tasks that train hundreds of models each need it."""
    if not callable(function):
        raise TypeError(f"function must be callable, got {function!r}")
    if tasks_per_worker is not None:
        tasks_per_worker = checks.positive_int("tasks_per_worker", tasks_per_worker)
    numbered = [(i, function, tuple(arguments)) for i, arguments in enumerate(tasks)]
    cpus = sorted(os.sched_getaffinity(0))
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    for cpu in cpus:
        queue.put(cpu)
    out = [None] * len(numbered)
    with context.Pool(len(cpus), initializer=_pin_to_one_cpu, initargs=(queue,),
                      maxtasksperchild=tasks_per_worker) as pool:
        for i, value in pool.imap_unordered(_numbered_call, numbered):
            out[i] = value
            if progress is not None:
                progress()
    return out


def stored(name: str, folder: Path | None = None) -> dict:
    """The stored record of ``name`` as written, current or not (``FileNotFoundError`` if
    it was never run)."""
    experiment(name)
    path = result_path(name, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no stored result for {name!r} at {path}; run "
                                f"`make experiments NAME={name}`")
    return json.loads(path.read_text())


def read(name: str, folder: Path | None = None) -> dict:
    """The stored result of ``name`` (its ``"result"``), if its key matches the code."""
    record = stored(name, folder)
    if record.get("key") != result_key(name):
        raise StaleResult(f"the stored result of {name!r} was made by other code, settings or "
                          f"package versions than these; refresh it with "
                          f"`make experiments NAME={name}` (python -m mdn_utils.book.results "
                          f"run {name}) and commit {result_path(name, folder)}")
    return record["result"]


def stale(folder: Path | None = None) -> list[str]:
    """The experiments whose stored result is missing or not current."""
    out = []
    for name in names():
        try:
            read(name, folder)
        except (StaleResult, FileNotFoundError):
            out.append(name)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdn_utils.book.results",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the experiments and whether their results are current")
    run = commands.add_parser("run", help="run experiments at full strength and store them")
    run.add_argument("names", nargs="*", help="default: every stale experiment")
    run.add_argument("--smoke", action="store_true", help="a quick run that stores nothing")
    args = parser.parse_args(argv)
    if args.command == "list":
        old = set(stale())
        for name in names():
            print(f"{name}: {'stale or missing' if name in old else 'current'}")
        return 0
    for name in args.names or stale():
        record = run_experiment(name, smoke=args.smoke)
        print(f"{name}: {record['provenance']['seconds']} s"
              + ("" if args.smoke else f", written to {result_path(name)}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
