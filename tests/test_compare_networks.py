"""compare.networks: one traced loop per structure, loss and settings, with the weights a
fresh ``loop.make_train_loop`` gives; a non-finite loss raises ``train.NonFiniteLoss``."""
import numpy as np
import pytest

from mdn_utils.compare import BinnedHead, ConditionalSplineFlow, HomoscedasticGaussian, QuantileRegression
from mdn_utils.compare import networks
from mdn_utils.problems.datasets import get_dataset

SMALL = dict(hidden_units=4, hidden_layers=1, steps=20, batch_size=16)


def _weights(model):
    net = model.regressor if isinstance(model, HomoscedasticGaussian) else model.network
    return net.get_weights()


@pytest.mark.parametrize("cls", [BinnedHead, ConditionalSplineFlow, QuantileRegression,
                                 HomoscedasticGaussian])
@pytest.mark.slow
def test_reused_trace_gives_the_weights_of_a_fresh_loop(cls, monkeypatch):
    x, y = get_dataset("bishop").sample(200, seed=0)
    x_other, y_other = get_dataset("bishop").sample(150, seed=1)
    module = __import__(cls.__module__, fromlist=["train_network"])
    fresh_loop = networks.train_network

    def without_key(*args, loss_key=None, **kwargs):   # the loop of make_train_loop
        return fresh_loop(*args, **kwargs)

    monkeypatch.setattr(module, "train_network", without_key)
    before = cls(**SMALL).fit(x, y, seed=3)
    monkeypatch.setattr(module, "train_network", fresh_loop)
    networks._SHARED.clear()
    cls(**SMALL).fit(x_other, y_other, seed=5)     # other data, other size, other seed
    reused = cls(**SMALL).fit(x, y, seed=3)
    (shared,) = networks._SHARED.values()
    (traced,) = shared.run.traced.values()
    assert traced.experimental_get_tracing_count() == 1    # traced once for both
    for a, b in zip(_weights(before), _weights(reused), strict=True):
        np.testing.assert_array_equal(a, b)
    assert reused.mean_training_loss == pytest.approx(before.mean_training_loss, rel=1e-6)
    # and a different seed gives different weights through the same trace
    other_seed = cls(**SMALL).fit(x, y, seed=4)
    assert not np.array_equal(_weights(other_seed)[1], _weights(reused)[1])


@pytest.mark.slow
def test_non_finite_loss_raises_with_its_step():
    """Half the targets are NaN: the first minibatch that draws one has a NaN loss. Both
    loops stop at the same step and raise train.NonFiniteLoss (a FloatingPointError)."""
    from mdn_utils.core.train import NonFiniteLoss
    x = np.linspace(0, 1, 40)[:, None]
    target = np.where(np.arange(40) < 20, 1.0, np.nan)[:, None]
    settings = networks.NetworkSettings(4, 1, "tanh", 20, 8, 1e-3, False)

    def squared_error(t, output):
        return (t[:, 0] - output[:, 0]) ** 2

    steps = []
    for loss_key in (None, "squared_error_nan_test"):
        net = networks.dense_network(x, 1, settings, 0, "nan_head")
        with pytest.raises(NonFiniteLoss) as caught:
            networks.train_network(net, x, target, squared_error, settings, 0,
                                   loss_key=loss_key)
        assert isinstance(caught.value, FloatingPointError)
        steps.append(caught.value.step)
    assert steps[0] == steps[1] >= 0


def test_other_layers_fall_back_to_a_fresh_loop():
    import keras
    x = np.linspace(0, 1, 40)[:, None]
    settings = networks.NetworkSettings(4, 1, "tanh", 5, 8, 1e-3, False)
    plain = networks.dense_network(x, 2, settings, 0, "plain")
    assert networks._structure(plain) is not None
    inputs = keras.Input((1,))
    other = keras.Model(inputs, keras.layers.Dropout(0.1)(keras.layers.Dense(2)(inputs)))
    assert networks._structure(other) is None
