import keras
import numpy as np

from mdn_utils import model as mdn_model


def test_outputs_have_shape_batch_by_k():
    net = mdn_model.build_mdn(num_components=7, hidden_units=16, hidden_layers=3)
    outputs = net(np.zeros((5, 1), np.float32))
    assert [tuple(o.shape) for o in outputs] == [(5, 7)] * 3
    assert mdn_model.num_components(net) == 7
    assert len([l for l in net.layers if l.name.startswith("hidden_")]) == 3


def test_same_seed_same_weights():
    a = mdn_model.build_mdn(seed=5)
    b = mdn_model.build_mdn(seed=5)
    c = mdn_model.build_mdn(seed=6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_save_and_load_without_custom_objects(tmp_path):
    net = mdn_model.build_mdn(num_components=4, x_stats=(1.0, 3.0), y_stats=(-2.0, 5.0), seed=2)
    path = tmp_path / "mdn.keras"
    net.save(path)
    loaded = keras.saving.load_model(path)
    x = np.linspace(-10, 10, 50)
    for before, after in zip(mdn_model.predict_params(net, x), mdn_model.predict_params(loaded, x)):
        np.testing.assert_array_equal(before, after)


def test_output_scaling_puts_means_in_units_of_y():
    net = mdn_model.build_mdn(y_stats=(100.0, 10.0), seed=0)
    _, means, log_sigmas = mdn_model.predict_params(net, [0.0])
    assert 50 < means.mean() < 150
    assert abs(log_sigmas.mean() - np.log(10.0)) < 1.0
