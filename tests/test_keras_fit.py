"""The Keras path: compile and fit an MDN with the library's loss, callbacks included."""
import keras
import numpy as np
import pytest

from mdn_utils.core import losses, model as mdn_model

RNG = np.random.default_rng(3)
X = RNG.uniform(-1, 1, (2000, 1)).astype(np.float32)
Y = np.column_stack([np.sin(3 * X[:, 0]), X[:, 0] ** 2]).astype(np.float32)
Y += RNG.normal(0, 0.1, Y.shape).astype(np.float32)


def mean_nll(net, x, y) -> float:
    """Mean -log q(y_i | x_i) of an MDN, as the scores compute it (``model.conditional``)."""
    return float(-np.mean(mdn_model.conditional(net).log_prob(x, y)))


@pytest.mark.parametrize("covariance", ["diag", "full"])
@pytest.mark.slow
def test_compile_fit_with_callbacks_checkpoints_and_early_stopping(tmp_path, covariance):
    keras.utils.set_random_seed(0)
    net = mdn_model.build_mdn(3, 16, covariance=covariance, adapt_to=(X, Y), seed=0)
    layout = mdn_model.head_layout(net)
    net.compile(optimizer=keras.optimizers.Adam(3e-3), loss=losses.MixtureNLL(layout))
    before = mean_nll(net, X[1500:], Y[1500:])
    checkpoint = tmp_path / "best.keras"
    history = net.fit(X[:1500], Y[:1500], validation_data=(X[1500:], Y[1500:]), epochs=30,
                      batch_size=100, verbose=0, callbacks=[
                          keras.callbacks.ModelCheckpoint(checkpoint, save_best_only=True),
                          keras.callbacks.EarlyStopping(patience=0, min_delta=10.0)])
    # EarlyStopping with an unreachable min_delta stops after its first epoch without
    # "improvement", so the run ends long before 30 epochs: the callback ran.
    assert len(history.history["loss"]) == 2
    after = mean_nll(net, X[1500:], Y[1500:])
    assert after < before
    # Keras reports the library's NLL: its validation loss is evaluate_nll on that data.
    assert history.history["val_loss"][-1] == pytest.approx(after, abs=1e-4)
    # The checkpoint is a compiled model that loads without custom_objects.
    loaded = keras.saving.load_model(checkpoint)
    assert isinstance(loaded.loss, losses.MixtureNLL) and loaded.loss.layout == layout
    best = min(history.history["val_loss"])
    assert mean_nll(loaded, X[1500:], Y[1500:]) == pytest.approx(best, abs=1e-4)


def test_one_dimensional_targets_may_be_a_vector():
    net = mdn_model.build_mdn(2, 8, adapt_to=(X, Y[:, 0]), seed=0)
    loss = losses.MixtureNLL(mdn_model.head_layout(net))
    flat = net(X[:50])
    assert float(loss(Y[:50, 0], flat)) == pytest.approx(
        mean_nll(net, X[:50], Y[:50, 0]), abs=1e-5)
