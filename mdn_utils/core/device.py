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


def choose_device(device: str | None = None) -> DeviceChoice:
    """GPU(s) when ``tf.config.list_physical_devices('GPU')`` finds any, else the CPU.

    ``device`` (the argument of ``train.train_mdn`` of the same name; when it is None, the
    ``MDN_DEVICE`` environment variable) is "auto", "cpu" or "gpu"; "gpu" with no GPU
    visible raises ``RuntimeError``. A value outside these raises ``ValueError`` naming
    ``device`` (or ``MDN_DEVICE``, where the value came from).
    """
    source = "device"
    if device is None:
        device = os.environ.get("MDN_DEVICE", "auto").strip().lower() or "auto"
        source = "MDN_DEVICE"
    checks.one_of(source, device, DEVICE_PREFERENCES)
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise RuntimeError(f"a GPU was requested ({source}='gpu') but TensorFlow sees none; "
                           "install tensorflow[and-cuda] or ask for the CPU (device='cpu' "
                           "or MDN_DEVICE=cpu)")
    if device == "cpu" or not gpus:
        return DeviceChoice("cpu", ("/CPU:0",))
    return DeviceChoice("gpu", tuple(f"/GPU:{i}" for i in range(len(gpus))))


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``)."""
    keras.utils.set_random_seed(checks.positive_int("seed", seed, minimum=0))
