import numpy as np
import pytest
from scipy import special, stats

from mdn_utils.problems import datasets as data

INVERSE = ["sinusoid_inverse", "bishop"]


# ----------------------------------------------------------------------------- 1-D inverse problems
@pytest.mark.parametrize("dataset", INVERSE)
@pytest.mark.parametrize("x0_quantile", [0.1, 0.3, 0.5, 0.7, 0.95])
def test_conditional_density_integrates_to_one(dataset, x0_quantile):
    spec = data.get_dataset(dataset)
    x_low, x_high = spec.x_range
    x0 = x_low + x0_quantile * (x_high - x_low)
    # An independent, much finer grid than the one the library uses for p(x).
    grid = np.linspace(spec.y_low, spec.y_high, 2_000_001)
    total = np.trapezoid(data.conditional_density(dataset, x0, grid), grid)
    assert abs(total - 1.0) < 1e-4


def test_density_is_zero_outside_prior_support():
    assert np.all(data.conditional_density("bishop", 0.5, [-0.5, 1.5]) == 0)
    assert np.all(data.conditional_density("sinusoid_inverse", 0.0, [-11.0, 11.0]) == 0)
    assert np.all(np.isneginf(data.log_density("bishop", 0.5, [-0.5, 1.5])))


def test_sampling_is_seeded():
    a = data.sample("sinusoid_inverse", 100, seed=3)
    b = data.sample("sinusoid_inverse", 100, seed=3)
    c = data.sample("sinusoid_inverse", 100, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert a[0].dtype == np.float32 and a[0].shape == (100,)


def test_sampling_draws_are_pinned():
    # The chapters' numbers depend on these exact draws: the first pairs of seed 0,
    # recorded before datasets became objects.
    x, y = data.sample("sinusoid_inverse", 3, seed=0)
    np.testing.assert_array_equal(x, np.array([7.373758, 0.30600706, -10.137731], np.float32))
    np.testing.assert_array_equal(y, np.array([2.8761954, -4.834479, -9.639556], np.float32))
    x, y = data.sample("bishop", 3, seed=0)
    np.testing.assert_array_equal(x, np.array([0.3128057, 0.6301253, 0.1999076], np.float32))
    np.testing.assert_array_equal(y, np.array([0.6369617, 0.26978672, 0.040973525], np.float32))


def test_samples_follow_the_generator():
    x, y = data.sample("bishop", 5000, seed=0)
    residual = x - (y + 0.3 * np.sin(2 * np.pi * y))
    assert np.all(np.abs(residual) <= 0.1 + 1e-6)
    assert 0 <= y.min() and y.max() <= 1


def _entropy_by_2d_quadrature(dataset, points=2001):
    """H(Y | X) = -integral p(x, y) log p(y | x) dx dy on an (x, y) grid, written here from
    the generator's definition (not with the library's densities)."""
    spec = data.get_dataset(dataset)
    y = np.linspace(spec.y_low, spec.y_high, points)
    low, high = spec.x_range
    x = np.linspace(low - 5 * spec.noise_scale, high + 5 * spec.noise_scale, points)
    residual = x[:, None] - spec.forward(y)[None, :]
    if spec.noise == "normal":
        likelihood = (np.exp(-0.5 * (residual / spec.noise_scale) ** 2)
                      / (np.sqrt(2 * np.pi) * spec.noise_scale))
    else:
        likelihood = (np.abs(residual) <= spec.noise_scale) / (2 * spec.noise_scale)
    joint = likelihood / (spec.y_high - spec.y_low)
    evidence = np.trapezoid(joint, y, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(joint > 0, joint * np.log(joint / evidence[:, None]), 0.0)
    return -np.trapezoid(np.trapezoid(integrand, y, axis=1), x)


@pytest.mark.parametrize("dataset", INVERSE)
@pytest.mark.slow
def test_conditional_entropy(dataset):
    exact = data.conditional_entropy_exact(dataset)
    # The library's 1-D formula H(Y) + H(X | Y) - H(X) against a 2-D quadrature of the
    # definition (measured agreement: 1e-5 sinusoid, 8e-5 Bishop at 2001 points).
    assert abs(exact - _entropy_by_2d_quadrature(dataset)) < 5e-4
    # The Monte Carlo estimate (20,000 pairs) within four of its standard errors.
    x, y = data.sample(dataset, 20_000, seed=0)
    nll = -np.log(data.conditional_density(dataset, x, y))
    assert abs(data.conditional_entropy(dataset, num_samples=20_000, seed=0) - nll.mean()) < 1e-12
    assert abs(nll.mean() - exact) < 4 * nll.std() / np.sqrt(len(nll))


def test_bayes_nll_beats_a_wrong_density():
    x, y = data.sample("sinusoid_inverse", 5000, seed=1)
    floor = data.bayes_nll("sinusoid_inverse", x, y)
    # A broad Gaussian around the data's mean is a worse model.
    broad = np.mean(0.5 * np.log(2 * np.pi * y.var()) + 0.5 * (y - y.mean()) ** 2 / y.var())
    assert floor < broad - 0.5


def test_conditional_mean_of_bishop_by_hand():
    # Where the forward map is one-to-one the conditional of y is one box, so E[y | x]
    # is its midpoint: at x = 0.05 the box is forward^{-1}((x - 0.1, x + 0.1)) within
    # y >= 0; solve for its ends with a root finder on the definition.
    from scipy import optimize
    forward = lambda y: y + 0.3 * np.sin(2 * np.pi * y)  # noqa: E731
    x0 = 0.05
    high = optimize.brentq(lambda y: forward(y) - (x0 + 0.1), 0.0, 0.2)
    mean = data.conditional_mean("bishop", x0)
    assert abs(mean - 0.5 * (0.0 + high)) < 2e-3
    # the object form gives the same numbers as the name
    np.testing.assert_array_equal(data.conditional_mean(data.BISHOP, [x0, 0.5]),
                                  data.conditional_mean("bishop", [x0, 0.5]))


# ----------------------------------------------------------------------------- the protocol
def _array_dataset():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    return data.ArrayDataset(x, x[:, :2] @ np.array([[1.0], [-2.0]]) + rng.normal(size=(300, 1)),
                             name="linear", source="generated in the test")


ALL = [*sorted(data.DATASETS), "array", "csv"]


def _dataset(kind, tmp_path):
    if kind == "array":
        return _array_dataset()
    if kind == "csv":
        path = tmp_path / "table.csv"
        rng = np.random.default_rng(1)
        np.savetxt(path, rng.normal(size=(50, 3)), delimiter=",", header="a,b,c", comments="")
        return data.ArrayDataset.from_csv(path, x_columns="a", y_columns=["b", "c"])
    return data.get_dataset(kind)


def _pairs(value, dim):
    return [value] if dim == 1 else list(value)


@pytest.mark.parametrize("kind", ALL)
def test_every_dataset_follows_the_protocol(kind, tmp_path):
    spec = _dataset(kind, tmp_path)
    assert isinstance(spec, data.Dataset)
    assert isinstance(spec.name, str) and spec.name
    assert data.get_dataset(spec) is spec
    x, y = spec.sample(40, seed=0)
    for array, dim in ((x, spec.x_dim), (y, spec.y_dim)):
        assert array.dtype == np.float32
        assert array.shape == ((40,) if dim == 1 else (40, dim))
    # ranges: (low, high) for a width of 1, else one such pair per dimension
    for value, dim, array in ((spec.x_range, spec.x_dim, x), (spec.y_range, spec.y_dim, y)):
        pairs = _pairs(value, dim)
        assert len(pairs) == dim
        columns = array.reshape(len(array), dim)
        for (low, high), column in zip(pairs, columns.T):
            assert isinstance(low, float) and isinstance(high, float) and low < high
            assert np.mean((column >= low) & (column <= high)) >= 0.95
    # seeded: same seed, same rows; another seed, other rows
    again = spec.sample(40, seed=0)
    other = spec.sample(40, seed=1)
    np.testing.assert_array_equal(x, again[0])
    np.testing.assert_array_equal(y, again[1])
    assert not np.array_equal(y, other[1])
    # the module functions take the object as well as the name
    np.testing.assert_array_equal(data.sample(spec, 40, seed=0)[1], y)
    assert data.has_density(spec) == (spec.log_density is not None)
    if data.has_density(spec):
        log_p = spec.log_density(x, y)
        assert log_p.shape == (40,) and np.all(np.isfinite(log_p))
        assert data.bayes_nll(spec, x, y) == data.bayes_nll(spec.name, x, y) == -log_p.mean()
        np.testing.assert_allclose(data.conditional_density(spec, x, y), np.exp(log_p),
                                   rtol=1e-12)
    else:
        with pytest.raises(ValueError, match="has no exact density"):
            data.bayes_nll(spec, x, y)


def test_builtin_datasets_have_densities_and_names_that_match_the_table():
    for name, spec in data.DATASETS.items():
        assert spec.name == name and data.has_density(name)
        assert data.get_dataset(name) is spec
    assert not data.has_density(_array_dataset())


def test_a_user_defined_dataset_works_with_the_module_functions():
    class Line:
        """y = x + N(0, 1): exact density, no ``density`` method."""
        name, x_dim, y_dim = "line", 1, 1
        x_range, y_range = (-1.0, 1.0), (-4.0, 4.0)

        def sample(self, num_samples, seed=0):
            rng = np.random.default_rng(seed)
            x = rng.uniform(-1, 1, num_samples)
            return x.astype(np.float32), (x + rng.normal(size=num_samples)).astype(np.float32)

        def log_density(self, x, y):
            return stats.norm.logpdf(np.asarray(y, float) - np.asarray(x, float))

    line = Line()
    assert isinstance(line, data.Dataset)
    x, y = data.sample(line, 20_000, seed=0)
    entropy = 0.5 * np.log(2 * np.pi * np.e)
    assert abs(data.conditional_entropy(line) - entropy) < 0.03
    np.testing.assert_allclose(data.conditional_density(line, 0.0, [0.0]), [stats.norm.pdf(0)])
    with pytest.raises(ValueError, match="does not provide conditional_entropy_exact"):
        data.conditional_entropy_exact(line)


@pytest.mark.parametrize("call, error, match", [
    (lambda: data.get_dataset("moons"), ValueError, "dataset must be one of"),
    (lambda: data.get_dataset(3), TypeError, "dataset must be a name"),
    (lambda: data.get_dataset(object()), TypeError, "dataset must be a name"),
    (lambda: data.sample(data.BISHOP, 0), ValueError, "num_samples"),
    (lambda: data.sample(data.TWO_GAUSSIANS_2D, 1.5), TypeError, "num_samples"),
    (lambda: data.sample(data.TWO_GAUSSIANS_2D, 5, seed=-2), ValueError, "seed"),
    (lambda: data.bayes_nll("two_gaussians_2d", [0.0, 0.1], [0.5, 0.2]), ValueError,
     r"y must have rank 2"),
    (lambda: data.bayes_nll("two_gaussians_2d", [0.0], [[0.5, 0.2, 0.1]]), ValueError,
     r"y must have shape \[n, 2\]"),
    (lambda: data.bayes_nll("two_gaussians_2d", [0.0, 0.1], [[0.5, 0.2]]), ValueError,
     "batch sizes"),
    (lambda: data.log_density("two_gaussians_2d", [0.0], [0.5]), ValueError, "last dimension of 2"),
    (lambda: data.log_density("two_gaussians_2d", [0.0, 0.1, 0.2], np.zeros((2, 2))), ValueError,
     "broadcast"),
    (lambda: data.log_density("two_gaussians_2d", [np.nan], [[0.0, 0.0]]), ValueError,
     "x must be finite"),
    (lambda: data.TwoGaussians2D(correlations=(0.8, 1.0)), ValueError, "correlations"),
    (lambda: data.TwoGaussians2D(sigmas=((0.5, 0.0), (0.4, 0.6))), ValueError, "sigmas"),
    (lambda: data.TwoGaussians2D(mean_slopes=(1.0, 2.0)), ValueError, "mean_slopes"),
    (lambda: data.TWO_GAUSSIANS_2D.conditional_entropy_exact(y_points=10), ValueError, "y_points"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------- ArrayDataset
def test_array_dataset_samples_rows_without_replacement_seeded():
    x = np.arange(100, dtype=float)
    spec = data.ArrayDataset(x, np.column_stack([2 * x, -x]), name="rows")
    assert (spec.x_dim, spec.y_dim, len(spec)) == (1, 2, 100)
    xs, ys = spec.sample(100, seed=5)
    # all 100 rows, each once, in a seeded order, with x and y still paired
    assert sorted(xs.tolist()) == x.tolist()
    assert not np.array_equal(xs, x)
    np.testing.assert_array_equal(ys, np.column_stack([2 * xs, -xs]))
    part, _ = spec.sample(30, seed=5)
    assert len(np.unique(part)) == 30
    np.testing.assert_array_equal(part, spec.sample(30, seed=5)[0])
    assert not np.array_equal(part, spec.sample(30, seed=6)[0])
    # a single column [n, 1] counts as a width of 1
    assert data.ArrayDataset(x[:, None], x, name="c").x_dim == 1
    assert data.ArrayDataset(x[:, None], x, name="c").sample(3)[0].shape == (3,)


def test_array_dataset_cannot_be_changed_through_its_samples_or_inputs():
    x = np.arange(10.0)
    spec = data.ArrayDataset(x, x, name="copy")
    x[0] = 99.0                                   # the caller's array changes ...
    xs, _ = spec.sample(10, seed=0)
    assert 99.0 not in xs                         # ... the dataset's does not
    xs[:] = -1.0
    assert -1.0 not in spec.sample(10, seed=0)[0]
    assert spec.x_range == (0.0, 9.0)


def test_array_dataset_has_no_floor():
    spec = data.ArrayDataset([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], name="measured", source="m.csv")
    assert spec.log_density is None and not data.has_density(spec)
    for call in (lambda: data.bayes_nll(spec, [0.0], [1.0]),
                 lambda: data.conditional_density(spec, 0.0, 1.0),
                 lambda: data.log_density(spec, 0.0, 1.0),
                 lambda: data.conditional_mean(spec, 0.0),
                 lambda: data.conditional_entropy(spec, 2),
                 lambda: data.conditional_entropy_exact(spec)):
        with pytest.raises(ValueError, match=r"dataset 'measured' \(from m.csv\) has no exact "
                                             "density"):
            call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: data.ArrayDataset([0.0, 1.0], [0.0, 1.0, 2.0]), ValueError, "x has 2, y has 3"),
    (lambda: data.ArrayDataset([0.0, np.nan], [0.0, 1.0]), ValueError, "x must be finite"),
    (lambda: data.ArrayDataset([0.0, 1.0], [np.inf, 1.0]), ValueError, "y must be finite"),
    (lambda: data.ArrayDataset([0.0, 1e300], [0.0, 1.0]), ValueError, "float32 range"),
    (lambda: data.ArrayDataset(np.zeros((2, 2, 2)), [0.0, 1.0]), ValueError, "x must have rank"),
    (lambda: data.ArrayDataset([], []), ValueError, "x must not be empty"),
    (lambda: data.ArrayDataset(["a", "b"], [0.0, 1.0]), TypeError, "x must be a numeric"),
    (lambda: data.ArrayDataset([0.0], [0.0], name=""), TypeError, "name"),
    (lambda: data.ArrayDataset([0.0], [0.0], source=3), TypeError, "source"),
    (lambda: data.ArrayDataset([0.0, 1.0], [0.0, 1.0], name="two").sample(3), ValueError,
     "num_samples=3 exceeds the 2 rows of dataset 'two'"),
    (lambda: data.ArrayDataset([0.0, 1.0], [0.0, 1.0]).sample(1.0), TypeError, "num_samples"),
    (lambda: data.ArrayDataset([0.0, 1.0], [0.0, 1.0]).sample(0), ValueError, "num_samples"),
    (lambda: data.ArrayDataset([0.0, 1.0], [0.0, 1.0]).sample(1, seed=0.5), TypeError, "seed"),
])
def test_array_dataset_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_array_dataset_from_csv(tmp_path):
    path = tmp_path / "weather.csv"
    path.write_text("temp, wind,rain\n1.5,2,0.25\n-3,4.5,0\n7,1,1\n")
    spec = data.ArrayDataset.from_csv(path, x_columns=["temp", "wind"], y_columns="rain")
    assert spec.name == "weather" and spec.source == str(path)
    assert (spec.x_dim, spec.y_dim, len(spec)) == (2, 1, 3)
    x, y = spec.sample(3, seed=0)
    order = np.argsort(y)
    np.testing.assert_array_equal(y[order], np.float32([0, 0.25, 1]))
    np.testing.assert_array_equal(x[order], np.float32([[-3, 4.5], [1.5, 2], [7, 1]]))
    with pytest.raises(ValueError, match=r"y_columns: no column \['snow'\]"):
        data.ArrayDataset.from_csv(path, x_columns="temp", y_columns="snow")
    with pytest.raises(TypeError, match="x_columns"):
        data.ArrayDataset.from_csv(path, x_columns=[], y_columns="rain")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n")
    with pytest.raises(ValueError, match="must hold numbers"):
        data.ArrayDataset.from_csv(bad, x_columns="a", y_columns="b")


# ----------------------------------------------------------------------------- the 2-D toy
TOY = data.TWO_GAUSSIANS_2D


def _toy_by_hand(x, y, correlations=(0.8, -0.8)):
    """log p(y | x) from the toy's definition with scipy's multivariate normal."""
    w = special.expit(3.0 * x)
    total = 0.0
    for weight, mean, s, rho in (
            (1 - w, (-1.0 + 0.5 * x, x), (0.5, 0.5), correlations[0]),
            (w, (1.0 + 0.5 * x, -x), (0.4, 0.6), correlations[1])):
        cov = [[s[0] ** 2, rho * s[0] * s[1]], [rho * s[0] * s[1], s[1] ** 2]]
        total = total + weight * stats.multivariate_normal(mean, cov).pdf(y)
    return np.log(total)


def test_toy_log_density_matches_scipy():
    rng = np.random.default_rng(2)
    for x0 in (-1.0, -0.4, 0.0, 0.7, 1.0):
        y = rng.normal(scale=2.0, size=(50, 2))
        np.testing.assert_allclose(TOY.log_density(x0, y), _toy_by_hand(x0, y), rtol=1e-12,
                                   atol=1e-12)
    # far in the tails the closed form stays finite where the density underflows
    assert np.isfinite(TOY.log_density(0.0, [[60.0, -60.0]]))


@pytest.mark.parametrize("x0", [-1.0, -0.5, 0.0, 0.3, 0.9])
def test_toy_density_integrates_to_one(x0):
    grid = np.linspace(-8.0, 8.0, 1601)
    y = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1)
    total = np.trapezoid(np.trapezoid(TOY.density(x0, y), grid, axis=1), grid)
    assert abs(total - 1.0) < 1e-6


def test_toy_samples_have_the_right_shapes_and_support():
    x, y = TOY.sample(1000, seed=0)
    assert x.dtype == y.dtype == np.float32 and x.shape == (1000,) and y.shape == (1000, 2)
    assert -1 <= x.min() and x.max() <= 1 and x.min() < -0.99 and x.max() > 0.99


def _same_sign_probability(x, correlations):
    """P(sign(y_1 - m_1) = sign(y_2 - m_2) | x) with m = mu_0(x), from the definition:
    orthant probabilities of each component with scipy's bivariate normal CDF."""
    w = special.expit(3.0 * x)
    m0 = np.array([-1.0 + 0.5 * x, x])
    total = 0.0
    for weight, mean, s, rho in (
            (1 - w, m0, (0.5, 0.5), correlations[0]),
            (w, np.array([1.0 + 0.5 * x, -x]), (0.4, 0.6), correlations[1])):
        cov = [[s[0] ** 2, rho * s[0] * s[1]], [rho * s[0] * s[1], s[1] ** 2]]
        shift = mean - m0
        both_below = stats.multivariate_normal(shift, cov).cdf([0.0, 0.0])
        both_above = stats.multivariate_normal(-shift, cov).cdf([0.0, 0.0])
        total += weight * (both_below + both_above)
    return total


def test_toy_sampling_frequencies_match_the_definition():
    x, y = TOY.sample(100_000, seed=1)
    x64, y64 = x.astype(float), y.astype(float)
    # 1. the share of y_1 > 0 in bins of x: sum_k w_k(x) Phi(mu_k1(x) / s_k1)
    edges = np.linspace(-1, 1, 6)
    for low, high in zip(edges, edges[1:]):
        inside = (x64 >= low) & (x64 < high)
        nodes = np.linspace(low, high, 201)
        w = special.expit(3.0 * nodes)
        expected = np.mean((1 - w) * stats.norm.sf(0, -1 + 0.5 * nodes, 0.5)
                           + w * stats.norm.sf(0, 1 + 0.5 * nodes, 0.4))
        observed = np.mean(y64[inside, 0] > 0)
        assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / inside.sum())
    # 2. the correlation: both coordinates on the same side of mu_0(x)
    nodes, weights = np.polynomial.legendre.leggauss(40)
    expected = 0.5 * sum(wt * _same_sign_probability(n, (0.8, -0.8)) for n, wt in zip(nodes, weights))
    without = 0.5 * sum(wt * _same_sign_probability(n, (0.0, 0.0)) for n, wt in zip(nodes, weights))
    residual = y64 - np.column_stack([-1 + 0.5 * x64, x64])
    observed = np.mean(np.sign(residual[:, 0]) == np.sign(residual[:, 1]))
    error = np.sqrt(expected * (1 - expected) / len(x))
    assert abs(observed - expected) < 4 * error
    assert abs(without - expected) > 40 * error       # the check can tell rho from 0


