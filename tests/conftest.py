import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _fake_gpu_list(count):
    """Make TensorFlow's device discovery report ``count`` GPUs (MDN_FAKE_GPUS=count).

    Ops still run where TensorFlow can place them (soft placement puts them on the CPU),
    so the whole suite can run as it would on a machine where TensorFlow sees GPUs: no
    test may assume the CPU.
    """
    import tensorflow as tf

    real = tf.config.list_physical_devices

    def listed(device_type=None):
        if device_type == "GPU":
            return [tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                    for i in range(count)]
        return real(device_type)

    tf.config.list_physical_devices = listed


if os.environ.get("MDN_FAKE_GPUS"):
    _fake_gpu_list(int(os.environ["MDN_FAKE_GPUS"]))


@pytest.fixture
def random_params():
    """Random mixture parameters [batch, K] and targets y [batch], float64."""
    rng = np.random.default_rng(1234)
    batch, k = 64, 5
    return (rng.normal(0, 2, batch), rng.normal(0, 2, (batch, k)),
            rng.normal(0, 3, (batch, k)), rng.normal(0, 0.7, (batch, k)))
