"""Chapter 13's library pieces: the MDN with K chosen by validation NLL inside its fit, the
noise-regularised MDN (Rothfuss et al.'s rule-of-thumb width), and the kernel estimator's
hold-out split by x value (repeated x). Tiny fits (cache off) or a stubbed train_mdn."""
import functools

import numpy as np
import pytest

from mdn_utils.compare import crossval
from mdn_utils.compare.kde import KernelConditionalDensity
from mdn_utils.compare.kde_grid import ValidatedKernelDensity
from mdn_utils.compare.mdn import MixtureDensityNetwork, NoiseRegularisedMDN, ValidatedMixtureDensityNetwork

TINY = dict(steps=20, eval_every=20, hidden_units=8, jit_compile=False, cache=False)


@pytest.fixture(scope="module")
def two_branches():
    """y = +-(1 + x) + N(0, 0.1^2): two modes at every x."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 120)
    return x, np.where(rng.random(120) < 0.5, 1, -1) * (1 + x) + rng.normal(0, 0.1, 120)


@pytest.fixture
def no_training(monkeypatch):
    import mdn_utils.core.train

    def refuse(*args, **kwargs):
        raise AssertionError("training started on bad input")

    monkeypatch.setattr(mdn_utils.core.train, "train_mdn", refuse)


# --------------------------------------------------------------------------- K by validation
@pytest.mark.slow
def test_validated_k_is_the_argmin_of_an_inner_split_of_the_training_data(two_branches):
    x, y = two_branches
    model = ValidatedMixtureDensityNetwork((1, 3), validation_fraction=0.25, **TINY)
    model.fit(x, y, seed=2)
    assert set(model.validation_nll) == {1, 3}
    assert model.chosen_components == min(model.validation_nll, key=model.validation_nll.get)
    assert model.mixture(x[:5]).logits.shape == (5, model.chosen_components)
    assert model.chosen_settings() == {"num_components": model.chosen_components}
    # the same selection made by hand on the same data: the same scores (same seed, same
    # machine: same weights), so nothing but (x, y) was used to choose
    settings = {k: v for k, v in TINY.items() if k != "cache"}
    by_hand = crossval.select_by_validation(
        lambda k: MixtureDensityNetwork(k, cache=False, **settings), (1, 3), x, y, 0.25, 2)
    assert by_hand.validation_nll == pytest.approx(model.validation_nll, rel=1e-6)
    # refit=False keeps the chosen candidate as fitted on the inner training part
    assert model.log_prob(x, y) == pytest.approx(by_hand.model.log_prob(x, y), abs=1e-6)
    assert set(model.candidate_seconds) == {1, 3}           # every candidate's fit counted
    assert model.training_seconds == pytest.approx(sum(model.candidate_seconds.values()))


@pytest.mark.slow
def test_validated_k_refit_trains_the_chosen_k_on_all_pairs(two_branches):
    x, y = two_branches
    refitted = ValidatedMixtureDensityNetwork((2,), refit=True, **TINY).fit(x, y, seed=0)
    plain = MixtureDensityNetwork(2, **TINY).fit(x, y, seed=0)
    # refit: exactly the plain MDN on all pairs, and both fits' times counted
    assert refitted.log_prob(x, y) == pytest.approx(plain.log_prob(x, y), abs=1e-6)
    assert refitted.training_seconds > refitted.candidate_seconds[2]


@pytest.mark.parametrize("build, match, error", [
    (lambda: ValidatedMixtureDensityNetwork("248"), "candidates", TypeError),
    (lambda: ValidatedMixtureDensityNetwork(()), "candidates", ValueError),
    (lambda: ValidatedMixtureDensityNetwork((2, 2)), "candidates", ValueError),
    (lambda: ValidatedMixtureDensityNetwork((0, 2)), "candidates", ValueError),
    (lambda: ValidatedMixtureDensityNetwork((2.5,)), "candidates", TypeError),
    (lambda: ValidatedMixtureDensityNetwork(validation_fraction=1.0), "validation_fraction",
     ValueError),
    (lambda: ValidatedMixtureDensityNetwork(refit="yes"), "refit", TypeError),
    (lambda: ValidatedMixtureDensityNetwork(stepz=3), "stepz", TypeError),
    (lambda: NoiseRegularisedMDN(noise_scale=-1.0), "noise_scale", ValueError),
    (lambda: NoiseRegularisedMDN(noise_x=0.1), "noise_x", TypeError),
    (lambda: NoiseRegularisedMDN(num_components=0), "num_components", ValueError),
])
def test_bad_settings_are_refused_by_name(build, match, error):
    with pytest.raises(error, match=match):
        build()


def test_noise_rule_needs_one_column_of_x(no_training):
    with pytest.raises(ValueError, match="x must have one column"):
        NoiseRegularisedMDN(cache=False).fit(np.ones((10, 2)) * np.arange(10)[:, None],
                                            np.arange(10.0))


# --------------------------------------------------------------------------- noise rule
@pytest.mark.slow
def test_noise_widths_follow_the_rule_of_thumb_on_the_data_fitted(monkeypatch, two_branches):
    import mdn_utils.core.train
    seen = {}
    real = mdn_utils.core.train.train_mdn

    @functools.wraps(real)                   # keeps train_mdn's signature for the checks
    def spy(x, y, **settings):
        seen.update(settings)
        return real(x, y, **settings)

    monkeypatch.setattr(mdn_utils.core.train, "train_mdn", spy)
    x, y = two_branches
    model = NoiseRegularisedMDN(3, noise_scale=0.5, **TINY).fit(x[:64], y[:64], seed=0)
    h = 0.5 * 64 ** (-1 / 6)                      # c n^(-1/(4 + d)), d = 2
    assert seen["noise_x"] == pytest.approx(h * x[:64].std())
    assert seen["noise_y"] == pytest.approx(h * y[:64].std())
    assert model.noise == {"noise_x": seen["noise_x"], "noise_y": seen["noise_y"]}
    assert "noise_x" not in model.train_settings           # the next fit recomputes them
    assert seen["num_components"] == 3


# --------------------------------------------------------------------------- kde split by x
@pytest.fixture(scope="module")
def repeated_x():
    """Each of 30 x values measured four times: y = sin(3x) + N(0, 0.2^2)."""
    rng = np.random.default_rng(3)
    x = np.repeat(rng.uniform(0, 3, 30), 4)
    return x, np.sin(3 * x) + rng.normal(0, 0.2, len(x))


def test_x_value_split_keeps_every_x_on_one_side(repeated_x):
    x, y = repeated_x
    model = ValidatedKernelDensity(split="x_values")
    held = model._held_out(x[:, None], seed=1)
    assert not set(x[held]) & set(x[~held])
    assert len(set(x[held])) == round(0.2 * 30)
    rows = ValidatedKernelDensity()._held_out(x[:, None], seed=1)
    assert set(x[rows]) & set(x[~rows])      # a row split shares x values across the split
    # the grid is the validation NLL of that split, recomputed with the plain estimator
    model.fit(x, y, seed=1)
    reference = ValidatedKernelDensity._reference(x[~held][:, None], y[~held])
    a, b = model.factors[0], model.factors[-1]
    plain = KernelConditionalDensity(bandwidth=reference * [a, b]).fit(x[~held], y[~held])
    assert model.validation_nll[0, -1] == pytest.approx(
        -plain.log_prob(x[held], y[held]).mean(), rel=1e-9)


def test_row_split_is_unchanged_by_the_new_option(repeated_x):
    x, y = repeated_x
    default = ValidatedKernelDensity().fit(x, y, seed=4)
    order = np.random.default_rng(4).permutation(len(y))
    held, kept = order[:round(0.2 * len(y))], order[round(0.2 * len(y)):]
    grid = ValidatedKernelDensity()._grid_nll(x[kept][:, None], y[kept], x[held][:, None],
                                              y[held])
    np.testing.assert_allclose(default.validation_nll, grid, rtol=1e-12)


def test_split_bad_input():
    with pytest.raises(ValueError, match="split"):
        ValidatedKernelDensity(split="groups")
    with pytest.raises(ValueError, match="validation_fraction"):
        # 3 distinct x values, 90% of them held out: no kernel data left
        ValidatedKernelDensity(split="x_values", validation_fraction=0.9).fit(
            np.repeat([0.0, 1.0, 2.0], 2), np.arange(6.0))


# --------------------------------------------------------------------------- chosen settings
def test_evaluations_keep_what_each_fit_chose(monkeypatch, tmp_path, repeated_x):
    from mdn_utils.compare import report
    monkeypatch.setenv("MDN_CACHE_DIR", str(tmp_path))
    x, y = repeated_x
    spec = report.MethodSpec("kde", ValidatedKernelDensity, {"split": "x_values"})
    direct = ValidatedKernelDensity(split="x_values").fit(x[:80], y[:80], seed=0)
    first = report.evaluate(spec, x[:80], y[:80], x[80:], y[80:])
    assert first.chosen == [{"factor_y": direct.factor_y, "factor_x": direct.factor_x}]
    again = report.evaluate(spec, x[:80], y[:80], x[80:], y[80:])
    assert again.from_cache and again.chosen == first.chosen
    pooled = report.cross_validated([spec], x, y, 3)["kde"]
    assert len(pooled.chosen) == 3 and all(set(c) == {"factor_y", "factor_x"}
                                           for c in pooled.chosen)
    # a method that chooses nothing records nothing
    plain = report.MethodSpec("plain", KernelConditionalDensity, {"bandwidth": [0.3, 0.3]})
    assert report.evaluate(plain, x[:80], y[:80], x[80:], y[80:], use_cache=False).chosen == []
