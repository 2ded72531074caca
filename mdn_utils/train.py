"""Seeding, device choice and a fast, guarded training loop for the MDN.

Minimises the mean log-space NLL (``losses.log_space_nll``) with Adam and a cosine-decayed
learning rate. Instead of Keras ``fit`` (one Python round trip per step, plus per-epoch
callbacks), ``eval_every`` steps run inside one ``tf.function`` as a ``tf.while_loop``;
each step gathers a minibatch in-graph with indices drawn from a stateless RNG keyed by
(seed, step), so the run is reproducible. A step whose loss is not finite applies no
update, ends the loop, and ``train_mdn`` raises ``FloatingPointError`` naming that step.

On a single device the loop is also compiled with XLA (``jit_compile``), which runs
more steps per second; ``make bench`` measures by how much.

Device: ``choose_device`` uses TensorFlow's own device discovery. One GPU visible: the
GPU; several: all of them through ``tf.distribute.MirroredStrategy`` (each replica
takes batch_size / replicas examples, gradients are summed across replicas); none: the
CPU. ``MDN_DEVICE=cpu|gpu`` overrides the automatic choice.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from . import checks
from .losses import LOSSES, log_space_nll_unchecked
from .model import build_mdn, build_mean_regressor, data_stats, predict_params

DEVICE_PREFERENCES = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class DeviceChoice:
    """Where training runs: ``kind`` is "cpu" or "gpu"; ``devices`` are TF device names."""

    kind: str
    devices: tuple[str, ...]

    def strategy(self) -> tf.distribute.Strategy:
        if len(self.devices) == 1:
            return tf.distribute.OneDeviceStrategy(self.devices[0])
        return tf.distribute.MirroredStrategy(list(self.devices))

    def __str__(self) -> str:
        return f"{self.kind.upper()} ({', '.join(self.devices)})"


def choose_device(preference: str | None = None) -> DeviceChoice:
    """GPU(s) when ``tf.config.list_physical_devices('GPU')`` finds any, else the CPU.

    ``preference`` (or, when it is None, the ``MDN_DEVICE`` environment variable) is
    "auto", "cpu" or "gpu"; "gpu" with no GPU visible raises ``RuntimeError``.
    """
    if preference is None:
        preference = os.environ.get("MDN_DEVICE", "auto").strip().lower() or "auto"
        checks.one_of("MDN_DEVICE", preference, DEVICE_PREFERENCES)
    checks.one_of("preference", preference, DEVICE_PREFERENCES)
    gpus = tf.config.list_physical_devices("GPU")
    if preference == "gpu" and not gpus:
        raise RuntimeError("a GPU was requested (MDN_DEVICE=gpu) but TensorFlow sees none; "
                           "install tensorflow[and-cuda] or use MDN_DEVICE=cpu")
    if preference == "cpu" or not gpus:
        return DeviceChoice("cpu", ("/CPU:0",))
    return DeviceChoice("gpu", tuple(f"/GPU:{i}" for i in range(len(gpus))))


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``)."""
    keras.utils.set_random_seed(checks.positive_int("seed", seed, minimum=0))


@dataclass
class TrainingResult:
    """What ``train_mdn`` returns. ``history`` has one entry per evaluation."""

    model: keras.Model
    device: DeviceChoice
    history: dict = field(default_factory=lambda: {"step": [], "train_nll": [],
                                                   "validation_nll": []})
    seconds: float = 0.0            # wall time of the whole call
    compile_seconds: float = 0.0    # tracing and (XLA) compilation of the loop
    step_seconds: float = 0.0       # optimiser steps only: no compilation, no validation

    @property
    def steps_per_second(self) -> float:
        """Training rate: optimiser steps per second of ``step_seconds``."""
        return self.history["step"][-1] / self.step_seconds if self.step_seconds else float("nan")


