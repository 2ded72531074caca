"""mdn_utils.compare.report (the chapter's comparison runner and its result cache) and
compare.kde_grid (kernel CDE with validated bandwidths), on small data with models that
need no TensorFlow, except where a test compares with the TensorFlow-side code."""
import inspect

import numpy as np
import pytest

from mdn_utils.compare import METHODS
from mdn_utils.compare import crossval, report
from mdn_utils.diagnostics import scoring
from mdn_utils.compare.base import ConditionalModel, GaussianMixtureModel
from mdn_utils.diagnostics.scoring import MetricUnavailable
from mdn_utils.core.params import MixtureParams
from mdn_utils.compare.kde import KernelConditionalDensity
from mdn_utils.compare.kde_grid import ValidatedKernelDensity


class LineGaussian(GaussianMixtureModel):
    """N(a x + b, scale^2) with (a, b) by least squares; counts its fits."""

    name = "line Gaussian"
    fits = 0

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def _fit(self, x, y, seed):
        type(self).fits += 1
        self.coef = np.polyfit(x[:, 0], y, 1)

    def _mixture(self, x):
        mu = np.polyval(self.coef, x[:, 0])[:, None]
        return MixtureParams.from_1d(np.zeros_like(mu), mu, np.full_like(mu, np.log(self.scale)))


class LineQuantiles(ConditionalModel):
    """Quantiles only (like quantile regression): a x + b + scale * z_level."""

    name = "line quantiles"
    unavailable_reason = "quantiles only"
    levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])

    def _fit(self, x, y, seed):
        self.coef = np.polyfit(x[:, 0], y, 1)

    def _quantiles(self, x, levels):
        from scipy import special
        return np.polyval(self.coef, x[:, 0])[:, None] + special.ndtri(levels)[None, :]


