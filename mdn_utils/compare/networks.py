"""The small networks of the comparison's own methods, and how they are trained.

``dense_network``: the MDN's trunk (``model.dense_trunk``: Normalization of x, then
``hidden_layers`` Dense layers) with a Dense head of ``outputs`` numbers, optionally put in
the units of y by a fixed inverse Normalization (y_mean + y_std * raw). ``train_network``:
the book's compiled loop (``loop.make_train_loop``) with ``loop.adam_cosine``, as
``train.train_mdn`` uses them. Quantile regression, the binned head, the spline flow and
the homoscedastic Gaussian use it; a new method with its own head needs only its loss.

Reusing the trace. Building and tracing the loop's ``tf.function`` is costly against the
few steps of a small network's fit. ``make_train_loop`` takes the data and the seed as
arguments, but Keras bakes a network's Normalization statistics into the graph as
constants. With a ``loss_key``, ``train_network`` therefore keeps one ``_SharedNetwork`` per
(network structure, loss_key, settings, widths): a copy of the network whose
Normalization statistics are variables, one optimizer and one loop traced for the copy. A
fit copies the fresh network's initial weights and statistics into the copy, zeroes the
optimizer's state, runs the loop, and copies the trained weights back. The arithmetic is
the same op for op, so the weights are those of a loop made for the network itself (a test
checks they are equal). Without a ``loss_key``, or for a network with layers other than
Dense and Normalization, the loop is made for the network itself.
"""
from __future__ import annotations

import json

import numpy as np

from mdn_utils import checks

_SHARED: dict = {}   # (structure, loss_key, settings, widths) -> _SharedNetwork


class NetworkSettings:
    """Checked trunk and training settings shared by the methods' constructors."""

    def __init__(self, hidden_units: int, hidden_layers: int, activation: str, steps: int,
                 batch_size: int, learning_rate: float, jit_compile: bool):
        from mdn_utils.core.model import check_trunk   # names the bad argument; no TensorFlow op
        self.hidden_units, self.hidden_layers, self.activation, _ = check_trunk(
            hidden_units, hidden_layers, activation, 0)
        self.steps = checks.positive_int("steps", steps)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.learning_rate = checks.positive_float("learning_rate", learning_rate)
        if not isinstance(jit_compile, bool):
            raise TypeError(f"jit_compile must be True or False, got {jit_compile!r}")
        self.jit_compile = jit_compile

    def __repr__(self) -> str:
        return f"NetworkSettings({vars(self)})"

    def training_key(self) -> tuple:
        """What the traced loop depends on (the trunk's shape is in the network's structure)."""
        return (self.steps, self.batch_size, self.learning_rate, self.jit_compile)


def dense_network(x, outputs: int, settings: NetworkSettings, seed: int, name: str,
                  y_units=None):
    """A ``keras.Model`` from x ``[batch, Dx]`` to ``[batch, outputs]``.

    ``x`` (training data) sets the input Normalization; ``y_units`` (training y, or None)
    puts every output in the units of y: y_mean + y_std * raw.
    """
    import keras

    from mdn_utils.core.model import glorot_uniform, column_moments, dense_trunk
    inputs, h = dense_trunk(settings.hidden_units, settings.hidden_layers, settings.activation, x,
                       x.shape[1], seed)
    out = keras.layers.Dense(outputs, kernel_initializer=glorot_uniform(seed, 100), name="raw_" + name)(h)
    if y_units is not None:
        y_mean, y_variance = column_moments(np.asarray(y_units, np.float64)[:, None], 1)
        out = keras.layers.Normalization(mean=np.repeat(y_mean, outputs),
                                         variance=np.repeat(y_variance, outputs),
                                         invert=True, name=name)(out)
    return keras.Model(inputs, out, name=name)


def train_network(network, x, target, loss_fn, settings: NetworkSettings, seed: int,
                  loss_key=None) -> float:
    """Train ``network`` on (x, target ``[n, T]``) with the per-example ``loss_fn(target_batch,
    output_batch) -> [batch]``; returns the mean loss over all steps. A non-finite loss
    raises ``train.NonFiniteLoss`` (a ``FloatingPointError``) carrying the step.

    ``loss_key`` (hashable, or None): names the loss, so that fits with equal keys, the same
    network structure and the same settings share one traced loop (module docstring). Two
    calls with equal keys must pass losses that compute the same thing: the loop keeps the
    first call's ``loss_fn``, so a loss must not close over anything that changes per fit.
    """
    from mdn_utils.core.device import set_seed
    from mdn_utils.core.loop import adam_cosine, make_train_loop
    from mdn_utils.core.train import NonFiniteLoss
    set_seed(seed)
    x32, target32 = np.asarray(x, np.float32), np.asarray(target, np.float32)
    structure = None if loss_key is None else _structure(network)
    if structure is None:
        run = make_train_loop(network, adam_cosine(settings.learning_rate, settings.steps),
                              loss_fn, settings.batch_size, jit_compile=settings.jit_compile)
        mean_loss, bad_step = run(x32, target32, seed, 0, settings.steps)
    else:
        key = (structure, loss_key, settings.training_key(), x32.shape[1], target32.shape[1])
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = _SharedNetwork(network, loss_fn, settings)
        mean_loss, bad_step = shared.fit(network, x32, target32, seed)
    if int(bad_step) >= 0:
        raise NonFiniteLoss(int(bad_step))
    return float(mean_loss)


