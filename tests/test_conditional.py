"""A trained MDN scored as a conditional model (``model.conditional``) by ``diagnostics.scoring``."""
import numpy as np
import pytest

from mdn_utils.core import model as mdn_model
from mdn_utils.core.losses import mixture_nll
from mdn_utils.diagnostics import scoring
from mdn_utils.problems import datasets as data


def test_pit_of_a_model_is_its_cdf():
    net = mdn_model.build_mdn(num_components=2, hidden_units=4, seed=0)
    pit = mdn_model.conditional(net).cdf([0.0, 0.0], [-100.0, 100.0])
    np.testing.assert_allclose(pit, [0.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("covariance, y_dim", [("diag", 1), ("full", 2)])
def test_log_prob_is_the_training_loss_per_example(covariance, y_dim):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 2)), rng.normal(size=(300, y_dim))
    net = mdn_model.build_mdn(3, 8, covariance=covariance, adapt_to=(x, y), seed=0)
    scored = mdn_model.conditional(net).log_prob(x, y)
    loss = mixture_nll(y.astype(np.float32), mdn_model.predict_mixture(net, x)).numpy()
    np.testing.assert_allclose(-scored, loss, rtol=1e-5, atol=1e-5)


def test_the_mdn_is_scored_exactly_as_compare_scores_it():
    from mdn_utils.compare import MixtureDensityNetwork
    x, y = data.sample("sinusoid_inverse", 400, seed=1)
    method = MixtureDensityNetwork(3, cache=False, steps=20, eval_every=20,
                                   hidden_units=8).fit(x, y)
    scored = mdn_model.conditional(method.model)
    np.testing.assert_array_equal(scored.log_prob(x, y), method.log_prob(x, y))
    np.testing.assert_array_equal(scored.cdf(x, y), method.cdf(x, y))
    np.testing.assert_array_equal(scored.closed_form_crps(x, y), method.closed_form_crps(x, y))


def test_gap_to_floor_pairs_model_and_truth_on_the_same_points():
    x, y = data.sample("sinusoid_inverse", 2000, seed=5)
    net = mdn_model.build_mdn(num_components=2, hidden_units=4, adapt_to=(x, y), seed=0)
    scored = mdn_model.conditional(net)
    gap = scoring.gap_to_floor(scored, "sinusoid_inverse", x, y)
    # the dataset object gives the same numbers as its name
    assert scoring.gap_to_floor(scored, data.get_dataset("sinusoid_inverse"), x, y) == gap
    assert abs(gap.bayes_nll - data.bayes_nll("sinusoid_inverse", x, y)) < 1e-9
    assert abs(gap.gap - (gap.model_nll - gap.bayes_nll)) < 1e-9
    assert gap.gap > 0 and gap.standard_error > 0
    true_nll = -np.log(data.conditional_density("sinusoid_inverse", x, y))
    assert abs(gap.bayes_nll_standard_error - true_nll.std(ddof=1) / np.sqrt(len(x))) < 1e-12


def test_gap_to_floor_needs_an_exact_density():
    x, y = data.sample("bishop", 100, seed=0)
    measured = data.ArrayDataset(x, y, name="measured", source="bishop.csv")
    # raised before the model is used: no model is needed to see the error
    with pytest.raises(ValueError, match=r"dataset 'measured' \(from bishop.csv\) has no exact "
                                         r"density; gap_to_floor"):
        scoring.gap_to_floor(None, measured, x, y)
    with pytest.raises(ValueError, match="dataset must be one of"):
        scoring.gap_to_floor(None, "moons", x, y)
