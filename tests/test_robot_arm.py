"""The robot-arm dataset: kinematics, analytic inverse, and an exact density that integrates
to 1 and whose conditional entropy does not move when the quadrature is refined."""
import numpy as np
import pytest

from mdn_utils.problems import datasets as data, robot_arm

ARM = robot_arm.ROBOT_ARM


def test_constants_and_registration():
    assert ARM.link_lengths == (0.8, 0.2)
    assert ARM.theta1_range == (0.3, 1.2)
    np.testing.assert_allclose(ARM.theta2_range, (np.pi / 2, 3 * np.pi / 2))
    assert data.get_dataset("robot_arm") is ARM
    assert isinstance(ARM, data.Dataset) and data.has_density(ARM)


def test_forward_matches_the_written_formula_and_the_radius():
    theta = np.array([[0.7, 2.0], [1.1, 4.0]])
    l1, l2 = 0.8, 0.2
    expected = np.stack([l1 * np.cos(theta[:, 0]) - l2 * np.cos(theta.sum(1)),
                         l1 * np.sin(theta[:, 0]) - l2 * np.sin(theta.sum(1))], axis=-1)
    np.testing.assert_allclose(robot_arm.forward(theta), expected)
    np.testing.assert_allclose(np.linalg.norm(expected, axis=1), ARM.radius(theta[:, 1]))
    joints = robot_arm.joint_positions(theta)
    assert joints.shape == (2, 3, 2)
    np.testing.assert_allclose(np.linalg.norm(joints[:, 1] - joints[:, 0], axis=1), l1)
    np.testing.assert_allclose(np.linalg.norm(joints[:, 2] - joints[:, 1], axis=1), l2)


def test_inverse_recovers_both_configurations():
    rng = np.random.default_rng(0)
    theta = np.stack([rng.uniform(0.3, 1.2, 200), rng.uniform(np.pi / 2, 3 * np.pi / 2, 200)], 1)
    solutions, inside = ARM.inverse(ARM.forward(theta))
    assert solutions.shape == (200, 2, 2)
    np.testing.assert_allclose(ARM.forward(solutions), ARM.forward(theta)[:, None].repeat(2, 1),
                               atol=1e-9)
    # The true configuration is one of the two (elbow up when theta_2 < pi).
    which = (theta[:, 1] > np.pi).astype(int)
    np.testing.assert_allclose(solutions[np.arange(200), which], theta, atol=1e-7)
    assert inside[np.arange(200), which].all()


def test_sample_shapes_dtypes_and_noise():
    x, theta = ARM.sample(4_000, seed=3)
    assert x.shape == theta.shape == (4_000, 2) and x.dtype == theta.dtype == np.float32
    assert ARM.in_box(theta).all()
    residual = x - ARM.forward(theta.astype(np.float64))
    assert abs(residual.std() / ARM.noise_std - 1) < 0.05
    np.testing.assert_array_equal(ARM.sample(4_000, seed=3)[0], x)   # seeded


@pytest.mark.parametrize("point", [(0.5, 0.7), (0.6, 0.75), (0.35, 0.93), (0.72, 0.68),
                                   (0.9, 0.2), (0.58, 0.8)])
def test_density_integrates_to_one_on_a_regular_grid(point):
    # Interior points, one near the outer edge (0.72, 0.68: |x| = 0.99) where the two
    # solutions merge; the regular grid is independent of the local quadrature.
    assert abs(ARM.total_probability(np.array(point), 451, 785) - 1) < 2e-3


def test_conditional_entropy_is_stable_under_refinement():
    x, theta = ARM.sample(1_500, seed=1)
    coarse = -ARM.log_density(x, theta).mean()
    fine = -ARM.refined(2).log_density(x, theta).mean()
    assert abs(coarse - fine) < 1e-3
    # and it is the floor that data.bayes_nll reports
    assert data.bayes_nll("robot_arm", x, theta) == pytest.approx(coarse)


def test_log_density_is_minus_infinity_outside_the_box_and_broadcasts():
    x = np.array([0.6, 0.75])
    outside = ARM.log_density(x, np.array([[0.1, 2.0], [0.7, 1.0]]))
    assert np.all(np.isneginf(outside))
    grid = np.zeros((3, 4, 2)) + np.array([0.7, 2.5])
    assert ARM.log_density(x, grid).shape == (3, 4)


def test_drawing_helpers_draw_one_line_per_arm():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    robot_arm.draw_arm(ax, np.array([[0.7, 2.0], [0.8, 4.0], [0.5, 3.0]]), label="arms")
    assert len(ax.lines) == 3
    robot_arm.draw_workspace(ax)
    plt.close(fig)


