"""The small networks of the comparison's own methods, and how they are trained.

``dense_network``: the MDN's trunk (``model._trunk``: Normalization of x, then
``hidden_layers`` Dense layers) with a Dense head of ``outputs`` numbers, optionally put in
the units of y by a fixed inverse Normalization (y_mean + y_std * raw). ``train_network``:
the book's compiled loop (the step of ``loop.make_train_loop``) with Adam and a learning
rate decayed along a cosine to 1% of its start, as ``train.train_mdn`` does. Quantile
regression, the binned head, the spline flow and the homoscedastic Gaussian use it; a new
method with its own head needs only its loss.

Reusing the trace. Building and tracing the loop's ``tf.function`` costs about as much as
a thousand of its steps at this size, and ``loop.make_train_loop`` bakes the data, the seed
and the network's Normalization statistics into the graph, so every fit traced its own.
With a ``loss_key``, ``train_network`` keeps one ``_Trainer`` per (network structure,
loss_key, settings): a copy of the network whose Normalization statistics are variables,
one Adam optimizer, and one traced loop that takes the data and the seed as arguments (any
number of pairs: the batch dimension is left open). A fit copies the fresh network's
initial weights and statistics into the copy, zeroes the optimizer's state, runs the
loop, and copies the trained weights back. The arithmetic is the same op for op, so the
weights are those a fresh ``make_train_loop`` gives for the same seed (a test checks they
are equal). Without a ``loss_key``, or for a network with layers other than Dense and
Normalization, each fit traces its own loop as before.
"""
from __future__ import annotations

import json

import numpy as np

from mdn_utils import checks

_TRAINERS: dict = {}   # (structure, loss_key, settings) -> _Trainer


class NetworkSettings:
    """Checked trunk and training settings shared by the methods' constructors."""

    def __init__(self, hidden_units: int, hidden_layers: int, activation: str, steps: int,
                 batch_size: int, learning_rate: float, jit_compile: bool):
        from mdn_utils.core.model import _check_trunk   # names the bad argument; no TensorFlow op
        self.hidden_units, self.hidden_layers, self.activation, _ = _check_trunk(
            hidden_units, hidden_layers, activation, 0)
        self.steps = checks.positive_int("steps", steps)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.learning_rate = checks.positive_float("learning_rate", learning_rate)
        if not isinstance(jit_compile, bool):
            raise TypeError(f"jit_compile must be True or False, got {jit_compile!r}")
        self.jit_compile = jit_compile

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

    from mdn_utils.core.model import _glorot, _moments, _trunk
    inputs, h = _trunk(settings.hidden_units, settings.hidden_layers, settings.activation, x,
                       x.shape[1], seed)
    out = keras.layers.Dense(outputs, kernel_initializer=_glorot(seed, 100), name="raw_" + name)(h)
    if y_units is not None:
        y_mean, y_variance = _moments(np.asarray(y_units, np.float64)[:, None], 1)
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
    import keras
    import tensorflow as tf

    from mdn_utils.core.device import set_seed
    from mdn_utils.core.train import NonFiniteLoss
    set_seed(seed)
    x32, target32 = np.asarray(x, np.float32), np.asarray(target, np.float32)
    structure = None if loss_key is None else _structure(network)
    if structure is None:
        from mdn_utils.core.loop import make_train_loop
        schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate,
                                                          settings.steps, alpha=0.01)
        run = make_train_loop(network, keras.optimizers.Adam(schedule), x32, target32,
                              settings.batch_size, seed, loss_fn,
                              jit_compile=settings.jit_compile)
        mean_loss, bad_step = run(tf.constant(0, tf.int64),
                                  tf.constant(settings.steps, tf.int64))
    else:
        key = (structure, loss_key, settings.training_key(), x32.shape[1], target32.shape[1])
        trainer = _TRAINERS.get(key)
        if trainer is None:
            trainer = _TRAINERS[key] = _Trainer(network, loss_fn, settings, x32.shape[1],
                                                target32.shape[1])
        mean_loss, bad_step = trainer.fit(network, x32, target32, seed)
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


class _Trainer:
    """One traced training loop shared by every fit of one network structure, loss and
    settings (module docstring). ``fit(network, x, target, seed)`` trains ``network``'s
    weights in place and returns (mean_loss, bad_step) as ``loop.make_train_loop``'s run."""

    def __init__(self, network, loss_fn, settings: NetworkSettings, x_width: int,
                 target_width: int):
        import keras
        import tensorflow as tf
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
        self.trainable = [v for s in self.stages if isinstance(s, keras.layers.Layer)
                          for v in s.trainable_variables]
        schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate,
                                                          settings.steps, alpha=0.01)
        self.optimizer = keras.optimizers.Adam(schedule)
        self.optimizer.build(self.trainable)
        batch_size = settings.batch_size
        trainable, optimizer, stages = self.trainable, self.optimizer, self.stages

        def forward(x_batch):
            h = x_batch
            for stage in stages:
                h = stage(h, training=True) if isinstance(stage, keras.layers.Layer) \
                    else stage(h)
            return h

        # loop.make_train_loop's step on one device (replica 0 of 1), with the data and
        # the seed as arguments instead of constants.
        @tf.function(jit_compile=settings.jit_compile, input_signature=[
            tf.TensorSpec([None, x_width], tf.float32),
            tf.TensorSpec([None, target_width], tf.float32),
            tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.int64)])
        def run(x_all, y_all, seed, num_steps):
            size = tf.cast(tf.shape(x_all)[0], tf.int64)

            def step_fn(step):
                key = tf.stack([seed, step])   # make_train_loop's key, one replica
                index = tf.random.stateless_uniform([batch_size], seed=key, maxval=size,
                                                    dtype=tf.int64)
                xb, yb = tf.gather(x_all, index), tf.gather(y_all, index)
                with tf.GradientTape() as tape:
                    total = tf.reduce_sum(loss_fn(yb, forward(xb))) / batch_size
                grads = tape.gradient(total, trainable)
                finite = tf.math.is_finite(total)

                def apply():
                    optimizer.apply_gradients(zip(grads, trainable))
                    return tf.constant(True)

                tf.cond(finite, apply, lambda: tf.constant(False))
                return total, finite

            def body(i, loss_sum, bad_step):
                total, finite = step_fn(i)
                bad_step = tf.where(finite, bad_step, i)
                loss_sum = loss_sum + tf.where(finite, total, 0.0)
                return i + 1, loss_sum, bad_step

            def cond(i, loss_sum, bad_step):
                return tf.logical_and(i < num_steps, bad_step < 0)

            i, loss_sum, bad_step = tf.while_loop(
                cond, body,
                (tf.constant(0, tf.int64), tf.constant(0.0), tf.constant(-1, tf.int64)))
            return loss_sum / tf.cast(tf.maximum(i, 1), tf.float32), bad_step

        self.run = run

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
        mean_loss, bad_step = self.run(tf.constant(x), tf.constant(target),
                                       tf.constant(seed, tf.int64),
                                       tf.constant(self.steps, tf.int64))
        for stage, layer in self._pairs(network):
            if isinstance(stage, keras.layers.Layer):
                for mine, theirs in zip(stage.weights, layer.weights):
                    theirs.assign(mine)
        return mean_loss, bad_step
