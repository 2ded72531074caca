import numpy as np
import pytest
from scipy import integrate, optimize, stats

from mdn_utils.core.params import MixtureParams
from mdn_utils.diagnostics import scoring
from mdn_utils.problems import datasets as data

# One 3-component mixture, used by several tests: weights, means, sigmas.
WEIGHTS = np.array([0.1, 0.2, 0.7])
MEANS = np.array([0.1, -0.3, 1.0])
SIGMAS = np.array([0.4, 2.1, 0.7])


def mixture_params(n=1, weights=WEIGHTS, means=MEANS, sigmas=SIGMAS):
    return (np.tile(np.log(weights), (n, 1)), np.tile(means, (n, 1)),
            np.tile(np.log(sigmas), (n, 1)))


def mixture_cdf(t, weights=WEIGHTS, means=MEANS, sigmas=SIGMAS):
    return np.sum(weights * stats.norm.cdf((np.asarray(t)[..., None] - means) / sigmas), -1)


def sample_mixture(n, seed, weights=WEIGHTS, means=MEANS, sigmas=SIGMAS):
    rng = np.random.default_rng(seed)
    k = rng.choice(len(weights), size=n, p=weights)
    return rng.normal(means[k], sigmas[k])


# ----------------------------------------------------------------------------- CRPS
def test_crps_mixture_matches_published_value():
    # scoringrules' docstring example: crps_mixnorm(0.0, [0.1, -0.3, 1.0], [0.4, 2.1, 0.7],
    # [0.1, 0.2, 0.7]) = 0.46806866729387275.
    value = scoring.crps_mixture(MixtureParams.from_1d(*mixture_params()), [0.0])
    np.testing.assert_allclose(value, [0.46806866729387275], rtol=1e-10)


def test_crps_mixture_matches_numerical_integration_of_its_definition():
    for y in (-3.0, 0.0, 0.4, 2.5):
        def integrand(t):
            return (mixture_cdf(t) - (t >= y)) ** 2
        exact = sum(integrate.quad(integrand, a, b, limit=200, epsabs=1e-12)[0]
                    for a, b in ((-40, y), (y, 40)))
        value = scoring.crps_mixture(MixtureParams.from_1d(*mixture_params()), [y])[0]
        assert abs(value - exact) < 1e-8


def test_crps_mixture_matches_monte_carlo_kernel_form():
    # CRPS(F, y) = E|Y - y| - E|Y - Y'| / 2 with Y, Y' ~ F independent.
    y = 0.7
    draws = sample_mixture(400_000, seed=1)
    other = sample_mixture(400_000, seed=2)
    terms = np.abs(draws - y) - 0.5 * np.abs(draws - other)
    estimate, error = terms.mean(), terms.std() / np.sqrt(len(terms))
    value = scoring.crps_mixture(MixtureParams.from_1d(*mixture_params()), [y])[0]
    assert abs(value - estimate) < 4 * error


def test_crps_of_one_gaussian_is_the_known_formula():
    mu, sigma, y = 0.3, 1.7, -0.4
    z = (y - mu) / sigma
    known = sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    value = scoring.crps_mixture(MixtureParams.from_1d([[0.0]], [[mu]], [[np.log(sigma)]]), [y])[0]
    assert abs(value - known) < 1e-12


def test_crps_from_cdf_agrees_with_closed_form():
    grid = np.linspace(-15, 15, 30_001)
    y = np.array([-16.0, -2.0, 0.0, 0.45, 3.3, 16.0])
    cdf = np.tile(mixture_cdf(grid), (len(y), 1))
    numeric = scoring.crps_from_cdf(grid, cdf, y)
    closed = scoring.crps_mixture(MixtureParams.from_1d(*mixture_params(len(y))), y)
    np.testing.assert_allclose(numeric, closed, atol=1e-6)


