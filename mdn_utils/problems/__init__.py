"""The problems the book models, as dataset objects (``sample(n, seed)``, ranges, and
an exact ``log_density(x, y)`` where one exists). Imports only ``mdn_utils.checks``; no
TensorFlow.

* ``datasets``: the ``Dataset`` protocol; the synthetic inverse problems with an exact
  conditional density (the sinusoid inverse, Bishop's problem), two correlated Gaussians
  in 2-D, ``ArrayDataset`` for data without a density; the registry (``get_dataset``,
  ``sample``) and the Bayes floor (``bayes_nll``, ``conditional_entropy``).
* ``robot_arm``: the two-link robot arm (2-D in, 2-D out) with its exact density;
  ``arm_edges``: the distance from a position x to the images of its box's edges (which
  positions have posterior mass near an edge).
* ``real``: Old Faithful and the motorcycle crash data, shipped as CSV files in
  ``problems/data`` with their sources and checksums.
"""
