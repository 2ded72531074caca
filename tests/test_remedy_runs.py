"""``mdn_utils.book.remedies``: small-sample runs measured against the floor, K by validation."""
import numpy as np
import pytest

from mdn_utils.problems import datasets as data
from mdn_utils.book import remedies
from mdn_utils.core import train

TINY = dict(num_components=3, hidden_units=8, hidden_layers=1, steps=60, eval_every=30,
            batch_size=32, jit_compile=False, validation_pairs=100, test_pairs=300)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MDN_CACHE_DIR", str(tmp_path))


@pytest.mark.slow
def test_run_measures_on_fresh_pairs_and_its_own_training_pairs():
    run = remedies.remedy_run("sinusoid_inverse", 64, **TINY)
    assert run.n == 64 and run.test_nll.shape == (300,)
    # The gap is the mean of model NLL minus the exact floor on the same test pairs.
    x_test, y_test = data.sample("sinusoid_inverse", 300, seed=remedies.TEST_SEED_OFFSET)
    floor = -data.log_density("sinusoid_inverse", x_test, y_test)
    np.testing.assert_allclose(run.test_gap.gap, np.mean(run.test_nll - floor), rtol=1e-5)
    assert run.train_gap.gap != run.test_gap.gap
    x, y = remedies.training_pairs("sinusoid_inverse", 64)       # what it was trained on
    np.testing.assert_allclose(run.train_gap.bayes_nll, data.bayes_nll("sinusoid_inverse", x, y))
    assert 1 <= run.components_in_use <= 3 and run.narrowest_sigma > 0
    assert len(run.history["validation_nll"]) == 2


@pytest.mark.slow
def test_floor_bounds_the_narrowest_width():
    run = remedies.remedy_run("sinusoid_inverse", 64, min_sigma=0.5, **TINY)
    assert run.narrowest_sigma >= 0.5 * (1 - 1e-6)


@pytest.mark.slow
def test_selection_uses_only_the_training_pairs_and_retrains_the_choice_on_all():
    settings = {k: v for k, v in TINY.items() if k != "num_components"}
    candidates = [{"num_components": 1}, {"num_components": 3}]
    selection = remedies.select_by_validation("sinusoid_inverse", 64, candidates, **settings)
    assert len(selection.validation_nll) == 2
    assert selection.chosen == candidates[int(np.argmin(selection.validation_nll))]
    assert selection.run.n == 64
    assert selection.run.settings["num_components"] == selection.chosen["num_components"]
    # the held-out NLL is that of a model trained on the other 80% of the same 64 pairs
    x, y = remedies.training_pairs("sinusoid_inverse", 64)
    order = np.random.default_rng(0).permutation(64)
    held, fit = order[:13], order[13:]
    from mdn_utils.core import trained
    from mdn_utils.core.model import conditional
    train_settings = {k: v for k, v in settings.items()
                      if k not in ("test_pairs", "validation_pairs")}
    model = trained.trained_mdn(x[fit], y[fit], validation_data=(x[held], y[held]), seed=0,
                                progress=False, num_components=3, **train_settings).model
    assert selection.validation_nll[1] == pytest.approx(
        -np.mean(conditional(model).log_prob(x[held], y[held])), rel=1e-4)


def test_a_noise_factor_becomes_the_rule_of_thumb_widths_of_the_pairs_trained_on():
    x, y = remedies.training_pairs("sinusoid_inverse", 100)
    settings = remedies.candidate_settings({"noise_factor": 0.5, "min_sigma": 0.1}, x, y)
    assert settings == {"min_sigma": 0.1, **train.rule_of_thumb_noise(x, y, 0.5)}


def test_rule_of_thumb_noise_is_the_authors_rule_in_data_units():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 2.0, 729), rng.normal(0, 5.0, 729)
    widths = train.rule_of_thumb_noise(x, y, c=0.5)
    h = 0.5 * 729 ** (-1 / 6)                    # d = 2: one column of x, one of y
    assert widths == pytest.approx({"noise_x": h * x.std(), "noise_y": h * y.std()})


@pytest.mark.parametrize("call, name", [
    (lambda: remedies.remedy_run("sinusoid_inverse", 1), "n"),
    (lambda: remedies.remedy_run("sinusoid_inverse", 10, test_pairs=0), "test_pairs"),
    (lambda: remedies.select_by_validation("sinusoid_inverse", 10, []), "candidates"),
    (lambda: remedies.select_by_validation("sinusoid_inverse", 10, [{"num_components": 2}],
                                           num_components=3), "num_components"),
    (lambda: remedies.select_by_validation("sinusoid_inverse", 10, [{}],
                                           validation_share=1.5), "validation_share"),
    (lambda: train.rule_of_thumb_noise([1.0, 2.0], [1.0, 2.0], c=0), "c"),
    (lambda: remedies.components_in_use(None, [0.0], threshold=1.5), "threshold"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises((TypeError, ValueError), match=name):
        call()
