"""The distance from a position x to the images of the robot arm's box edges."""
import numpy as np
import pytest

from mdn_utils.problems import arm_edges
from mdn_utils.problems.robot_arm import ROBOT_ARM


def test_a_point_on_an_edge_image_is_at_distance_zero_and_the_centre_is_far():
    arm = ROBOT_ARM
    on_theta1_edge = arm.forward(np.array([[arm.theta1_range[0], 2.0]]))
    on_theta2_edge = arm.forward(np.array([[0.7, arm.theta2_range[1]]]))
    error = arm_edges.tracing_error(arm)
    assert arm_edges.edge_distance(arm, on_theta1_edge, "theta1")[0] <= error
    assert arm_edges.edge_distance(arm, on_theta2_edge, "theta2")[0] <= error
    # the theta2 edges map to the inner circle r = r(pi / 2): a point on it is far from them
    # only in polar angle, while the middle of the box maps well inside the workspace
    centre = arm.forward(np.array([[np.mean(arm.theta1_range), np.pi]]))
    assert arm_edges.edge_distance(arm, centre)[0] > 5 * arm.noise_std


def test_the_distance_agrees_with_a_brute_force_search_over_a_finer_trace():
    arm = ROBOT_ARM
    x, _ = arm.sample(60, seed=0)
    fine = arm_edges.edge_curves(arm, points=40_001)
    brute = np.concatenate([np.min(np.linalg.norm(chunk[:, None, :] - fine[None], axis=-1), axis=1)
                            for chunk in np.array_split(x, 6)])
    distance = arm_edges.edge_distance(arm, x)
    assert np.all(distance >= brute - arm_edges.tracing_error(arm, points=40_001))
    assert np.all(distance <= brute + arm_edges.tracing_error(arm))
    assert arm_edges.tracing_error(arm) < 0.01 * arm.noise_std


def test_each_edge_is_nearer_than_the_two_together_never():
    x, _ = ROBOT_ARM.sample(200, seed=1)
    both = arm_edges.edge_distance(ROBOT_ARM, x)
    first = arm_edges.edge_distance(ROBOT_ARM, x, "theta1")
    second = arm_edges.edge_distance(ROBOT_ARM, x, ["theta2"])
    assert np.allclose(both, np.minimum(first, second))


@pytest.mark.parametrize("call, error, message", [
    (lambda: arm_edges.edge_distance("arm", np.zeros((1, 2))), TypeError, "arm"),
    (lambda: arm_edges.edge_distance(ROBOT_ARM, np.zeros((1, 3))), ValueError, "x must"),
    (lambda: arm_edges.edge_distance(ROBOT_ARM, [[np.nan, 0.0]]), ValueError, "x"),
    (lambda: arm_edges.edge_distance(ROBOT_ARM, np.zeros((1, 2)), "theta3"), ValueError, "edges"),
    (lambda: arm_edges.edge_distance(ROBOT_ARM, np.zeros((1, 2)), []), ValueError, "edges"),
    (lambda: arm_edges.edge_curves(ROBOT_ARM, points=1), ValueError, "points"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
