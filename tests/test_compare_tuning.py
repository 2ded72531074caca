"""mdn_utils.compare.tuning (a method's own hyper-parameter search), on small data with
models that need no TensorFlow."""
import numpy as np
import pytest

from mdn_utils.compare import report, tuning
from mdn_utils.compare.base import GaussianMixtureModel
from mdn_utils.compare.kde import KernelConditionalDensity
from mdn_utils.core.params import MixtureParams


class ScaledLine(GaussianMixtureModel):
    """N(a x + b, scale^2) with (a, b) by least squares; its training 'diverges'
    (FloatingPointError) when scale exceeds 100."""

    name = "scaled line"

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def _fit(self, x, y, seed):
        if self.scale > 100:
            raise FloatingPointError("diverged")
        self.coef = np.polyfit(x[:, 0], y, 1)

    def _mixture(self, x):
        mu = np.polyval(self.coef, x[:, 0])[:, None]
        return MixtureParams.from_1d(np.zeros_like(mu), mu, np.full_like(mu, np.log(self.scale)))


def _pairs(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    return x, 2 * x + 0.5 * rng.standard_normal(n)


def test_candidates_are_every_combination_in_a_fixed_order():
    assert tuning.candidates({"steps": [1, 2], "learning_rate": [0.1]}) == [
        {"learning_rate": 0.1, "steps": 1}, {"learning_rate": 0.1, "steps": 2}]
    with pytest.raises(TypeError, match="search"):
        tuning.candidates({})
    with pytest.raises(ValueError, match=r"search\['steps'\]"):
        tuning.candidates({"steps": []})


def test_the_best_candidate_on_the_validation_pairs_is_refitted_on_all_pairs():
    x, y = _pairs(400, 0)
    x_test, y_test = _pairs(300, 1)
    spec = report.MethodSpec("line", ScaledLine)
    tuned = tuning.tuned_evaluate(spec, {"scale": [0.1, 0.5, 5.0]}, x, y, x_test, y_test,
                                  use_cache=False)
    assert tuned.chosen == {"scale": 0.5} and tuned.validation_score == "nll"
    assert np.argmin(tuned.validation) == 1 and tuned.diverged_refits == 0
    assert tuned.evaluation.n_train == 400             # refitted on every training pair
    fitted_on_part = report.evaluate(report.MethodSpec("line", ScaledLine, {"scale": 0.5}),
                                     x[:320], y[:320], x_test, y_test, use_cache=False)
    assert not np.allclose(tuned.evaluation.nll, fitted_on_part.nll)


def test_a_diverging_candidate_is_passed_over():
    x, y = _pairs(200, 0)
    spec = report.MethodSpec("line", ScaledLine)
    tuned = tuning.tuned_evaluate(spec, {"scale": [1e3, 2.0]}, x, y, x, y, use_cache=False)
    assert tuned.validation[0] is None and np.isfinite(tuned.validation[1])
    assert tuned.chosen == {"scale": 2.0}
    with pytest.raises(FloatingPointError):
        tuning.tuned_evaluate(spec, {"scale": [1e3, 2e3]}, x, y, x, y, use_cache=False)


def test_a_method_without_the_searched_settings_is_fitted_as_it_is():
    x, y = _pairs(200, 0)
    spec = report.MethodSpec("kde", KernelConditionalDensity)
    assert not tuning.searchable(spec, {"steps": [10]})
    tuned = tuning.tuned_evaluate(spec, {"steps": [10, 20]}, x, y, x, y, use_cache=False)
    assert tuned.chosen is None and tuned.validation is None
    assert tuned.evaluation.n_train == 200


def test_bad_input_is_named():
    x, y = _pairs(50, 0)
    spec = report.MethodSpec("line", ScaledLine)
    with pytest.raises(ValueError, match="validation_share"):
        tuning.tuned_evaluate(spec, {"scale": [1.0]}, x, y, x, y, validation_share=1.5)
    with pytest.raises(ValueError, match="y"):
        tuning.tuned_evaluate(spec, {"scale": [1.0]}, x, y[:-1], x, y)
