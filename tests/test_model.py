import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from mdn_utils.core import mixture
from mdn_utils.core import baseline, model as mdn_model
from mdn_utils.core.params import HeadLayout, scale_tril_from_raw, triangle_index

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("y_dim, covariance, scale_size", [
    (1, "diag", 1), (1, "full", 1), (3, "diag", 3), (3, "full", 6)])
def test_flat_output_has_the_layouts_width(y_dim, covariance, scale_size):
    net = mdn_model.build_mdn(num_components=7, hidden_units=16, hidden_layers=3,
                              covariance=covariance, x_dim=2, y_dim=y_dim)
    out = net(np.zeros((5, 2), np.float32))
    assert tuple(out.shape) == (5, 7 * (1 + y_dim + scale_size))
    assert mdn_model.head_layout(net) == HeadLayout(7, y_dim, covariance)
    # the layout is in the output layer's config, not in a layer name
    config = net.get_layer("mixture_params").get_config()
    assert (config["num_components"], config["dim"], config["covariance"]) == \
        (7, y_dim, covariance)
    assert len([layer for layer in net.layers if layer.name.startswith("hidden_")]) == 3


def test_means_start_spread_and_other_biases_at_zero():
    bias = mdn_model.build_mdn(num_components=5, y_dim=2, seed=3).get_layer("head").bias.numpy()
    means = bias[5:15]
    assert np.all(bias[:5] == 0) and np.all(bias[15:] == 0)
    assert np.all(np.abs(means) <= 1.7) and means.std() > 0.5


def test_one_dimensional_head_is_logits_means_log_sigmas_side_by_side():
    net = mdn_model.build_mdn(num_components=4, seed=1)
    flat = mdn_model.predict_flat(net, [0.3, -1.0])
    logits, means, log_sigmas = mdn_model.predict_params(net, [0.3, -1.0])
    np.testing.assert_array_equal(np.concatenate([logits, means, log_sigmas], axis=1), flat)
    params = mdn_model.predict_mixture(net, [0.3, -1.0])
    np.testing.assert_array_equal(params.locs[..., 0], means)
    np.testing.assert_array_equal(params.log_sigmas[..., 0], log_sigmas)


def test_same_seed_same_weights():
    a, b, c = (mdn_model.build_mdn(seed=s) for s in (5, 5, 6))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_baseline_output_layer_does_not_share_hidden_0s_random_stream():
    x, y = RNG.normal(size=(100, 1)), RNG.normal(size=(100, 1))
    net = baseline.build_mean_regressor(hidden_units=1, hidden_layers=1, adapt_to=(x, y))
    hidden = net.get_layer("hidden_0").kernel.numpy()     # [1, 1]
    output = net.get_layer("raw_y").kernel.numpy()        # [1, 1]: same shape, same fan
    assert hidden.shape == output.shape and not np.array_equal(hidden, output)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_save_and_load_without_custom_objects(tmp_path, covariance):
    x, y = RNG.normal(3, 2, (200, 2)), RNG.normal(-2, 5, (200, 2))
    net = mdn_model.build_mdn(num_components=4, covariance=covariance, adapt_to=(x, y), seed=2)
    net.save(tmp_path / "mdn.keras")
    loaded = keras.saving.load_model(tmp_path / "mdn.keras")
    np.testing.assert_array_equal(mdn_model.predict_flat(net, x), mdn_model.predict_flat(loaded, x))
    assert mdn_model.head_layout(loaded) == mdn_model.head_layout(net)