@pytest.mark.slow
def test_toy_exact_entropy_matches_monte_carlo_and_converges():
    exact = data.conditional_entropy_exact("two_gaussians_2d")
    finer = TOY.conditional_entropy_exact(x_points=48, y_points=601)
    assert abs(exact - finer) < 1e-8
    x, y = TOY.sample(100_000, seed=3)
    nll = -TOY.log_density(x, y)
    assert abs(nll.mean() - exact) < 4 * nll.std() / np.sqrt(len(nll))
    assert abs(data.conditional_entropy(TOY, 100_000, seed=3) - nll.mean()) < 1e-12
    # with the correlations at 0 the entropy rises by about -0.5 log(1 - 0.8^2) = 0.51
    uncorrelated = data.TwoGaussians2D(correlations=(0.0, 0.0)).conditional_entropy_exact()
    assert 0.4 < uncorrelated - exact < 0.55


def test_toy_correlation_matters_for_a_diagonal_mixture():
    # The same weights and means with the covariances' diagonals only (the best a diagonal
    # K = 2 mixture can do per component) is clearly worse on the toy's samples.
    x, y = TOY.sample(50_000, seed=4)
    full = TOY.log_density(x, y)
    diagonal = data.TwoGaussians2D(correlations=(0.0, 0.0)).log_density(x, y)
    by_hand = [_toy_by_hand(float(a), b.astype(float), (0.0, 0.0)) for a, b in zip(x[:50], y[:50])]
    np.testing.assert_allclose(diagonal[:50], by_hand, rtol=1e-10)
    gap = full - diagonal
    assert gap.mean() > 0.3 and gap.mean() > 20 * gap.std() / np.sqrt(len(gap))