def test_crps_uniform_matches_integration():
    for y in (-0.5, 0.0, 0.3, 1.0, 2.0):
        def integrand(t):
            return (np.clip(t, 0, 1) - (t >= y)) ** 2
        exact = sum(integrate.quad(integrand, a, b, limit=200)[0]
                    for a, b in ((-3, y), (y, 4)))
        assert abs(scoring.crps_uniform([y], 0.0, 1.0)[0] - exact) < 1e-9
    # scaling: CRPS of U(a, b) is (b - a) times that of U(0, 1) at the standardised y
    np.testing.assert_allclose(scoring.crps_uniform([1.0], -10.5, 10.5),
                               21.0 * scoring.crps_uniform([11.5 / 21.0], 0.0, 1.0))


def test_exact_conditional_scores_better_than_the_marginal():
    x, y = data.sample("bishop", 4000, seed=3)
    pit, crps = scoring.exact_pit_and_crps("bishop", x, y)
    marginal = scoring.crps_uniform(y, 0.0, 1.0)
    difference = marginal - crps                 # paired on the same points
    assert difference.mean() > 10 * difference.std() / np.sqrt(len(difference))
    assert np.all((pit >= 0) & (pit <= 1))


# ----------------------------------------------------------------------------- PIT per bin
def test_uniform_pit_is_not_flagged_in_any_bin():
    rng = np.random.default_rng(0)
    x, pit = rng.normal(size=50_000), rng.uniform(size=50_000)
    result = scoring.pit_by_bin(x, pit)
    assert len(result.bins) == 10 and sum(b.count for b in result.bins) == 50_000
    assert result.flagged == ()
    # the bins are equal-count and ordered in x
    assert all(b.count == 5000 for b in result.bins)
    assert all(a.x_high <= b.x_low for a, b in zip(result.bins, result.bins[1:]))


def test_marginal_model_passes_pooled_but_fails_per_bin():
    x, y = data.sample("sinusoid_inverse", 50_000, seed=4)
    pit = scoring.prior_pit("sinusoid_inverse", y)
    pooled = stats.chisquare(np.histogram(pit, bins=10, range=(0, 1))[0]).pvalue
    assert pooled > 0.001                      # uniform when pooled over x ...
    result = scoring.pit_by_bin(x, pit)
    assert len(result.flagged) >= 8            # ... but not within bins of x


def test_calibration_takes_dataset_objects():
    x, y = data.sample("bishop", 300, seed=6)
    spec = data.get_dataset("bishop")
    np.testing.assert_array_equal(scoring.prior_pit(spec, y), scoring.prior_pit("bishop", y))
    by_object = scoring.exact_pit_and_crps(spec, x, y, grid_points=501)
    by_name = scoring.exact_pit_and_crps("bishop", x, y, grid_points=501)
    for a, b in zip(by_object, by_name):
        np.testing.assert_array_equal(a, b)
    # the prior PIT is (y - y_low) / (y_high - y_low) on the dataset's y_range
    measured = data.ArrayDataset(x, 2 * y + 1, name="measured")
    low, high = measured.y_range
    assert (low, high) == (float(np.float32(2 * y + 1).min()), float(np.float32(2 * y + 1).max()))
    np.testing.assert_allclose(scoring.prior_pit(measured, 2 * y + 1),
                               (2 * y + 1 - low) / (high - low), rtol=1e-6)


@pytest.mark.slow
def test_exact_conditional_pit_passes_per_bin():
    x, y = data.sample("sinusoid_inverse", 20_000, seed=5)
    pit, _ = scoring.exact_pit_and_crps("sinusoid_inverse", x, y)
    result = scoring.pit_by_bin(x, pit)
    assert result.flagged == ()


def test_pit_by_bin_detects_a_shift_confined_to_one_region():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=50_000)
    pit = rng.uniform(size=50_000)
    region = x > 0.9
    pit[region] = rng.beta(2.0, 1.0, size=region.sum())   # biased model where x > 0.9
    result = scoring.pit_by_bin(x, pit)
    assert result.flagged == (9,)


