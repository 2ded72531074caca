"""Small samples and the remedies of ``train.train_mdn``, measured against the Bayes floor.

``remedy_run(dataset, n, **settings)`` trains an MDN on n pairs (through the store,
``trained.trained_mdn``) and measures it on fresh pairs of a dataset with an exact density:

* the gap to the floor on test pairs, mean_i[-log q(y_i|x_i) + log p(y_i|x_i)], with its
  paired standard error (``scoring.gap_to_floor``), and the per-pair model NLL, so that two
  runs can be compared pair by pair (``scoring.paired_difference``);
* the same gap on its own training pairs: below zero, the model scores its training data
  better than the truth does, the signature of overfitting;
* the width of the component most responsible for each training point (argmax_k gamma_k,
  gamma_k proportional to pi_k N(y | mu_k, sigma_k^2)); its minimum shows a component
  narrowing onto single points;
* how many components carry weight (``components_in_use``).

``select_by_validation`` chooses a setting (K, a noise factor, a floor...) by the NLL on
pairs held out from the n training pairs, and retrains it on all of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from scipy import special

from mdn_utils import checks
from mdn_utils.problems import datasets as data
from mdn_utils.core import trained
from mdn_utils.core.train import rule_of_thumb_noise
from mdn_utils.core.model import conditional, predict_mixture, predict_params
from mdn_utils.diagnostics.scoring import Gap, gap_to_floor

TRAIN_SEED_OFFSET, VALIDATION_SEED_OFFSET, TEST_SEED_OFFSET = 0, 1_000, 2_000


@dataclass(frozen=True)
class RemedyRun:
    """One trained MDN on n pairs and what it scores (see the module docstring)."""

    n: int
    settings: dict
    model: keras.Model
    test_gap: Gap
    train_gap: Gap
    test_nll: np.ndarray               # -log q(y_i | x_i) per test pair
    validation_bayes_nll: float        # the floor on the validation pairs of the history
    narrowest_sigma: float             # min over training points, most responsible component
    components_in_use: int
    history: dict
    seconds: float                     # training time of the run that filled the cache


def components_in_use(model, x, threshold: float = 0.01) -> int:
    """How many components have weight pi_k(x) > ``threshold`` at one x of ``x`` at least."""
    threshold = checks.fraction("threshold", threshold)
    logits, _, _ = predict_params(model, x)
    weights = special.softmax(logits.astype(np.float64), axis=1)
    return int(np.sum(weights.max(axis=0) > threshold))


def _most_responsible_sigma(model, x, y) -> np.ndarray:
    """sigma_k(x_i) of k = argmax_k gamma_ik, per pair (a 1-D model)."""
    mixture = predict_mixture(model, x).astype(np.float64)
    chosen = np.argmax(mixture.log_responsibilities(y), axis=1)
    return np.exp(mixture.as_1d()[2][np.arange(len(chosen)), chosen])


def training_pairs(dataset, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The n training pairs ``remedy_run(dataset, n, seed=seed)`` trains on."""
    return data.sample(dataset, n, seed=seed + TRAIN_SEED_OFFSET)


def remedy_run(dataset, n: int, *, seed: int = 0, validation_pairs: int = 1_000,
               test_pairs: int = 20_000, **settings) -> RemedyRun:
    """Train ``train_mdn(x, y, **settings)`` on n pairs of ``dataset`` (seed ``seed``; the
    validation and test pairs come from the seeds offset by 1,000 and 2,000) and measure it.
    ``settings`` are train_mdn's (``progress`` is off unless given)."""
    dataset = data.require_density(dataset, "remedy_run (the gap to the Bayes floor)")
    n = checks.positive_int("n", n, minimum=2)
    seed = checks.positive_int("seed", seed, minimum=0)
    validation_pairs = checks.positive_int("validation_pairs", validation_pairs)
    test_pairs = checks.positive_int("test_pairs", test_pairs, minimum=2)
    x, y = training_pairs(dataset, n, seed)
    validation = data.sample(dataset, validation_pairs, seed=seed + VALIDATION_SEED_OFFSET)
    x_test, y_test = data.sample(dataset, test_pairs, seed=seed + TEST_SEED_OFFSET)
    settings = {"progress": False, **settings}
    result = trained.trained_mdn(x, y, validation_data=validation, seed=seed, **settings)
    model = result.model
    scored = conditional(model)
    return RemedyRun(
        n=n, settings=dict(settings), model=model,
        test_gap=gap_to_floor(scored, dataset, x_test, y_test),
        train_gap=gap_to_floor(scored, dataset, x, y),
        test_nll=-scored.log_prob(x_test, y_test),
        validation_bayes_nll=data.bayes_nll(dataset, *validation),
        narrowest_sigma=float(_most_responsible_sigma(model, x, y).min()),
        components_in_use=components_in_use(model, x),
        history=result.history, seconds=result.seconds)


