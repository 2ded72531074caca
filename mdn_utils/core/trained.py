"""Train once, reuse: trained models kept in the library's store (``mdn_utils.store``).

``trained_mdn(x, y, **settings)`` is ``train.train_mdn(x, y, **settings)``, read from the
store when it holds that model. Its key (``mdn_key``) is ``store.entry_key`` of the code
``train_mdn`` runs (found from its imports), the training data, every setting of
``train_mdn`` with its default filled in (except ``validation_data`` and ``progress``,
which change no weight) and the kind of device chosen. Beside each ``.keras`` file a JSON
file keeps what the training run measured (history, times, device), so a chapter that
loads a model can still report how it was trained. The validation pairs change no weight,
so they are not in the key, but they make the history's validation NLL: a call that passes
``validation_data`` loads a stored model only if it was trained with the same pairs, and
otherwise trains it again and stores the result with that history.

``trained_mean_regressor`` does the same for the squared-error baseline
(``baseline.train_mean_regressor``).
"""
from __future__ import annotations

import inspect

import keras

from mdn_utils import store
from mdn_utils.core import baseline, device, train
from mdn_utils.core.model import paired_data

UNKEYED_SETTINGS = ("validation_data", "progress")   # change no weight
# Read once at import, so that a test replacing the functions does not change the keys.
TRAIN_PARAMETERS = inspect.signature(train.train_mdn).parameters
REGRESSOR_PARAMETERS = inspect.signature(baseline.train_mean_regressor).parameters


def _settings(function_name: str, parameters, settings: dict) -> dict:
    """All keyword-only ``parameters`` of a function, defaults filled in from ``settings``;
    unknown names are refused."""
    keyword_only = {name: p.default for name, p in parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(settings) - set(keyword_only))
    if unknown:
        raise TypeError(f"unknown {function_name} settings: {', '.join(unknown)}")
    return {**keyword_only, **settings}


def _check_refresh(refresh) -> None:
    if not isinstance(refresh, bool):
        raise TypeError(f"refresh must be True or False, got {refresh!r}")


def mdn_key(x, y, **settings) -> str:
    """The store key of the model ``train.train_mdn(x, y, **settings)`` would train."""
    x, y = paired_data(x, y)
    filled = _settings("train_mdn", TRAIN_PARAMETERS, settings)
    keyed = {k: v for k, v in filled.items() if k not in UNKEYED_SETTINGS}
    keyed["device_kind"] = device.choose_device(filled["device"]).kind
    return store.entry_key("mdn", code=["mdn_utils.core.train"], settings=keyed,
                           arrays=[x, y])


def validation_digest(validation_data) -> str | None:
    """sha256 of the validation pairs (None for none): which pairs a history was scored on."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (x_val, y_val)")
    return store.array_digest(*paired_data(*validation_data))


def save_result(result: train.TrainingResult, key: str, validation: str | None = None) -> None:
    """Store a training result's model and measurements under ``key``; ``validation`` is the
    ``validation_digest`` of the pairs its history was scored on."""
    meta = {"history": result.history, "seconds": result.seconds, "validation": validation,
            "compile_seconds": result.compile_seconds, "step_seconds": result.step_seconds,
            "device": {"kind": result.device.kind, "devices": list(result.device.devices)}}
    # The measurements first, the model last: an entry counts as stored once its model is.
    store.save_json(store.entry_path("mdn", key, ".json"), meta)
    store.write_atomically(store.entry_path("mdn", key, ".keras"), result.model.save)


def load_result(key: str, validation: str | None = None) -> train.TrainingResult | None:
    """The stored training result for ``key``, or None when there is none; with a
    ``validation`` digest, also None unless its history was scored on those pairs."""
    model_path = store.entry_path("mdn", key, ".keras")
    meta = store.load_json(store.entry_path("mdn", key, ".json"))
    if meta is None or not model_path.is_file():
        return None
    if validation is not None and meta.get("validation") != validation:
        return None
    chosen = device.DeviceChoice(meta["device"]["kind"], tuple(meta["device"]["devices"]))
    return train.TrainingResult(keras.models.load_model(model_path, compile=False), chosen,
                                meta["history"], meta["seconds"], meta["compile_seconds"],
                                meta["step_seconds"])


def trained_mdn(x, y, *, refresh: bool = False, **settings) -> train.TrainingResult:
    """``train.train_mdn(x, y, **settings)``, loaded from the store when it holds that model.

    ``refresh=True`` always trains (and replaces the stored copy). The result's times and
    history are those of the run that trained the model.
    """
    _check_refresh(refresh)
    key = mdn_key(x, y, **settings)
    validation = validation_digest(settings.get("validation_data"))
    stored = None if refresh else load_result(key, validation)
    if stored is not None:
        return stored
    result = train.train_mdn(x, y, **settings)
    save_result(result, key, validation)
    return result


def regressor_key(x, y, **settings) -> str:
    """The store key of the model ``baseline.train_mean_regressor(x, y, **settings)`` would
    train (its settings with defaults filled in; unknown names are refused)."""
    filled = _settings("train_mean_regressor", REGRESSOR_PARAMETERS, settings)
    x, y = paired_data(x, y)
    filled["device_kind"] = device.choose_device(None).kind
    return store.entry_key("regressor", code=["mdn_utils.core.baseline"], settings=filled,
                           arrays=[x, y])


def trained_mean_regressor(x, y, *, refresh: bool = False, **settings) -> keras.Model:
    """``baseline.train_mean_regressor(x, y, **settings)``, loaded from the store when it
    holds that model; ``refresh=True`` always trains (and replaces the stored copy)."""
    _check_refresh(refresh)
    path = store.entry_path("regressor", regressor_key(x, y, **settings), ".keras")
    if path.is_file() and not refresh:
        return keras.models.load_model(path, compile=False)
    regressor = baseline.train_mean_regressor(x, y, **settings)
    store.write_atomically(path, regressor.save)
    return regressor
