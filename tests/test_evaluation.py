import numpy as np
import pytest

from mdn_utils.problems import datasets as data
from mdn_utils.core import evaluation, model as mdn_model


def test_interval_coverage_of_uniform_pit_is_nominal():
    pit = np.random.default_rng(0).uniform(size=100_000)
    for level, share in evaluation.interval_coverage(pit).items():
        assert abs(share - level) < 0.01


def test_interval_coverage_detects_overconfidence():
    # A model that is too sharp puts observations in its tails: PIT piles up near 0 and 1.
    pit = np.random.default_rng(0).beta(0.5, 0.5, size=100_000)
    assert evaluation.interval_coverage(pit)[0.5] < 0.45


def test_pit_of_a_model_is_its_cdf():
    net = mdn_model.build_mdn(num_components=2, hidden_units=4, seed=0)
    pit = evaluation.pit_values(net, [0.0, 0.0], [-100.0, 100.0])
    np.testing.assert_allclose(pit, [0.0, 1.0], atol=1e-6)


def test_nll_gap_pairs_model_and_truth_on_the_same_points():
    x, y = data.sample("sinusoid_inverse", 2000, seed=5)
    net = mdn_model.build_mdn(num_components=2, hidden_units=4, adapt_to=(x, y), seed=0)
    gap = evaluation.nll_gap(net, "sinusoid_inverse", x, y)
    # the dataset object gives the same numbers as its name
    assert evaluation.nll_gap(net, data.get_dataset("sinusoid_inverse"), x, y) == gap
    assert abs(gap.bayes_nll - data.bayes_nll("sinusoid_inverse", x, y)) < 1e-9
    assert abs(gap.gap - (gap.model_nll - gap.bayes_nll)) < 1e-5
    assert gap.gap > 0 and gap.standard_error > 0
    true_nll = -np.log(data.conditional_density("sinusoid_inverse", x, y))
    assert abs(gap.bayes_nll_standard_error - true_nll.std(ddof=1) / np.sqrt(len(x))) < 1e-12


def test_nll_gap_needs_an_exact_density():
    x, y = data.sample("bishop", 100, seed=0)
    measured = data.ArrayDataset(x, y, name="measured", source="bishop.csv")
    # raised before the model is used: no model is needed to see the error
    with pytest.raises(ValueError, match=r"dataset 'measured' \(from bishop.csv\) has no exact "
                                         r"density; nll_gap"):
        evaluation.nll_gap(None, measured, x, y)
    with pytest.raises(ValueError, match="dataset must be one of"):
        evaluation.nll_gap(None, "moons", x, y)


def test_markdown_table_escapes_pipes_and_checks_widths():
    import pytest
    from mdn_utils.book.tables import markdown_table
    table = markdown_table(["a", "b"], [["1", "x | y"]]).data
    assert table.splitlines() == ["| a | b |", "| --- | --- |", "| 1 | x \\| y |"]
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(["a", "b"], [["1"]])
