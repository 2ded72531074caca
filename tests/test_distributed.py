"""The several-GPU path (MirroredStrategy) exercised on two logical CPUs.

No GPU is needed: TensorFlow splits the CPU into two logical devices, which must happen
before TensorFlow starts, hence the subprocess.
"""
import json
import subprocess
import sys

import pytest

SCRIPT = r"""
import json
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from mdn_utils.problems import datasets as data
from mdn_utils.core import device, model as mdn_model, train
train.choose_device = lambda requested=None: device.DeviceChoice("cpu", ("/CPU:0", "/CPU:1"))
x, y = data.sample("sinusoid_inverse", 4000, seed=0)
result = train.train_mdn(x, y, num_components=3, hidden_units=16, steps=300, batch_size=128,
                         eval_every=100, progress=False)
print(json.dumps({"replicas": len(result.device.devices),
                  "strategy": type(result.device.strategy()).__name__,
                  "train_nll": result.history["train_nll"],
                  "evaluated": float(-mdn_model.conditional(result.model).log_prob(x, y).mean())}))
"""


@pytest.mark.slow
def test_training_on_two_replicas_with_mirrored_strategy():
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["strategy"] == "MirroredStrategy"
    losses = report["train_nll"]
    assert all(loss == loss for loss in losses) and losses[-1] < losses[0]
    assert abs(report["evaluated"] - losses[-1]) < 0.5
