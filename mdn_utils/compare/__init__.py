"""The MDN against its alternatives: one estimator interface, the comparison runs (scored
by ``diagnostics.scoring``, like the MDN chapters). Imports the layers below it (``checks``, ``problems``, ``core``,
``diagnostics``), not ``book``.

* ``base``: the interface every method implements (``ConditionalModel``: ``fit``,
  ``log_prob``, ``cdf``, ``sample``, ``quantiles``, training time; what a method cannot
  produce raises ``scoring.MetricUnavailable``), and ``GaussianMixtureModel`` for the
  methods whose prediction is a Gaussian mixture.
* the methods: ``gaussian.HomoscedasticGaussian``, ``mdn.HeteroscedasticGaussian`` (K = 1),
  ``mdn.MixtureDensityNetwork``, ``kde.KernelConditionalDensity`` (statsmodels bandwidths),
  ``binned.BinnedHead`` (a histogram over y), ``flow.ConditionalSplineFlow`` (a
  rational-quadratic spline flow whose knots the network emits, TFP bijectors),
  ``quantile.QuantileRegression``; ``networks`` holds the dense network and compiled
  training that the homoscedastic Gaussian and the last three share.
* for small real data (not in ``METHODS``): ``mdn.ValidatedMixtureDensityNetwork`` (K
  chosen by validation NLL inside its fit), ``mdn.NoiseRegularisedMDN`` (Rothfuss et al.'s
  rule-of-thumb noise widths) and ``kde_grid.ValidatedKernelDensity`` (kernel estimate
  with bandwidths chosen on a validation split).
* ``crossval``: k-fold splits, and the choice of a setting (the MDN's K) by validation
  NLL.
* ``report``: the comparison runs of the chapters (every method on one dataset, or
  cross-validated with held-out NLL and CRPS pooled, for real data that have no floor),
  their scores per test example, and their stored results.
* ``tuning``: a method's own small hyper-parameter search (each candidate trained on part
  of the training pairs and scored on the rest, the best refitted on all of them).

y is 1-D (a scalar per example) for every method; x may be ``[n]`` or ``[n, Dx]``.
Adding a method is one class with ``_fit`` and the hooks it can implement; list it in
``METHODS``.
"""
from mdn_utils.compare.base import ConditionalModel, GaussianMixtureModel, MetricUnavailable, NotFittedError
from mdn_utils.compare.binned import BinnedHead
from mdn_utils.compare.flow import ConditionalSplineFlow
from mdn_utils.compare.gaussian import HomoscedasticGaussian
from mdn_utils.compare.kde import KernelConditionalDensity
from mdn_utils.compare.mdn import HeteroscedasticGaussian, MixtureDensityNetwork, NoiseRegularisedMDN, ValidatedMixtureDensityNetwork
from mdn_utils.compare.quantile import QuantileRegression

METHODS = {
    "homoscedastic_gaussian": HomoscedasticGaussian,
    "heteroscedastic_gaussian": HeteroscedasticGaussian,
    "mdn": MixtureDensityNetwork,
    "kernel_cde": KernelConditionalDensity,
    "binned_head": BinnedHead,
    "spline_flow": ConditionalSplineFlow,
    "quantile_regression": QuantileRegression,
}

__all__ = ["ConditionalModel", "GaussianMixtureModel", "MetricUnavailable", "NotFittedError",
           "HomoscedasticGaussian", "HeteroscedasticGaussian", "MixtureDensityNetwork",
           "KernelConditionalDensity", "BinnedHead", "ConditionalSplineFlow",
           "QuantileRegression", "ValidatedMixtureDensityNetwork", "NoiseRegularisedMDN",
           "METHODS"]
