"""Where the robot arm's box of angles has its edges, seen from the input x.

The exact p(theta | x) of ``robot_arm.RobotArm`` is zero outside a box of angles. Which
positions x have posterior mass near an edge of that box is a property of x: an edge is
a segment of the box's boundary, its image under the forward map f (``RobotArm.forward``)
is a curve in the plane, and since x = f(theta) + eps with eps ~ N(0, sigma_eps^2 I), an
x farther than a few sigma_eps from that curve has almost none of its posterior mass near
that edge. The average of the per-pair log ratio log p(theta_i | x_i) - log q(theta_i | x_i)
over test pairs selected by x estimates the average of KL(p(. | x) || q(. | x)) over the
selected x, which is never negative; over pairs selected by theta it estimates nothing of
the kind.

``edge_distance(arm, x, edges)``: per x, the distance to the nearest point of the images
of the named edges, "theta1" (theta_1 at either end of its range, theta_2 anywhere in its
range) and "theta2" (theta_2 at either end, theta_1 anywhere), each curve traced by
``points`` evenly spaced angles (so the distance is exact to within half the largest gap
between neighbouring points of a curve, reported by ``tracing_error``).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from mdn_utils import checks
from mdn_utils.problems.robot_arm import RobotArm

EDGES = ("theta1", "theta2")


def _check(arm, edges, points):
    if not isinstance(arm, RobotArm):
        raise TypeError(f"arm must be a robot_arm.RobotArm, got {type(arm).__name__}")
    if isinstance(edges, str):
        edges = (edges,)
    edges = tuple(edges)
    if not edges or any(e not in EDGES for e in edges):
        raise ValueError(f"edges must name some of {EDGES}, got {edges!r}")
    return edges, checks.positive_int("points", points, minimum=2)


def edge_curves(arm: RobotArm, edges=EDGES, points: int = 4_001) -> np.ndarray:
    """The images f(edge) of the named edges of the box, ``[m, 2]`` points in the plane."""
    edges, points = _check(arm, edges, points)
    curves = []
    for edge in edges:
        ends, sweep = ((arm.theta1_range, arm.theta2_range) if edge == "theta1"
                       else (arm.theta2_range, arm.theta1_range))
        swept = np.linspace(*sweep, points)
        for end in ends:
            pinned = np.full(points, end)
            theta = np.stack([pinned, swept] if edge == "theta1" else [swept, pinned], axis=-1)
            curves.append(arm.forward(theta))
    return np.concatenate(curves)


def tracing_error(arm: RobotArm, edges=EDGES, points: int = 4_001) -> float:
    """Half the largest distance between neighbouring traced points: ``edge_distance``
    overstates the true distance by at most this much."""
    edges, points = _check(arm, edges, points)
    curves = edge_curves(arm, edges, points).reshape(-1, points, 2)
    return float(np.linalg.norm(np.diff(curves, axis=1), axis=-1).max() / 2)


def edge_distance(arm: RobotArm, x, edges=EDGES, points: int = 4_001) -> np.ndarray:
    """Per position x ``[n, 2]``, the distance ``[n]`` to the nearest traced point of the
    images of the named edges (module docstring)."""
    edges, points = _check(arm, edges, points)
    x = checks.finite_array("x", x, ndim=2)
    if x.shape[1] != 2:
        raise ValueError(f"x must be [n, 2] positions, got shape {x.shape}")
    distance, _ = cKDTree(edge_curves(arm, edges, points)).query(x)
    return distance
