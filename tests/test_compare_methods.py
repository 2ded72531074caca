"""The five methods of mdn_utils.compare on tiny data: shapes, one property each that can
fail, and bad input refused by name before any TensorFlow op."""
import numpy as np
import pytest
from scipy import stats

from mdn_utils.compare import METHODS, BinnedHead, ConditionalSplineFlow, HeteroscedasticGaussian, HomoscedasticGaussian, KernelConditionalDensity, MetricUnavailable, MixtureDensityNetwork, NoiseRegularisedMDN, QuantileRegression, ValidatedMixtureDensityNetwork
from mdn_utils.diagnostics import scoring
from mdn_utils.problems.datasets import get_dataset

NOISE = 0.3


@pytest.fixture(scope="module")
def line():
    """y = 2x + N(0, 0.3^2), x ~ U(-1, 1): homoscedastic, unimodal."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 200)
    return x, 2 * x + rng.normal(0, NOISE, 200)


@pytest.fixture(scope="module")
def funnel():
    """y = N(0, s(x)^2) with s(x) = 0.05 + 0.5 (x + 1): heteroscedastic."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 300)
    return x, rng.normal(0, 0.05 + 0.5 * (x + 1))


def _check_shapes(model, x, y):
    log_p = model.log_prob(x[:7], y[:7])
    assert log_p.shape == (7,) and log_p.dtype == np.float64 and np.all(np.isfinite(log_p))
    draws = model.sample(x[:7], 11, seed=3)
    assert draws.shape == (11, 7) and np.all(np.isfinite(draws))
    assert np.array_equal(draws, model.sample(x[:7], 11, seed=3))   # seeded
    u = model.cdf(x[:7], y[:7])
    assert u.shape == (7,) and np.all((u >= 0) & (u <= 1))
    q = model.quantiles(x[:7], [0.1, 0.5, 0.9])
    assert q.shape == (7, 3) and np.all(np.diff(q, axis=1) > 0)
    # the quantile inverts the CDF
    assert model.cdf(x[:7], q[:, 1]) == pytest.approx(np.full(7, 0.5), abs=1e-6)
    assert model.fit_seconds > 0 and model.training_seconds > 0


def test_registry_lists_the_seven_methods():
    assert set(METHODS) == {"homoscedastic_gaussian", "heteroscedastic_gaussian", "mdn",
                            "kernel_cde", "binned_head", "spline_flow", "quantile_regression"}


# --------------------------------------------------------------------------- 1: homoscedastic
@pytest.mark.slow
def test_homoscedastic_gaussian_recovers_the_noise_level(line):
    x, y = line
    model = HomoscedasticGaussian(hidden_units=16, steps=300, learning_rate=1e-2)
    model.fit(x, y, seed=0)
    _check_shapes(model, x, y)
    assert model.noise_scale == pytest.approx(NOISE, rel=0.2)
    log_w, mu, log_sigma = model.mixture(x[:5]).as_1d()
    assert mu.shape == (5, 1)
    np.testing.assert_allclose(np.exp(log_sigma), model.noise_scale, rtol=1e-15)
    assert model.log_prob(x[:5], y[:5]) == pytest.approx(
        stats.norm.logpdf(y[:5], mu[:, 0], model.noise_scale))


# --------------------------------------------------------------------------- 2 and 3: MDN
@pytest.mark.slow
def test_heteroscedastic_gaussian_widens_with_x(funnel):
    x, y = funnel
    model = HeteroscedasticGaussian(cache=False, steps=300, eval_every=300, hidden_units=16,
                                    jit_compile=False, learning_rate=1e-2).fit(x, y, seed=0)
    _check_shapes(model, x, y)
    log_w, mu, log_sigma = model.mixture(np.array([-0.9, 0.9])).as_1d()
    sigma = np.exp(log_sigma)
    assert log_w.shape == (2, 1)
    # true s(x): 0.1 at x = -0.9, 1.0 at x = 0.9
    assert sigma[1, 0] > 3 * sigma[0, 0]
    assert sigma[1, 0] == pytest.approx(1.0, rel=0.4)