def test_toy_conditional_mean_and_parameters():
    x0 = np.array([-0.8, 0.0, 0.6])
    grid = np.linspace(-8.0, 8.0, 1201)
    y = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1)
    for x_value, mean in zip(x0, data.conditional_mean(TOY, x0)):
        density = TOY.density(x_value, y)
        numeric = [np.trapezoid(np.trapezoid(density * y[..., d], grid, axis=1), grid)
                   for d in range(2)]
        np.testing.assert_allclose(mean, numeric, atol=1e-8)
    np.testing.assert_allclose(TOY.scale_trils @ np.swapaxes(TOY.scale_trils, 1, 2),
                               [[[0.25, 0.2], [0.2, 0.25]], [[0.16, -0.192], [-0.192, 0.36]]],
                               atol=1e-15)
    np.testing.assert_allclose(np.exp(TOY.log_weights([0.0, 100.0, -100.0])),
                               [[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]], atol=1e-15)


def test_spline_evidence_matches_the_quadrature_everywhere():
    """Gaussian noise: p(x) read from the spline through log p(x) equals the quadrature,
    inside the nodes' range, in its tails and beyond it (where the quadrature is used)."""
    problem = data.SINUSOID_INVERSE
    rng = np.random.default_rng(3)
    low, high = problem.x_range
    x = np.concatenate([problem.sample(2_000, seed=4)[0].astype(np.float64),
                        rng.uniform(low - 14, high + 14, 2_000)])
    spline = np.log(problem._evidence(x))
    quadrature = np.log(problem._evidence_by_quadrature(x))
    np.testing.assert_allclose(spline, quadrature, rtol=0, atol=1e-8)
    assert np.any(x > high + 12) and np.any(x < low - 12)   # the fall-back ran too
