import numpy as np
import pytest

from mdn_utils.core import trained
from mdn_utils.problems import datasets as data
from mdn_utils.core import train

X, Y = data.sample("sinusoid_inverse", 1000, seed=0)
SMALL = dict(num_components=3, hidden_units=8, steps=40, batch_size=64, eval_every=20,
             progress=False)


@pytest.fixture(autouse=True)
def cache_in_tmp(monkeypatch, tmp_path):
    monkeypatch.setenv("MDN_CACHE_DIR", str(tmp_path))


def test_key_fills_defaults_and_ignores_what_changes_no_weight():
    assert trained.mdn_key(X, Y, seed=0) == trained.mdn_key(X, Y)
    assert trained.mdn_key(X, Y, progress=False) == trained.mdn_key(X, Y)
    assert trained.mdn_key(X, Y, validation_data=(X, Y)) == trained.mdn_key(X, Y)


def test_key_changes_with_settings_and_data():
    base = trained.mdn_key(X, Y)
    assert trained.mdn_key(X, Y, seed=1) != base
    assert trained.mdn_key(X, Y, steps=10) != base
    y = Y.copy()
    y[0] += 1e-3
    assert trained.mdn_key(X, y) != base


@pytest.mark.slow
def test_second_call_loads_the_same_model_and_measurements(monkeypatch):
    first = trained.trained_mdn(X, Y, **SMALL)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the cached model")

    monkeypatch.setattr(train, "train_mdn", no_training)
    second = trained.trained_mdn(X, Y, **SMALL)
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.model(X[:50, None])[1], second.model(X[:50, None])[1])
    assert second.history == first.history
    assert (second.seconds, second.step_seconds) == (first.seconds, first.step_seconds)
    assert second.device == first.device
    with pytest.raises(AssertionError, match="trained again"):
        trained.trained_mdn(X, Y, refresh=True, **SMALL)


def test_bad_settings_are_rejected_before_training():
    with pytest.raises(TypeError, match="unknown train_mdn settings: num_component"):
        trained.mdn_key(X, Y, num_component=3)
    with pytest.raises(TypeError, match="refresh"):
        trained.trained_mdn(X, Y, refresh="yes")
    with pytest.raises(ValueError, match="x"):
        trained.mdn_key(X[:10], Y)


# ------------------------------------------------------------ the squared-error baseline
def test_regressor_key_fills_defaults_and_changes_with_what_changes_weights():
    base = trained.regressor_key(X, Y)
    assert trained.regressor_key(X, Y, epochs=10, seed=0) == base     # the defaults
    assert trained.regressor_key(X, Y, epochs=2) != base
    assert trained.regressor_key(X, Y, seed=1) != base
    assert trained.regressor_key(X, Y + 1) != base


@pytest.mark.slow
def test_second_regressor_call_loads_the_same_model(monkeypatch):
    from mdn_utils.core import baseline
    first = trained.trained_mean_regressor(X, Y, hidden_units=8, epochs=1)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the cached model")

    monkeypatch.setattr(baseline, "train_mean_regressor", no_training)
    second = trained.trained_mean_regressor(X, Y, hidden_units=8, epochs=1)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.predict(X[:50], verbose=0),
                                  second.predict(X[:50], verbose=0))
    with pytest.raises(AssertionError, match="trained again"):
        trained.trained_mean_regressor(X, Y, refresh=True, hidden_units=8, epochs=1)


def test_bad_regressor_settings_are_rejected_before_training():
    with pytest.raises(TypeError, match="unknown train_mean_regressor settings: epoch"):
        trained.trained_mean_regressor(X, Y, epoch=3)
    with pytest.raises(TypeError, match="refresh"):
        trained.trained_mean_regressor(X, Y, refresh=1)


@pytest.mark.slow
def test_a_call_with_validation_pairs_never_gets_a_history_without_them(monkeypatch):
    x_val, y_val = data.sample("sinusoid_inverse", 200, seed=1)
    plain = trained.trained_mdn(X, Y, **SMALL)                   # stored without validation
    assert plain.history["validation_nll"] == []
    with_validation = trained.trained_mdn(X, Y, validation_data=(x_val, y_val), **SMALL)
    assert len(with_validation.history["validation_nll"]) == len(with_validation.history["step"])
    for a, b in zip(plain.model.get_weights(), with_validation.model.get_weights()):
        np.testing.assert_array_equal(a, b)                      # same weights, same key

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the stored model")

    monkeypatch.setattr(train, "train_mdn", no_training)
    # the entry now has the validation history: both kinds of call load it
    assert trained.trained_mdn(X, Y, validation_data=(x_val, y_val), **SMALL).history == \
        with_validation.history
    assert trained.trained_mdn(X, Y, **SMALL).history == with_validation.history
    with pytest.raises(AssertionError, match="trained again"):       # other validation pairs
        trained.trained_mdn(X, Y, validation_data=(x_val[:100], y_val[:100]), **SMALL)
