"""The MDN as a Keras 3 model: x of width Dx in, the flat mixture parameters of y out::

    h    = trunk((x - x_mean) / x_std)       Normalization, then hidden_layers x Dense
    flat = a * (W h + b) + c                 one Dense "head" of P = K (1 + D + S) outputs,
                                             put in the units of y by fixed a and c

``params.HeadLayout`` writes down where each number sits in flat = [logits (K) | locs
(K x D) | scale (K x S)]; ``predict_mixture`` turns it into a ``MixtureParams``. The fixed
a and c (``_output_scaling``): logits are left alone; locs = y_mean + y_std * raw; a
log-sigma (diag) or a log L_dd (full) is shifted by log y_std_d; an off-diagonal L_dj is
multiplied by y_std_d of its row. Together: L_k = diag(y_std) L_k' for the triangle L_k'
the network forms for standardised y.

The statistics of x and y are fixed ``keras.layers.Normalization`` layers, set from the
training data, so the network works on unit-scale numbers while its outputs are in the
units of y, and the saved ``.keras`` file carries them. The output one is a
``MixtureOutput`` (a ``Normalization`` with ``invert=True`` whose config also records K,
D and the covariance form, where ``head_layout`` reads them). When ``min_sigma`` is set,
a ``SigmaFloor`` layer follows. Both are registered with Keras when this module is
imported, so a saved model loads back without ``custom_objects`` wherever ``mdn_utils``
is importable. The head is one Dense layer for all three kinds of parameter (rather than
three heads joined by a Concatenate).
"""
from __future__ import annotations

import math

import keras
import numpy as np

from mdn_utils import checks
from mdn_utils.core.mixture import distribution, scalar_distribution
from mdn_utils.core.params import (COVARIANCES, ConditionalMixture, HeadLayout, MixtureParams,
                                   triangle_index)

MIN_VARIANCE = 1e-12   # a constant column of data is not rescaled by 1 / 0


