"""The MDN as a Keras 3 model: a dense trunk and a head of 3K outputs.

    h        = trunk((x - x_mean) / x_std)                 hidden_layers x Dense(hidden_units)
    z        = W_z h + b_z                                 K mixture logits
    mu       = y_mean + y_std (W_mu h + b_mu)              K means
    s        = log(y_std) + W_s h + b_s                    K log-sigmas, sigma = exp(s)

The data scalings are fixed ``Rescaling`` layers, so the network works on unit-scale
numbers while its outputs are in the units of y. Everything is a built-in Keras layer:
the model saves to ``.keras`` and loads back without ``custom_objects``.
"""
from __future__ import annotations

import math

import keras
import numpy as np

from . import checks

OUTPUT_NAMES = ("mixture_logits", "means", "log_sigmas")


def _stats(name, value) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a (mean, std) pair, got {value!r}")
    mean = float(checks.finite_array(f"{name}[0]", value[0], ndim=0))
    std = checks.positive_float(f"{name}[1]", float(checks.finite_array(
        f"{name}[1]", value[1], ndim=0)))
    return mean, std


def data_stats(values) -> tuple[float, float]:
    """(mean, std) of a 1-D sample, for ``build_mdn``'s ``x_stats``/``y_stats``."""
    values = checks.column("values", values)
    return float(values.mean()), float(max(values.std(), 1e-6))


def _check_trunk(hidden_units, hidden_layers, activation, seed):
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    hidden_layers = checks.positive_int("hidden_layers", hidden_layers, minimum=0)
    seed = checks.positive_int("seed", seed, minimum=0)
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a string such as 'tanh', got {activation!r}")
    try:
        keras.activations.get(activation)
    except ValueError:
        raise ValueError(f"activation must name a Keras activation, got {activation!r}") \
            from None
    return hidden_units, hidden_layers, activation, seed


def _glorot(seed, offset):
    return keras.initializers.GlorotUniform(seed=seed * 1000 + offset)


def _trunk(hidden_units, hidden_layers, activation, x_stats, seed):
    """Input x ``[batch, 1]`` and h = the dense trunk applied to (x - x_mean) / x_std."""
    x_mean, x_std = _stats("x_stats", x_stats)
    x = keras.Input(shape=(1,), name="x")
    h = keras.layers.Rescaling(1.0 / x_std, offset=-x_mean / x_std, name="standardize_x")(x)
    for layer in range(hidden_layers):
        h = keras.layers.Dense(hidden_units, activation=activation,
                               kernel_initializer=_glorot(seed, layer), name=f"hidden_{layer}")(h)
    return x, h


def build_mdn(num_components: int = 24, hidden_units: int = 64, hidden_layers: int = 2,
              activation: str = "gelu", x_stats=(0.0, 1.0), y_stats=(0.0, 1.0),
              seed: int = 0) -> keras.Model:
    """A Keras MDN mapping x ``[batch, 1]`` to [logits, means, log_sigmas], each ``[batch, K]``.

    Weights are initialised from ``seed`` (Glorot uniform, one seed per layer).
    """
    num_components = checks.positive_int("num_components", num_components)
    hidden_units, hidden_layers, activation, seed = _check_trunk(
        hidden_units, hidden_layers, activation, seed)
    y_mean, y_std = _stats("y_stats", y_stats)
    x, h = _trunk(hidden_units, hidden_layers, activation, x_stats, seed)
    logits = keras.layers.Dense(num_components, kernel_initializer=_glorot(seed, 100),
                                name="mixture_logits")(h)
    raw_means = keras.layers.Dense(num_components, kernel_initializer=_glorot(seed, 101),
                                   bias_initializer=keras.initializers.RandomUniform(
                                       -1.7, 1.7, seed=seed * 1000 + 102), name="raw_means")(h)
    means = keras.layers.Rescaling(y_std, offset=y_mean, name="means")(raw_means)
    raw_log_sigmas = keras.layers.Dense(num_components, kernel_initializer=_glorot(seed, 103),
                                        name="raw_log_sigmas")(h)
    log_sigmas = keras.layers.Rescaling(1.0, offset=math.log(y_std),
                                        name="log_sigmas")(raw_log_sigmas)
    return keras.Model(x, [logits, means, log_sigmas], name="mdn")


def build_mean_regressor(hidden_units: int = 64, hidden_layers: int = 2,
                         activation: str = "tanh", x_stats=(0.0, 1.0), y_stats=(0.0, 1.0),
                         seed: int = 0) -> keras.Model:
    """The same trunk with one output, y_mean + y_std * (W h + b): a point prediction of y."""
    hidden_units, hidden_layers, activation, seed = _check_trunk(
        hidden_units, hidden_layers, activation, seed)
    y_mean, y_std = _stats("y_stats", y_stats)
    x, h = _trunk(hidden_units, hidden_layers, activation, x_stats, seed)
    raw = keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                             name="raw_y")(h)
    return keras.Model(x, keras.layers.Rescaling(y_std, offset=y_mean, name="y")(raw),
                       name="mean_regressor")


def num_components(model: keras.Model) -> int:
    """K, read from the model's logits output."""
    return int(model.outputs[0].shape[-1])


def predict_params(model: keras.Model, x, batch_size: int = 65_536):
    """Evaluate the model on x (``[n]`` or ``[n, 1]``): NumPy (logits, means, log_sigmas).

    Each is float32 ``[n, K]``. Runs the model directly in large batches (no Keras
    ``predict`` overhead).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    x = checks.column("x", x, dtype=np.float32)[:, None]
    batch_size = checks.positive_int("batch_size", batch_size)
    parts = [model(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
    return tuple(np.concatenate([np.asarray(p[j]) for p in parts]) for j in range(3))