def _structure(network) -> str | None:
    """The layers of ``network`` as a string (type, width, activation, invert) without the
    weights or the Normalization statistics; None if it holds another kind of layer."""
    import keras
    layers = []
    for layer in network.layers:
        if isinstance(layer, keras.layers.InputLayer):
            layers.append(["input", list(layer.output.shape[1:])])
        elif type(layer) is keras.layers.Dense:
            layers.append(["dense", layer.units, keras.activations.serialize(layer.activation),
                           layer.use_bias])
        elif type(layer) is keras.layers.Normalization and layer.input_mean is not None:
            layers.append(["normalization", bool(layer.invert), list(layer.mean.shape)])
        else:
            return None
    if len(network.inputs) != 1 or len(network.outputs) != 1:
        return None
    return json.dumps(layers, default=str)


class _VariableNormalization:
    """Keras ``Normalization``'s arithmetic with its mean and variance held in variables
    (shape of the layer's broadcast mean), so a traced loop can serve any statistics:
    (x - mean) / max(sqrt(variance), eps), or with ``invert`` mean + x max(sqrt(variance), eps)."""

    def __init__(self, layer):
        import keras
        import tensorflow as tf
        self.invert = bool(layer.invert)
        self.mean = tf.Variable(tf.zeros(layer.mean.shape, layer.mean.dtype), trainable=False)
        self.variance = tf.Variable(tf.ones(layer.variance.shape, layer.variance.dtype),
                                    trainable=False)
        self.epsilon = keras.backend.epsilon()

    def load(self, layer):
        self.mean.assign(layer.mean)
        self.variance.assign(layer.variance)

    def __call__(self, inputs):
        import tensorflow as tf
        scale = tf.maximum(tf.sqrt(self.variance), self.epsilon)
        if self.invert:
            return tf.add(self.mean, tf.multiply(inputs, scale))
        return tf.divide(tf.subtract(inputs, self.mean), scale)


class _SharedNetwork:
    """A stand-in for every network of one structure, with one optimizer and one traced
    loop (module docstring): ``fit(network, x, target, seed)`` trains ``network``'s weights
    in place and returns (mean_loss, bad_step) as ``loop.make_train_loop``'s run does."""

    def __init__(self, network, loss_fn, settings: NetworkSettings):
        import keras

        from mdn_utils.core.loop import adam_cosine, make_train_loop
        self.steps = settings.steps
        self.stages = []         # Dense layers (copies) and _VariableNormalization, in order
        for layer in network.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if isinstance(layer, keras.layers.Dense):
                copy = keras.layers.Dense.from_config(layer.get_config())
                copy.build(layer.input.shape)
                self.stages.append(copy)
            else:
                self.stages.append(_VariableNormalization(layer))
        self.trainable_variables = [v for s in self.stages if isinstance(s, keras.layers.Layer)
                                    for v in s.trainable_variables]
        self.optimizer = adam_cosine(settings.learning_rate, settings.steps)
        self.run = make_train_loop(self, self.optimizer, loss_fn, settings.batch_size,
                                   jit_compile=settings.jit_compile)

    def __call__(self, x_batch, training=False):
        import keras
        h = x_batch
        for stage in self.stages:
            h = stage(h, training=training) if isinstance(stage, keras.layers.Layer) \
                else stage(h)
        return h

    def _pairs(self, network):
        import keras
        layers = [layer for layer in network.layers
                  if not isinstance(layer, keras.layers.InputLayer)]
        return list(zip(self.stages, layers))

    def fit(self, network, x, target, seed):
        import keras
        import tensorflow as tf
        for stage, layer in self._pairs(network):
            if isinstance(stage, keras.layers.Layer):
                for mine, theirs in zip(stage.weights, layer.weights):
                    mine.assign(theirs)
            else:
                stage.load(layer)
        for variable in self.optimizer.variables:      # a fresh Adam: step 0, zero moments
            variable.assign(tf.zeros_like(variable))
        mean_loss, bad_step = self.run(x, target, seed, 0, self.steps)
        for stage, layer in self._pairs(network):
            if isinstance(stage, keras.layers.Layer):
                for mine, theirs in zip(stage.weights, layer.weights):
                    theirs.assign(mine)
        return mean_loss, bad_step
