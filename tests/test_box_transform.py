import numpy as np
import pytest
from scipy import stats

from mdn_utils.core.box_transform import BoxLogit

BOX = BoxLogit((0.3, 0.5 * np.pi), (1.2, 1.5 * np.pi))


def _inside(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(BOX.low, BOX.high, size=(n, 2))


def test_round_trip():
    y = _inside(1_000)
    np.testing.assert_allclose(BOX.to_box(BOX.to_unbounded(y)), y, rtol=0, atol=1e-12)


def test_log_jacobian_matches_finite_differences():
    y = _inside(200, seed=1)
    h = 1e-6
    numeric = np.zeros(len(y))
    for d in range(2):
        step = np.zeros(2)
        step[d] = h
        derivative = (BOX.to_unbounded(y + step)[:, d] - BOX.to_unbounded(y - step)[:, d]) / (2 * h)
        numeric += np.log(np.abs(derivative))
    np.testing.assert_allclose(BOX.log_abs_det_jacobian(y), numeric, rtol=0, atol=1e-6)


def test_change_of_variables_gives_a_density_on_the_box():
    """q(u) standard normal on the line becomes a density on (low, high) that integrates to 1."""
    box = BoxLogit((-1.0,), (2.0,))
    y = np.linspace(-1.0, 2.0, 200_001)[1:-1, None]
    density = np.exp(stats.norm.logpdf(box.to_unbounded(y)[:, 0]) + box.log_abs_det_jacobian(y))
    assert abs(np.trapezoid(density, y[:, 0]) - 1.0) < 1e-6
    assert np.all(np.isfinite(density))


def test_draws_map_inside_the_box_and_edges_stay_finite():
    u = np.random.default_rng(2).normal(0, 30, size=(10_000, 2))
    y = BOX.to_box(u)
    assert np.all((y >= BOX.low) & (y <= BOX.high))
    edges = np.array([BOX.low, BOX.high], np.float32).astype(np.float64)
    edges = np.clip(edges, BOX.low, BOX.high)
    assert np.all(np.isfinite(BOX.to_unbounded(edges)))
    assert np.all(np.isfinite(BOX.log_abs_det_jacobian(edges)))


@pytest.mark.parametrize("call, error, match", [
    (lambda: BoxLogit((0.0,), (0.0,)), ValueError, "high must exceed low"),
    (lambda: BoxLogit((0.0, 1.0), (1.0,)), ValueError, "same length"),
    (lambda: BoxLogit((0.0,), (np.inf,)), ValueError, "high"),
    (lambda: BOX.to_unbounded(np.array([[0.2, 2.0]])), ValueError, "inside the box"),
    (lambda: BOX.to_unbounded(np.zeros((3, 3))), ValueError, "2 columns"),
    (lambda: BOX.to_unbounded("theta"), TypeError, "y"),
    (lambda: BOX.to_box(np.zeros((3, 1))), ValueError, "last dimension of 2"),
    (lambda: BOX.log_abs_det_jacobian(np.full((1, 2), np.nan)), ValueError, "y"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
