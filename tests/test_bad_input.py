"""Every public entry point rejects bad input up front, naming the argument."""
import functools

import numpy as np
import pytest

from mdn_utils import checks
from mdn_utils.core.params import MixtureParams
from mdn_utils.core import baseline, device, losses, mixture, model as mdn_model, sampling, stability, train
from mdn_utils.diagnostics import scoring
from mdn_utils.problems import datasets as data
from mdn_utils.book import plots
from mdn_utils.core.params import HeadLayout

GOOD = (np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 3)))
Y4 = np.zeros(4)
X, Y = data.sample("bishop", 50, seed=0)
X2 = np.random.default_rng(0).normal(size=(50, 2))
Y2 = np.random.default_rng(1).normal(size=(50, 2))


@functools.cache
def net():
    """A small untrained 1-D MDN, built on first use (not when the tests are collected)."""
    return mdn_model.build_mdn(num_components=2, hidden_units=4)


@functools.cache
def net_2d():
    """A small untrained MDN with x and y of width 2, full covariance, built on first use."""
    return mdn_model.build_mdn(num_components=2, hidden_units=4, covariance="full",
                               x_dim=2, y_dim=2)


def _nan_params():
    logits = np.zeros((4, 3))
    logits[1, 2] = np.nan
    return logits, GOOD[1], GOOD[2]


CASES = [
    # (call, expected error, words the message must contain)
    (lambda: data.sample("moons", 10), ValueError, "dataset"),
    (lambda: data.sample("bishop", 0), ValueError, "num_samples"),
    (lambda: data.sample("bishop", 2.5), TypeError, "num_samples"),
    (lambda: data.sample("bishop", 10, seed=-1), ValueError, "seed"),
    (lambda: data.conditional_density("bishop", [np.inf], [0.5]), ValueError, "x"),
    (lambda: data.conditional_density("bishop", [0.1, 0.2], [0.1, 0.2, 0.3]), ValueError,
     "broadcast"),
    (lambda: data.bayes_nll("bishop", [0.0, 0.1], [0.5]), ValueError, "batch sizes"),
    (lambda: data.bayes_nll("bishop", [0.5], [5.0]), ValueError, "zero probability"),
    (lambda: mixture.mixture_distribution(MixtureParams.from_1d(np.zeros(3), np.zeros(3), np.zeros(3))), ValueError,
     "mixture_logits must have rank 2"),
    (lambda: mixture.mixture_distribution(MixtureParams.from_1d(np.zeros((4, 0)), np.zeros((4, 0)),
                                          np.zeros((4, 0)))), ValueError, "empty"),
    (lambda: mixture.mixture_distribution(MixtureParams.from_1d(np.zeros((4, 3)), np.zeros((4, 2)), np.zeros((4, 3)))),
     ValueError, "same shape"),
    (lambda: mixture.mixture_distribution(MixtureParams.from_1d(*_nan_params())), ValueError,
     "mixture_logits must be finite"),
    (lambda: mixture.mixture_distribution(MixtureParams.from_1d("abc", *GOOD[1:])), TypeError, "mixture_logits"),
    (lambda: mixture.ancestral_sample(MixtureParams.from_1d(*GOOD), num_samples=0), ValueError, "num_samples"),
    (lambda: losses.log_space_nll(np.zeros(5), *GOOD), ValueError, "batch sizes"),
    (lambda: losses.log_space_nll(np.zeros((4, 2)), *GOOD), ValueError, "y must have shape"),
    (lambda: losses.naive_nll([np.nan] * 4, *GOOD), ValueError, "y must be finite"),
    (lambda: losses.tfp_nll(Y4, GOOD[0], GOOD[1], np.ones((4, 3)) * np.inf), ValueError,
     "log_sigmas must be finite"),
    (lambda: mdn_model.build_mdn(num_components=0), ValueError, "num_components"),
    (lambda: mdn_model.build_mdn(hidden_units=-3), ValueError, "hidden_units"),
    (lambda: mdn_model.build_mdn(activation="sparkle"), ValueError, "activation"),
    (lambda: mdn_model.build_mdn(adapt_to=X), TypeError, "adapt_to"),
    (lambda: mdn_model.predict_params("not a model", [0.0]), TypeError, "model"),
    (lambda: train.train_mdn(X, Y[:10], progress=False), ValueError, "batch sizes"),
    (lambda: train.train_mdn(X, Y, steps=0, progress=False), ValueError, "steps"),
    (lambda: train.train_mdn(X, Y, learning_rate=0.0, progress=False), ValueError,
     "learning_rate"),
    (lambda: train.train_mdn(X, Y, batch_size=0, progress=False), ValueError, "batch_size"),
    (lambda: train.train_mdn(X, Y, loss="hinge", progress=False), ValueError, "loss"),
    (lambda: train.train_mdn(X, Y, device="tpu", progress=False), ValueError,
     "device must be one of"),
    (lambda: train.train_mdn(X, Y, validation_data=X, progress=False), TypeError,
     "validation_data"),
    (lambda: train.train_mdn(np.full(50, np.nan), Y, progress=False), ValueError,
     "x must be finite"),
    (lambda: device.choose_device("quantum"), ValueError, "device must be one of"),
    (lambda: sampling.sample_with_temperature(MixtureParams.from_1d(*GOOD), tau=0.0), ValueError, "tau"),
    (lambda: sampling.sample_with_temperature(MixtureParams.from_1d(*GOOD), tau="hot"), TypeError, "tau"),
    (lambda: sampling.sample_with_temperature(MixtureParams.from_1d(GOOD[0], GOOD[1][:, :2], GOOD[2])), ValueError,
     "same shape"),
    (lambda: sampling.apply_temperature(GOOD[0], GOOD[2], tau=-1.0), ValueError, "tau"),
    (lambda: plots.plot_pdf_slice(net(), 0.0), ValueError, "y_range or dataset"),
    (lambda: plots.plot_density_heatmap(net(), (1.0, -1.0), (0.0, 1.0)), ValueError, "x_range"),
    (lambda: plots.plot_density_heatmap(net(), (0.0, 1.0), (0.0, 1.0, 2.0)), ValueError, "y_range"),
    (lambda: scoring.coverage_report([0.5, 0.2], levels=[0.5, 1.5]), ValueError, "levels"),
    (lambda: stability.finite_limit(losses.naive_nll_unchecked, "float32", "sigma"), ValueError,
     "parameter"),
    (lambda: scoring.gap_to_floor(mdn_model.conditional(net()), "bishop", [0.1, 0.2], [0.5]), ValueError,
     "batch sizes"),
    (lambda: plots.temperature_frames(net(), (0, 1), (0, 1), taus=[1.0, -0.5]), ValueError,
     "taus"),
    (lambda: plots.write_temperature_gif(net(), 42, (0, 1), (0, 1)), TypeError, "path"),
]