@pytest.mark.slow
def test_mdn_agrees_with_the_library_and_reloads_from_the_cache(monkeypatch, tmp_path, funnel):
    from mdn_utils.core.model import predictive_distribution
    monkeypatch.setenv("MDN_CACHE_DIR", str(tmp_path))
    x, y = funnel
    settings = dict(steps=30, eval_every=30, hidden_units=8, jit_compile=False)
    first = MixtureDensityNetwork(3, **settings).fit(x[:100], y[:100], seed=1)
    _check_shapes(first, x, y)
    assert first.mixture(x[:4]).logits.shape == (4, 3)
    assert first.training_seconds == first.result.seconds
    # the mixture path of GaussianMixtureModel against TFP's MixtureSameFamily
    reference = predictive_distribution(first.model, x[:50].astype(np.float32))
    assert first.log_prob(x[:50], y[:50]) == pytest.approx(
        reference.log_prob(y[:50].astype(np.float32)).numpy(), abs=1e-4)
    assert first.cdf(x[:50], y[:50]) == pytest.approx(
        reference.cdf(y[:50].astype(np.float32)).numpy(), abs=1e-5)
    again = MixtureDensityNetwork(3, **settings).fit(x[:100], y[:100], seed=1)
    assert again.training_seconds == first.training_seconds   # the run that trained it
    assert again.log_prob(x[:5], y[:5]) == pytest.approx(first.log_prob(x[:5], y[:5]))


# --------------------------------------------------------------------------- 4: kernel CDE
@pytest.fixture(scope="module")
def kde(line):
    x, y = line
    return KernelConditionalDensity(bandwidth=[0.2, 0.15]).fit(x, y)


def test_kde_matches_statsmodels_pdf_and_integrates_to_one(kde, line):
    x, y = line
    _check_shapes(kde, x, y)
    points = np.array([-0.7, 0.0, 0.4])
    targets = np.array([-1.3, 0.2, 0.9])
    ours = np.exp(kde.log_prob(points, targets))
    assert ours == pytest.approx(kde.estimator.pdf(targets, points), rel=1e-10)
    grid = np.linspace(-5, 5, 4_001)
    for x0 in (-0.95, 0.0, 3.0):   # 3.0 lies outside the data: still a density
        density = np.exp(kde.log_prob(np.full_like(grid, x0), grid))
        assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-6)


def test_kde_samples_have_the_mixture_moments(kde):
    x0 = np.array([0.3])
    logits, mu, log_sigma = kde.mixture(x0).as_1d()
    w, sigma = np.exp(logits[0]), np.exp(log_sigma)
    mean = np.sum(w * mu[0])
    variance = np.sum(w * (mu[0] ** 2 + sigma[0] ** 2)) - mean ** 2
    draws = kde.sample(x0, 20_000, seed=0)[:, 0]
    assert draws.mean() == pytest.approx(mean, abs=4 * np.sqrt(variance / 20_000))
    assert draws.var() == pytest.approx(variance, rel=0.05)


def test_kde_cross_validated_bandwidths(line):
    x, y = line
    plain = KernelConditionalDensity(bandwidth="cv_ml").fit(x[:60], y[:60], seed=0)
    assert not plain.efficient
    h_y, h_x = plain.bandwidths
    assert 0.02 < h_y < 1.0 and 0.01 < h_x < 2.0
    # repeated x values: cv_ml collapses h_x to statsmodels' bound, and fit says so
    tied = np.repeat(np.linspace(0, 1, 12), 3)
    noisy = np.sin(4 * tied) + np.random.default_rng(0).normal(0, 0.3, len(tied))
    with pytest.warns(UserWarning, match=r"bandwidth of x\[:, 0\] collapsed"):
        KernelConditionalDensity().fit(tied, noisy)
    blocks = KernelConditionalDensity(bandwidth="normal_reference",
                                      bandwidth_subsample=50).fit(x[:120], y[:120])
    assert blocks.efficient and np.all(blocks.bandwidths > 0)


