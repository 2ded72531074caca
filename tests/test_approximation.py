"""mdn_utils.diagnostics.approximation: quadrature of the exact p(y | x), weighted EM, the floor."""
import numpy as np
import pytest

from mdn_utils.diagnostics import approximation
from mdn_utils.problems import datasets as data

CHEAP = dict(nodes_per_segment=2, panel_width=0.02, nodes_per_panel=4, max_iterations=100)


def test_em_recovers_a_target_that_is_a_mixture():
    # the target is itself a 2-component mixture: the best 2-mixture has KL ~ 0
    y = np.linspace(-8.0, 8.0, 4001)
    w = np.full_like(y, y[1] - y[0])
    w[[0, -1]] *= 0.5
    p = 0.3 * np.exp(-0.5 * (y + 2) ** 2 / 0.25) / np.sqrt(2 * np.pi * 0.25) \
        + 0.7 * np.exp(-0.5 * (y - 1.5) ** 2 / 1.44) / np.sqrt(2 * np.pi * 1.44)
    fit = approximation.fit_mixture(y, w * p, 2, max_iterations=2000, tolerance=1e-14)
    order = np.argsort(fit.means[0])
    np.testing.assert_allclose(fit.means[0, order], [-2.0, 1.5], atol=1e-4)
    np.testing.assert_allclose(np.exp(fit.log_sigmas[0, order]), [0.5, 1.2], atol=1e-4)
    np.testing.assert_allclose(np.exp(fit.log_weights[0, order]), [0.3, 0.7], atol=1e-4)
    omega = w * p / np.sum(w * p)
    log_q = approximation.mixture_log_density(fit.log_weights, fit.means, fit.log_sigmas,
                                              y[None, :])[0]
    kl = np.sum(omega * (np.log(p) - log_q))
    assert abs(kl) < 1e-7


def test_quadrature_matches_the_exact_density():
    for name in ("bishop", "sinusoid_inverse"):
        x = np.array([0.5 if name == "bishop" else 0.0])
        quad = approximation.quadrature(name, x, panel_width=0.02, nodes_per_panel=4)
        np.testing.assert_allclose(np.sum(quad.w * quad.p, axis=1), 1.0, rtol=1e-12)
        inside = quad.w[0] > 0
        exact = data.conditional_density(name, x[0], quad.y[0, inside])
        np.testing.assert_allclose(quad.p[0, inside], exact, rtol=1e-4)
    # uniform noise: p(x) = (measure of the support) * p(y) / (2 h), with p(y) = 1
    for x_value in (0.05, 0.35, 0.5):
        intervals = approximation.support_intervals("bishop", x_value)
        measure = sum(b - a for a, b in intervals)
        evidence = approximation.quadrature("bishop", [x_value], panel_width=0.05).evidence[0]
        assert evidence == pytest.approx(measure / 0.2, rel=1e-12)
    assert len(approximation.support_intervals("bishop", 0.35)) == 2


def test_x_quadrature_integrates_p_of_x_to_one():
    for name in ("bishop", "sinusoid_inverse"):
        x, weights = approximation.x_quadrature(name, nodes_per_segment=4)
        evidence = approximation.quadrature(name, x, panel_width=0.05).evidence
        assert abs(np.sum(weights * evidence) - 1.0) < 1e-3


def test_floor_is_nonnegative_and_falls_with_k():
    floors = [approximation.approximation_floor("bishop", k, **CHEAP) for k in (1, 2, 3)]
    for floor in floors:
        assert np.all(floor.kl > -1e-9)
        np.testing.assert_allclose(floor.x_weights.sum(), 1.0)
    averages = [f.average_kl for f in floors]
    assert all(b <= a + 1e-4 for a, b in zip(averages, averages[1:])), averages
    # K = 1 on a single box of any width: KL(U || best Gaussian) = 0.5 log(2 pi e / 12)
    one_box = approximation.quadrature("bishop", [0.05], panel_width=0.01)
    fit = approximation.fit_mixture(one_box.y, one_box.target_weights, 1)
    kl = approximation.kl_divergence(one_box, fit.log_weights, fit.means, fit.log_sigmas)
    assert kl[0] == pytest.approx(0.5 * np.log(2 * np.pi * np.e / 12), abs=1e-6)


def test_split_keeps_weight_mean_and_variance():
    log_weights, means, log_sigmas = approximation.split_components(
        np.log([[0.25, 0.75]]), [[0.0, 2.0]], np.log([[0.5, 1.0]]), 3)
    assert means.shape == (1, 3)
    weights, sigmas = np.exp(log_weights[0]), np.exp(log_sigmas[0])
    np.testing.assert_allclose(weights.sum(), 1.0)
    mean = weights @ means[0]
    second = weights @ (sigmas ** 2 + means[0] ** 2)
    np.testing.assert_allclose([mean, second - mean ** 2],
                               [0.75 * 2.0, 0.25 * 0.25 + 0.75 * 1.0 + 0.25 * 0.75 * 4.0])


def test_previous_k_start_keeps_the_floor_from_rising():
    small = approximation.approximation_floor("bishop", 2, **CHEAP)
    large = approximation.approximation_floor("bishop", 3, previous=small, **CHEAP)
    assert large.average_kl <= small.average_kl + 1e-6
    assert large.fit.means.shape == (len(large.x), 3)
    # mirror symmetry of Bishop's data: KL(x) = KL(1 - x)
    order = np.argsort(large.x)
    np.testing.assert_allclose(large.kl[order], large.kl[order][::-1], atol=1e-12)


