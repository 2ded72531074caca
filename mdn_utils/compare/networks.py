"""The small networks of the comparison's own methods, and how they are trained.

``dense_network``: the MDN's trunk (``model._trunk``: Normalization of x, then
``hidden_layers`` Dense layers) with a Dense head of ``outputs`` numbers, optionally put in
the units of y by a fixed inverse Normalization (y_mean + y_std * raw). ``train_network``:
the book's compiled loop (``loop.make_train_loop``) with Adam and a learning rate decayed
along a cosine to 1% of its start, as ``train.train_mdn`` does. Quantile regression and the
binned head use both; a new method with its own head needs only its loss.
"""
from __future__ import annotations

import numpy as np

from .. import checks


class NetworkSettings:
    """Checked trunk and training settings shared by the methods' constructors."""

    def __init__(self, hidden_units: int, hidden_layers: int, activation: str, steps: int,
                 batch_size: int, learning_rate: float, jit_compile: bool):
        from ..model import _check_trunk   # names the bad argument; no TensorFlow op
        self.hidden_units, self.hidden_layers, self.activation, _ = _check_trunk(
            hidden_units, hidden_layers, activation, 0)
        self.steps = checks.positive_int("steps", steps)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.learning_rate = checks.positive_float("learning_rate", learning_rate)
        if not isinstance(jit_compile, bool):
            raise TypeError(f"jit_compile must be True or False, got {jit_compile!r}")
        self.jit_compile = jit_compile


def dense_network(x, outputs: int, settings: NetworkSettings, seed: int, name: str,
                  y_units=None):
    """A ``keras.Model`` from x ``[batch, Dx]`` to ``[batch, outputs]``.

    ``x`` (training data) sets the input Normalization; ``y_units`` (training y, or None)
    puts every output in the units of y: y_mean + y_std * raw.
    """
    import keras

    from ..model import _glorot, _moments, _trunk
    inputs, h = _trunk(settings.hidden_units, settings.hidden_layers, settings.activation, x,
                       x.shape[1], seed)
    out = keras.layers.Dense(outputs, kernel_initializer=_glorot(seed, 100), name="raw_" + name)(h)
    if y_units is not None:
        y_mean, y_variance = _moments(np.asarray(y_units, np.float64)[:, None], 1)
        out = keras.layers.Normalization(mean=np.repeat(y_mean, outputs),
                                         variance=np.repeat(y_variance, outputs),
                                         invert=True, name=name)(out)
    return keras.Model(inputs, out, name=name)


def train_network(network, x, target, loss_fn, settings: NetworkSettings, seed: int) -> float:
    """Train ``network`` on (x, target ``[n, T]``) with the per-example ``loss_fn(target_batch,
    output_batch) -> [batch]``; returns the mean loss over all steps. A non-finite loss
    raises ``FloatingPointError`` naming the step."""
    import keras
    import tensorflow as tf

    from ..device import set_seed
    from ..loop import make_train_loop
    set_seed(seed)
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, settings.steps,
                                                      alpha=0.01)
    run = make_train_loop(network, keras.optimizers.Adam(schedule), x.astype(np.float32),
                          np.asarray(target, np.float32), settings.batch_size, seed, loss_fn,
                          jit_compile=settings.jit_compile)
    mean_loss, bad_step = run(tf.constant(0, tf.int64), tf.constant(settings.steps, tf.int64))
    if int(bad_step) >= 0:
        raise FloatingPointError(f"the training loss became non-finite at step "
                                 f"{int(bad_step)}; lower learning_rate")
    return float(mean_loss)
