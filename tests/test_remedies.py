"""The remedies of ``train.train_mdn``: gradient clipping, weight decay, noise regularisation,
a floor on the widths.

Tiny data (a straight line with noise 0.1), tiny nets, few steps: each test checks what
the option does to the weights, not how well it trains. Most runs skip XLA (its compilation
costs about 3 s a run here, against 1 s without it); one run checks that all remedies compile with XLA.
"""
import numpy as np
import pytest
import tensorflow as tf

from mdn_utils.core import device, model as mdn_model, train, trained

RNG = np.random.default_rng(0)
X = RNG.uniform(-1.0, 1.0, 512).astype(np.float32)
Y = (2.0 * X + 0.1 * RNG.standard_normal(512)).astype(np.float32)
SMALL = dict(num_components=2, hidden_units=8, hidden_layers=1, batch_size=64,
             learning_rate=1e-2, progress=False, jit_compile=False)
STEPS = dict(steps=200, eval_every=100)
ONE_STEP = dict(steps=1, eval_every=1)
OFF = dict(clip_norm=None, weight_decay=0.0, noise_x=0.0, noise_y=0.0, min_sigma=None)


def _weights(result):
    return [np.asarray(v) for v in result.model.trainable_variables]


def _names(result):
    return [v.path for v in result.model.trainable_variables]


def _initial_weights():
    device.set_seed(0)
    start = mdn_model.build_mdn(SMALL["num_components"], SMALL["hidden_units"],
                                SMALL["hidden_layers"], adapt_to=(X, Y), seed=0)
    return [np.asarray(v) for v in start.trainable_variables]


def _mean_sigma(result):
    logits, _, log_sigmas = mdn_model.predict_params(result.model, X)
    weights = tf.nn.softmax(logits, axis=-1).numpy()
    return float(np.mean(np.sum(weights * np.exp(log_sigmas), axis=-1)))


def _kernel_norm(result):
    return float(np.sqrt(sum(np.sum(w ** 2) for w, name in zip(_weights(result), _names(result))
                             if "kernel" in name)))


@pytest.fixture(scope="module")
def plain():
    return train.train_mdn(X, Y, **SMALL, **STEPS)


@pytest.fixture(scope="module")
def plain_one_step():
    return train.train_mdn(X, Y, **SMALL, **ONE_STEP)


TINY_CLIP = 1e-8


@pytest.fixture(scope="module")
def tiny_clip_one_step():
    return train.train_mdn(X, Y, **SMALL, **ONE_STEP, clip_norm=TINY_CLIP)


@pytest.mark.slow
def test_defaults_are_the_plain_run(plain):
    explicit = train.train_mdn(X, Y, **SMALL, **STEPS, **OFF)
    for a, b in zip(_weights(plain), _weights(explicit)):
        np.testing.assert_array_equal(a, b)
    assert plain.history == explicit.history


@pytest.mark.slow
def test_tiny_clip_bounds_the_first_update(plain_one_step, tiny_clip_one_step):
    # Keras's Adam moves each weight at its first step by lr * g / (|g| + eps'), with
    # eps' = eps / sqrt(1 - beta_2) = 1e-7 / sqrt(0.001): for a gradient clipped to a norm c
    # far below eps' the step's norm is lr * c / eps', so it measures the clipped norm.
    clip, lr = TINY_CLIP, SMALL["learning_rate"]
    start = _initial_weights()
    clipped = tiny_clip_one_step

    def step_norm(result):
        return np.sqrt(sum(np.sum((w - w0) ** 2) for w, w0 in zip(_weights(result), start)))

    bound = lr * clip * np.sqrt(1 - 0.999) / 1e-7
    # float32 rounds each weight change of about 3e-6 by up to ~1%, hence the tolerance.
    assert 0.95 * bound <= step_norm(clipped) <= 1.05 * bound
    # Unclipped, Adam's first step is about lr per weight: far above that bound.
    assert step_norm(plain_one_step) > 1000 * bound