@pytest.mark.parametrize("covariance", ["diag", "full"])
def test_sigma_floor_adds_min_sigma_to_the_widths_only(tmp_path, covariance):
    # The floored model is the unfloored one with each width sigma -> min_sigma + sigma
    # (diag: sigma_kd; full: L_dd), everything else unchanged, and it saves and loads.
    x, y = RNG.normal(3, 2, (200, 2)), RNG.normal(-2, 5, (200, 2))
    plain = mdn_model.build_mdn(num_components=3, covariance=covariance, adapt_to=(x, y), seed=4)
    floored = mdn_model.build_mdn(num_components=3, covariance=covariance, adapt_to=(x, y),
                                  seed=4, min_sigma=0.25)
    layout = mdn_model.head_layout(floored)
    assert layout == mdn_model.head_layout(plain)
    a, b = (mdn_model.predict_flat(m, x).astype(np.float64) for m in (plain, floored))
    k, d = layout.num_components, layout.dim
    scale_a, scale_b = (flat[:, k * (1 + d):].reshape(len(x), k, -1) for flat in (a, b))
    diagonal = [triangle_index(2)[i, i] for i in range(2)] if covariance == "full" else [0, 1]
    np.testing.assert_allclose(b[:, :k * (1 + d)], a[:, :k * (1 + d)])
    np.testing.assert_allclose(np.exp(scale_b[..., diagonal]), 0.25 + np.exp(scale_a[..., diagonal]),
                               rtol=1e-5)
    if covariance == "full":
        off = triangle_index(2)[1, 0]
        np.testing.assert_allclose(scale_b[..., off], scale_a[..., off])
    floored.save(tmp_path / "floored.keras")
    loaded = keras.saving.load_model(tmp_path / "floored.keras")
    np.testing.assert_array_equal(mdn_model.predict_flat(loaded, x), mdn_model.predict_flat(floored, x))


@pytest.mark.parametrize("value, error", [(0.0, ValueError), (-1.0, ValueError),
                                          (float("inf"), ValueError), ("0.1", TypeError)])
def test_bad_min_sigma_names_the_argument(value, error):
    with pytest.raises(error, match="min_sigma"):
        mdn_model.build_mdn(num_components=2, min_sigma=value)


@pytest.mark.parametrize("kind, x_dim, width", [("ladder", 1, 1 + 2 * 4), ("ladder", 2, 2 + 2 * 8),
                                                ("gaussian", 2, 2 + 2 * 4)])
def test_fourier_features_are_z_then_sines_then_cosines(tmp_path, kind, x_dim, width):
    x, y = RNG.normal(3, 2, (300, x_dim)), RNG.normal(-2, 5, (300, 1))
    net = mdn_model.build_mdn(num_components=3, adapt_to=(x, y), seed=5, fourier_features=4,
                              fourier_kind=kind)
    encode = keras.Model(net.inputs, net.get_layer("fourier_features").output)
    features = encode.predict(x, verbose=0).astype(np.float64)
    assert features.shape == (300, width)
    z = (x - x.mean(0)) / x.std(0)
    frequencies = mdn_model.fourier_frequencies(4, x_dim, kind, seed=5)
    np.testing.assert_allclose(features, np.hstack([z, np.sin(z @ frequencies),
                                                    np.cos(z @ frequencies)]), atol=2e-5)
    if kind == "ladder":   # each column of x on its own, at 1, 2, 3, 4 times the scale
        np.testing.assert_allclose(frequencies[0, :4], mdn_model.FOURIER_SCALE * np.arange(1, 5))
        assert np.count_nonzero(frequencies) == 4 * x_dim
    net.save(tmp_path / "fourier.keras")
    loaded = keras.saving.load_model(tmp_path / "fourier.keras")
    np.testing.assert_array_equal(mdn_model.predict_flat(loaded, x), mdn_model.predict_flat(net, x))
    plain = mdn_model.build_mdn(num_components=3, adapt_to=(x, y), seed=5)
    assert "fourier_features" not in [layer.name for layer in plain.layers]


@pytest.mark.parametrize("settings, error, words", [
    ({"fourier_features": -1}, ValueError, "fourier_features"),
    ({"fourier_features": 2.5}, TypeError, "fourier_features"),
    ({"fourier_features": 2, "fourier_kind": "random"}, ValueError, "fourier_kind"),
    ({"fourier_features": 2, "fourier_scale": 0.0}, ValueError, "fourier_scale"),
    ({"fourier_features": 2, "fourier_scale": "1"}, TypeError, "fourier_scale")])