def test_graded_panels_shrink_towards_the_support_edges_and_integrate_the_same():
    plain = approximation.quadrature("bishop", [0.35], panel_width=0.02, nodes_per_panel=4)
    graded = approximation.quadrature("bishop", [0.35], panel_width=0.02, nodes_per_panel=4,
                                      edge_halvings=5)
    for quad in (plain, graded):
        np.testing.assert_allclose(np.sum(quad.w * quad.p, axis=1), 1.0, rtol=1e-12)
    assert graded.evidence[0] == pytest.approx(plain.evidence[0], rel=1e-12)
    # at each end of each interval the smallest panel is 2^-5 of the plain one
    inside = graded.w[0] > 0
    assert graded.spacing[0, inside].min() == pytest.approx(plain.spacing[0].max() / 32,
                                                            rel=0.2)
    edges = approximation._panel_edges(0.0, 1.0, 4, 3)
    np.testing.assert_allclose(edges, [0, 1 / 32, 1 / 16, 1 / 8, 0.25, 0.5, 0.75,
                                       1 - 1 / 8, 1 - 1 / 16, 1 - 1 / 32, 1])
    one = approximation._panel_edges(0.0, 1.0, 1, 2)
    assert np.all(np.diff(one) > 0) and one[0] == 0 and one[-1] == 1


def test_a_bound_per_node_holds_each_component_by_the_node_nearest_its_mean():
    y = np.linspace(0.0, 1.0, 201)
    weights = np.ones_like(y)
    bound = np.where(y < 0.5, 0.2, 0.01)             # wide on the left, narrow on the right
    fit = approximation.fit_mixture(y, weights, 4, max_iterations=300, min_sigma=bound[None, :])
    sigmas, means = np.exp(fit.log_sigmas[0]), fit.means[0]
    assert np.all(sigmas[means < 0.5 - 0.01] >= 0.2 - 1e-12)
    assert np.all(sigmas >= 0.01 - 1e-12)
    # the flag says which components sit at their bound
    nearest = bound[np.abs(y[:, None] - means[None, :]).argmin(axis=0)]
    np.testing.assert_array_equal(fit.at_floor[0], np.isclose(sigmas, nearest, rtol=1e-8))
    assert fit.iterations <= 300 and np.isfinite(fit.last_change)


def test_rescoring_on_the_fitting_quadrature_gives_the_floor_and_finer_is_close():
    floor = approximation.approximation_floor("bishop", 3, **CHEAP)
    same = approximation.rescored_kl(floor, CHEAP["panel_width"], CHEAP["nodes_per_panel"])
    assert same == pytest.approx(floor.average_kl, rel=1e-10)
    finer = approximation.rescored_kl(floor, CHEAP["panel_width"] / 4, 8, edge_halvings=4)
    assert abs(finer - floor.average_kl) < 1e-3
    assert 0.0 <= floor.pinned_weight <= 1.0
    # a per-spacing bound with graded panels: narrower components at the edges, same value
    graded = approximation.approximation_floor("bishop", 3, sigma_per_spacing=1.0,
                                               min_sigma_fraction=1e-6, edge_halvings=6,
                                               **CHEAP)
    assert graded.average_kl <= floor.average_kl + 1e-4


@pytest.mark.parametrize("call, error, match", [
    (lambda: approximation.approximation_floor("robot_arm", 2), ValueError, "inverse problem"),
    (lambda: approximation.approximation_floor("bishop", 0), ValueError, "num_components"),
    (lambda: approximation.approximation_floor("bishop", 2.5), TypeError, "num_components"),
    (lambda: approximation.quadrature("bishop", [5.0], panel_width=0.1), ValueError,
     "outside the support"),
    (lambda: approximation.quadrature("bishop", [0.5], panel_width=-1.0), ValueError,
     "panel_width"),
    (lambda: approximation.fit_mixture([0.0, 1.0], [1.0, -1.0], 1), ValueError, ">= 0"),
    (lambda: approximation.fit_mixture([0.0, 1.0], [1.0], 1), ValueError, "shape"),
    (lambda: approximation.fit_mixture([0.0, np.inf], [1.0, 1.0], 1), ValueError, "finite"),
    (lambda: approximation.fit_mixture([0.0, 1.0], [1.0, 1.0], 2, starts=[([[0.0]], [[0.0]],
                                                                          [[0.0]])]),
     ValueError, "starts"),
    (lambda: approximation.approximation_floor(
        "bishop", 1, previous=approximation.approximation_floor("bishop", 2, **CHEAP), **CHEAP),
     ValueError, "previous"),
    (lambda: approximation.quadrature("bishop", [0.5], panel_width=0.1, edge_halvings=-1),
     ValueError, "edge_halvings"),
    (lambda: approximation.approximation_floor("bishop", 2, sigma_per_spacing=0.0, **CHEAP),
     ValueError, "sigma_per_spacing"),
    (lambda: approximation.approximation_floor("bishop", 2, min_sigma_fraction=1.5, **CHEAP),
     ValueError, "min_sigma_fraction"),
    (lambda: approximation.fit_mixture([[1.0, 0.0]], [[1.0, 1.0]], 1,
                                       min_sigma=[[0.1, 0.1]]), ValueError, "increasing"),
    (lambda: approximation.rescored_kl("not a floor", 0.1), TypeError, "floor"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