@pytest.fixture
def results_in(tmp_path, monkeypatch):
    monkeypatch.setenv("MDN_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 300)
    return x, 2 * x + rng.normal(0, 1.0, 300)


# --------------------------------------------------------------------------- specs
def test_one_spec_per_registered_method_with_the_budget_each_accepts():
    specs = report.method_specs(dict(steps=7, eval_every=7, cache=False))
    assert [s.key for s in specs] == list(METHODS)
    by_key = {s.key: s for s in specs}
    assert by_key["kernel_cde"].settings == {}                       # no steps, no network
    assert by_key["mdn"].settings == dict(steps=7, eval_every=7, cache=False)
    assert by_key["binned_head"].settings == dict(steps=7)


def test_classes_and_overrides_replace_one_method_and_unknown_keys_are_refused():
    specs = report.method_specs({"steps": 5}, classes={"kernel_cde": ValidatedKernelDensity},
                                overrides={"mdn": {"num_components": 3}})
    by_key = {s.key: s for s in specs}
    assert by_key["kernel_cde"].cls is ValidatedKernelDensity
    assert by_key["mdn"].settings == {"steps": 5, "num_components": 3}
    with pytest.raises(ValueError, match="overrides"):
        report.method_specs(overrides={"no_such_method": {}})
    with pytest.raises(ValueError, match="classes"):
        report.method_specs(classes={"no_such_method": LineGaussian})


def test_train_mdn_defaults_read_without_tensorflow_match_the_signature():
    from mdn_utils.core.train import train_mdn
    expected = {name: p.default for name, p in inspect.signature(train_mdn).parameters.items()
                if p.kind is p.KEYWORD_ONLY}
    assert report.train_mdn_parameters() == set(expected)
    literal = report.train_mdn_defaults()
    assert literal == {name: expected[name] for name in literal}
    assert set(expected) - set(literal) == {"fourier_scale"}     # a named constant


# --------------------------------------------------------------------------- evaluate + cache
def _split(pairs):
    x, y = pairs
    return x[:200], y[:200], x[200:], y[200:]


def test_a_second_evaluation_is_loaded_not_fitted(results_in, pairs):
    spec = report.MethodSpec("line", LineGaussian, {"scale": 1.0})
    before = LineGaussian.fits
    first = report.evaluate(spec, *_split(pairs))
    assert LineGaussian.fits == before + 1 and not first.from_cache
    again = report.evaluate(spec, *_split(pairs))
    assert LineGaussian.fits == before + 1 and again.from_cache
    for name in ("nll", "crps", "pit", "inside", "x_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert again.training_seconds == first.training_seconds      # the run that trained it
    assert len(list(results_in.glob("evaluation-*.npz"))) == 1


def test_the_cache_is_keyed_by_settings_data_seed_and_scoring(results_in, pairs):
    x, y, x_test, y_test = _split(pairs)
    spec = report.MethodSpec("line", LineGaussian, {"scale": 1.0})
    report.evaluate(spec, x, y, x_test, y_test)
    count = LineGaussian.fits
    variants = [
        dict(spec=report.MethodSpec("line", LineGaussian, {"scale": 2.0})),
        dict(y=y + 1e-3),
        dict(y_test=y_test[::-1]),
        dict(seed=1),
        dict(coverage_level=0.8),
    ]
    for variant in variants:
        arguments = dict(spec=spec, x=x, y=y, x_test=x_test, y_test=y_test)
        arguments.update(variant)
        options = {k: arguments.pop(k) for k in ("seed", "coverage_level") if k in arguments}
        result = report.evaluate(arguments["spec"], arguments["x"], arguments["y"],
                                 arguments["x_test"], arguments["y_test"], **options)
        assert not result.from_cache, variant
    assert LineGaussian.fits == count + len(variants)


def test_the_key_changes_with_the_code_and_the_package_versions(monkeypatch, pairs):
    from mdn_utils import store
    spec = report.MethodSpec("line", LineGaussian, {})
    x, y, x_test, y_test = _split(pairs)
    key = report.evaluation_key(spec, x, y, x_test, y_test, None, 0, {})
    assert key == report.evaluation_key(spec, x, y, x_test, y_test, None, 0, {})
    real_digest = store.code_digest
    monkeypatch.setattr(store, "code_digest", lambda *modules: "edited" + real_digest(*modules))
    edited = report.evaluation_key(spec, x, y, x_test, y_test, None, 0, {})
    assert edited != key
    monkeypatch.setattr(store, "package_versions", lambda: {"statsmodels": "0.0"})
    assert report.evaluation_key(spec, x, y, x_test, y_test, None, 0, {}) != edited


def test_scores_agree_with_the_metrics_module(results_in):
    from mdn_utils.problems import datasets as data
    x, y = data.sample("sinusoid_inverse", 300, seed=0)
    x_test, y_test = data.sample("sinusoid_inverse", 400, seed=2)
    spec = report.MethodSpec("line", LineGaussian, {"scale": 5.0})
    result = report.evaluate(spec, x, y, x_test, y_test, "sinusoid_inverse", coverage_level=0.8)
    model = LineGaussian(5.0).fit(x, y)
    gap = scoring.gap_to_floor(model, "sinusoid_inverse", x_test, y_test)
    assert result.gap_estimate().value == pytest.approx(gap.gap)
    assert result.gap_estimate().standard_error == pytest.approx(gap.standard_error)
    assert result.nll_estimate().value == pytest.approx(scoring.nll(model, x_test, y_test).value)
    assert result.crps_estimate().value == pytest.approx(
        scoring.crps(model, x_test, y_test).value)
    # coverage from the PIT equals coverage from the quantiles
    by_quantiles = scoring.interval_coverage(model, x_test, y_test, [0.8])[0.8]
    assert result.coverage().coverage == pytest.approx(by_quantiles.coverage)


def test_a_method_without_a_density_is_scored_on_what_it_has(results_in, pairs):
    result = report.evaluate(report.MethodSpec("q", LineQuantiles, {}), *_split(pairs))
    assert result.nll is None and result.pit is None
    assert result.unavailable["nll"] == "quantiles only"
    assert result.unavailable["sampling"] == "quantiles only"
    assert isinstance(result.gap_estimate(), scoring.Unavailable)
    assert report.cell(result.gap_estimate()) == "n/a"
    assert result.crps_how.startswith("quantile form")
    # true line, unit noise: the quantile-based 90% interval covers about 90%
    assert result.coverage().coverage == pytest.approx(0.9, abs=0.1)
    assert np.isnan(result.draws_per_second)


def test_cross_validation_scores_each_example_by_the_model_that_did_not_see_it(results_in,
                                                                               pairs):
    x, y = pairs
    spec = report.MethodSpec("line", LineGaussian, {})
    pooled = report.cross_validated([spec], x, y, 3, seed=4)["line"]
    expected = np.empty(len(y))
    for train, test in crossval.kfold(len(y), 3, 4):
        expected[test] = -LineGaussian().fit(x[train], y[train], 4).log_prob(x[test], y[test])
    np.testing.assert_allclose(pooled.nll, expected, rtol=1e-12)
    estimate = pooled.nll_estimate()
    assert estimate.value == pytest.approx(expected.mean())
    assert estimate.standard_error == pytest.approx(expected.std(ddof=1) / np.sqrt(len(y)))
    assert np.isfinite(pooled.crps_estimate().value)
    np.testing.assert_array_equal(pooled.x_test, x)           # back in the order of the rows
    assert pooled.floor_nll is None and "gap" in pooled.unavailable


def test_paired_difference():
    d = report.paired_difference([1.0, 2.0, 4.0], [0.0, 1.0, 2.0])
    assert d.value == pytest.approx(4 / 3)
    assert d.standard_error == pytest.approx(np.std([1, 1, 2], ddof=1) / np.sqrt(3))
    with pytest.raises(ValueError, match="same test pairs"):
        report.paired_difference([1.0, 2.0], [1.0])


def test_infinite_nll_is_reported_not_averaged():
    e = scoring.mean_allowing_inf(np.array([1.0, np.inf, 2.0]), "how")
    assert np.isinf(e.value) and "1 of 3" in e.how and report.cell(e).startswith("∞")


def test_bad_input_is_refused_by_name(results_in, pairs):
    x, y, x_test, y_test = _split(pairs)
    spec = report.MethodSpec("line", LineGaussian, {})
    with pytest.raises(TypeError, match="spec"):
        report.evaluate("line", x, y, x_test, y_test)
    with pytest.raises(ValueError, match="coverage_level"):
        report.evaluate(spec, x, y, x_test, y_test, coverage_level=1.5)
    with pytest.raises(ValueError, match="x_test"):
        report.evaluate(spec, x, y, np.stack([x_test, x_test], 1), y_test)
    with pytest.raises(ValueError, match="x_test"):
        report.evaluate(spec, x, y, x_test[:5], y_test)
    with pytest.raises(ValueError, match="no exact density"):
        from mdn_utils.problems.datasets import ArrayDataset
        report.evaluate(spec, x, y, x_test, y_test, ArrayDataset(x, y))
    with pytest.raises(ValueError, match="no exact density"):
        from mdn_utils.problems.datasets import ArrayDataset
        report.compare_on_floor([spec], ArrayDataset(x, y), 10, 10)
    with pytest.raises(TypeError, match="use_cache"):
        report.evaluate(spec, x, y, x_test, y_test, use_cache="yes")


# --------------------------------------------------------------------------- kde_grid
def test_validated_bandwidths_minimise_the_grid_and_match_the_estimator(pairs):
    x, y = pairs
    model = ValidatedKernelDensity(factors=(0.3, 1.0, 3.0)).fit(x, y, seed=1)
    grid = model.validation_nll
    assert grid.shape == (3, 3)
    assert grid[list(model.factors).index(model.factor_y),
                list(model.factors).index(model.factor_x)] == grid.min()
    np.testing.assert_allclose(model.bandwidths,
                               model.reference * [model.factor_y, model.factor_x])
    # one grid entry, recomputed with the plain estimator on the same split
    order = np.random.default_rng(1).permutation(len(y))
    held_out, kept = order[:60], order[60:]
    reference = ValidatedKernelDensity._reference(x[kept][:, None], y[kept])
    plain = KernelConditionalDensity(bandwidth=reference * [1.0, 3.0]).fit(x[kept], y[kept])
    expected = -plain.log_prob(x[held_out], y[held_out]).mean()
    assert grid[1, 2] == pytest.approx(expected, rel=1e-9)


def test_validated_kde_prefers_narrow_x_kernels_on_a_sharp_function():
    rng = np.random.default_rng(2)
    x = rng.uniform(-3, 3, 400)
    y = np.sin(4 * x) + rng.normal(0, 0.05, 400)
    model = ValidatedKernelDensity().fit(x, y)
    assert model.factor_x < 1 and model.factor_y < 1   # the reference rule oversmooths


def test_validated_kde_bad_input():
    with pytest.raises(ValueError, match="factors"):
        ValidatedKernelDensity(factors=(0.5, -1.0))
    with pytest.raises(ValueError, match="validation_fraction"):
        ValidatedKernelDensity(validation_fraction=1.0)
    with pytest.raises(ValueError, match="validation_fraction"):
        ValidatedKernelDensity(validation_fraction=0.01).fit(np.arange(5.0), np.arange(5.0))
