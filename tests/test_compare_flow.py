"""The conditional spline flow (compare.flow): a density, an exact CDF, quantile and sampler
that agree with it, a fit that finds two modes a Gaussian cannot, bad input refused by name
before any TensorFlow op, and reproducibility with a seed."""
import numpy as np
import pytest
from scipy import special, stats

from mdn_utils.compare import METHODS, ConditionalSplineFlow
from mdn_utils.diagnostics import scoring
from mdn_utils.compare.flow import LOG_SQRT_2PI, make_spline

SETTINGS = dict(hidden_units=16, steps=300, learning_rate=1e-2)


def two_modes(n, seed):
    """y = +-1 + N(0, 0.1^2) with equal weights whatever x, x ~ U(-1, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    return x, np.where(rng.random(n) < 0.5, -1.0, 1.0) + rng.normal(0, 0.1, n)


@pytest.fixture(scope="module")
def data():
    return two_modes(400, seed=2)


@pytest.fixture(scope="module")
def flow(data):
    return ConditionalSplineFlow(8, **SETTINGS).fit(*data, seed=0)


def test_registered():
    assert METHODS["spline_flow"] is ConditionalSplineFlow
    assert ConditionalSplineFlow.name == "spline flow"


@pytest.mark.slow
def test_shapes_and_types(flow, data):
    x, y = data
    log_p = flow.log_prob(x[:7], y[:7])
    assert log_p.shape == (7,) and log_p.dtype == np.float64 and np.all(np.isfinite(log_p))
    draws = flow.sample(x[:7], 11, seed=3)
    assert draws.shape == (11, 7) and np.all(np.isfinite(draws))
    assert np.array_equal(draws, flow.sample(x[:7], 11, seed=3))   # seeded
    assert not np.array_equal(draws, flow.sample(x[:7], 11, seed=4))
    u = flow.cdf(x[:7], y[:7])
    assert u.shape == (7,) and np.all((u >= 0) & (u <= 1))
    q = flow.quantiles(x[:7], [0.1, 0.5, 0.9])
    assert q.shape == (7, 3) and np.all(np.diff(q, axis=1) > 0)
    assert flow.fit_seconds > 0 and flow.training_seconds > 0
    assert np.isfinite(flow.mean_training_loss)


@pytest.mark.slow
def test_log_prob_integrates_to_one_and_cdf_is_its_integral(flow):
    """Trapezoid rule on a fine y grid reaching 8 standard deviations of y, twice the
    bound B = 4 of standardised y (so the identity tails are integrated too). At x = 3.0,
    outside the training x, the fit extrapolates to sharp peaks: a step of 0.0006 y_std
    left a trapezoid error of 1.6e-4 there, a step of 0.00012 y_std less than 2e-5."""
    grid = np.linspace(flow.y_mean - 8 * flow.y_std, flow.y_mean + 8 * flow.y_std, 133_335)
    for x0 in (0.0, 3.0):
        density = np.exp(flow.log_prob(np.full_like(grid, x0), grid))
        assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=2e-5)
        running = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1])
                                                   * np.diff(grid))])
        cdf = flow.cdf(np.full_like(grid, x0), grid)
        assert np.max(np.abs(cdf - running)) < 2e-5


@pytest.mark.slow
def test_quantiles_invert_the_cdf(flow):
    levels = np.array([1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6])
    points = np.array([-0.8, 0.1, 0.6])
    q = flow.quantiles(points, levels)
    assert np.all(np.diff(q, axis=1) > 0)
    for row, x0 in enumerate(points):
        assert flow.cdf(np.full(len(levels), x0), q[row]) == pytest.approx(levels, abs=1e-7)
    # the outermost levels fall beyond [-B, B] (B = 4 standard deviations): identity tails
    assert np.all(np.abs(q[:, [0, -1]] - flow.y_mean) > flow.bound * flow.y_std)


@pytest.mark.slow
def test_samples_follow_the_cdf(flow):
    """Kolmogorov-Smirnov statistic of 4,000 draws against the model's own CDF, below the
    1% critical value 1.63 / sqrt(n)."""
    for x0 in (-0.5, 0.5):
        draws = flow.sample(np.array([x0]), 4_000, seed=7)[:, 0]
        statistic = stats.kstest(draws, lambda t: flow.cdf(np.full(len(t), x0), t)).statistic
        assert statistic < 1.63 / np.sqrt(len(draws))


@pytest.mark.slow
def test_finds_two_modes_that_a_gaussian_cannot(flow):
    """Held-out NLL against the best single Gaussian (the training y's mean and variance:
    y does not depend on x here); and almost no mass between the modes."""
    x, y = two_modes(2_000, seed=5)
    gaussian_nll = -stats.norm.logpdf(y, flow.y_mean, flow.y_std).mean()
    flow_nll = scoring.nll(flow, x, y).value
    # the truth: log 2 + the N(0, 0.1^2) entropy, about -0.19 nats; the Gaussian about 1.43
    assert flow_nll < gaussian_nll - 1.0
    between = flow.cdf([0.0, 0.0], [0.5, -0.5])
    assert between[0] - between[1] < 0.05
    assert flow.cdf([0.0], [0.0])[0] == pytest.approx(0.5, abs=0.1)


def test_zero_parameters_give_the_standardised_gaussian():
    """With the head's weights zeroed every raw parameter is 0, the spline is the identity,
    and p(y | x) = N(y | y_mean, y_std^2): this checks the -log y_std term."""
    from mdn_utils.compare.networks import dense_network
    model = ConditionalSplineFlow(5, bound=2.0, hidden_units=4)
    x = np.linspace(-1, 1, 10)[:, None]
    model.network = dense_network(x, model.num_outputs, model.settings, 0, "spline_params")
    layer = model.network.get_layer("raw_spline_params")
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    model.y_mean, model.y_std, model.x_dim = 0.3, 2.5, 1
    y = np.linspace(-9, 9, 37)
    assert model.log_prob(np.zeros_like(y), y) == pytest.approx(
        stats.norm.logpdf(y, 0.3, 2.5), abs=1e-12)
    assert model.quantiles([0.0], [0.2])[0, 0] == pytest.approx(stats.norm.ppf(0.2, 0.3, 2.5))


@pytest.mark.slow
def test_outside_the_bound_the_spline_is_the_identity(flow):
    """Beyond [-B, B] of standardised y, log p = log N(z) - log y_std exactly."""
    z = np.array([-flow.bound - 1.0, flow.bound + 0.5, flow.bound + 3.0])
    y = flow.y_mean + flow.y_std * z
    assert flow.log_prob(np.zeros(3), y) == pytest.approx(
        -0.5 * z ** 2 - LOG_SQRT_2PI - np.log(flow.y_std), abs=1e-12)
    assert flow.cdf(np.zeros(3), y) == pytest.approx(special.ndtr(z), rel=1e-12)


@pytest.mark.slow
def test_spline_parameters_meet_tfp_conventions(flow):
    """Widths and heights positive and summing to 2B (first knot at range_min = -B), so the
    last knot is at +B in both z and u; interior slopes positive."""
    import tensorflow as tf
    raw = flow.network(np.linspace(-1, 1, 5, dtype=np.float32)[:, None])
    spline = make_spline(tf.cast(raw, tf.float64), flow.num_bins, flow.bound)
    for sizes in (spline.bin_widths.numpy(), spline.bin_heights.numpy()):
        assert sizes.shape == (5, flow.num_bins) and np.all(sizes > 0)
        assert sizes.sum(axis=1) == pytest.approx(np.full(5, 2 * flow.bound))
    assert spline.knot_slopes.numpy().shape == (5, flow.num_bins - 1)
    assert np.all(spline.knot_slopes.numpy() > 0)
    ends = np.array([-flow.bound, flow.bound])
    assert spline.forward(np.tile(ends, (5, 1)).T).numpy() == pytest.approx(
        np.tile(ends, (5, 1)).T)


@pytest.mark.slow
def test_chunks_do_not_change_the_results(flow, data, monkeypatch):
    """Only float32 rounding: the network's outputs for a row can differ in the last bits
    with the size of the batch it is evaluated in."""
    import mdn_utils.compare.flow
    x, y = data
    whole = (flow.log_prob(x, y), flow.cdf(x, y), flow.sample(x[:50], 30, seed=2),
             flow.quantiles(x[:50], [0.2, 0.7]))
    monkeypatch.setattr(mdn_utils.compare.flow, "CHUNK_ELEMENTS", 7 * (flow.num_bins + 1) * 30)
    assert flow._rows_per_chunk() == 7 * 30 and flow._rows_per_chunk(30) == 7
    chunked = (flow.log_prob(x, y), flow.cdf(x, y), flow.sample(x[:50], 30, seed=2),
               flow.quantiles(x[:50], [0.2, 0.7]))
    for a, b in zip(whole, chunked):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6)


@pytest.mark.slow
def test_reproducible_with_a_seed(flow, data):
    x, y = data
    again = ConditionalSplineFlow(8, **SETTINGS).fit(x, y, seed=0)
    assert np.array_equal(again.log_prob(x[:20], y[:20]), flow.log_prob(x[:20], y[:20]))
    assert again.mean_training_loss == flow.mean_training_loss


@pytest.mark.parametrize("build, match, error", [
    (lambda: ConditionalSplineFlow(1), "num_bins", ValueError),
    (lambda: ConditionalSplineFlow(4.0), "num_bins", TypeError),
    (lambda: ConditionalSplineFlow(bound=-1), "bound", ValueError),
    (lambda: ConditionalSplineFlow(bound="a"), "bound", TypeError),
    (lambda: ConditionalSplineFlow(bound=float("nan")), "bound", ValueError),
    (lambda: ConditionalSplineFlow(100, bound=0.01), "bound", ValueError),
    (lambda: ConditionalSplineFlow(steps=0), "steps", ValueError),
    (lambda: ConditionalSplineFlow(activation="nope"), "activation", ValueError),
    (lambda: ConditionalSplineFlow(jit_compile="no"), "jit_compile", TypeError),
])
def test_bad_settings_are_refused_by_name(build, match, error):
    with pytest.raises(error, match=match):
        build()


def test_a_constant_y_is_refused_before_training(monkeypatch):
    """(The bad data every method refuses is tested for the flow in test_compare_methods.)"""
    import mdn_utils.core.loop

    def no_training(*args, **kwargs):
        raise AssertionError("training started on bad input")

    monkeypatch.setattr(mdn_utils.core.loop, "make_train_loop", no_training)
    model = ConditionalSplineFlow()
    with pytest.raises(ValueError, match="y must not be constant"):
        model.fit(np.linspace(0, 1, 10), np.full(10, 2.0))
    assert not model.fitted
