import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def gpu_listing(count, real):
    """A stand-in for ``tf.config.list_physical_devices`` that reports ``count`` GPUs and
    asks ``real`` for every other device type.

    Ops still run where TensorFlow can place them (soft placement puts them on the CPU), so
    tests can run as they would on a machine where TensorFlow sees GPUs.
    """
    import tensorflow as tf

    def listed(device_type=None):
        if device_type == "GPU":
            return [tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                    for i in range(count)]
        return real(device_type)

    return listed


# MDN_FAKE_GPUS=n runs the whole suite as if TensorFlow saw n GPUs: no test may assume the CPU.
if os.environ.get("MDN_FAKE_GPUS"):
    import tensorflow as tf

    tf.config.list_physical_devices = gpu_listing(int(os.environ["MDN_FAKE_GPUS"]),
                                                  tf.config.list_physical_devices)


@pytest.fixture
def fake_gpus(monkeypatch):
    """``fake_gpus(n)`` makes TensorFlow report n GPUs for the rest of the test."""
    import tensorflow as tf

    real = tf.config.list_physical_devices
    return lambda count: monkeypatch.setattr(tf.config, "list_physical_devices",
                                             gpu_listing(count, real))


@pytest.fixture
def random_params():
    """Random mixture parameters [batch, K] and targets y [batch], float64."""
    rng = np.random.default_rng(1234)
    batch, k = 64, 5
    return (rng.normal(0, 2, batch), rng.normal(0, 2, (batch, k)),
            rng.normal(0, 3, (batch, k)), rng.normal(0, 0.7, (batch, k)))