def test_prior_pit_is_the_uniform_cdf():
    np.testing.assert_allclose(scoring.prior_pit("sinusoid_inverse", [-10.5, 0.0, 10.5]),
                               [0.0, 0.5, 1.0])
    np.testing.assert_allclose(scoring.prior_pit("bishop", [0.25]), [0.25])


# ----------------------------------------------------------------------------- coverage
def test_coverage_standard_error_and_flag():
    rng = np.random.default_rng(2)
    report = scoring.coverage_report(rng.uniform(size=40_000))
    for row in report:
        assert abs(row.standard_error - np.sqrt(row.level * (1 - row.level) / 40_000)) < 1e-15
        assert not row.flagged
    too_sharp = scoring.coverage_report(rng.beta(0.8, 0.8, size=40_000), levels=[0.5])[0]
    assert too_sharp.coverage < 0.5 and too_sharp.flagged and too_sharp.z < -3


def test_hdr_thresholds_of_a_gaussian():
    grid = np.linspace(-8, 8, 16_001)
    density = stats.norm.pdf(grid)[None, :]
    threshold = scoring.hdr_thresholds(density, grid[1] - grid[0], [0.5, 0.95])[0]
    np.testing.assert_allclose(threshold, stats.norm.pdf(stats.norm.ppf([0.75, 0.975])),
                               rtol=1e-3)


def test_hdr_coverage_is_nominal_for_the_true_mixture_and_agrees_with_a_grid():
    # two separated modes: the HDR of mass 0.5 is two short intervals around the modes,
    # the central interval of mass 0.5 is about [-4, 4] and lies mostly in the empty gap.
    weights, means, sigmas = np.array([0.3, 0.7]), np.array([-4.0, 4.0]), np.array([0.5, 1.0])
    y = sample_mixture(20_000, seed=3, weights=weights, means=means, sigmas=sigmas)
    params = mixture_params(len(y), weights, means, sigmas)
    sampled = scoring.hdr_coverage(MixtureParams.from_1d(*params), y)
    for row in sampled:
        assert not row.flagged, row
    # the same coverage from thresholds found on a fine y grid
    grid = np.linspace(-12, 12, 24_001)
    density = np.sum(weights * stats.norm.pdf((grid[:, None] - means) / sigmas) / sigmas, -1)
    thresholds = scoring.hdr_thresholds(density[None, :], grid[1] - grid[0], [0.5, 0.8, 0.95])[0]
    at_y = np.sum(weights * stats.norm.pdf((y[:, None] - means) / sigmas) / sigmas, -1)
    for row, threshold in zip(sampled, thresholds):
        assert abs(row.coverage - np.mean(at_y >= threshold)) < 3 * row.standard_error
    # the gap [-1.5, 1.5] holds under 1% of the mass; the central 50% interval contains it,
    # the 50% HDR does not reach into it
    gap_mass = mixture_cdf(1.5, weights, means, sigmas) - mixture_cdf(-1.5, weights, means, sigmas)
    low, high = (optimize.brentq(lambda t: mixture_cdf(t, weights, means, sigmas) - q, -20, 20)
                 for q in (0.25, 0.75))
    assert gap_mass < 0.01 and low < -1.5 and high > 1.5
    in_gap = np.sum(weights * stats.norm.pdf((np.linspace(-1.5, 1.5, 101)[:, None] - means) / sigmas)
                    / sigmas, -1)
    assert in_gap.max() < thresholds[0]


