"""Train once, reuse: trained MDNs saved as ``.keras`` files, keyed by what made them.

    key = sha256(source of checks, data, params, losses, model, device, loop and train;
                 the training data's bytes; every setting of ``train_mdn`` after
                 defaults are filled in; the device kind; the TensorFlow and Keras
                 versions)

A change to any of these gives a new key, so a stale model is never loaded. Beside each
model a JSON file keeps what the training run measured (history, times, device), so a
chapter that loads a model can still report how it was trained.

``trained_mean_regressor`` does the same for the squared-error baseline
(``baseline.train_mean_regressor``), keyed by the source of checks, data, model, device
and baseline, the data, its settings and the versions.

The folder is ``$MDN_CACHE_DIR`` if set; else ``_build/model_cache`` in the source
checkout the package was imported from (``make clean`` empties it); else
``~/.cache/mdn-book``.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path

import keras
import tensorflow as tf

from mdn_utils.core import baseline, device, loop, losses, model, params, train
from mdn_utils import checks
from mdn_utils.problems import datasets as data

KEYED_MODULES = (checks, data, params, losses, model, device, loop, train)
UNKEYED_SETTINGS = ("validation_data", "progress")   # change no weight
REGRESSOR_MODULES = (checks, data, model, device, baseline)
# Read once at import, so that a test replacing the functions does not change the keys.
TRAIN_PARAMETERS = inspect.signature(train.train_mdn).parameters
REGRESSOR_PARAMETERS = inspect.signature(baseline.train_mean_regressor).parameters


def cache_dir() -> Path:
    """The folder that holds cached models (created on first use)."""
    if os.environ.get("MDN_CACHE_DIR"):
        return Path(os.environ["MDN_CACHE_DIR"])
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "_build" / "model_cache"
    return Path.home() / ".cache" / "mdn-book"


def _settings(function_name: str, parameters, settings: dict) -> dict:
    """All keyword-only ``parameters`` of a function, defaults filled in from ``settings``;
    unknown names are refused."""
    keyword_only = {name: p.default for name, p in parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(settings) - set(keyword_only))
    if unknown:
        raise TypeError(f"unknown {function_name} settings: {', '.join(unknown)}")
    return {**keyword_only, **settings}


def _digest(modules, x, y, keyed: dict, device_kind: str) -> str:
    """sha256 of the modules' source, the data's bytes, the settings, the device kind and
    the TensorFlow and Keras versions."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(inspect.getsource(module).encode())
    digest.update(x.tobytes())
    digest.update(y.tobytes())
    digest.update(json.dumps(keyed, sort_keys=True, default=repr).encode())
    digest.update(device_kind.encode())
    digest.update(f"tf {tf.__version__} keras {keras.__version__}".encode())
    return digest.hexdigest()


def cache_key(x, y, **settings) -> str:
    """Hex digest identifying the model ``train_mdn(x, y, **settings)`` would train."""
    x, y = model.paired_data(x, y)
    filled = _settings("train_mdn", TRAIN_PARAMETERS, settings)
    keyed = {k: v for k, v in filled.items() if k not in UNKEYED_SETTINGS}
    return _digest(KEYED_MODULES, x, y, keyed, device.choose_device(filled["device"]).kind)


def _paths(key: str) -> tuple[Path, Path]:
    stem = cache_dir() / f"mdn-{key[:20]}"
    return stem.with_suffix(".keras"), stem.with_suffix(".json")


def partial_path(path: Path) -> Path:
    """A temporary name beside ``path``, private to this process, with its suffix."""
    return path.with_name(f"{path.stem}.partial-{os.getpid()}{path.suffix}")


def save(result: train.TrainingResult, key: str) -> Path:
    """Store a training result's model and measurements under ``key``; return the path."""
    model_path, meta_path = _paths(key)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"history": result.history, "seconds": result.seconds,
            "compile_seconds": result.compile_seconds, "step_seconds": result.step_seconds,
            "device": {"kind": result.device.kind, "devices": list(result.device.devices)}}
    # Write under temporary names, then rename: a reader never sees half a file, and two
    # processes saving the same model at once (chapters executed in parallel) never share one.
    partial, meta_partial = partial_path(model_path), partial_path(meta_path)
    result.model.save(partial)
    meta_partial.write_text(json.dumps(meta))
    os.replace(meta_partial, meta_path)
    os.replace(partial, model_path)
    return model_path


def load(key: str) -> train.TrainingResult | None:
    """The cached training result for ``key``, or None when there is none."""
    model_path, meta_path = _paths(key)
    if not (model_path.is_file() and meta_path.is_file()):
        return None
    meta = json.loads(meta_path.read_text())
    chosen = device.DeviceChoice(meta["device"]["kind"], tuple(meta["device"]["devices"]))
    return train.TrainingResult(keras.models.load_model(model_path, compile=False), chosen,
                                meta["history"], meta["seconds"], meta["compile_seconds"],
                                meta["step_seconds"])


def trained_mdn(x, y, *, refresh: bool = False, **settings) -> train.TrainingResult:
    """``train.train_mdn(x, y, **settings)``, loaded from the cache when it holds that model.

    ``refresh=True`` always trains (and replaces the cached copy). The result's times and
    history are those of the run that trained the model.
    """
    if not isinstance(refresh, bool):
        raise TypeError(f"refresh must be True or False, got {refresh!r}")
    key = cache_key(x, y, **settings)
    cached = None if refresh else load(key)
    if cached is not None:
        return cached
    result = train.train_mdn(x, y, **settings)
    save(result, key)
    return result


def regressor_key(x, y, **settings) -> str:
    """Hex digest identifying the model ``baseline.train_mean_regressor(x, y, **settings)``
    would train (its settings with defaults filled in; unknown names are refused)."""
    filled = _settings("train_mean_regressor", REGRESSOR_PARAMETERS, settings)
    x, y = model.paired_data(x, y)
    return _digest(REGRESSOR_MODULES, x, y, filled, device.choose_device(None).kind)


def trained_mean_regressor(x, y, *, refresh: bool = False, **settings) -> keras.Model:
    """``baseline.train_mean_regressor(x, y, **settings)``, loaded from the cache when it
    holds that model; ``refresh=True`` always trains (and replaces the cached copy)."""
    if not isinstance(refresh, bool):
        raise TypeError(f"refresh must be True or False, got {refresh!r}")
    path = cache_dir() / f"regressor-{regressor_key(x, y, **settings)[:20]}.keras"
    if path.is_file() and not refresh:
        return keras.models.load_model(path, compile=False)
    regressor = baseline.train_mean_regressor(x, y, **settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(path)   # a reader never sees half a file
    regressor.save(partial)
    os.replace(partial, path)
    return regressor
