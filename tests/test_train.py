import keras
import numpy as np
import pytest
import tensorflow as tf

from mdn_utils.problems import datasets as data
from mdn_utils.core import device, losses, model as mdn_model, train
from mdn_utils.core.loop import make_train_loop

X, Y = data.sample("sinusoid_inverse", 2000, seed=0)
SMALL = dict(num_components=3, hidden_units=8, steps=60, batch_size=64, eval_every=30,
             progress=False)


def mean_nll(net, x, y) -> float:
    """Mean -log q(y_i | x_i) of an MDN, as the scores compute it (``model.conditional``)."""
    return float(-np.mean(mdn_model.conditional(net).log_prob(x, y)))


@pytest.mark.parametrize("count, kind, devices", [
    (0, "cpu", ("/CPU:0",)),
    (1, "gpu", ("/GPU:0",)),
    (2, "gpu", ("/GPU:0", "/GPU:1")),
])
def test_device_choice_follows_visible_gpus(monkeypatch, fake_gpus, count, kind, devices):
    monkeypatch.delenv("MDN_DEVICE", raising=False)
    fake_gpus(count)
    choice = device.choose_device()
    assert (choice.kind, choice.devices) == (kind, devices)


def test_several_gpus_use_mirrored_strategy(monkeypatch, fake_gpus):
    monkeypatch.delenv("MDN_DEVICE", raising=False)
    fake_gpus(2)
    choice = device.choose_device()
    assert choice.devices == ("/GPU:0", "/GPU:1")
    # Building the strategy needs real devices; the class it picks is what matters here.
    created = {}
    monkeypatch.setattr(tf.distribute, "MirroredStrategy",
                        lambda devices: created.setdefault("devices", devices))
    choice.strategy()
    assert created["devices"] == ["/GPU:0", "/GPU:1"]


def test_environment_override(monkeypatch, fake_gpus):
    fake_gpus(1)
    monkeypatch.setenv("MDN_DEVICE", "cpu")
    assert device.choose_device().kind == "cpu"
    monkeypatch.setenv("MDN_DEVICE", "gpu")
    assert device.choose_device().kind == "gpu"
    fake_gpus(0)
    with pytest.raises(RuntimeError, match="GPU"):
        device.choose_device()
    monkeypatch.setenv("MDN_DEVICE", "tpu")
    with pytest.raises(ValueError, match="MDN_DEVICE"):
        device.choose_device()


@pytest.mark.slow
def test_training_is_deterministic():
    a = train.train_mdn(X, Y, seed=3, **SMALL)
    b = train.train_mdn(X, Y, seed=3, **SMALL)
    c = train.train_mdn(X, Y, seed=4, **SMALL)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.history == b.history
    assert not np.array_equal(a.model.get_weights()[0], c.model.get_weights()[0])


@pytest.mark.slow
def test_training_lowers_the_loss_and_reports_history():
    result = train.train_mdn(X, Y, validation_data=(X[:500], Y[:500]),
                             **{**SMALL, "steps": 300, "eval_every": 100})
    assert result.history["step"] == [100, 200, 300]
    assert len(result.history["validation_nll"]) == 3
    # Wherever it runs (CPU or GPU), training uses the device choose_device() picks.
    assert result.device == device.choose_device()
    assert 0 < result.compile_seconds and 0 < result.step_seconds
    assert result.compile_seconds + result.step_seconds <= result.seconds
    assert result.steps_per_second == pytest.approx(300 / result.step_seconds)
    assert result.history["train_nll"][-1] < result.history["train_nll"][0]
    start = mdn_model.build_mdn(3, 8, adapt_to=(X, Y))
    assert mean_nll(result.model, X, Y) < mean_nll(start, X, Y)


@pytest.mark.slow
def test_nan_guard_stops_at_a_poisoned_batch_and_keeps_weights_finite():
    # Finite data, but one target so large that (y - mu)^2 overflows float32 to inf:
    # the first minibatch that draws it has an infinite loss.
    net = mdn_model.build_mdn(3, 8, seed=0)
    nll = losses.head_nll(mdn_model.head_layout(net))
    y = Y.copy()
    y[5] = 3e38
    run = make_train_loop(net, keras.optimizers.Adam(1e-3), nll, 64)
    _, bad_step = run(X[:, None], y[:, None], 0, 0, 1000)
    assert 0 <= int(bad_step) < 1000
    assert all(np.all(np.isfinite(w)) for w in net.get_weights())
    clean = make_train_loop(net, keras.optimizers.Adam(1e-3), nll, 64)
    assert int(clean(X[:, None], Y[:, None], 0, 0, 100)[1]) == -1


@pytest.mark.slow
def test_train_mdn_raises_naming_the_step_when_training_diverges():
    with pytest.raises(FloatingPointError, match=r"non-finite at step \d+") as raised:
        train.train_mdn(X, Y, **{**SMALL, "steps": 300, "learning_rate": 1e3})
    assert isinstance(raised.value, train.NonFiniteLoss)
    assert f"at step {raised.value.step};" in str(raised.value)