def test_bad_fourier_settings_name_the_argument(settings, error, words):
    with pytest.raises(error, match=words):
        mdn_model.build_mdn(num_components=2, **settings)


def test_normalization_layers_put_outputs_in_units_of_y():
    x = RNG.normal(50.0, 4.0, (5000, 1))
    y = np.column_stack([RNG.normal(100.0, 10.0, 5000), RNG.normal(-3.0, 0.01, 5000)])
    for covariance in ("diag", "full"):
        net = mdn_model.build_mdn(covariance=covariance, adapt_to=(x, y), seed=0)
        params = mdn_model.predict_mixture(net, x[:200])
        assert 70 < params.locs[..., 0].mean() < 130 and -3.1 < params.locs[..., 1].mean() < -2.9
        sigma = np.sqrt(np.diagonal(mixture.distribution(params).components_distribution.covariance(),
                                    axis1=-2, axis2=-1))
        # Each column's widths start on its own scale (10 and 0.01), within a factor of e^3.
        assert np.all(np.abs(np.log(sigma[..., 0] / 10.0)) < 3)
        assert np.all(np.abs(np.log(sigma[..., 1] / 0.01)) < 3)


def test_full_head_scales_rows_of_the_standardised_triangle():
    """L = diag(y_std) L' for the triangle L' the network emits on standardised y."""
    y_std = np.array([10.0, 0.5])
    y = RNG.normal(0, 1, (4000, 2)) * y_std
    net = mdn_model.build_mdn(num_components=3, covariance="full", adapt_to=(y[:, :1], y),
                              seed=0)
    raw = keras.Model(net.inputs, net.get_layer("head").output)(y[:5, :1]).numpy()
    raw_standardised = raw[:, 3 + 3 * 2:].reshape(5, 3, 3)   # after 3 logits and 3 x 2 locs
    expected = np.diag(y.std(axis=0)) @ scale_tril_from_raw(raw_standardised)
    actual = mdn_model.predict_mixture(net, y[:5, :1]).scale_tril
    np.testing.assert_allclose(actual, expected, rtol=2e-5)


def test_exp_diagonal_triangle_is_tfps_fill_scale_tril():
    raw = RNG.normal(0, 1, (6, 10))
    bijector = tfp.bijectors.FillScaleTriL(diag_bijector=tfp.bijectors.Exp(), diag_shift=None)
    np.testing.assert_allclose(scale_tril_from_raw(raw), bijector(tf.constant(raw)),
                               rtol=1e-12)


def test_predict_checks_the_models_input_width():
    net = mdn_model.build_mdn(x_dim=3)
    with pytest.raises(ValueError, match="x must have 3 columns"):
        mdn_model.predict_flat(net, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="D = 2"):
        mdn_model.predict_params(mdn_model.build_mdn(y_dim=2), [0.0])


def test_predictive_distribution_of_a_1d_model_is_scalar_with_a_cdf():
    net = mdn_model.build_mdn(num_components=3, seed=0)
    distribution = mdn_model.predictive_distribution(net, [0.0, 1.0])
    assert distribution.event_shape == () and distribution.batch_shape == (2,)
    logits, means, log_sigmas = mdn_model.predict_params(net, [0.0, 1.0])
    weights = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    from scipy.stats import norm
    expected = (weights * norm.cdf(0.5, means, np.exp(log_sigmas))).sum(axis=1)
    np.testing.assert_allclose(distribution.cdf([0.5, 0.5]), expected, rtol=1e-5)


def test_head_layout_refuses_a_model_without_a_mixture_output():
    import keras
    plain = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="MixtureOutput"):
        mdn_model.head_layout(plain)
    with pytest.raises(TypeError, match="model"):
        mdn_model.head_layout("mdn.keras")
