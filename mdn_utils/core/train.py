"""Training an MDN: ``train_mdn`` builds the model for (x, y) and runs the compiled loop.

Minimises the mean log-space NLL (``losses.head_nll``) with Adam and a cosine-decayed
learning rate, ``eval_every`` steps per call of the compiled loop (``loop.make_train_loop``,
with XLA on a single device), on the device ``device.choose_device`` picks. A step whose
loss is not finite applies no update and ``train_mdn`` raises ``NonFiniteLoss`` (a
``FloatingPointError``) naming it. x is ``[n, Dx]`` and y ``[n, Dy]`` (1-D arrays mean width 1). Four remedies
for training failures are options, off by default: gradient clipping (``clip_norm``),
decoupled weight decay (``weight_decay``, AdamW), noise regularisation (``noise_x``,
``noise_y``) and a floor on the widths (``min_sigma``).

Keras users can train the same model with ``compile``/``fit`` instead (callbacks,
checkpoints, early stopping)::

    net = model.build_mdn(adapt_to=(x, y), covariance="full")
    net.compile(optimizer="adam", loss=losses.MixtureNLL(model.head_layout(net)))
    net.fit(x, y, ...)
"""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from mdn_utils import checks
from mdn_utils.core.device import DeviceChoice, choose_device, set_seed
from mdn_utils.core.loop import adam_cosine, make_train_loop
from mdn_utils.core.losses import LOSSES, head_nll, mixture_nll
from mdn_utils.core.model import (FOURIER_SCALE, build_mdn, check_fourier, head_layout,
                                  paired_data, predict_mixture)
from mdn_utils.core.params import COVARIANCES


class NonFiniteLoss(FloatingPointError):
    """The training loss was not finite at step ``step``; the model keeps the weights of
    the step before."""

    def __init__(self, step: int):
        self.step = step
        super().__init__(f"training loss became non-finite at step {step}; the model keeps "
                         "the weights of the step before. Check the data for extreme values "
                         "or lower learning_rate")


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


