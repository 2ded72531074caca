"""The two-link robot arm that Bishop (1994) and PRML section 5.6 use to motivate MDNs: a 2-D
inverse problem with an exact conditional density. The link lengths and the angle box follow
a public re-implementation of the report's examples; they were not checked against the
report or PRML (see chapter 9).

Forward kinematics (joint angles theta = (theta_1, theta_2) to the end effector), written
with complex numbers, e^{i a} = (cos a, sin a)::

    f(theta) = e^{i theta_1} (L1 - L2 e^{i theta_2})
             = (L1 cos theta_1 - L2 cos(theta_1 + theta_2),
                L1 sin theta_1 - L2 sin(theta_1 + theta_2))

so the distance of the end effector from the base depends on theta_2 alone,
r(theta_2) = abs(L1 - L2 e^{i theta_2}) = sqrt(L1^2 + L2^2 - 2 L1 L2 cos theta_2), and its
polar angle is theta_1 + beta(theta_2) with beta = arg(L1 - L2 e^{i theta_2}).
The generator: theta uniform on the box [theta1_range] x [theta2_range], and the observed
position x = f(theta) + eps, eps ~ N(0, sigma_eps^2 I_2). The book models p(theta | x)::

    p(theta | x) = p(theta) N(x | f(theta), sigma_eps^2 I) / p(x),
    p(x) = integral_box p(theta) N(x | f(theta), sigma_eps^2 I) d theta.

The evidence p(x) is a 2-D integral, computed by quadrature refined around the analytic
inverse solutions (``RobotArm.log_evidence``): in the sheared coordinates
u = theta_1 + beta(theta_2) (the polar angle of f; the shear has Jacobian determinant 1) and
v = theta_2, the Gaussian factor is
exp(-(norm(x)^2 + r(v)^2 - 2 norm(x) r(v) cos(phi_x - u)) / 2 sigma_eps^2),
which is negligible unless r(v) is near norm(x) and u near phi_x. So v runs over the two
branches theta_2 < pi ("elbow up") and theta_2 > pi ("elbow down"), each restricted to where
abs(r(v) - norm(x)) is within ``window`` sigma_eps of its smallest value, and, at each v
node, u runs over ``window`` sigma_eps / sqrt(norm(x) r(v)) around the feasible u nearest
phi_x, clipped to the box's edges in theta_1 exactly; Gauss-Legendre nodes in both.
``total_probability`` checks the result against a plain regular grid over the whole box.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mdn_utils import checks

# As a public re-implementation of Bishop (1994) writes them; not checked against the report:
LINK_LENGTHS = (0.8, 0.2)                       # L1, L2
THETA1_RANGE = (0.3, 1.2)                       # radians
THETA2_RANGE = (0.5 * np.pi, 1.5 * np.pi)       # radians
NOISE_STD = 0.02                                # this book's choice of sigma_eps (chapter 9)

_CHUNK = 256   # x values per quadrature chunk


def _pairs(name: str, value, components: str) -> np.ndarray:
    """A finite array whose last dimension holds the 2 named ``components``."""
    array = checks.finite_array(name, value)
    if array.ndim == 0 or array.shape[-1] != 2:
        raise ValueError(f"{name} must have a last dimension of 2 ({components}), got "
                         f"shape {array.shape}")
    return array


def _theta(name: str, value) -> np.ndarray:
    return _pairs(name, value, "theta_1, theta_2")


def _points(name: str, value) -> np.ndarray:
    return _pairs(name, value, "x_1, x_2")


def _lengths(link_lengths) -> tuple[float, float]:
    lengths = checks.finite_array("link_lengths", link_lengths, ndim=1)
    if lengths.shape != (2,) or np.any(lengths <= 0):
        raise ValueError(f"link_lengths must be two positive numbers, got {link_lengths!r}")
    return float(lengths[0]), float(lengths[1])


def forward(theta, link_lengths=LINK_LENGTHS) -> np.ndarray:
    """End-effector position f(theta), ``[..., 2]`` for theta ``[..., 2]``:

        x_1 = L1 cos theta_1 - L2 cos(theta_1 + theta_2),
        x_2 = L1 sin theta_1 - L2 sin(theta_1 + theta_2).
    """
    theta = _theta("theta", theta)
    l1, l2 = _lengths(link_lengths)
    t1, t12 = theta[..., 0], theta[..., 0] + theta[..., 1]
    return np.stack([l1 * np.cos(t1) - l2 * np.cos(t12),
                     l1 * np.sin(t1) - l2 * np.sin(t12)], axis=-1)


def joint_positions(theta, link_lengths=LINK_LENGTHS) -> np.ndarray:
    """Base, elbow and end effector, ``[..., 3, 2]``, for drawing the arm."""
    theta = _theta("theta", theta)
    l1, _ = _lengths(link_lengths)
    elbow = l1 * np.stack([np.cos(theta[..., 0]), np.sin(theta[..., 0])], axis=-1)
    return np.stack([np.zeros_like(elbow), elbow, forward(theta, link_lengths)], axis=-2)


def end_effector_error(theta, x, link_lengths=LINK_LENGTHS) -> np.ndarray:
    """norm(f(theta) - x), broadcast over the leading axes of theta and x."""
    theta = _theta("theta", theta)
    x = _points("x", x)
    return np.linalg.norm(forward(theta, link_lengths) - x, axis=-1)


def inverse(x, link_lengths=LINK_LENGTHS) -> np.ndarray:
    """The two analytic inverse solutions, ``[..., 2 solutions, 2]``: solution 0 has
    theta_2 in [0, pi] (elbow up), solution 1 the mirror 2 pi - theta_2 (elbow down)::

        cos theta_2 = (L1^2 + L2^2 - norm(x)^2) / (2 L1 L2),
        theta_1 = arg(x) - arg(L1 - L2 e^{i theta_2}),

    with norm(x) clipped to the reachable annulus [abs(L1 - L2), L1 + L2], so a point out of reach
    gets the configurations nearest to it. Angles are not wrapped into any box (see
    ``RobotArm.inverse`` for which solutions are inside it).
    """
    x = _points("x", x)
    l1, l2 = _lengths(link_lengths)
    radius = np.clip(np.linalg.norm(x, axis=-1), abs(l1 - l2), l1 + l2)
    cos_t2 = np.clip((l1 ** 2 + l2 ** 2 - radius ** 2) / (2 * l1 * l2), -1.0, 1.0)
    t2 = np.arccos(cos_t2)
    phi = np.arctan2(x[..., 1], x[..., 0])
    out = []
    for theta2 in (t2, 2 * np.pi - t2):
        beta = np.arctan2(-l2 * np.sin(theta2), l1 - l2 * np.cos(theta2))
        out.append(np.stack([phi - beta, theta2], axis=-1))
    return np.stack(out, axis=-2)


@dataclass(frozen=True)
class RobotArm:
    """The robot-arm dataset: x = end-effector position ``[n, 2]`` (with Gaussian noise of
    standard deviation ``noise_std``), y = joint angles theta ``[n, 2]``, uniform on the box
    ``theta1_range`` x ``theta2_range``. Implements ``mdn_utils.problems.datasets.Dataset`` with an exact
    ``log_density`` (see the module docstring for the quadrature; ``nodes`` = Gauss-Legendre
    nodes (per branch in theta_2, per theta_2 node in theta_1), ``window`` = half-width of the
    region integrated, in noise standard deviations).
    """

    name: str = "robot_arm"
    link_lengths: tuple = LINK_LENGTHS
    theta1_range: tuple = THETA1_RANGE
    theta2_range: tuple = THETA2_RANGE
    noise_std: float = NOISE_STD
    nodes: tuple = (48, 32)
    window: float = 12.0

    x_dim: ClassVar[int] = 2
    y_dim: ClassVar[int] = 2

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        _lengths(self.link_lengths)
        for field_name in ("theta1_range", "theta2_range"):
            pair = checks.finite_array(field_name, getattr(self, field_name), ndim=1)
            if pair.shape != (2,) or not pair[0] < pair[1]:
                raise ValueError(f"{field_name} must be (low, high) with low < high, got "
                                 f"{getattr(self, field_name)!r}")
        low, high = self.theta2_range
        if low < 0 or high > 2 * np.pi:
            raise ValueError(f"theta2_range must lie within [0, 2 pi], got {self.theta2_range!r}")
        checks.positive_float("noise_std", self.noise_std)
        checks.positive_float("window", self.window)
        if (not isinstance(self.nodes, tuple) or len(self.nodes) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 4
                           for n in self.nodes)):
            raise ValueError(f"nodes must be a pair of ints >= 4, got {self.nodes!r}")

    # ---- geometry
    @property
    def prior_area(self) -> float:
        """Area of the angle box (the prior is 1 / area on it)."""
        return float(np.diff(self.theta1_range)[0] * np.diff(self.theta2_range)[0])

    def forward(self, theta) -> np.ndarray:
        """f(theta) for this arm's link lengths (``forward``)."""
        return forward(theta, self.link_lengths)

    def radius(self, theta2) -> np.ndarray:
        """r(theta_2) = sqrt(L1^2 + L2^2 - 2 L1 L2 cos theta_2): distance base to effector."""
        l1, l2 = self.link_lengths
        return np.sqrt(l1 ** 2 + l2 ** 2 - 2 * l1 * l2 * np.cos(theta2))

    def _beta(self, theta2):
        l1, l2 = self.link_lengths
        return np.arctan2(-l2 * np.sin(theta2), l1 - l2 * np.cos(theta2))

    def in_box(self, theta) -> np.ndarray:
        """True where theta lies in the prior's box."""
        theta = _theta("theta", theta)
        (a1, b1), (a2, b2) = self.theta1_range, self.theta2_range
        return ((theta[..., 0] >= a1) & (theta[..., 0] <= b1)
                & (theta[..., 1] >= a2) & (theta[..., 1] <= b2))

    def inverse(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The analytic solutions ``[..., 2, 2]`` (elbow up, elbow down) and whether each
        lies in the angle box ``[..., 2]``."""
        solutions = inverse(x, self.link_lengths)
        return solutions, self.in_box(solutions)

    @property
    def x_range(self):
        """The reachable set's extent -/+ 4 sigma_eps, a box holding essentially all positions."""
        t1 = np.linspace(*self.theta1_range, 301)
        t2 = np.linspace(*self.theta2_range, 301)
        points = self.forward(np.stack(np.meshgrid(t1, t2, indexing="ij"), axis=-1))
        pad = 4 * self.noise_std
        low, high = points.reshape(-1, 2).min(0) - pad, points.reshape(-1, 2).max(0) + pad
        return tuple((float(a), float(b)) for a, b in zip(low, high))

    @property
    def y_range(self):
        """(theta1_range, theta2_range), the prior's box."""
        return (tuple(map(float, self.theta1_range)), tuple(map(float, self.theta2_range)))

    # ---- sampling
    def sample(self, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """x float32 ``[n, 2]`` (noisy end-effector positions), theta float32 ``[n, 2]``;
        theta uniform on the box, x = f(theta) + sigma_eps z with z ~ N(0, I_2).
        Seeded (PCG64)."""
        num_samples = checks.positive_int("num_samples", num_samples)
        seed = checks.positive_int("seed", seed, minimum=0)
        rng = np.random.default_rng(seed)
        theta = np.stack([rng.uniform(*self.theta1_range, num_samples),
                          rng.uniform(*self.theta2_range, num_samples)], axis=-1)
        x = self.forward(theta) + self.noise_std * rng.standard_normal((num_samples, 2))
        return x.astype(np.float32), theta.astype(np.float32)

    # ---- the exact density
    def _log_evidence_unique(self, x: np.ndarray) -> np.ndarray:
        """log integral_box N(x | f(theta), sigma_eps^2 I) d theta for rows of x ``[m, 2]``."""
        s = float(self.noise_std)
        l1, l2 = self.link_lengths
        (a1, b1), (a2, b2) = self.theta1_range, self.theta2_range
        n_v, n_u = self.nodes
        gl_v, wl_v = np.polynomial.legendre.leggauss(n_v)
        gl_u, wl_u = np.polynomial.legendre.leggauss(n_u)
        rho = np.linalg.norm(x, axis=-1)
        phi = np.arctan2(x[:, 1], x[:, 0])
        branches = [(a2, min(b2, np.pi), False), (max(a2, np.pi), b2, True)]
        terms = []
        for low, high, mirrored in branches:
            if not low < high:
                continue
            # r is monotone on each branch: increasing on [0, pi], decreasing on [pi, 2 pi].
            r_ends = self.radius(np.array([low, high]))
            r_min, r_max = r_ends.min(), r_ends.max()
            distance = np.maximum(0.0, np.maximum(r_min - rho, rho - r_max))
            half = distance + self.window * s
            r_lo = np.clip(rho - half, r_min, r_max)
            r_hi = np.clip(rho + half, r_min, r_max)
            v_a = np.arccos(np.clip((l1 ** 2 + l2 ** 2 - r_lo ** 2) / (2 * l1 * l2), -1, 1))
            v_b = np.arccos(np.clip((l1 ** 2 + l2 ** 2 - r_hi ** 2) / (2 * l1 * l2), -1, 1))
            if mirrored:
                v_a, v_b = 2 * np.pi - v_b, 2 * np.pi - v_a
            v_a, v_b = np.clip(v_a, low, high), np.clip(v_b, low, high)
            v = (0.5 * (v_a + v_b))[:, None] + 0.5 * (v_b - v_a)[:, None] * gl_v   # [m, n_v]
            log_wv = np.log(np.maximum(0.5 * (v_b - v_a), 1e-300))[:, None] + np.log(wl_v)
            r = self.radius(v)
            beta = self._beta(v)
            u_lo, u_hi = a1 + beta, b1 + beta
            centre = np.clip(phi[:, None], u_lo, u_hi)
            width = self.window * s / np.sqrt(np.maximum(rho[:, None] * r, 1e-12))
            u_a = np.maximum(centre - width, u_lo)
            u_b = np.minimum(centre + width, u_hi)
            # u nodes: [m, n_v, n_u]
            u = (0.5 * (u_a + u_b))[..., None] + 0.5 * (u_b - u_a)[..., None] * gl_u
            log_wu = np.log(np.maximum(0.5 * (u_b - u_a), 1e-300))[..., None] + np.log(wl_u)
            squared = (rho[:, None, None] ** 2 + r[..., None] ** 2
                       - 2 * rho[:, None, None] * r[..., None] * np.cos(phi[:, None, None] - u))
            log_n = -np.maximum(squared, 0.0) / (2 * s ** 2) - np.log(2 * np.pi * s ** 2)
            terms.append((log_n + log_wu + log_wv[..., None]).reshape(len(x), -1))
        total = np.concatenate(terms, axis=1)
        peak = total.max(axis=1, keepdims=True)
        return peak[:, 0] + np.log(np.exp(total - peak).sum(axis=1))

    def log_evidence(self, x) -> np.ndarray:
        """log p(x) = log integral p(theta) N(x | f(theta), sigma_eps^2 I) d theta, ``[...]`` for x
        ``[..., 2]`` (quadrature; computed once per distinct x)."""
        x = _points("x", x)
        flat = x.reshape(-1, 2)
        unique, index = np.unique(flat, axis=0, return_inverse=True)
        out = np.empty(len(unique))
        for start in range(0, len(unique), _CHUNK):
            out[start:start + _CHUNK] = self._log_evidence_unique(unique[start:start + _CHUNK])
        return (out[index.reshape(-1)] - np.log(self.prior_area)).reshape(x.shape[:-1])

    def log_density(self, x, y) -> np.ndarray:
        """log p(theta | x) with theta = ``y``: log N(x | f(theta), sigma_eps^2 I) + log p(theta)
        - log p(x); -inf outside the box. x ``[..., 2]`` and y ``[..., 2]`` broadcast over
        their leading axes; float64."""
        x = _points("x", x)
        y = _theta("y", y)
        try:
            shape = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        except ValueError:
            raise ValueError(f"x and y must broadcast together (without their last axis), "
                             f"got shapes {x.shape} and {y.shape}") from None
        s = float(self.noise_std)
        residual = x - self.forward(y)
        log_n = (-0.5 * np.sum(residual ** 2, axis=-1) / s ** 2 - np.log(2 * np.pi * s ** 2))
        log_prior = np.where(self.in_box(y), -np.log(self.prior_area), -np.inf)
        # The evidence depends on x only: compute it on x's own shape, then broadcast.
        log_evidence = self.log_evidence(x)
        return np.broadcast_to(log_n + log_prior - log_evidence, shape).copy()

    def density(self, x, y) -> np.ndarray:
        """p(theta | x) = exp(``log_density``)."""
        return np.exp(self.log_density(x, y))

    def refined(self, factor: int = 2) -> "RobotArm":
        """The same dataset with ``factor`` times the quadrature nodes and a wider window
        (for the refinement check)."""
        factor = checks.positive_int("factor", factor)
        return dataclasses.replace(self, nodes=tuple(n * factor for n in self.nodes),
                                   window=self.window + 2.0 * (factor - 1))

    def posterior_grid(self, x_point, num_theta1: int = 181, num_theta2: int = 361):
        """p(theta | x) at one x on a regular grid over the box: (theta1 ``[n1]``,
        theta2 ``[n2]``, density ``[n1, n2]``)."""
        x_point = checks.finite_array("x_point", x_point, ndim=1)
        if x_point.shape != (2,):
            raise ValueError(f"x_point must be one position (x_1, x_2), got {x_point.shape}")
        num_theta1 = checks.positive_int("num_theta1", num_theta1, minimum=2)
        num_theta2 = checks.positive_int("num_theta2", num_theta2, minimum=2)
        theta1 = np.linspace(*self.theta1_range, num_theta1)
        theta2 = np.linspace(*self.theta2_range, num_theta2)
        grid = np.stack(np.meshgrid(theta1, theta2, indexing="ij"), axis=-1)
        return theta1, theta2, self.density(x_point, grid)

    def total_probability(self, x_point, num_theta1: int = 901, num_theta2: int = 1_571) -> float:
        """integral_box p(theta | x) d theta by the trapezoid rule on a regular grid: an
        independent check of the normaliser (should be 1)."""
        theta1, theta2, density = self.posterior_grid(x_point, num_theta1, num_theta2)
        return float(np.trapezoid(np.trapezoid(density, theta2, axis=1), theta1))

    def conditional_entropy(self, num_samples: int = 20_000, seed: int = 0) -> tuple[float, float]:
        """Monte Carlo H(Theta | X) = E[-log p(theta | x)] on fresh samples, with its s.e."""
        x, theta = self.sample(num_samples, seed)
        negative_log = -self.log_density(x.astype(np.float64), theta.astype(np.float64))
        return float(negative_log.mean()), float(negative_log.std(ddof=1) / np.sqrt(len(x)))


ROBOT_ARM = RobotArm()


# --------------------------------------------------------------------------- drawing
def draw_arm(ax, theta, link_lengths=LINK_LENGTHS, **style):
    """Draw arms (base -> elbow -> end effector) for theta ``[2]`` or ``[n, 2]`` on a
    matplotlib ``ax``; ``style`` goes to ``ax.plot`` (default: thin grey lines)."""
    theta = _theta("theta", theta)
    points = joint_positions(theta.reshape(-1, 2), link_lengths)
    options = dict(color="0.3", lw=1.0, alpha=0.6, marker="o", markersize=2.5)
    options.update(style)
    label = options.pop("label", None)
    for i, arm in enumerate(points):
        ax.plot(arm[:, 0], arm[:, 1], label=label if i == 0 else None, **options)
    return ax


def draw_workspace(ax, arm: RobotArm = ROBOT_ARM, **style):
    """Shade the reachable set f(box) on ``ax`` (a dense scatter of forward positions)."""
    t1 = np.linspace(*arm.theta1_range, 121)
    t2 = np.linspace(*arm.theta2_range, 241)
    points = arm.forward(np.stack(np.meshgrid(t1, t2, indexing="ij"), axis=-1)).reshape(-1, 2)
    options = dict(s=1, color="0.88", zorder=0, rasterized=True)
    options.update(style)
    ax.scatter(points[:, 0], points[:, 1], **options)
    ax.plot([0], [0], "ks", markersize=6)
    ax.set_aspect("equal")
    return ax


# --------------------------------------------------------------------------- model against truth
def ray_points(angle: float, radii) -> np.ndarray:
    """Targets on a ray from the base: radius_i (cos angle, sin angle), ``[n, 2]``."""
    angle = float(checks.finite_array("angle", angle, ndim=0))
    radii = checks.finite_array("radii", radii, ndim=1)
    return radii[:, None] * np.array([np.cos(angle), np.sin(angle)])


def mixture_log_density_grid(mixture, theta, max_entries: int = 4_000_000) -> np.ndarray:
    """log q(theta | x_j) of a predicted mixture over the angles (2-D y) for every theta
    ``[..., 2]`` and every row j of ``mixture`` (one row per x, such as
    ``model.predict_mixture(net, x_points)``): returns ``[..., m]``. ``mixture`` is any
    object with ``n``, ``K``, ``take(rows)`` and ``log_prob_grid(grid [G, 2]) -> [rows, G]``
    (a ``MixtureParams``); rows are evaluated a few at a time, so that no intermediate holds
    more than about ``max_entries`` numbers per component axis."""
    theta = _theta("theta", theta)
    for name in ("n", "K", "take", "log_prob_grid"):
        if not hasattr(mixture, name):
            raise TypeError(f"mixture must be a MixtureParams (it has no {name}), got "
                            f"{type(mixture).__name__}")
    max_entries = checks.positive_int("max_entries", max_entries)
    grid = theta.reshape(-1, 2)
    rows = max(1, max_entries // max(1, len(grid) * mixture.K))
    out = np.concatenate([mixture.take(slice(start, start + rows)).log_prob_grid(grid)
                          for start in range(0, mixture.n, rows)])      # [m, G]
    return out.T.reshape(theta.shape[:-1] + (mixture.n,))


def theta2_marginals(log_density_grid, theta1, theta2) -> np.ndarray:
    """p(theta_2 | x) = integral p(theta | x) d theta_1 (trapezoid rule) from log densities on a
    regular grid ``[n1, n2, m]``; returns ``[m, n2]``, each row normalised on the theta2 grid
    (so model and truth are compared as shapes even where the model leaks mass outside the
    box)."""
    log_density_grid = np.asarray(log_density_grid, np.float64)   # -inf allowed (zero density)
    if log_density_grid.ndim != 3 or np.any(np.isnan(log_density_grid)):
        raise ValueError(f"log_density_grid must be a [n1, n2, m] array without NaN, got shape "
                         f"{log_density_grid.shape}")
    theta1 = checks.finite_array("theta1", theta1, ndim=1)
    theta2 = checks.finite_array("theta2", theta2, ndim=1)
    if log_density_grid.shape[:2] != (len(theta1), len(theta2)):
        raise ValueError(f"log_density_grid must have shape [len(theta1), len(theta2), m] = "
                         f"[{len(theta1)}, {len(theta2)}, m], got {log_density_grid.shape}")
    marginal = np.trapezoid(np.exp(log_density_grid), theta1, axis=0).T     # [m, n2]
    return marginal / np.trapezoid(marginal, theta2, axis=1)[:, None]
