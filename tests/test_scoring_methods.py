"""mdn_utils.compare.metrics: CRPS in three forms against the Gaussian closed form, the gap
to an exact floor, interval coverage, and the reasons given for what a method cannot do."""
import numpy as np
import pytest
from scipy import stats

from mdn_utils.diagnostics import scoring
from mdn_utils.compare.base import ConditionalModel, GaussianMixtureModel
from mdn_utils.diagnostics.scoring import MetricUnavailable
from mdn_utils.core.params import MixtureParams, categorical_draws


class StandardNormal(GaussianMixtureModel):
    """p(y | x) = N(y | x, 1): a known model, no training."""

    name = "known Gaussian"

    def _fit(self, x, y, seed):
        return 0.5   # a reported training time

    def _mixture(self, x):
        mu = x[:, :1]
        return MixtureParams.from_1d(np.zeros_like(mu), mu, np.zeros_like(mu))


class QuantilesOnly(ConditionalModel):
    """Exact quantiles of N(x, 1) at fixed levels, nothing else (like quantile regression)."""

    name = "quantiles only"
    unavailable_reason = "it only has quantiles"

    def __init__(self, levels):
        super().__init__()
        self.levels = np.asarray(levels, float)

    def _fit(self, x, y, seed):
        return None

    def _quantiles(self, x, levels):
        return x[:, :1] + stats.norm.ppf(levels)[None, :]


class TrueDensity:
    """A dataset object whose exact p(y | x) is N(y | x, 1)."""

    name, x_dim, y_dim = "shifted_normal", 1, 1
    x_range, y_range = (-1.0, 1.0), (-5.0, 5.0)

    def sample(self, num_samples, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, num_samples)
        return x, x + rng.standard_normal(num_samples)

    def log_density(self, x, y):
        return stats.norm.logpdf(y, loc=x)


@pytest.fixture(scope="module")
def gaussian_data():
    return TrueDensity().sample(4_000, seed=3)


def test_categorical_draws_invert_the_cumulative_weights():
    rng = np.random.default_rng(5)
    weights = rng.random((6, 9)) * (rng.random((6, 9)) > 0.3)
    weights[:, 4] += 0.1                                   # no row of zeros
    uniform = rng.random((500, 6))
    drawn = categorical_draws(weights, uniform)
    cumulative = np.cumsum(weights, 1) / weights.sum(1, keepdims=True)
    naive = np.minimum((cumulative[None] < uniform[..., None]).sum(-1), 8)
    assert np.array_equal(drawn, naive)
    assert np.all(weights[np.arange(6)[None, :], drawn] > 0)   # never a zero-weight category
    many = categorical_draws(weights[:1], rng.random((40_000, 1)))[:, 0]
    shares = np.bincount(many, minlength=9) / 40_000
    assert shares == pytest.approx(weights[0] / weights[0].sum(), abs=0.01)


def crps_gaussian(mu, sigma, y):
    """CRPS of N(mu, sigma^2) at y: the mixture kernel with K = 1."""
    y = np.atleast_1d(np.asarray(y, np.float64))
    k1 = np.zeros((len(y), 1))
    return MixtureParams.from_1d(k1, k1 + mu, k1 + np.log(sigma)).crps(y)


def test_crps_gaussian_matches_the_threshold_integral_and_the_closed_form():
    y = np.array([-3.0, -0.4, 0.0, 1.3, 5.0])
    mu, sigma = 0.2, 1.7
    closed = crps_gaussian(mu, sigma, y)
    grid = np.linspace(-20, 20, 40_001)
    cdf = np.broadcast_to(stats.norm.cdf(grid, mu, sigma), (len(y), len(grid)))
    assert closed == pytest.approx(scoring.crps_from_cdf(grid, cdf, y), abs=1e-6)
    z = (y - mu) / sigma   # Gneiting et al. 2005, doi:10.1175/MWR2904.1
    assert closed == pytest.approx(sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z)
                                            - 1 / np.sqrt(np.pi)), rel=1e-10)


def test_crps_from_samples_is_unbiased_for_the_gaussian():
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    draws = rng.normal(0.3, 0.8, size=(200, 400))
    estimate = scoring.crps_from_samples(draws, y)
    exact = crps_gaussian(0.3, 0.8, y)
    difference = estimate - exact
    assert abs(difference.mean()) < 3 * difference.std(ddof=1) / np.sqrt(len(y)) + 1e-3
    # the O(S log S) pair sum equals the direct double sum
    small = draws[:7, :3]
    direct = np.abs(small[:, None, :] - small[None, :, :]).sum((0, 1)) / (2 * 7 * 6)
    first = np.abs(small - y[None, :3]).mean(0)
    assert scoring.crps_from_samples(small, y[:3]) == pytest.approx(first - direct)


