"""Where and how reproducibly the computation runs: device choice and seeding.

``choose_device`` uses TensorFlow's own device discovery. One GPU visible: the GPU;
several: all of them through ``tf.distribute.MirroredStrategy`` (each replica takes
batch_size / replicas examples, gradients are summed across replicas); none: the CPU.
``MDN_DEVICE=cpu|gpu`` overrides the automatic choice.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import keras
import tensorflow as tf

from mdn_utils import checks

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
