"""The compiled training loop: many optimiser steps inside one ``tf.function``.

Instead of Keras ``fit`` (one Python round trip per step, plus per-epoch callbacks),
``num_steps`` steps run inside one ``tf.function`` as a ``tf.while_loop``; each step
gathers a minibatch in-graph with indices drawn from a stateless RNG keyed by
(seed, step), so the run is reproducible. A step whose loss is not finite applies no
update and ends the loop. With ``jit_compile`` the loop is compiled with XLA, which
runs more steps per second on one device; ``make bench`` measures by how much.

The data and the seed are arguments of the traced function, not constants baked into
it: one trace serves every fit of the same model with data of the same widths (any
number of rows), which is how ``compare.networks`` trains many small networks with one
trace.

Two optional remedies act inside the step (``train.train_mdn`` documents them): gradient
clipping by the global norm of the gradient summed over replicas, and Gaussian noise on
each minibatch's x and y drawn from the same stateless RNG. Off, the graph is the plain one.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

FINAL_LEARNING_RATE_SHARE = 0.01   # the cosine schedule ends at 1% of its start


def adam_cosine(learning_rate: float, steps: int, weight_decay: float = 0.0):
    """Adam whose learning rate falls along a cosine from ``learning_rate`` to 1% of it
    over ``steps`` steps: lr_t = learning_rate * (0.01 + 0.99 * (1 + cos(pi t / steps)) / 2).

    ``weight_decay`` = lambda > 0 gives AdamW instead (``train.train_mdn`` states its
    rule), with the biases excluded from the decay. The caller checks the arguments.
    """
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps,
                                                      alpha=FINAL_LEARNING_RATE_SHARE)
    if weight_decay > 0:
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=weight_decay)
        optimizer.exclude_from_weight_decay(var_names=["bias"])
        return optimizer
    return keras.optimizers.Adam(schedule)


def make_train_loop(model, optimizer, loss_fn, batch_size: int, *, strategy=None,
                    jit_compile: bool = False, clip_norm: float | None = None,
                    noise_x: float = 0.0, noise_y: float = 0.0):
    """Compile ``run(x, y, seed, first_step, num_steps) -> (mean_loss, bad_step)``.

    ``model``: a callable ``model(x_batch, training=True)`` with ``trainable_variables``
    (a ``keras.Model``, or any object that has both), whose variables were created under
    ``strategy``'s scope. ``loss_fn(y_batch, model(x_batch))`` is the per-example loss
    ``[batch]`` (for an MDN, ``losses.head_nll(layout)``); each step minimises its mean
    over a minibatch of ``batch_size`` rows drawn with replacement.

    ``run`` takes x ``[n, Dx]`` and y ``[n, Dy]`` (float32), the integer ``seed`` of the
    minibatch draws and the step range; it runs up to ``num_steps`` optimiser steps
    in-graph, step indices ``first_step, first_step + 1, ...`` (the RNG key of a step is
    (seed, step), so a run split into several calls draws what one call would). It
    returns the mean loss over the steps run and ``bad_step``: -1, or the index of the
    first step whose loss was not finite (that step applies no update, and the loop stops
    there). One trace per pair of widths (Dx, Dy); the number of rows may change.

    ``clip_norm`` (None: off): the step's gradient g, summed over replicas, is applied as
    g * min(1, clip_norm / norm(g)), norm(g) the L2 norm over all trainable variables.
    It is done here, after the replicas' gradients are summed, not with the optimizer's
    ``global_clipnorm``, which Keras applies to each replica's part before the sum.
    ``noise_x``, ``noise_y`` (0: off): standard deviations of N(0, noise^2) noise added to
    every entry of the minibatch's x and y, fresh at each step, from the stateless RNG keyed
    by (seed, step, replica) like the indices, so a run stays reproducible.
    """
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    per_replica = max(batch_size // replicas, 1)
    global_batch = per_replica * replicas
    with strategy.scope():
        optimizer.build(model.trainable_variables)

    def replica_step(x_all, y_all, seed, step):
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        key = tf.stack([seed, step * replicas + tf.cast(replica, tf.int64)])
        size = tf.cast(tf.shape(x_all)[0], tf.int64)
        index = tf.random.stateless_uniform([per_replica], seed=key, maxval=size,
                                            dtype=tf.int64)
        xb, yb = tf.gather(x_all, index), tf.gather(y_all, index)
        if noise_x > 0:
            xb = xb + noise_x * tf.random.stateless_normal(
                tf.shape(xb), seed=tf.random.experimental.stateless_fold_in(key, 1))
        if noise_y > 0:
            yb = yb + noise_y * tf.random.stateless_normal(
                tf.shape(yb), seed=tf.random.experimental.stateless_fold_in(key, 2))
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(loss_fn(yb, model(xb, training=True))) / global_batch
        grads = tape.gradient(total, model.trainable_variables)
        return total, grads

    def step_fn(x_all, y_all, seed, step):
        total, grads = strategy.run(replica_step, args=(x_all, y_all, seed, step))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, total, axis=None)
        finite = tf.math.is_finite(total)

        if clip_norm is None:
            def apply():
                strategy.run(lambda g: optimizer.apply_gradients(
                    zip(g, model.trainable_variables)), args=(grads,))
                return tf.constant(True)
        else:
            # The norm of the gradient summed over replicas; every replica's part is scaled
            # by the same factor, so their sum is the clipped gradient.
            summed = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in grads]
            scale = clip_norm / tf.maximum(tf.linalg.global_norm(summed), clip_norm)

            def apply():
                strategy.run(lambda g, s: optimizer.apply_gradients(
                    zip([gi * s for gi in g], model.trainable_variables)), args=(grads, scale))
                return tf.constant(True)

        tf.cond(finite, apply, lambda: tf.constant(False))
        return total, finite

    def steps(x_all, y_all, seed, first_step, num_steps):
        def body(i, loss_sum, bad_step):
            total, finite = step_fn(x_all, y_all, seed, first_step + i)
            bad_step = tf.where(finite, bad_step, first_step + i)
            loss_sum = loss_sum + tf.where(finite, total, 0.0)
            return i + 1, loss_sum, bad_step

        def cond(i, loss_sum, bad_step):
            return tf.logical_and(i < num_steps, bad_step < 0)

        i, loss_sum, bad_step = tf.while_loop(
            cond, body, (tf.constant(0, tf.int64), tf.constant(0.0), tf.constant(-1, tf.int64)))
        return loss_sum / tf.cast(tf.maximum(i, 1), tf.float32), bad_step

    traced = {}   # (Dx, Dy) -> the tf.function for data of those widths

    def run(x, y, seed, first_step, num_steps):
        x = tf.cast(x, tf.float32) if tf.is_tensor(x) else tf.constant(np.asarray(x, np.float32))
        y = tf.cast(y, tf.float32) if tf.is_tensor(y) else tf.constant(np.asarray(y, np.float32))
        widths = (int(x.shape[1]), int(y.shape[1]))
        if widths not in traced:
            traced[widths] = tf.function(steps, jit_compile=jit_compile, input_signature=[
                tf.TensorSpec([None, widths[0]], tf.float32),
                tf.TensorSpec([None, widths[1]], tf.float32)]
                + [tf.TensorSpec([], tf.int64)] * 3)
        as_int64 = [tf.cast(value, tf.int64) for value in (seed, first_step, num_steps)]
        return traced[widths](x, y, *as_int64)

    run.traced = traced
    return run