def test_crps_from_quantiles_converges_to_the_closed_form():
    y = np.array([-2.0, 0.1, 0.9, 3.0])
    mu, sigma = -0.5, 1.2
    for num_levels, tolerance in ((1_000, 2e-3), (20, 0.05)):
        levels = (np.arange(num_levels) + 0.5) / num_levels
        assert scoring.level_cell_widths(levels) == pytest.approx(np.full(num_levels,
                                                                          1 / num_levels))
        q = np.broadcast_to(stats.norm.ppf(levels, mu, sigma), (len(y), num_levels))
        assert scoring.crps_from_quantiles(q, levels, y) == pytest.approx(
            crps_gaussian(mu, sigma, y), rel=tolerance)


def test_gap_is_zero_for_the_true_model_and_positive_for_a_wrong_one(gaussian_data):
    x, y = gaussian_data
    right = StandardNormal().fit(x, y)
    gap = scoring.gap_to_floor(right, TrueDensity(), x, y)
    assert gap.gap == pytest.approx(0.0, abs=1e-12)
    assert gap.model_nll == pytest.approx(0.5 * np.log(2 * np.pi * np.e), abs=0.05)

    class Shifted(StandardNormal):
        def _mixture(self, x):
            params = super()._mixture(x)
            return MixtureParams.diag(params.logits, params.locs + 1.0, params.log_sigmas)

    wrong = scoring.gap_to_floor(Shifted().fit(x, y), TrueDensity(), x, y)
    # KL(N(0,1) || N(1,1)) = 0.5 nats
    assert wrong.gap == pytest.approx(0.5, abs=4 * wrong.standard_error)


def test_coverage_of_the_true_model_is_nominal(gaussian_data):
    x, y = gaussian_data
    coverage = scoring.interval_coverage(StandardNormal().fit(x, y), x, y)
    for level, estimate in coverage.items():
        assert abs(estimate.z) < 4


def test_score_names_what_each_method_cannot_produce(gaussian_data):
    x, y = gaussian_data
    full = scoring.score(StandardNormal().fit(x, y), x[:500], y[:500], TrueDensity(),
                         num_samples=50)
    assert full["training_seconds"] == 0.5
    assert full["crps"].how == "closed form"
    assert full["gap"].gap == pytest.approx(0.0, abs=1e-12)
    assert full["draws_per_second"] > 0

    levels = (np.arange(40) + 0.5) / 40
    limited = QuantilesOnly(levels).fit(x, y)
    table = scoring.score(limited, x[:500], y[:500], TrueDensity(), levels=(0.5, 0.95))
    for metric in ("nll", "gap", "sampling_seconds", "draws_per_second"):
        assert isinstance(table[metric], scoring.Unavailable), metric
        assert "it only has quantiles" in str(table[metric])
    assert table["crps"].how == "quantile form, 40 levels"
    assert table["crps"].value == pytest.approx(full["crps"].value, rel=0.02)
    assert set(table["coverage"]) == {0.5, 0.95}
    # real data: no floor, said so
    no_floor = scoring.score(StandardNormal().fit(x, y), x[:50], y[:50], None, num_samples=20)
    assert "no dataset" in no_floor["gap"].reason
    with pytest.raises(MetricUnavailable, match="quantiles only cannot produce"):
        limited.log_prob(x[:3], y[:3])


def test_bad_input_is_refused_by_name(gaussian_data):
    x, y = gaussian_data
    model = StandardNormal()
    with pytest.raises(RuntimeError, match="fit"):
        model.log_prob(x, y)
    model.fit(x, y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        model.log_prob(x[:4], np.ones((4, 2)))
    with pytest.raises(ValueError, match="x must have 1 columns"):
        model.log_prob(np.ones((4, 2)), y[:4])
    with pytest.raises(ValueError, match="batch sizes"):
        model.log_prob(x[:4], y[:5])
    with pytest.raises(ValueError, match="num_samples"):
        model.sample(x[:4], 0)
    with pytest.raises(ValueError, match="levels"):
        model.quantiles(x[:4], [0.5, 1.0])
    with pytest.raises(TypeError, match="model"):
        scoring.nll("not a model", x, y)
    with pytest.raises(ValueError, match="samples"):
        scoring.crps_from_samples(np.ones((1, 3)), np.ones(3))
    with pytest.raises(ValueError, match="quantiles"):
        scoring.crps_from_quantiles(np.ones((3, 2)), [0.2, 0.4, 0.6], np.ones(3))
    with pytest.raises(ValueError, match="levels must be strictly increasing"):
        scoring.level_cell_widths([0.5, 0.2])
    with pytest.raises(ValueError, match="no exact density"):
        from mdn_utils.problems.datasets import ArrayDataset
        scoring.gap_to_floor(model, ArrayDataset(x, y), x, y)