@pytest.mark.parametrize("call, error, word", [
    (lambda: robot_arm.forward([1.0, 2.0, 3.0]), ValueError, "theta"),
    (lambda: robot_arm.forward("ab"), TypeError, "theta"),
    (lambda: robot_arm.inverse([[np.nan, 1.0]]), ValueError, "x"),
    (lambda: robot_arm.forward([0.5, 2.0], link_lengths=(0.8, -0.2)), ValueError, "link_lengths"),
    (lambda: ARM.log_density([0.5, 0.7], [0.7]), ValueError, "y"),
    (lambda: ARM.log_density(np.zeros((3, 2)), np.zeros((4, 2))), ValueError, "broadcast"),
    (lambda: ARM.sample(0), ValueError, "num_samples"),
    (lambda: ARM.posterior_grid([0.5, 0.7, 0.1]), ValueError, "x_point"),
    (lambda: robot_arm.RobotArm(noise_std=0.0), ValueError, "noise_std"),
    (lambda: robot_arm.RobotArm(theta1_range=(1.2, 0.3)), ValueError, "theta1_range"),
    (lambda: robot_arm.RobotArm(nodes=(2, 40)), ValueError, "nodes"),
    (lambda: ARM.refined(0), ValueError, "factor"),
])
def test_bad_input_names_the_argument(call, error, word):
    with pytest.raises(error, match=word):
        call()


def test_theta2_marginal_of_the_exact_density_is_bimodal_inside_and_merges_at_the_edge():
    theta1 = np.linspace(*ARM.theta1_range, 121)
    theta2 = np.linspace(*ARM.theta2_range, 241)
    grid = np.stack(np.meshgrid(theta1, theta2, indexing="ij"), axis=-1)
    points = robot_arm.ray_points(0.75, [0.9, 1.0])
    log_grid = np.stack([ARM.log_density(p, grid) for p in points], axis=-1)
    marginals = robot_arm.theta2_marginals(log_grid, theta1, theta2)
    np.testing.assert_allclose(np.trapezoid(marginals, theta2, axis=1), 1.0)
    inner, edge = marginals
    near_pi = np.abs(theta2 - np.pi) < 0.1
    assert inner[near_pi].max() < 0.01 * inner.max()         # two separate solutions
    assert abs(theta2[edge.argmax()] - np.pi) < 0.15          # merged at theta_2 = pi
    with pytest.raises(ValueError, match="log_density_grid"):
        robot_arm.theta2_marginals(log_grid[0], theta1, theta2)


def test_evidence_is_converged_for_targets_out_of_reach():
    # beyond the angular range, beyond the outer edge and inside the inner edge
    points = np.concatenate([robot_arm.ray_points(1.6, [0.9]), robot_arm.ray_points(-0.05, [0.9]),
                             robot_arm.ray_points(0.75, [1.06, 0.8])])
    np.testing.assert_allclose(ARM.log_evidence(points), ARM.refined(3).log_evidence(points),
                               atol=1e-4)


def test_mixture_log_density_grid_is_the_mixture_log_density_at_every_angle_pair():
    from mdn_utils.core.params import MixtureParams
    rng = np.random.default_rng(0)
    n, k = 5, 3
    tril = np.tril(rng.normal(0, 0.3, (n, k, 2, 2)))
    tril[..., [0, 1], [0, 1]] = np.abs(tril[..., [0, 1], [0, 1]]) + 0.2
    mixture = MixtureParams.full(rng.normal(size=(n, k)), rng.normal(size=(n, k, 2)), tril)
    theta = rng.normal(size=(4, 6, 2))
    grid = robot_arm.mixture_log_density_grid(mixture, theta)
    assert grid.shape == (4, 6, n)
    for j in range(n):
        points = np.broadcast_to(theta.reshape(-1, 2), (1, 24, 2))
        expected = mixture.take(slice(j, j + 1)).log_prob_points(points)[0].reshape(4, 6)
        np.testing.assert_allclose(grid[..., j], expected, rtol=1e-12)
    # evaluated a row at a time, the same numbers
    np.testing.assert_array_equal(
        robot_arm.mixture_log_density_grid(mixture, theta, max_entries=1), grid)
    with pytest.raises(TypeError, match="mixture"):
        robot_arm.mixture_log_density_grid(np.zeros((3, 2)), theta)
    with pytest.raises(ValueError, match="theta"):
        robot_arm.mixture_log_density_grid(mixture, theta[..., :1])
