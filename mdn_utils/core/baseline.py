"""The squared-error baseline of chapter 1: the MDN's trunk with one output per y column.

    f(x) = y_mean + y_std * (W h + b),   h = the dense trunk of ``model.build_mdn``

(the same layers; the default activation here is tanh, where ``train.train_mdn`` uses gelu).

Minimising E[||y - f(x)||^2] drives f(x) towards the conditional mean E[y | x], which
for a multi-valued inverse problem can lie where no data are.
"""
from __future__ import annotations

import keras
import numpy as np

from mdn_utils import checks
from mdn_utils.core.device import set_seed
from mdn_utils.core.loop import adam_cosine
from mdn_utils.core.model import (check_trunk, column_moments, dense_trunk, glorot_uniform,
                                  paired_data)


def build_mean_regressor(hidden_units: int = 64, hidden_layers: int = 2,
                         activation: str = "tanh", *, adapt_to, seed: int = 0) -> keras.Model:
    """The same trunk with Dy outputs in the units of y; ``adapt_to=(x, y)`` sets the
    Normalization layers and widths from training data."""
    hidden_units, hidden_layers, activation, seed = check_trunk(
        hidden_units, hidden_layers, activation, seed)
    if not isinstance(adapt_to, (tuple, list)) or len(adapt_to) != 2:
        raise TypeError("adapt_to must be a pair (x, y) of training data")
    x_data, y_data = paired_data(*adapt_to, dtype=np.float64)
    y_mean, y_variance = column_moments(y_data, y_data.shape[1])
    x, h = dense_trunk(hidden_units, hidden_layers, activation, x_data, x_data.shape[1], seed)
    # Its own seed stream (offset 100): not hidden_0's (offset 0).
    raw = keras.layers.Dense(y_data.shape[1], kernel_initializer=glorot_uniform(seed, 100),
                             name="raw_y")(h)
    y = keras.layers.Normalization(mean=y_mean, variance=y_variance, invert=True, name="y")(raw)
    return keras.Model(x, y, name="mean_regressor")


def train_mean_regressor(x, y, *, hidden_units: int = 64, hidden_layers: int = 2,
                         epochs: int = 10, batch_size: int = 512, seed: int = 0):
    """Train ``build_mean_regressor`` with the mean squared error by Keras ``fit``.

    Adam, learning rate 3e-3 decayed along a cosine to 1% of it; a few epochs are
    enough. x ``[n]`` or ``[n, Dx]``, y ``[n]`` or ``[n, Dy]``. Returns the ``keras.Model``.
    """
    x, y = paired_data(x, y)
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    hidden_layers = checks.positive_int("hidden_layers", hidden_layers)
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    set_seed(seed)
    regressor = build_mean_regressor(hidden_units, hidden_layers, adapt_to=(x, y), seed=seed)
    total_steps = epochs * -(-len(x) // batch_size)
    regressor.compile(optimizer=adam_cosine(3e-3, total_steps), loss="mse")
    regressor.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
    return regressor