def evaluate_nll(model: keras.Model, x, y) -> float:
    """Mean log-space NLL of the model on (x, y), in nats."""
    y = checks.column("y", y, dtype=np.float32)
    logits, means, log_sigmas = predict_params(model, x)
    checks.same_length(x=logits, y=y)
    return float(tf.reduce_mean(log_space_nll_unchecked(
        tf.constant(y[:, None]), logits, means, log_sigmas)))


def make_train_loop(model, optimizer, x, y, batch_size, seed, strategy=None,
                    loss="log_space", jit_compile=False):
    """Compile ``run(first_step, num_steps) -> (mean_loss, bad_step)``.

    Runs up to ``num_steps`` optimiser steps in-graph; ``bad_step`` is -1, or the index
    of the first step whose loss was not finite (that step applies no update, and the
    loop stops there). Variables must have been created under ``strategy``'s scope.
    """
    strategy = strategy or tf.distribute.get_strategy()
    loss_fn = LOSSES[loss]
    replicas = strategy.num_replicas_in_sync
    per_replica = max(batch_size // replicas, 1)
    global_batch = per_replica * replicas
    x_all = tf.constant(np.asarray(x, np.float32).reshape(-1, 1))
    y_all = tf.constant(np.asarray(y, np.float32).reshape(-1, 1))
    size = int(x_all.shape[0])
    with strategy.scope():
        optimizer.build(model.trainable_variables)

    def replica_step(step):
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        key = tf.stack([tf.cast(seed, tf.int64), step * replicas + tf.cast(replica, tf.int64)])
        index = tf.random.stateless_uniform([per_replica], seed=key, maxval=size,
                                            dtype=tf.int64)
        xb, yb = tf.gather(x_all, index), tf.gather(y_all, index)
        with tf.GradientTape() as tape:
            logits, means, log_sigmas = model(xb, training=True)
            total = tf.reduce_sum(loss_fn(yb, logits, means, log_sigmas)) / global_batch
        grads = tape.gradient(total, model.trainable_variables)
        return total, grads

    def step_fn(step):
        total, grads = strategy.run(replica_step, args=(step,))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, total, axis=None)
        finite = tf.math.is_finite(total)

        def apply():
            strategy.run(lambda g: optimizer.apply_gradients(
                zip(g, model.trainable_variables)), args=(grads,))
            return tf.constant(True)

        tf.cond(finite, apply, lambda: tf.constant(False))
        return total, finite

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def run(first_step, num_steps):
        first_step = tf.cast(first_step, tf.int64)
        num_steps = tf.cast(num_steps, tf.int64)

        def body(i, loss_sum, bad_step):
            total, finite = step_fn(first_step + i)
            bad_step = tf.where(finite, bad_step, first_step + i)
            loss_sum = loss_sum + tf.where(finite, total, 0.0)
            return i + 1, loss_sum, bad_step

        def cond(i, loss_sum, bad_step):
            return tf.logical_and(i < num_steps, bad_step < 0)

        i, loss_sum, bad_step = tf.while_loop(
            cond, body, (tf.constant(0, tf.int64), tf.constant(0.0), tf.constant(-1, tf.int64)))
        return loss_sum / tf.cast(tf.maximum(i, 1), tf.float32), bad_step

    return run


