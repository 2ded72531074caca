"""Measurements of a fitted model. May import ``checks``, ``problems`` and ``core``, but
imports no TensorFlow, TensorFlow Probability or Keras, directly or through them
(tests/test_import_contract.py checks it).

* ``scoring``: every score of a conditional density, for the chapters and ``compare``
  alike: the gap to an exact floor, NLL, PIT per bin of x, coverage with its Wilson
  interval, HDR coverage, CRPS.
* ``approximation``: the approximation floor, the best K-component Gaussian mixture's
  divergence from the exact conditional density.
* ``gradients``: responsibilities and the closed-form derivatives of the mixture NLL.
* ``runs``: statistics over independent training runs (a paired t-test over runs, Holm's
  correction for many tests).
"""