def candidate_settings(candidate: dict, x, y) -> dict:
    """``train_mdn`` settings from one candidate: every item as given, except
    ``noise_factor`` c, which becomes the noise widths ``train.rule_of_thumb_noise(x, y, c)``
    of the pairs it will train on."""
    settings = dict(candidate)
    if "noise_factor" in settings:
        settings.update(rule_of_thumb_noise(x, y, settings.pop("noise_factor")))
    return settings


@dataclass(frozen=True)
class Selection:
    """``select_by_validation``'s choice: the ``chosen`` candidate, each candidate's NLL on
    the held-out pairs (``validation_nll``, in the order given) and the ``run`` of the chosen
    settings retrained on all n pairs."""

    chosen: dict
    validation_nll: list
    run: RemedyRun


def select_by_validation(dataset, n: int, candidates, *, seed: int = 0,
                         validation_share: float = 0.2, **kwargs) -> Selection:
    """Choose among ``candidates`` (dicts of ``train_mdn`` settings, see
    ``candidate_settings``) with the n training pairs alone, as a practitioner must: shuffle
    them (seeded), train each candidate on the first 1 - ``validation_share`` of them,
    score its NLL on the rest, keep the lowest, and retrain it on all n pairs
    (``remedy_run(dataset, n, seed=seed, **kwargs, **chosen)``). ``kwargs`` are the settings
    every candidate shares (and remedy_run's ``test_pairs``, ``validation_pairs``)."""
    candidates = list(candidates)
    if not candidates or not all(isinstance(c, dict) for c in candidates):
        raise ValueError("candidates must be a non-empty list of dicts of train_mdn settings")
    for candidate in candidates:
        shared = set(candidate) & set(kwargs)
        if shared:
            raise TypeError(f"{sorted(shared)} are set by the candidates; do not pass them")
    validation_share = checks.fraction("validation_share", validation_share)
    n = checks.positive_int("n", n, minimum=2)
    seed = checks.positive_int("seed", seed, minimum=0)
    held_out = int(round(validation_share * n))
    if not 1 <= held_out < n:
        raise ValueError(f"validation_share {validation_share} of n = {n} pairs must hold out "
                         f"at least one pair and keep at least one")
    x, y = training_pairs(dataset, n, seed)
    order = np.random.default_rng(seed).permutation(n)
    fit, held = order[held_out:], order[:held_out]
    train_settings = {k: v for k, v in kwargs.items()
                      if k not in ("test_pairs", "validation_pairs")}
    train_settings = {"progress": False, **train_settings}
    nll = []
    for candidate in candidates:
        settings = candidate_settings(candidate, x[fit], y[fit])
        result = trained.trained_mdn(x[fit], y[fit], validation_data=(x[held], y[held]),
                                     seed=seed, **train_settings, **settings)
        nll.append(float(result.history["validation_nll"][-1]))
    chosen = candidates[int(np.argmin(nll))]
    run = remedy_run(dataset, n, seed=seed, **kwargs, **candidate_settings(chosen, x, y))
    return Selection(chosen=dict(chosen), validation_nll=nll, run=run)