# --------------------------------------------------------------------------- binned head
@pytest.mark.slow
def test_binned_head_finds_two_modes_and_is_a_density():
    """y = +-1 + N(0, 0.1^2) with equal weights, whatever x: the mass sits near +-1."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, 300)
    y = np.where(rng.random(300) < 0.5, -1.0, 1.0) + rng.normal(0, 0.1, 300)
    model = BinnedHead(20, hidden_units=16, steps=300, learning_rate=1e-2).fit(x, y, seed=0)
    _check_shapes(model, x, y)
    probabilities = np.exp(model.bin_log_probs(np.array([-0.5, 0.5])))
    centres = 0.5 * (model.edges[1:] + model.edges[:-1])
    for row in probabilities:
        assert row.sum() == pytest.approx(1.0)
        assert row[np.abs(centres) < 0.5].sum() < 0.05
        assert row[centres < 0].sum() == pytest.approx(0.5, abs=0.15)
    # a density: integrates to 1 over its bins, zero (log -inf) outside them
    grid = np.linspace(model.edges[0], model.edges[-1], 20_001)
    density = np.exp(model.log_prob(np.full_like(grid, 0.3), grid))
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=2e-3)
    outside = model.edges[-1] + 1.0
    assert model.log_prob([0.0], [outside])[0] == -np.inf
    assert model.cdf([0.0, 0.0], [model.edges[0] - 1, outside]) == pytest.approx([0.0, 1.0])
    estimate = scoring.nll(model, [0.0, 0.0], [0.0, outside])
    assert estimate.value == np.inf and estimate.how.startswith("1 of 2")
    # samples fall in the bins with the predicted probabilities
    draws = model.sample(np.array([0.5]), 20_000, seed=1)[:, 0]
    counts = np.histogram(draws, bins=model.edges)[0] / 20_000
    assert counts == pytest.approx(probabilities[1], abs=0.015)


# --------------------------------------------------------------------------- 5: quantiles
@pytest.mark.slow
def test_quantile_regression_finds_the_median_and_counts_crossings(line):
    x, y = line
    model = QuantileRegression(levels=(0.1, 0.5, 0.9), hidden_units=16, steps=400,
                               learning_rate=1e-2).fit(x, y, seed=0)
    grid = np.linspace(-0.8, 0.8, 9)
    q = model.predict(grid)
    assert q.shape == (9, 3)
    assert np.abs(q[:, 1] - 2 * grid).mean() < 0.1
    spread = NOISE * stats.norm.ppf(0.9)
    assert np.mean(q[:, 2] - q[:, 1]) == pytest.approx(spread, abs=0.12)
    assert model.quantiles(grid, [0.3])[:, 0] == pytest.approx(
        0.5 * (q[:, 0] + q[:, 1]))                    # halfway between 0.1 and 0.5
    crossings = model.crossings(grid)
    assert crossings.num_x == 9 and 0 <= crossings.pairs <= 18
    for call in (lambda: model.log_prob(x[:3], y[:3]), lambda: model.sample(x[:3], 5),
                 lambda: model.quantiles(x[:3], [0.05])):
        with pytest.raises(MetricUnavailable):
            call()
    table = scoring.score(model, x[:50], y[:50], levels=(0.8,))
    assert isinstance(table["nll"], scoring.Unavailable)
    assert table["crps"].how == "quantile form, 3 levels"


def test_crossings_are_counted():
    """With q_0.75 - q_0.25 = -2 y_std r(x) the two quantiles cross exactly where r(x) > 0;
    negating r crosses them exactly where it did not before."""
    from mdn_utils.compare.networks import dense_network
    model = QuantileRegression(levels=(0.25, 0.75), hidden_units=4)
    x = np.linspace(0, 1, 10)[:, None]
    # an untrained network is enough here (no training: the test is about the counting)
    model.network = dense_network(x, 2, model.settings, 0, "quantiles", y_units=x[:, 0] ** 2)
    model.x_dim = 1
    grid = np.linspace(-3, 3, 41)
    layer = model.network.get_layer("raw_quantiles")
    kernel, bias = layer.get_weights()
    counts = []
    for sign in (1.0, -1.0):
        kernel[:, 0], kernel[:, 1] = sign * kernel[:, 0], -sign * kernel[:, 0]
        bias[:] = 0.0
        layer.set_weights([kernel, bias])
        crossed = np.diff(model.predict(grid), axis=1)[:, 0] < 0
        counts.append(model.crossings(grid))
        assert counts[-1].pairs == counts[-1].x_with_crossing == crossed.sum()
        kernel[:, 0] *= sign   # restore r before the next sign
    assert counts[0].pairs + counts[1].pairs == len(grid)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("build, match, error", [
    (lambda: HomoscedasticGaussian(steps=0), "steps", ValueError),
    (lambda: MixtureDensityNetwork(0), "num_components", ValueError),
    (lambda: MixtureDensityNetwork(3, step=10), "unknown train_mdn settings: step", TypeError),
    (lambda: MixtureDensityNetwork(3, cache="yes"), "cache", TypeError),
    (lambda: HeteroscedasticGaussian(num_components=2), "num_components", TypeError),
    (lambda: KernelConditionalDensity(bandwidth="silverman"), "bandwidth", ValueError),
    (lambda: KernelConditionalDensity(bandwidth=[0.1, -1.0]), "bandwidth", ValueError),
    (lambda: KernelConditionalDensity(bandwidth_subsample=2), "bandwidth_subsample", ValueError),
    (lambda: QuantileRegression(levels=(0.5, 0.2)), "levels", ValueError),
    (lambda: QuantileRegression(levels=(0.0, 0.5)), "levels", ValueError),
    (lambda: QuantileRegression(activation="nope"), "activation", ValueError),
    (lambda: QuantileRegression(steps=1.5), "steps", TypeError),
    (lambda: BinnedHead(1), "num_bins", ValueError),
    (lambda: BinnedHead(padding=-0.1), "padding", ValueError),
    (lambda: BinnedHead(padding="wide"), "padding", TypeError),
    (lambda: BinnedHead(jit_compile=1), "jit_compile", TypeError),
])
def test_bad_settings_are_refused_by_name(build, match, error):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("method", [HomoscedasticGaussian, HeteroscedasticGaussian,
                                    KernelConditionalDensity, BinnedHead, ConditionalSplineFlow,
                                    QuantileRegression, ValidatedMixtureDensityNetwork,
                                    NoiseRegularisedMDN])
def test_bad_data_is_refused_before_training(method, monkeypatch):
    import mdn_utils.core.baseline
    import mdn_utils.core.loop
    import mdn_utils.core.train

    def no_training(*args, **kwargs):
        raise AssertionError("training started on bad input")

    for module, name in ((mdn_utils.core.baseline, "build_mean_regressor"),
                         (mdn_utils.core.train, "train_mdn"), (mdn_utils.core.loop, "make_train_loop")):
        monkeypatch.setattr(module, name, no_training)
    model = method()
    x = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="y must be 1-D"):
        model.fit(x, np.ones((10, 2)))
    with pytest.raises(ValueError, match="x must be finite"):
        model.fit(np.where(x > 0.5, np.nan, x), x)
    with pytest.raises(ValueError, match="batch sizes"):
        model.fit(x, x[:9])
    with pytest.raises(TypeError, match="seed"):
        model.fit(x, x, seed="0")
    with pytest.raises(TypeError, match="x must be a numeric array"):
        model.fit("x", x)
    assert not model.fitted


def test_binned_head_refuses_a_constant_y_before_training(monkeypatch):
    import mdn_utils.core.loop
    monkeypatch.setattr(mdn_utils.core.loop, "make_train_loop", None)
    with pytest.raises(ValueError, match="y must not be constant"):
        BinnedHead().fit(np.linspace(0, 1, 5), np.full(5, 2.0))


def _settings_of(model) -> dict:
    """What the constructor set to a value (its settings; fitted attributes start as None or
    NaN), without the times every fit records."""
    import copy
    return {name: copy.deepcopy(value) for name, value in vars(model).items()
            if name not in ("fit_seconds", "training_seconds", "x_dim") and value is not None
            and not (isinstance(value, float) and np.isnan(value))}


@pytest.mark.slow
@pytest.mark.parametrize("build", [
    lambda: HomoscedasticGaussian(hidden_units=4, steps=20, batch_size=32),
    lambda: MixtureDensityNetwork(2, cache=False, steps=20, eval_every=20, hidden_units=4),
    lambda: ValidatedMixtureDensityNetwork((1, 2), cache=False, steps=20, eval_every=20,
                                           hidden_units=4),
    lambda: NoiseRegularisedMDN(2, cache=False, steps=20, eval_every=20, hidden_units=4),
    lambda: KernelConditionalDensity(bandwidth="normal_reference"),
    lambda: __import__("mdn_utils.compare.kde_grid", fromlist=["x"]).ValidatedKernelDensity(),
    lambda: BinnedHead(hidden_units=4, steps=20, batch_size=32),
    lambda: ConditionalSplineFlow(hidden_units=4, steps=20, batch_size=32),
    lambda: QuantileRegression(hidden_units=4, steps=20, batch_size=32),
])
def test_fit_leaves_the_constructor_settings_as_given(build):
    x, y = get_dataset("sinusoid_inverse").sample(120, seed=0)
    model = build()
    before = _settings_of(model)
    model.fit(x, y, seed=1)
    after = vars(model)
    for name in before:
        assert repr(before[name]) == repr(after[name]), name


@pytest.mark.parametrize("build", [
    lambda: HomoscedasticGaussian(hidden_units=4, steps=20, batch_size=32),
    lambda: MixtureDensityNetwork(2, cache=False, steps=20, eval_every=20, hidden_units=4),
    lambda: HeteroscedasticGaussian(cache=False, steps=30),
    lambda: ValidatedMixtureDensityNetwork((1, 2), cache=False, steps=20, hidden_units=4),
    lambda: NoiseRegularisedMDN(2, noise_scale=0.5, cache=False, steps=20),
    lambda: KernelConditionalDensity(bandwidth="normal_reference"),
    lambda: __import__("mdn_utils.compare.kde_grid", fromlist=["x"]).ValidatedKernelDensity(
        validation_fraction=0.3),
    lambda: BinnedHead(12, hidden_units=4, steps=20, batch_size=32),
    lambda: ConditionalSplineFlow(8, hidden_units=4, steps=20, batch_size=32),
    lambda: QuantileRegression(hidden_units=4, steps=20, batch_size=32),
])
def test_get_params_returns_the_settings_and_clone_rebuilds_the_method(build):
    model = build()
    params = model.get_params()
    twin = model.clone()
    assert type(twin) is type(model) and twin is not model and not twin.fitted
    assert repr(twin.get_params()) == repr(params)
    assert repr(_settings_of(twin)) == repr(_settings_of(model))
