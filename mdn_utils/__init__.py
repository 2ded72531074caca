"""mdn_utils: the library behind the MDN book.

Subpackages, lowest layer first; each imports only the layers below it (the import
contracts in pyproject.toml, checked by tests/test_import_contract.py)::

    checks        argument validation shared by every subpackage (one module)
    store         the one store of computed results, keyed by the code that made them
                  (one module, beside checks)
    problems      the datasets: datasets (synthetic, with an exact density), robot_arm,
                  arm_edges, real (the CSV files in problems/data)
    core          the MDN: params, mixture, losses, model, device, loop, train, trained,
                  baseline, sampling, box_transform, stability
    diagnostics   measurements of a fitted model: scoring (every score, for the
                  chapters and compare alike), approximation, gradients, runs
    compare       the MDN's alternatives behind one estimator interface: base,
                  crossval, gaussian, mdn, kde, kde_grid, binned, flow, quantile,
                  networks, report, tuning
    book          what only the chapters need: plots, interactive, tables,
                  remedies, bench, results (stored experiments: experiments.default_gap,
                  experiments.input_encoding, experiments.gap_along_x,
                  experiments.robot_arm_runs,
                  experiments.real_data_cv, experiments.approximation_floor,
                  experiments.small_data_remedies, experiments.method_comparison,
                  experiments.default_search)

checks, store, problems and diagnostics import no TensorFlow, TensorFlow Probability or
Keras, and nothing in the package but ``book`` itself imports ``book``'s modules.
"""
import os

# Keep TensorFlow's start-up chatter out of notebooks and test logs (set before TF loads).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