def train_mdn(x, y, *, num_components: int = 24, hidden_units: int = 64,
              hidden_layers: int = 2, activation: str = "gelu", steps: int = 40_000,
              batch_size: int = 512, learning_rate: float = 3e-3, seed: int = 0,
              validation_data=None, eval_every: int = 1_000, progress: bool = True,
              device: str | None = None, loss: str = "log_space",
              jit_compile: bool | None = None) -> TrainingResult:
    """Build an MDN for (x, y) and train it; returns model, device and history.

    Adam with learning rate ``learning_rate`` decayed along a cosine to 1% of it over
    ``steps``. Every ``eval_every`` steps the history records the step, the mean
    minibatch NLL since the last record and, when ``validation_data=(x_val, y_val)`` is
    given, the validation NLL. Same seed, same machine: the same weights.
    ``jit_compile`` (default: on for a single device) compiles the loop with XLA.
    """
    x, y = checks.paired_columns(x, y, dtype=np.float32)
    steps = checks.positive_int("steps", steps)
    batch_size = checks.positive_int("batch_size", batch_size)
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    eval_every = checks.positive_int("eval_every", eval_every)
    seed = checks.positive_int("seed", seed, minimum=0)
    checks.one_of("loss", loss, LOSSES)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (x_val, y_val)")
        x_val = checks.column("validation_data[0]", validation_data[0], dtype=np.float32)
        y_val = checks.column("validation_data[1]", validation_data[1], dtype=np.float32)
        checks.same_length(x_val=x_val, y_val=y_val)
    chosen = choose_device(device)
    strategy = chosen.strategy()
    if jit_compile is None:
        jit_compile = len(chosen.devices) == 1
    if not isinstance(jit_compile, bool):
        raise TypeError(f"jit_compile must be True, False or None, got {jit_compile!r}")

    set_seed(seed)
    with strategy.scope():
        model = build_mdn(num_components, hidden_units, hidden_layers, activation,
                          x_stats=data_stats(x), y_stats=data_stats(y), seed=seed)
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
        optimizer = keras.optimizers.Adam(schedule)
    run = make_train_loop(model, optimizer, x, y, batch_size, seed, strategy, loss, jit_compile)

    result = TrainingResult(model, chosen)
    bar = _progress_bar(steps, progress)
    start = time.perf_counter()
    # A call with zero steps traces and compiles the loop and changes nothing, so the
    # compilation is timed apart from the steps.
    run(tf.constant(0, tf.int64), tf.constant(0, tf.int64))[1].numpy()
    result.compile_seconds = time.perf_counter() - start
    done = 0
    try:
        while done < steps:
            chunk = min(eval_every, steps - done)
            chunk_start = time.perf_counter()
            # Tensors, not Python ints: a new Python value would retrace the function.
            mean_loss, bad_step = run(tf.constant(done, tf.int64), tf.constant(chunk, tf.int64))
            bad_step = int(bad_step)   # waits for the steps to finish
            result.step_seconds += time.perf_counter() - chunk_start
            if bad_step >= 0:
                raise FloatingPointError(
                    f"training loss became non-finite at step {bad_step}; the model "
                    "keeps the weights of the step before. Check the data for extreme "
                    "values or lower learning_rate")
            done += chunk
            result.history["step"].append(done)
            result.history["train_nll"].append(float(mean_loss))
            if validation_data is not None:
                result.history["validation_nll"].append(evaluate_nll(model, x_val, y_val))
            bar.update(chunk)
            bar.set_postfix(nll=f"{float(mean_loss):.4f}")
    finally:
        bar.close()
    result.seconds = time.perf_counter() - start
    return result


def train_mean_regressor(x, y, *, hidden_units: int = 64, hidden_layers: int = 2,
                         epochs: int = 10, batch_size: int = 512, seed: int = 0):
    """The baseline of chapter 1: a dense network trained with the mean squared error.

    Minimising E[(y - f(x))^2] drives f(x) towards the conditional mean E[y | x]. Uses
    Keras ``fit`` (a few epochs are enough); returns the trained ``keras.Model``.
    """
    x, y = checks.paired_columns(x, y, dtype=np.float32)
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    hidden_layers = checks.positive_int("hidden_layers", hidden_layers)
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    set_seed(seed)
    regressor = build_mean_regressor(hidden_units, hidden_layers, x_stats=data_stats(x),
                                     y_stats=data_stats(y), seed=seed)
    total_steps = epochs * -(-len(x) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, total_steps, alpha=0.01)
    regressor.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    regressor.fit(x[:, None], y[:, None], epochs=epochs, batch_size=batch_size, verbose=0,
                  shuffle=True)
    return regressor


class _NoBar:
    def update(self, n):
        pass

    def set_postfix(self, **kwargs):
        pass

    def close(self):
        pass


def _progress_bar(total, enabled):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="training", unit="step")
