"""A 2-D y with a known density: a full-covariance MDN learns it, a diagonal one cannot."""
import numpy as np
import pytest

from mdn_utils.problems import datasets as data
from mdn_utils.core import model as mdn_model, train
from mdn_utils.diagnostics import scoring

DATASET = data.get_dataset("two_gaussians_2d")     # two correlated Gaussians (rho = +-0.8)
X, Y = DATASET.sample(20_000, seed=0)
X_TEST, Y_TEST = DATASET.sample(10_000, seed=1)
SETTINGS = dict(num_components=2, hidden_units=32, steps=1_500, eval_every=1_500,
                progress=False, seed=0)


@pytest.fixture(scope="module")
def gaps():
    return {covariance: scoring.gap_to_floor(mdn_model.conditional(
        train.train_mdn(X, Y, covariance=covariance, **SETTINGS).model), DATASET, X_TEST, Y_TEST)
        for covariance in ("full", "diag")}


@pytest.mark.slow
def test_full_covariance_reaches_the_exact_floor(gaps):
    gap = gaps["full"]
    assert gap.gap < 0.02
    assert gap.gap > -3 * gap.standard_error          # no model beats the floor


@pytest.mark.slow
def test_diagonal_covariance_is_measurably_worse_at_the_same_k(gaps):
    difference = gaps["diag"].gap - gaps["full"].gap
    assert difference > 0.1
    assert difference > 10 * np.hypot(gaps["diag"].standard_error, gaps["full"].standard_error)


def test_predictive_distribution_is_a_2d_tfp_mixture():
    net = mdn_model.build_mdn(2, 8, covariance="full", adapt_to=(X, Y))
    distribution = mdn_model.predictive_distribution(net, X_TEST[:7])
    assert distribution.batch_shape == (7,) and distribution.event_shape == (2,)
    np.testing.assert_allclose(-distribution.log_prob(Y_TEST[:7]).numpy(),
                               -mdn_model.conditional(net).log_prob(X_TEST[:7], Y_TEST[:7]),
                               rtol=1e-5)
    assert distribution.sample(3, seed=0).shape == (3, 7, 2)
