"""Targets confined to a box, learned in unbounded coordinates.

A Gaussian mixture has mass everywhere, so an MDN for a target y that lives on a box
low_d < y_d < high_d puts some of its mass where no y can be, and pays for it in nats.
Mapping each coordinate to the whole real line first removes that cost::

    t_d = (y_d - low_d) / (high_d - low_d),    u_d = logit(t_d) = log t_d - log(1 - t_d),

and the MDN learns q(u | x). By the change of variables the density of y is::

    log p(y | x) = log q(u(y) | x) + sum_d log abs(du_d / dy_d),
    du_d / dy_d = 1 / ((high_d - low_d) t_d (1 - t_d)),

and a draw u from q maps back to y = low + (high - low) sigmoid(u), always inside the box.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdn_utils import checks

# float32 data can round onto a box edge, where u is infinite: such values are moved
# inside by this fraction of the box's width (2^-23, float32's resolution at 1).
EDGE_FRACTION = 2.0 ** -23


@dataclass(frozen=True)
class BoxLogit:
    """The map y -> u = logit((y - low) / (high - low)) for a box ``low < y < high``.

    ``low`` and ``high`` are sequences of D finite numbers with low < high in each.
    """

    low: tuple
    high: tuple

    def __post_init__(self):
        low = checks.finite_array("low", self.low, ndim=1)
        high = checks.finite_array("high", self.high, ndim=1)
        if low.shape != high.shape or len(low) == 0:
            raise ValueError(f"low and high must have the same length >= 1, got "
                             f"{len(low)} and {len(high)}")
        if np.any(high <= low):
            raise ValueError(f"high must exceed low in every dimension, got low {low.tolist()} "
                             f"and high {high.tolist()}")
        object.__setattr__(self, "low", tuple(low.tolist()))
        object.__setattr__(self, "high", tuple(high.tolist()))

    @property
    def dim(self) -> int:
        return len(self.low)

    def _fraction(self, y) -> np.ndarray:
        """t = (y - low) / (high - low) for y ``[n, D]`` inside the closed box."""
        y = checks.finite_array("y", y, ndim=2)
        if y.shape[1] != self.dim:
            raise ValueError(f"y must have {self.dim} columns (the box's dimensions), "
                             f"got shape {y.shape}")
        low, high = np.array(self.low), np.array(self.high)
        t = (y - low) / (high - low)
        if np.any((t < 0) | (t > 1)):
            rows = np.flatnonzero(np.any((t < 0) | (t > 1), axis=1))
            raise ValueError(f"y must lie inside the box [{self.low}, {self.high}]; "
                             f"{len(rows)} rows do not (first: row {rows[0]})")
        return np.clip(t, EDGE_FRACTION, 1.0 - EDGE_FRACTION)

    def to_unbounded(self, y) -> np.ndarray:
        """u = logit(t), ``[n, D]`` float64."""
        t = self._fraction(y)
        return np.log(t) - np.log1p(-t)

    def to_box(self, u) -> np.ndarray:
        """y = low + (high - low) sigmoid(u), for u ``[..., D]``."""
        u = checks.finite_array("u", u)
        if u.ndim == 0 or u.shape[-1] != self.dim:
            raise ValueError(f"u must have a last dimension of {self.dim}, got shape {u.shape}")
        low, high = np.array(self.low), np.array(self.high)
        return low + (high - low) * (0.5 * (1.0 + np.tanh(0.5 * u)))   # stable sigmoid

    def log_abs_det_jacobian(self, y) -> np.ndarray:
        """sum_d log abs(du_d / dy_d) = -sum_d log((high_d - low_d) t_d (1 - t_d)), ``[n]``."""
        t = self._fraction(y)
        width = np.array(self.high) - np.array(self.low)
        return -np.sum(np.log(width * t * (1.0 - t)), axis=1)