def test_hdr_coverage_flags_a_too_wide_model():
    y = np.random.default_rng(4).normal(size=20_000)
    params = ([[0.0]] * len(y), [[0.0]] * len(y), [[np.log(2.0)]] * len(y))
    row = scoring.hdr_coverage(MixtureParams.from_1d(*params), y, levels=[0.5])[0]
    assert row.coverage > 0.7 and row.flagged


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, match", [
    (lambda: scoring.pit_by_bin([0.0, 1.0], [0.5]), "batch sizes"),
    (lambda: scoring.pit_by_bin(np.zeros(200), np.full(200, 1.5)), "pit values"),
    (lambda: scoring.pit_by_bin(np.zeros(50), np.zeros(50)), "at least"),
    (lambda: scoring.pit_by_bin(np.zeros(200), np.zeros(200), alpha=2.0), "alpha"),
    (lambda: scoring.coverage_report([0.5], levels=[1.5]), "levels"),
    (lambda: scoring.crps_mixture(MixtureParams.from_1d([[0.0]], [[0.0, 1.0]], [[0.0]]), [0.0]), "same shape"),
    (lambda: scoring.crps_mixture(MixtureParams.from_1d([[0.0]], [[0.0]], [[np.nan]]), [0.0]), "log_sigmas"),
    (lambda: scoring.crps_uniform([0.0], 1.0, 0.0), "low < high"),
    (lambda: scoring.hdr_coverage(MixtureParams.from_1d([[0.0]], [[0.0]], [[0.0]]), [0.0], num_samples=5), "num_samples"),
    (lambda: scoring.hdr_thresholds([[1.0, -1.0]], 0.1, [0.5]), "non-negative"),
    (lambda: scoring.prior_pit("nope", [0.0]), "dataset"),
    (lambda: scoring.prior_pit(3, [0.0]), "dataset must be a name"),
    (lambda: scoring.prior_pit("two_gaussians_2d", [0.0]), "2-dimensional y"),
    (lambda: scoring.exact_pit_and_crps(data.ArrayDataset([0.0, 1.0], [0.0, 1.0], name="m"),
                                            [0.0], [0.0]), "dataset 'm' has no exact density"),
    (lambda: scoring.exact_pit_and_crps("two_gaussians_2d", [0.0], [0.0]), "2-dimensional y"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --------------------------------------------------------------------------- coverage
@pytest.mark.parametrize("share, n", [(0.0, 40), (1.0, 40), (0.3, 200), (0.95, 1_000)])
def test_wilson_interval_is_the_set_of_levels_the_score_test_keeps(share, n):
    inside = np.arange(n) < round(share * n)
    observed = scoring.coverage(inside, 0.5)
    low, high = observed.interval()
    assert 0.0 <= low <= observed.coverage <= high <= 1.0 and high - low > 0
    q = scoring.WILSON_QUANTILE
    for level in np.linspace(0.001, 0.999, 999):
        kept = abs(scoring.Coverage(level, observed.coverage, n).z) <= q
        assert kept == (low - 1e-9 <= level <= high + 1e-9), level


def test_a_share_of_one_is_not_certain():
    # 40 of 40 points inside: the share is 1, its interval still reaches below 0.92
    low, high = scoring.coverage(np.ones(40, bool), 0.9).interval()
    assert high == 1.0 and 0.85 < low < 0.92


@pytest.mark.parametrize("call, name", [
    (lambda: scoring.coverage(np.array([0.5, 1.0]), 0.5), "inside"),
    (lambda: scoring.coverage(np.ones(3, bool), 1.5), "levels"),
    (lambda: scoring.paired_gap([1.0, 2.0], [1.0]), "batch sizes"),
    (lambda: scoring.paired_difference([1.0, 2.0], [1.0]), "same test pairs"),
    (lambda: scoring.nll(object(), [0.0], [0.0]), "conditional model"),
])
def test_scoring_bad_input_is_named(call, name):
    with pytest.raises((TypeError, ValueError), match=name):
        call()


def test_a_mixture_conditional_needs_a_prediction_function():
    from mdn_utils.core.params import ConditionalMixture
    with pytest.raises(TypeError, match="predict"):
        ConditionalMixture("not a function")