def paired_data(x, y, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """x ``[n, Dx]`` and y ``[n, Dy]`` (1-D arrays mean width 1) with the same n."""
    x, y = checks.matrix("x", x, dtype), checks.matrix("y", y, dtype)
    checks.same_length(x=x, y=y)
    return x, y


def column_moments(data, width):
    """(mean, variance) per column of ``data`` ``[n, width]`` (float64, the variance at
    least ``MIN_VARIANCE``); zeros and ones when ``data`` is None."""
    if data is None:
        return np.zeros(width), np.ones(width)
    data = np.asarray(data, np.float64)
    return data.mean(axis=0), np.maximum(data.var(axis=0), MIN_VARIANCE)


def check_trunk(hidden_units, hidden_layers, activation, seed):
    """The trunk's settings, checked before any TensorFlow op: (hidden_units >= 1,
    hidden_layers >= 0, the name of a Keras activation, seed >= 0); a bad one raises a
    ``TypeError``/``ValueError`` naming it."""
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    hidden_layers = checks.positive_int("hidden_layers", hidden_layers, minimum=0)
    seed = checks.positive_int("seed", seed, minimum=0)
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a string such as 'tanh', got {activation!r}")
    try:
        keras.activations.get(activation)
    except ValueError:
        raise ValueError(f"activation must name a Keras activation, got {activation!r}") \
            from None
    return hidden_units, hidden_layers, activation, seed


def glorot_uniform(seed, offset):
    """Glorot uniform initializer with its own stream per layer: seed * 1000 + offset
    (the trunk's hidden layers use offsets 0, 1, ...; a head uses 100)."""
    return keras.initializers.GlorotUniform(seed=seed * 1000 + offset)


def _widths(adapt_to, x_dim, y_dim):
    """(x, y, Dx, Dy): the data (or None) and the widths, from the data when given."""
    if adapt_to is None:
        return (None, None, checks.positive_int("x_dim", 1 if x_dim is None else x_dim),
                checks.positive_int("y_dim", 1 if y_dim is None else y_dim))
    if not isinstance(adapt_to, (tuple, list)) or len(adapt_to) != 2:
        raise TypeError("adapt_to must be a pair (x, y) of training data")
    x, y = paired_data(*adapt_to, dtype=np.float64)
    for name, given, width in (("x_dim", x_dim, x.shape[1]), ("y_dim", y_dim, y.shape[1])):
        if given is not None and checks.positive_int(name, given) != width:
            raise ValueError(f"{name} = {given} disagrees with adapt_to's width {width}")
    return x, y, x.shape[1], y.shape[1]


FOURIER_KINDS = ("ladder", "gaussian")
FOURIER_SCALE = math.pi / math.sqrt(3.0)   # one period across a standardised uniform x


def fourier_frequencies(count: int, x_dim: int, kind: str = "ladder",
                        scale: float = FOURIER_SCALE, seed: int = 0) -> np.ndarray:
    """The fixed frequency matrix B ``[Dx, F]`` of ``FourierFeatures``.

    ``kind="ladder"``: each column of x gets the angular frequencies scale, 2 scale, ...,
    count * scale on its own (F = Dx * count; B is zero off those blocks). With the default
    ``scale`` = pi / sqrt(3) the lowest one has one period across [-sqrt 3, sqrt 3], the
    range of a uniform x after standardisation. ``kind="gaussian"``: F = count columns
    drawn from N(0, scale^2) with ``seed`` (Tancik et al. 2020, "Fourier Features Let
    Networks Learn High Frequency Functions in Low Dimensional Domains",
    https://arxiv.org/abs/2006.10739, section 6: random Gaussian features, whose scale
    sets the bandwidth the network can fit).
    """
    count, kind, scale = check_fourier(count, kind, scale)
    if count == 0:
        raise ValueError("fourier_features must be >= 1 for a frequency matrix, got 0")
    x_dim = checks.positive_int("x_dim", x_dim)
    seed = checks.positive_int("seed", seed, minimum=0)
    if kind == "gaussian":
        return np.random.default_rng(seed * 1000 + 200).normal(0.0, scale, (x_dim, count))
    ladder = scale * np.arange(1, count + 1)
    return np.kron(np.eye(x_dim), ladder[None, :])


def check_fourier(count, kind, scale) -> tuple[int, str, float]:
    """The encoding's settings, checked before any TensorFlow op: (fourier_features >= 0,
    fourier_kind in ``FOURIER_KINDS``, fourier_scale > 0)."""
    count = checks.positive_int("fourier_features", count, minimum=0)
    checks.one_of("fourier_kind", kind, FOURIER_KINDS)
    return count, kind, checks.positive_float("fourier_scale", scale)


@keras.saving.register_keras_serializable(package="mdn_utils")
class FourierFeatures(keras.layers.Layer):
    """An input encoding: z ``[batch, Dx]`` -> [z, sin(z B), cos(z B)] ``[batch, Dx + 2F]``
    for a fixed frequency matrix B ``[Dx, F]`` (``fourier_frequencies``), kept in the
    layer's config so a saved model carries it.

    A small network on a scalar input fits slowly what changes abruptly with x; features
    that already oscillate at several frequencies let it combine them instead (Rahaman et
    al. 2019, "On the Spectral Bias of Neural Networks", https://arxiv.org/abs/1806.08734;
    Tancik et al. 2020, https://arxiv.org/abs/2006.10739). z itself is kept, so the
    encoding adds to the plain input rather than replacing it.
    """

    def __init__(self, frequencies, **kwargs):
        super().__init__(**kwargs)
        self.frequencies = np.asarray(frequencies, np.float64).tolist()
        self._matrix = np.asarray(self.frequencies, np.float32)

    def call(self, z):
        angles = keras.ops.matmul(z, keras.ops.convert_to_tensor(self._matrix, z.dtype))
        return keras.ops.concatenate([z, keras.ops.sin(angles), keras.ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 2 * self._matrix.shape[1])

    def get_config(self):
        return {**super().get_config(), "frequencies": self.frequencies}


def dense_trunk(hidden_units, hidden_layers, activation, x_data, x_dim, seed,
                frequencies=None):
    """The trunk every network of the book shares: (input x ``[batch, Dx]``, h), where
    h = Dense_L(... Dense_1(encode((x - x_mean) / x_std))), ``hidden_layers`` Dense layers
    of ``hidden_units`` with ``activation``. x_mean and x_std are fixed ``Normalization``
    statistics of ``x_data`` ``[n, Dx]`` (None: 0 and 1). encode is ``FourierFeatures`` with
    ``frequencies`` ``[Dx, F]`` when they are given, the identity otherwise. Layer l starts
    from ``glorot_uniform(seed, l)``. Heads are added by the caller (``build_mdn``,
    ``baseline.build_mean_regressor``, ``compare.networks.dense_network``)."""
    x_mean, x_variance = column_moments(x_data, x_dim)
    x = keras.Input(shape=(x_dim,), name="x")
    h = keras.layers.Normalization(mean=x_mean, variance=x_variance, name="standardize_x")(x)
    if frequencies is not None:
        h = FourierFeatures(frequencies, name="fourier_features")(h)
    for layer in range(hidden_layers):
        h = keras.layers.Dense(hidden_units, activation=activation,
                               kernel_initializer=glorot_uniform(seed, layer), name=f"hidden_{layer}")(h)
    return x, h


@keras.saving.register_keras_serializable(package="mdn_utils")
class SigmaFloor(keras.layers.Layer):
    """A lower bound on the widths: s -> log(min_sigma + exp(s)) = logaddexp(s, log
    min_sigma) on the flat entries marked in ``floored`` (the log-widths), the others
    unchanged. Each width becomes min_sigma + exp(s) > min_sigma, smoothly: the map is
    increasing, and near the identity once exp(s) is large against min_sigma."""

    def __init__(self, min_sigma: float, floored, **kwargs):
        super().__init__(**kwargs)
        self.min_sigma = float(min_sigma)
        self.floored = [bool(f) for f in floored]

    def call(self, flat):
        floored = keras.ops.logaddexp(flat, math.log(self.min_sigma))
        return keras.ops.where(np.array(self.floored), floored, flat)

    def get_config(self):
        return {**super().get_config(), "min_sigma": self.min_sigma, "floored": self.floored}


@keras.saving.register_keras_serializable(package="mdn_utils")
class MixtureOutput(keras.layers.Normalization):
    """The MDN's output layer: flat = shift + raw * multiplier (a fixed ``Normalization``
    with ``invert=True``, mean = shift, variance = multiplier^2), which puts the head's
    numbers in the units of y, and whose config records the layout: ``num_components``
    (K), ``dim`` (D) and ``covariance`` (``params.HeadLayout``)."""

    def __init__(self, num_components: int, dim: int, covariance: str, **kwargs):
        kwargs.setdefault("invert", True)
        super().__init__(**kwargs)
        self.layout = HeadLayout(num_components, dim, covariance)

    def get_config(self):
        return {**super().get_config(), "num_components": self.layout.num_components,
                "dim": self.layout.dim, "covariance": self.layout.covariance}


def build_mdn(num_components: int = 24, hidden_units: int = 64, hidden_layers: int = 2,
              activation: str = "gelu", *, covariance: str = "diag", adapt_to=None,
              x_dim: int | None = None, y_dim: int | None = None,
              seed: int = 0, min_sigma: float | None = None, fourier_features: int = 0,
              fourier_kind: str = "ladder", fourier_scale: float = FOURIER_SCALE
              ) -> keras.Model:
    """A Keras MDN mapping x ``[batch, Dx]`` to the flat parameters ``[batch, P]``.

    ``adapt_to=(x, y)``: training data whose column means and variances set the
    Normalization layers (and the widths Dx, Dy); without it, ``x_dim`` and ``y_dim``
    (default 1) and no rescaling. ``covariance`` is "diag" or "full". Weights are
    initialised from ``seed`` (Glorot uniform, one stream per layer). The head's biases
    are zero except the means', which start uniform on [-1.7, 1.7], about
    [-sqrt 3, sqrt 3]: the support of a uniform target standardised to unit variance, so
    the K means start spread over the data. ``min_sigma`` (in the units of y), when set,
    adds a ``SigmaFloor``: every width sigma_kd (diag) or diagonal L_dd (full) becomes
    min_sigma + exp(s) for the log-width s the head computes, so no component can narrow
    below it and the likelihood stays bounded. ``fourier_features`` = m > 0 feeds the
    trunk [z, sin(z B), cos(z B)] instead of the standardised z (``FourierFeatures``, B
    from ``fourier_frequencies(m, Dx, fourier_kind, fourier_scale, seed)``); 0: z alone.
    """
    num_components = checks.positive_int("num_components", num_components)
    if min_sigma is not None:
        min_sigma = checks.positive_float("min_sigma", min_sigma)
    hidden_units, hidden_layers, activation, seed = check_trunk(
        hidden_units, hidden_layers, activation, seed)
    checks.one_of("covariance", covariance, COVARIANCES)
    fourier_features, fourier_kind, fourier_scale = check_fourier(
        fourier_features, fourier_kind, fourier_scale)
    x_data, y_data, x_dim, y_dim = _widths(adapt_to, x_dim, y_dim)
    frequencies = (fourier_frequencies(fourier_features, x_dim, fourier_kind, fourier_scale,
                                       seed) if fourier_features else None)
    layout = HeadLayout(num_components, y_dim, covariance)
    y_mean, y_variance = column_moments(y_data, y_dim)
    x, h = dense_trunk(hidden_units, hidden_layers, activation, x_data, x_dim, seed,
                       frequencies)
    raw = keras.layers.Dense(layout.size, kernel_initializer=glorot_uniform(seed, 100), name="head")(h)
    shift, multiplier = _output_scaling(layout, y_mean, 0.5 * np.log(y_variance))
    # Normalization with invert=True computes raw * sqrt(variance) + mean.
    flat = MixtureOutput(num_components, y_dim, covariance, mean=shift,
                         variance=multiplier ** 2, name="mixture_params")(raw)
    if min_sigma is not None:
        # flat = [logits (K) | locs (K x D) | scale (K x S)], as in _output_scaling.
        rows, columns = _triangle_positions(layout.dim, layout.covariance)
        floored = np.concatenate([np.zeros(layout.num_components * (1 + layout.dim), bool),
                                  np.tile(rows == columns, layout.num_components)])
        flat = SigmaFloor(min_sigma, floored, name="sigma_floor")(flat)
    net = keras.Model(x, flat, name="mdn")
    bias = np.zeros(layout.size)
    k, d = num_components, y_dim
    bias[k:k + k * d] = np.random.default_rng(seed * 1000 + 102).uniform(-1.7, 1.7, k * d)
    net.get_layer("head").bias.assign(bias)
    return net


def _output_scaling(layout: HeadLayout, y_mean, log_std):
    """(b, a) per flat output: value = a * raw + b puts the head's numbers in y units.

    logits: a = 1, b = 0. locs: a = y_std_d, b = y_mean_d. scale: a = 1, b = log y_std_d
    for a log-sigma or a log L_dd; a = y_std_d of its row, b = 0 for an off-diagonal L_dj.
    """
    k = layout.num_components
    rows, columns = _triangle_positions(layout.dim, layout.covariance)
    on_diagonal = rows == columns
    shift = np.concatenate([np.zeros(k), np.tile(y_mean, k),
                            np.tile(np.where(on_diagonal, log_std[rows], 0.0), k)])
    multiplier = np.concatenate([np.ones(k), np.tile(np.exp(log_std), k),
                                 np.tile(np.where(on_diagonal, 1.0, np.exp(log_std[rows])), k)])
    return shift, multiplier


def _triangle_positions(dim: int, covariance: str) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each of a component's S scale numbers in its D x D scale."""
    if covariance == "diag":
        return np.arange(dim), np.arange(dim)
    positions = sorted(triangle_index(dim).items(), key=lambda item: item[1])
    return np.array([r for (r, _), _ in positions]), np.array([c for (_, c), _ in positions])


def head_layout(model: keras.Model) -> HeadLayout:
    """K, D and the covariance form of an MDN built by ``build_mdn``, read from the config
    of its ``MixtureOutput`` layer."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    for layer in model.layers:
        if isinstance(layer, MixtureOutput):
            return layer.layout
    raise ValueError("model must be an MDN made by mdn_utils.core.model.build_mdn (it has no "
                     "MixtureOutput layer)")


def num_components(model: keras.Model) -> int:
    """K, read from the model's layout (``head_layout``)."""
    return head_layout(model).num_components


def predict_flat(model: keras.Model, x, batch_size: int = 65_536) -> np.ndarray:
    """The model's flat output for x (``[n]`` or ``[n, Dx]``): float32 ``[n, P]``.

    Runs the model directly in large batches (no Keras ``predict`` overhead).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    x = checks.matrix("x", x, np.float32)
    x_dim = int(model.inputs[0].shape[-1])
    if x.shape[1] != x_dim:
        raise ValueError(f"x must have {x_dim} columns for this model, got shape {x.shape}")
    batch_size = checks.positive_int("batch_size", batch_size)
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def predict_mixture(model: keras.Model, x, batch_size: int = 65_536) -> MixtureParams:
    """The predicted mixture p(y | x) for each row of x, as a ``MixtureParams``."""
    return head_layout(model).params(predict_flat(model, x, batch_size))


def conditional(model: keras.Model) -> ConditionalMixture:
    """A trained MDN as a conditional model for ``diagnostics.scoring``: at each x the
    mixture ``predict_mixture(model, x)`` (in float64), scored by the NumPy kernel, exactly
    as ``compare``'s MDN is: ``log_prob(x, y)``, ``cdf``, ``quantiles``, ``sample``,
    ``closed_form_crps``. x ``[n]`` or ``[n, Dx]``; y ``[n]`` or ``[n, D]``."""
    head_layout(model)          # refuses anything but an MDN of build_mdn, before any op

    def predict(x):
        return predict_mixture(model, x.astype(np.float32)).astype(np.float64)

    return ConditionalMixture(predict)


def predictive_distribution(model: keras.Model, x, batch_size: int = 65_536):
    """p(y | x) as a TFP ``MixtureSameFamily`` with batch shape [n], so ``log_prob``,
    ``sample``, ``mean`` come from TFP. Event shape [D]; for a 1-D y it is [] (y is
    ``[n]``) and the distribution also has a ``cdf`` (``mixture.scalar_distribution``).
    """
    params = predict_mixture(model, x, batch_size)
    return scalar_distribution(params) if params.D == 1 else distribution(params)


def predict_params(model: keras.Model, x, batch_size: int = 65_536):
    """For a 1-D model (D = 1): NumPy (logits, means, log_sigmas), each float32 ``[n, K]``."""
    layout = head_layout(model)
    if layout.dim != 1:
        raise ValueError(f"predict_params is for models of a 1-D y, this one has D = "
                         f"{layout.dim}; use predict_mixture")
    flat = predict_flat(model, x, batch_size)
    k = layout.num_components
    return flat[:, :k], flat[:, k:2 * k], flat[:, 2 * k:]
