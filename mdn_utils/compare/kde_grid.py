"""Kernel conditional density estimation with bandwidths chosen on a validation split.

The estimate is ``kde.KernelConditionalDensity``'s (statsmodels' product-kernel form,
evaluated as a mixture of n Gaussians in y)::

    p(y | x) = sum_i w_i(x) N(y | Y_i, h_y^2),
    w_i(x) = prod_d phi((x_d - X_id)/h_d) / sum_j prod_d phi((x_d - X_jd)/h_d).

Only the choice of the bandwidths differs. statsmodels' ``cv_ml`` (leave-one-out
likelihood) costs O(n^2) per evaluation and is evaluated many times; here the bandwidths
are

    h_y = a * r_y,   h_d = b * r_d,

with (r_y, r_1, ..., r_Dx) statsmodels' ``normal_reference`` rule for the training data
(1.06 sigma n^(-1/(4 + q)), q the number of variables) and the factors (a, b) the pair in
``factors`` x ``factors`` with the lowest mean NLL on a seeded hold-out share
``validation_fraction`` of the training data (the rest is the kernel sample while the
factors are chosen). One b scales every x column.

Which rows are held out (``split``): ``"rows"`` (default) a seeded share of the rows;
``"x_values"`` all the rows of a seeded share ``validation_fraction`` of the distinct rows of
x. With repeated x (Old Faithful's whole-minute waiting times, the motorcycle data's
repeated times) a row split puts pairs with the same x on both sides, so the validation NLL
scores the density partly at x values already seen (a narrow x-kernel can then predict a
validation pair from its twins); splitting by x value scores it at x not seen in fitting.
Which matches the task depends on whether new x values repeat the old ones (chapter 13 shows the
factors each split chose on Old Faithful and the motorcycle data, where the held-out NLL
did not resolve the two splits).
The smallest factor in ``factors`` is the floor on the x-bandwidth either way. The squared standardised distances
``[n_validation, n_kept]`` in x and in y are computed once; each of the len(factors)^2
candidates then costs one logsumexp over that matrix.
After ``fit``: ``bandwidths`` (h_y, h_1, ..., h_Dx), ``reference`` (r_y, r_1, ...),
``factor_y``, ``factor_x`` and ``validation_nll`` (``[len(factors), len(factors)]``, rows
a, columns b).
"""
from __future__ import annotations

import numpy as np
from scipy import special

from mdn_utils import checks
from mdn_utils.compare.kde import KernelConditionalDensity
from mdn_utils.core.params import LOG_SQRT_2PI

DEFAULT_FACTORS = (0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.45, 0.65, 1.0, 1.5)
SPLITS = ("rows", "x_values")


class ValidatedKernelDensity(KernelConditionalDensity):
    """Kernel CDE whose bandwidths are the normal-reference rule times factors chosen by
    validation NLL (see the module)."""

    name = "kernel CDE"

    def __init__(self, factors=DEFAULT_FACTORS, *, validation_fraction: float = 0.2,
                 split: str = "rows"):
        super().__init__(bandwidth="normal_reference", bandwidth_subsample=None)
        factors = checks.finite_array("factors", factors, ndim=1)
        if len(factors) < 1 or np.any(factors <= 0):
            raise ValueError(f"factors must be a non-empty list of numbers > 0, got {factors}")
        fraction = checks.fraction("validation_fraction", validation_fraction)
        checks.one_of("split", split, SPLITS)
        self.factors = factors
        self.validation_fraction = fraction
        self.split = split

    @staticmethod
    def _reference(x, y) -> np.ndarray:
        from statsmodels.nonparametric.kernel_density import KDEMultivariateConditional
        estimator = KDEMultivariateConditional(
            endog=[y], exog=[x[:, d] for d in range(x.shape[1])], dep_type="c",
            indep_type="c" * x.shape[1], bw="normal_reference", rng=0)
        return np.asarray(estimator.bw, np.float64).copy()

    def _grid_nll(self, x_fit, y_fit, x_val, y_val) -> np.ndarray:
        """Mean validation NLL for every (a, b) pair: ``[len(factors), len(factors)]``."""
        reference = self._reference(x_fit, y_fit)
        x_sq = np.sum(((x_val[:, None, :] - x_fit[None, :, :]) / reference[1:]) ** 2, axis=2)
        y_sq = ((y_val[:, None] - y_fit[None, :]) / reference[0]) ** 2          # [nv, nf]
        out = np.empty((len(self.factors), len(self.factors)))
        for j, b in enumerate(self.factors):
            log_w = -0.5 * x_sq / b ** 2
            log_w = log_w - special.logsumexp(log_w, axis=1, keepdims=True)
            for i, a in enumerate(self.factors):
                h_y = a * reference[0]
                log_kernel = -0.5 * y_sq / a ** 2 - np.log(h_y) - LOG_SQRT_2PI
                out[i, j] = -np.mean(special.logsumexp(log_w + log_kernel, axis=1))
        return out

    def _split(self, x, seed) -> tuple[np.ndarray, np.ndarray]:
        """(validation rows, kernel rows) as indices (see ``split`` in the module docstring);
        the row split keeps the seeded permutation's order."""
        if self.split == "rows":
            units = len(x)
        else:
            unique, unit_of_row = np.unique(x, axis=0, return_inverse=True)
            units, unit_of_row = len(unique), unit_of_row.reshape(-1)
        num_validation = int(round(self.validation_fraction * units))
        order = np.random.default_rng(seed).permutation(units)
        if self.split == "rows":
            held_out, kept = order[:num_validation], order[num_validation:]
        else:
            mask = np.isin(unit_of_row, order[:num_validation])
            held_out, kept = np.flatnonzero(mask), np.flatnonzero(~mask)
        if num_validation < 1 or len(kept) < 2:
            raise ValueError(f"validation_fraction = {self.validation_fraction} leaves no "
                             f"validation or too little kernel data out of {len(x)} examples "
                             f"({units} distinct {'rows' if self.split == 'rows' else 'x'})")
        return held_out, kept

    def _held_out(self, x, seed) -> np.ndarray:
        """Boolean ``[n]``: the validation rows of ``_split``."""
        mask = np.zeros(len(x), bool)
        mask[self._split(x, seed)[0]] = True
        return mask

    def _fit(self, x, y, seed):
        held_out, kept = self._split(x, seed)
        self.validation_nll = self._grid_nll(x[kept], y[kept], x[held_out], y[held_out])
        i, j = np.unravel_index(np.argmin(self.validation_nll), self.validation_nll.shape)
        self.factor_y, self.factor_x = float(self.factors[i]), float(self.factors[j])
        self.reference = self._reference(x, y)
        return self._fit_bandwidth(x, y, seed, self.reference * np.concatenate(
            [[self.factor_y], np.full(x.shape[1], self.factor_x)]))

    def chosen_settings(self) -> dict:
        """What ``fit`` chose: ``{"factor_y": a, "factor_x": b}`` (for ``report.evaluate``)."""
        return {"factor_y": self.factor_y, "factor_x": self.factor_x}