def train_mdn(x, y, *, num_components: int = 24, hidden_units: int = 64,
              hidden_layers: int = 2, activation: str = "gelu", steps: int = 40_000,
              batch_size: int = 512, learning_rate: float = 3e-3, seed: int = 0,
              validation_data=None, eval_every: int = 1_000, progress: bool = True,
              device: str | None = None, loss: str = "log_space",
              covariance: str = "diag", jit_compile: bool | None = None,
              clip_norm: float | None = None, weight_decay: float = 0.0,
              noise_x: float = 0.0, noise_y: float = 0.0,
              min_sigma: float | None = None, fourier_features: int = 0,
              fourier_kind: str = "ladder", fourier_scale: float = FOURIER_SCALE
              ) -> TrainingResult:
    """Build an MDN for (x, y) and train it; returns model, device and history.

    Adam with learning rate ``learning_rate`` decayed along a cosine to 1% of it over
    ``steps``. Every ``eval_every`` steps the history records the step, the mean
    minibatch NLL since the last record and, when ``validation_data=(x_val, y_val)`` is
    given, the validation NLL. ``covariance`` is "diag" or "full" (the components'
    covariance, ``params.HeadLayout``). Same seed, same machine: the same weights.
    ``jit_compile`` (default: on for a single device) compiles the loop with XLA.
    ``fourier_features``, ``fourier_kind``, ``fourier_scale``: an input encoding of x, off
    by default (``model.build_mdn``, ``model.FourierFeatures``).

    Remedies, all off by default (off, training is exactly as without them):

    - ``clip_norm``: each step applies g * min(1, clip_norm / norm(g)) instead of the
      minibatch gradient g, norm(g) its L2 norm over all trainable weights together
      (global-norm clipping), taken after the replicas' gradients are summed.
    - ``weight_decay`` = lambda > 0: AdamW (Loshchilov & Hutter 2019,
      https://arxiv.org/abs/1711.05101) as Keras implements it: before each Adam update,
      w <- w - lr_t * lambda * w, lr_t the scheduled learning rate (the paper scales its
      lambda by the schedule's multiplier only: its lambda is this one times
      ``learning_rate``). Only the Dense kernels decay; the biases (they hold the means'
      initial spread and the base log-sigmas) are excluded, and the Normalization
      statistics are not trainable.
    - ``noise_x``, ``noise_y``: noise regularisation (Rothfuss et al. 2019, "Noise
      Regularization for Conditional Density Estimation", https://arxiv.org/abs/1907.08982;
      random perturbations of the training data that act as a smoothness regulariser).
      Each step trains on (x + noise_x * e, y + noise_y * e'), e and e' standard normal,
      fresh for every minibatch entry at every step, so in expectation the NLL of the data
      smoothed by a Gaussian kernel is minimised. The widths are in the units of x and y.
      The authors' TensorFlow code
      (https://github.com/freelunchtheorem/Conditional_Density_Estimation,
      ``BaseNNEstimator._build_input_layers``) adds the noise to the standardised data, so
      their widths are in standard deviations (pass noise_x = h * std(x) for their h); their
      experiment scripts try fixed widths 0.1, 0.2, 0.4 and the rule h = c * n ** (-1 / (4 + d)),
      d = dim x + dim y, with c = 1, 0.7, 0.5 (``rule_of_thumb_noise``).
    - ``min_sigma``: a lower bound on every component's width, in the units of y
      (``model.SigmaFloor``: sigma = min_sigma + exp(s)), so the likelihood cannot grow
      without bound on a component that narrows onto one training point.
    """
    x, y = paired_data(x, y)
    steps = checks.positive_int("steps", steps)
    batch_size = checks.positive_int("batch_size", batch_size)
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    eval_every = checks.positive_int("eval_every", eval_every)
    seed = checks.positive_int("seed", seed, minimum=0)
    checks.one_of("loss", loss, LOSSES)
    checks.one_of("covariance", covariance, COVARIANCES)
    if loss == "naive" and y.shape[1] != 1:
        raise ValueError(f"loss='naive' is written for a 1-D y, got y with {y.shape[1]} "
                         "columns; use 'log_space'")
    if clip_norm is not None:
        clip_norm = checks.positive_float("clip_norm", clip_norm)
    weight_decay = _non_negative_float("weight_decay", weight_decay)
    noise_x = _non_negative_float("noise_x", noise_x)
    noise_y = _non_negative_float("noise_y", noise_y)
    if min_sigma is not None:
        min_sigma = checks.positive_float("min_sigma", min_sigma)
    fourier_features, fourier_kind, fourier_scale = check_fourier(
        fourier_features, fourier_kind, fourier_scale)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (x_val, y_val)")
        x_val, y_val = paired_data(*validation_data)
        for name, fitted, held_out in (("x", x, x_val), ("y", y, y_val)):
            if held_out.shape[1] != fitted.shape[1]:
                raise ValueError(f"validation_data's {name} must have {fitted.shape[1]} "
                                 f"columns like {name}, got {held_out.shape[1]}")
    chosen = choose_device(device)
    strategy = chosen.strategy()
    if jit_compile is None:
        jit_compile = len(chosen.devices) == 1
    if not isinstance(jit_compile, bool):
        raise TypeError(f"jit_compile must be True, False or None, got {jit_compile!r}")

    set_seed(seed)
    with strategy.scope():
        model = build_mdn(num_components, hidden_units, hidden_layers, activation,
                          covariance=covariance, adapt_to=(x, y), seed=seed,
                          min_sigma=min_sigma, fourier_features=fourier_features,
                          fourier_kind=fourier_kind, fourier_scale=fourier_scale)
        optimizer = adam_cosine(learning_rate, steps, weight_decay)
    loss_fn = head_nll(head_layout(model), loss)
    run = make_train_loop(model, optimizer, loss_fn, batch_size, strategy=strategy,
                          jit_compile=jit_compile, clip_norm=clip_norm, noise_x=noise_x,
                          noise_y=noise_y)
    x, y = tf.constant(x), tf.constant(y)

    result = TrainingResult(model, chosen)
    bar = _progress_bar(steps, progress)
    start = time.perf_counter()
    # A call with zero steps traces and compiles the loop and changes nothing, so the
    # compilation is timed apart from the steps.
    run(x, y, seed, 0, 0)[1].numpy()
    result.compile_seconds = time.perf_counter() - start
    done = 0
    try:
        while done < steps:
            chunk = min(eval_every, steps - done)
            chunk_start = time.perf_counter()
            mean_loss, bad_step = run(x, y, seed, done, chunk)
            bad_step = int(bad_step)   # waits for the steps to finish
            result.step_seconds += time.perf_counter() - chunk_start
            if bad_step >= 0:
                raise NonFiniteLoss(bad_step)
            done += chunk
            result.history["step"].append(done)
            result.history["train_nll"].append(float(mean_loss))
            if validation_data is not None:
                result.history["validation_nll"].append(
                    float(np.mean(mixture_nll(y_val, predict_mixture(model, x_val)))))
            bar.update(chunk)
            bar.set_postfix(nll=f"{float(mean_loss):.4f}")
    finally:
        bar.close()
    result.seconds = time.perf_counter() - start
    return result


def rule_of_thumb_noise(x, y, c: float = 1.0) -> dict[str, float]:
    """Noise widths h = c n^(-1 / (4 + d)) in standard deviations of the data, d = 2 for one
    column of x and one of y, n pairs, as ``train_mdn``'s noise_x and noise_y in the units of
    x and y: h std(x) and h std(y). This is the rule of thumb in the code of Rothfuss et al.
    (2019) (``BaseNNEstimator._compute_noise_intensity`` of
    https://github.com/freelunchtheorem/Conditional_Density_Estimation: one h for x and y,
    d = dim(x) + dim(y), added after the optional standardisation of the data; its
    noise-schedule experiment tries c = 1, 0.7 and 0.5)."""
    x, y = checks.paired_columns(x, y)
    c = checks.positive_float("c", c)
    h = c * len(x) ** (-1.0 / (4 + 2))
    return {"noise_x": float(h * x.std()), "noise_y": float(h * y.std())}


def _non_negative_float(name, value) -> float:
    """``value`` as a float, requiring a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)


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