@pytest.mark.slow
def test_clip_matches_on_a_mirrored_strategy_of_one_replica(monkeypatch, tiny_clip_one_step):
    class MirroredChoice(device.DeviceChoice):
        def strategy(self):
            return tf.distribute.MirroredStrategy(list(self.devices))

    monkeypatch.setattr(train, "choose_device",
                        lambda device=None: MirroredChoice("cpu", ("/CPU:0",)))
    mirrored = train.train_mdn(X, Y, **SMALL, **ONE_STEP, clip_norm=TINY_CLIP)
    assert type(mirrored.device.strategy()).__name__ == "MirroredStrategy"
    for a, b in zip(_weights(tiny_clip_one_step), _weights(mirrored)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


@pytest.mark.slow
def test_weight_decay_shrinks_kernels_only(plain_one_step):
    # AdamW's first step: w <- w - lr * lambda * w, then the same Adam step as without decay.
    decay, lr = 0.5, SMALL["learning_rate"]
    start = _initial_weights()
    decayed = train.train_mdn(X, Y, **SMALL, **ONE_STEP, weight_decay=decay)
    for w, w_plain, w0, name in zip(_weights(decayed), _weights(plain_one_step), start,
                                    _names(decayed)):
        expected = lr * decay * w0 if "kernel" in name else np.zeros_like(w0)
        np.testing.assert_allclose(w_plain - w, expected, atol=1e-6, err_msg=name)


@pytest.mark.slow
def test_weight_decay_gives_smaller_trained_kernels(plain):
    decayed = train.train_mdn(X, Y, **SMALL, **STEPS, weight_decay=1.0)
    assert _kernel_norm(decayed) < 0.9 * _kernel_norm(plain)


@pytest.mark.slow
def test_noise_is_fresh_noise_from_the_seed(plain_one_step):
    noisy = train.train_mdn(X, Y, **SMALL, **ONE_STEP, noise_x=0.3, noise_y=0.3)
    again = train.train_mdn(X, Y, **SMALL, **ONE_STEP, noise_x=0.3, noise_y=0.3)
    for a, b in zip(_weights(noisy), _weights(again)):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(_weights(noisy),
                                                        _weights(plain_one_step)))


@pytest.mark.slow
def test_all_remedies_compile_with_xla_and_noise_on_y_widens_the_mixture(plain):
    # The one XLA run: every remedy on, noise on y large against the data's width 0.1.
    noisy = train.train_mdn(X, Y, **{**SMALL, "jit_compile": True}, **STEPS, clip_norm=1.0,
                            weight_decay=1e-3, noise_x=0.01, noise_y=0.5)
    losses = noisy.history["train_nll"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert all(np.all(np.isfinite(w)) for w in _weights(noisy))
    # Trained on y + N(0, 0.5^2), the conditional width is about sqrt(0.1^2 + 0.5^2) = 0.51
    # (measured 0.53); the plain run, not yet down to 0.1 after 200 steps, has 0.25.
    assert _mean_sigma(noisy) > 0.45 and _mean_sigma(noisy) > 1.5 * _mean_sigma(plain)


@pytest.mark.parametrize("setting, value, error", [
    ("clip_norm", 0.0, ValueError), ("clip_norm", -1.0, ValueError),
    ("clip_norm", float("inf"), ValueError), ("clip_norm", "1", TypeError),
    ("clip_norm", True, TypeError),
    ("weight_decay", -1e-3, ValueError), ("weight_decay", float("nan"), ValueError),
    ("weight_decay", None, TypeError),
    ("noise_x", -0.1, ValueError), ("noise_x", float("inf"), ValueError),
    ("noise_x", [0.1], TypeError),
    ("noise_y", -0.1, ValueError), ("noise_y", "0.1", TypeError),
    ("min_sigma", 0.0, ValueError), ("min_sigma", float("nan"), ValueError),
    ("min_sigma", "0.1", TypeError),
])
def test_bad_remedy_settings_name_the_argument(monkeypatch, setting, value, error):
    # Rejected before TensorFlow does anything: building a model would fail the test.
    monkeypatch.setattr(train, "build_mdn", lambda *a, **k: pytest.fail("reached TF"))
    with pytest.raises(error, match=setting):
        train.train_mdn(X, Y, **SMALL, **ONE_STEP, **{setting: value})


def test_store_key_changes_with_each_remedy():
    base = trained.mdn_key(X, Y, **SMALL)
    assert trained.mdn_key(X, Y, **SMALL, **OFF) == base
    keys = {trained.mdn_key(X, Y, **SMALL, **{name: value})
            for name, value in (("clip_norm", 1.0), ("weight_decay", 1e-4),
                                ("noise_x", 0.1), ("noise_y", 0.1), ("min_sigma", 0.01))}
    assert len(keys) == 5 and base not in keys


@pytest.mark.slow
def test_min_sigma_bounds_every_width_and_trains(plain):
    # Without the floor the plain run's narrowest width at the data is below 0.1 (the
    # noise); a floor of 0.3 keeps every width above 0.3, means and logits still train.
    floor = 0.3
    floored = train.train_mdn(X, Y, **SMALL, **STEPS, min_sigma=floor)
    far = np.linspace(-50.0, 50.0, 101)            # far outside the data as well
    _, _, log_sigmas = mdn_model.predict_params(floored.model, np.concatenate([X, far]))
    assert np.exp(log_sigmas).min() >= floor * (1 - 1e-6)      # up to float32 rounding
    _, _, plain_log_sigmas = mdn_model.predict_params(plain.model, X)
    assert np.exp(plain_log_sigmas).min() < floor
    losses = floored.history["train_nll"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
