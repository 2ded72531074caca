"""Run the comparison for the chapter: every method through one interface, its scores kept
per test example, and a result cache so that a second run fits nothing.

* ``MethodSpec(key, cls, settings)``: how to build one method, ``cls(**settings)``.
  ``method_specs(budget, classes, overrides)`` makes one spec per entry of
  ``compare.METHODS``, in its order (a method added there joins the chapter), giving each
  the ``budget`` settings its constructor accepts.
* ``evaluate(spec, x, y, x_test, y_test, dataset)``: fit on (x, y) and keep, per test pair,
  -log p(y_i | x_i), the floor's -log p_true(y_i | x_i) (synthetic data), the CRPS, the
  PIT u_i = F(y_i | x_i) and whether y_i lies in the central interval of mass
  ``coverage_level``; plus training time, sampling speed, quantile crossings and, for a
  method with a ``chosen_settings()`` method (a setting it picks inside ``fit``, such as
  the MDN's K by validation), what it chose (``Evaluation.chosen``, one dict per fit). What a
  method cannot produce is recorded with the ``MetricUnavailable`` reason it gave.
  Coverage from the PIT: for a continuous, increasing F, y lies in
  [F^-1((1 - c)/2), F^-1((1 + c)/2)] exactly when abs(F(y) - 1/2) <= c/2, so methods with a
  CDF need no quantile search; quantile regression (no CDF) uses its quantiles.
* ``compare_on_floor(specs, dataset, n_train, n_test)``: every spec on one synthetic data
  set (training seed and test seed fixed, the same test pairs for every method and n).
* ``cross_validated(specs, x, y, num_folds)``: k-fold cross-validation
  (``crossval.kfold``); each fold is one cached ``evaluate``, each example is scored by the
  model that did not see it, and the held-out scores of all n examples are pooled into one
  mean with the standard error std / sqrt(n). That standard error treats the n scores as
  independent, which ignores their correlations: the scores of one fold share one fitted
  model, and each fold's test examples are training data of the other folds' models (a
  common simplification; Bengio and Grandvalet, JMLR 5, 2004,
  https://jmlr.org/papers/v5/grandvalet04a.html, show that such naive estimates can
  grossly understate the variance).
* ``Evaluation`` turns the arrays into estimates (mean ± standard error, std / sqrt(n));
  ``paired_difference`` compares two methods on the same test pairs.

The cache: one ``.npz`` per evaluation in the library's store (``mdn_utils.store``), keyed
by the code of this module and of the method's module with everything they import, the
method's class (name, and its source when it is defined outside the package), its
settings, the seed and scoring settings, the training and test data, the installed
versions and ``MDN_DEVICE``. The times stored are those of the run that made the entry.
Reading it imports no TensorFlow.
"""
from __future__ import annotations

import ast
import inspect
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mdn_utils import checks, store
from mdn_utils.problems.datasets import get_dataset
from mdn_utils.compare import METHODS
from mdn_utils.compare.base import ConditionalModel, y_column
from mdn_utils.compare.crossval import kfold
from mdn_utils.diagnostics.scoring import (Coverage, Estimate, MetricUnavailable, Unavailable,
                                         central_interval_holds, coverage, crps_values,
                                         interval_holds, mean_allowing_inf,
                                         mean_and_error, paired_difference)

SPEED_ROWS, SPEED_DRAWS = 200, 200   # sampling speed: draws of SPEED_DRAWS for SPEED_ROWS x


# --------------------------------------------------------------------------- the methods
@dataclass(frozen=True)
class MethodSpec:
    """One method of the comparison: ``cls(**settings)`` under the name ``key``."""

    key: str
    cls: type
    settings: dict = field(default_factory=dict)

    def build(self) -> ConditionalModel:
        model = self.cls(**self.settings)
        if not isinstance(model, ConditionalModel):
            raise TypeError(f"{self.key}: {self.cls.__name__} is not a ConditionalModel")
        return model