# D dimensions: widths, covariance forms and layouts (issue 9).
CASES += [
    (lambda: train.train_mdn(X2, Y2[:40], progress=False), ValueError, "batch sizes"),
    (lambda: train.train_mdn(X2, Y2, covariance="spherical", progress=False), ValueError,
     "covariance"),
    (lambda: train.train_mdn(X2, np.zeros((50, 2, 1)), progress=False), ValueError,
     "y must have rank 1 or 2"),
    (lambda: train.train_mdn(np.where(X2 > 2, np.inf, X2), Y2, progress=False), ValueError,
     "x must be finite"),
    (lambda: train.train_mdn(X, Y2, validation_data=(X, Y), progress=False), ValueError,
     "validation_data's y must have 2 columns"),
    (lambda: train.train_mdn(X, Y2, loss="naive", progress=False), ValueError, "naive"),
    (lambda: mdn_model.build_mdn(covariance="banded"), ValueError, "covariance"),
    (lambda: mdn_model.build_mdn(adapt_to=(X2, Y2), y_dim=3), ValueError, "y_dim"),
    (lambda: mdn_model.build_mdn(x_dim=0), ValueError, "x_dim"),
    (lambda: mdn_model.predict_flat(net_2d(), np.zeros((4, 3))), ValueError,
     "x must have 2 columns"),
    (lambda: mdn_model.predict_mixture("not a model", X2), TypeError, "model"),
    (lambda: mdn_model.conditional(net_2d()).log_prob(X2, Y), ValueError, "y"),
    (lambda: mdn_model.conditional(net_2d()).log_prob(X2, Y2[:10]), ValueError, "batch sizes"),
    (lambda: mdn_model.conditional("not a model"), TypeError, "model"),
    (lambda: HeadLayout(0, 2), ValueError, "num_components"),
    (lambda: HeadLayout(2, 2, "spherical"), ValueError, "covariance"),
    (lambda: HeadLayout(2, 2, "full").params(np.zeros((3, 13))), ValueError,
     "flat must have 12 columns"),
    (lambda: HeadLayout(2, 2).params(np.full((3, 10), np.nan)), ValueError, "flat must be finite"),
    (lambda: losses.head_nll("diag"), TypeError, "layout"),
    (lambda: losses.head_nll(HeadLayout(2, 2), loss="naive"), ValueError, "naive"),
    (lambda: baseline.train_mean_regressor(X2, Y2[:10]), ValueError, "batch sizes"),
    (lambda: train.train_mdn(X, Y, fourier_features=3, fourier_kind="uniform"), ValueError,
     "fourier_kind"),
    (lambda: checks.fraction("mass", 1.0), ValueError, "mass must lie in (0, 1)"),
    (lambda: checks.fraction("keep_weight", -0.1, allow_zero=True), ValueError,
     "keep_weight must lie in [0, 1)"),
    (lambda: checks.fraction("mass", "0.5"), TypeError, "mass must be a real number"),
    (lambda: checks.matrix("x", np.zeros((2, 2, 2))), ValueError, "x must"),
]


@pytest.mark.parametrize("call, error, words", CASES, ids=[c[2] for c in CASES])
def test_bad_input_raises_a_clear_error(call, error, words):
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)