def accepted_settings(cls) -> set:
    """Keyword names ``cls`` accepts; for the MDN classes (``**train_settings``) also those
    of ``train.train_mdn`` that they pass on (read from the signatures)."""
    parameters = inspect.signature(cls.__init__).parameters
    names = {n for n, p in parameters.items()
             if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        from mdn_utils.compare.mdn import MixtureDensityNetwork, SET_BY_THE_METHOD
        if issubclass(cls, MixtureDensityNetwork):
            names |= train_mdn_parameters() - SET_BY_THE_METHOD
    return names


def _train_mdn_signature() -> ast.arguments:
    tree = ast.parse(store.module_file("mdn_utils.core.train").read_text())
    return next(node for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name == "train_mdn").args


def train_mdn_parameters() -> set[str]:
    """The names of ``train.train_mdn``'s keyword parameters, read from the source of
    ``mdn_utils/core/train.py`` with ``ast`` (importing ``train`` would load TensorFlow,
    which a run from the store never needs; a test compares this with
    ``inspect.signature(train.train_mdn)``)."""
    return {arg.arg for arg in _train_mdn_signature().kwonlyargs}


def train_mdn_defaults() -> dict:
    """The keyword parameters of ``train.train_mdn`` whose defaults are literals (numbers,
    strings, None...), with those defaults, read as ``train_mdn_parameters`` reads the
    names; a default given by a named constant (``fourier_scale``) is left out."""
    arguments = _train_mdn_signature()
    out = {}
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        try:
            out[arg.arg] = ast.literal_eval(default)
        except ValueError:
            continue
    return out


def method_specs(budget: dict | None = None, classes: dict | None = None,
                 overrides: dict | None = None) -> list[MethodSpec]:
    """One ``MethodSpec`` per entry of ``compare.METHODS`` (in its order).

    ``budget``: settings shared by every method that accepts them (by signature), e.g.
    ``steps``, ``batch_size``, ``learning_rate``; ``classes``: key -> a class to use instead
    of the registered one; ``overrides``: key -> settings for that method only (applied
    last). A key of ``classes`` or ``overrides`` that ``METHODS`` lacks is an error.
    """
    budget, classes, overrides = dict(budget or {}), dict(classes or {}), dict(overrides or {})
    for name, mapping in (("classes", classes), ("overrides", overrides)):
        unknown = sorted(set(mapping) - set(METHODS))
        if unknown:
            raise ValueError(f"{name} names methods that compare.METHODS lacks: {unknown} "
                             f"(known: {sorted(METHODS)})")
    specs = []
    for key, registered in METHODS.items():
        cls = classes.get(key, registered)
        allowed = accepted_settings(cls)
        settings = {k: v for k, v in budget.items() if k in allowed}
        settings.update(overrides.get(key, {}))
        specs.append(MethodSpec(key, cls, settings))
    return specs


# --------------------------------------------------------------------------- one evaluation
@dataclass
class Evaluation:
    """Per-test-pair scores of one method (arrays ``[n]``; None where unavailable)."""

    key: str
    name: str
    n_train: int
    nll: np.ndarray | None            # -log p(y_i | x_i)
    floor_nll: np.ndarray | None      # -log p_true(y_i | x_i), synthetic data only
    crps: np.ndarray
    crps_how: str
    pit: np.ndarray | None
    inside: np.ndarray                # y_i in the central interval of mass coverage_level
    coverage_level: float
    x_test: np.ndarray                # [n] first column of x (for PIT per x-bin)
    training_seconds: float
    draws_per_second: float           # nan where the method has no sampler
    unavailable: dict = field(default_factory=dict)   # metric -> reason
    crossings: tuple | None = None    # (crossed pairs, x with a crossing, x checked)
    from_cache: bool = False
    chosen: list = field(default_factory=list)   # per fit: what the method chose in it

    # ---- estimates ---------------------------------------------------------------------
    def _missing(self, metric):
        return Unavailable(self.name, metric, self.unavailable.get(metric, "not computed"))

    def nll_estimate(self) -> Estimate | Unavailable:
        if self.nll is None:
            return self._missing("nll")
        return mean_allowing_inf(self.nll, "mean of -log p(y | x)")

    def gap_estimate(self) -> Estimate | Unavailable:
        """Paired gap mean_i(-log p_model + log p_true) with its standard error."""
        if self.nll is None:
            return self._missing("nll")
        if self.floor_nll is None:
            return self._missing("gap")
        return mean_allowing_inf(self.nll - self.floor_nll, "paired gap to the floor")

    def floor_estimate(self) -> Estimate | Unavailable:
        if self.floor_nll is None:
            return self._missing("gap")
        return mean_and_error(self.floor_nll, "mean of -log p_true(y | x)")

    def crps_estimate(self) -> Estimate:
        return mean_and_error(self.crps, self.crps_how)

    def coverage(self) -> Coverage:
        """The ``scoring.Coverage`` of the central interval of mass ``coverage_level``."""
        return coverage(np.asarray(self.inside, bool), self.coverage_level)


# --------------------------------------------------------------------------- the cache
def evaluation_key(spec: MethodSpec, x, y, x_test, y_test, dataset_name: str | None,
                   seed: int, options: dict) -> str:
    """The store key of an evaluation (see the module docstring)."""
    module = spec.cls.__module__
    code = [__name__] + ([module] if module.startswith(store.PACKAGE + ".") else [])
    try:
        source = "" if module.startswith(store.PACKAGE + ".") else inspect.getsource(spec.cls)
    except (OSError, TypeError):   # a class defined interactively: its name must do
        source = ""
    settings = {"class": f"{module}.{spec.cls.__qualname__}", "class_source": source,
                "key": spec.key, "settings": spec.settings, "seed": seed,
                "dataset": dataset_name, "options": options,
                "device": os.environ.get("MDN_DEVICE", "")}
    arrays = [np.ascontiguousarray(array, np.float64) for array in (x, y, x_test, y_test)]
    return store.entry_key("evaluation", code=code, settings=settings, arrays=arrays)


_ARRAYS = ("nll", "floor_nll", "crps", "pit", "inside", "x_test")


def _save(evaluation: Evaluation, key: str) -> Path:
    meta = {name: getattr(evaluation, name) for name in
            ("key", "name", "n_train", "crps_how", "coverage_level", "training_seconds",
             "draws_per_second", "unavailable", "crossings", "chosen")}
    arrays = {name: getattr(evaluation, name) for name in _ARRAYS
              if getattr(evaluation, name) is not None}
    return store.write_atomically(
        store.entry_path("evaluation", key, ".npz"),
        lambda partial: np.savez(partial, meta=np.array(json.dumps(meta)), **arrays))


def _load(key: str) -> Evaluation | None:
    path = store.entry_path("evaluation", key, ".npz")
    if not path.is_file():
        return None
    with np.load(path) as stored:
        meta = json.loads(str(stored["meta"]))
        arrays = {name: (stored[name] if name in stored.files else None) for name in _ARRAYS}
    if meta["crossings"] is not None:
        meta["crossings"] = tuple(meta["crossings"])
    return Evaluation(**meta, **arrays, from_cache=True)


# --------------------------------------------------------------------------- evaluate
def _check_spec(spec) -> MethodSpec:
    if not isinstance(spec, MethodSpec):
        raise TypeError(f"spec must be a report.MethodSpec, got {type(spec).__name__}")
    return spec


def _check_level(coverage_level) -> float:
    level = checks.positive_float("coverage_level", coverage_level)
    if level >= 1:
        raise ValueError(f"coverage_level must lie strictly between 0 and 1, got {level}")
    return level


def evaluate(spec: MethodSpec, x, y, x_test, y_test, dataset=None, *, seed: int = 0,
             coverage_level: float = 0.9, num_samples: int = 500, use_cache: bool = True
             ) -> Evaluation:
    """Fit ``spec.build()`` on (x, y) with ``seed`` and score it on (x_test, y_test).

    ``dataset``: a synthetic dataset (name or object) with an exact density, for the floor;
    None for real data. CRPS: ``scoring.crps_values`` (closed form, else ``num_samples``
    draws, else the quantile form). Loaded from the result cache when it holds this
    evaluation (``use_cache=False``: always fit, and store nothing).
    """
    spec = _check_spec(spec)
    x, y = checks.matrix("x", x), y_column("y", y)
    checks.same_length(x=x, y=y)
    x_test, y_test = checks.matrix("x_test", x_test), y_column("y_test", y_test)
    checks.same_length(x_test=x_test, y_test=y_test)
    if x_test.shape[1] != x.shape[1]:
        raise ValueError(f"x_test must have {x.shape[1]} columns like x, got {x_test.shape}")
    seed = checks.positive_int("seed", seed, minimum=0)
    level = _check_level(coverage_level)
    num_samples = checks.positive_int("num_samples", num_samples, minimum=2)
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be True or False, got {use_cache!r}")
    spec_data = None if dataset is None else get_dataset(dataset)
    if spec_data is not None and spec_data.log_density is None:
        raise ValueError(f"dataset {spec_data.name!r} has no exact density: pass dataset=None "
                         "for real data")
    options = {"coverage_level": level, "num_samples": num_samples}
    key = evaluation_key(spec, x, y, x_test, y_test,
                         None if spec_data is None else spec_data.name, seed, options)
    if use_cache:
        cached = _load(key)
        if cached is not None:
            return cached
    result = _run(spec, x, y, x_test, y_test, spec_data, seed, level, num_samples)
    if use_cache:
        _save(result, key)
    return result


def _run(spec, x, y, x_test, y_test, dataset, seed, level, num_samples) -> Evaluation:
    model = spec.build().fit(x, y, seed)
    unavailable = {}
    try:
        nll = -model.log_prob(x_test, y_test)
    except MetricUnavailable as error:
        nll, unavailable["nll"] = None, error.reason
        unavailable["gap"] = error.reason
    floor_nll = None
    if dataset is not None:
        truth_x = x_test[:, 0] if x_test.shape[1] == 1 else x_test
        floor_nll = -dataset.log_density(truth_x, y_test)
    else:
        unavailable.setdefault("gap", "real data: the true density is unknown")
    crps, crps_how = crps_values(model, x_test, y_test, num_samples, seed)
    try:
        pit = model.cdf(x_test, y_test)
        inside = central_interval_holds(pit, level)
    except MetricUnavailable as error:
        pit, unavailable["pit"] = None, error.reason
        inside = interval_holds(model, x_test, y_test, level)
    rows = x_test[:SPEED_ROWS]
    try:
        start = time.perf_counter()
        model.sample(rows, SPEED_DRAWS, seed)
        draws_per_second = SPEED_DRAWS * len(rows) / (time.perf_counter() - start)
    except MetricUnavailable as error:
        draws_per_second, unavailable["sampling"] = float("nan"), error.reason
    crossings = None
    if callable(getattr(model, "crossings", None)):
        found = model.crossings(x_test)
        crossings = (found.pairs, found.x_with_crossing, found.num_x)
    chosen = []
    if callable(getattr(model, "chosen_settings", None)):
        chosen = [json.loads(json.dumps(model.chosen_settings()))]   # plain JSON values
    return Evaluation(spec.key, model.name, len(y), nll, floor_nll, crps, crps_how, pit,
                      inside, level, x_test[:, 0].copy(), float(model.training_seconds),
                      float(draws_per_second), unavailable, crossings, chosen=chosen)


# --------------------------------------------------------------------------- many at once
def compare_on_floor(specs, dataset, n_train: int, n_test: int, *, train_seed: int = 0,
                     test_seed: int = 2, seed: int = 0, **options) -> dict[str, Evaluation]:
    """Every spec fitted on ``n_train`` pairs of a synthetic dataset (``train_seed``) and
    scored on ``n_test`` pairs (``test_seed``: the same test pairs for every method and
    every n). Returns key -> ``Evaluation``; ``options`` go to ``evaluate``."""
    spec_data = get_dataset(dataset)
    if spec_data.log_density is None:
        raise ValueError(f"dataset {spec_data.name!r} has no exact density; compare_on_floor "
                         "needs one (use cross_validated for real data)")
    n_train = checks.positive_int("n_train", n_train, minimum=2)
    n_test = checks.positive_int("n_test", n_test)
    specs = [_check_spec(s) for s in specs]
    x, y = spec_data.sample(n_train, seed=train_seed)
    x_test, y_test = spec_data.sample(n_test, seed=test_seed)
    return {s.key: evaluate(s, x, y, x_test, y_test, spec_data, seed=seed, **options)
            for s in specs}


def cross_validated(specs, x, y, num_folds: int = 3, *, seed: int = 0, **options
                    ) -> dict[str, Evaluation]:
    """k-fold cross-validation of every spec: each fold an ``evaluate`` (cached), the
    held-out arrays of the folds put back in the order of the rows of x, training times
    summed over folds, sampling speeds averaged. Returns key -> pooled ``Evaluation``."""
    specs = [_check_spec(s) for s in specs]
    x, y = checks.matrix("x", x), y_column("y", y)
    checks.same_length(x=x, y=y)
    folds = kfold(len(y), num_folds, seed)
    order = np.concatenate([test for _, test in folds])
    restore = np.argsort(order)
    pooled = {}
    for spec in specs:
        parts = [evaluate(spec, x[train], y[train], x[test], y[test], None, seed=seed,
                          **options) for train, test in folds]
        first = parts[0]

        def joined(name):
            values = [getattr(p, name) for p in parts]
            return None if any(v is None for v in values) else np.concatenate(values)[restore]

        crossings = None
        if first.crossings is not None:
            crossings = tuple(int(sum(p.crossings[i] for p in parts)) for i in range(3))
        pooled[spec.key] = Evaluation(
            spec.key, first.name, len(y), joined("nll"), None, joined("crps"), first.crps_how,
            joined("pit"), joined("inside"), first.coverage_level, joined("x_test"),
            float(sum(p.training_seconds for p in parts)),
            float(np.mean([p.draws_per_second for p in parts])), dict(first.unavailable),
            crossings, all(p.from_cache for p in parts),
            [c for p in parts for c in p.chosen])
    return pooled


# --------------------------------------------------------------------------- table cells
def cell(estimate, digits: int = 3) -> str:
    """``value ± s.e.`` for an Estimate; ``share [low, high]`` (the 95% Wilson interval) for
    a Coverage; ``n/a`` for an Unavailable (the reason goes in the methods table);
    ``∞ (count)`` for an infinite NLL."""
    if isinstance(estimate, Unavailable):
        return "n/a"
    if isinstance(estimate, Coverage):
        low, high = estimate.interval()
        return f"{estimate.coverage:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
    if np.isinf(estimate.value):
        return f"∞ ({estimate.how})"
    return f"{estimate.value:.{digits}f} ± {estimate.standard_error:.{digits}f}"
