"""What only the chapters need; no other subpackage imports it.

* ``plots``: the book's figures (the network's diagram, data, loss curve, density heatmap,
  mixture parameters, the PDF slice, the temperature GIF).
* ``interactive``: the static sliders of the site (data computed at build time, drawn in
  the browser).
* ``tables``: numbered, captioned tables.
* ``remedies``: small-sample runs of the training remedies, scored against the exact
  floor.
* ``bench``: the speed benchmark (``python -m mdn_utils.book.bench``).
* ``results``: stored experiments, run once at full strength and read by the chapters
  (``python -m mdn_utils.book.results``); the experiments themselves are the modules of
  ``experiments`` (``default_gap``: the default MDN's gap over seeds; ``input_encoding``:
  Fourier features of x against the plain input, tuned on validation data, over seeds;
  ``gap_along_x``: where along x those models lose their nats, and their learning curves;
  ``robot_arm_runs``: the robot arm's configurations over seeds; ``real_data_cv``: the
  methods on the real data sets, by repeated k-fold cross-validation;
  ``approximation_floor``: F(K) of both 1-D datasets, resolved and re-scored;
  ``small_data_remedies``: the training remedies on small samples, each tuned on held-out
  training pairs, over seeds; ``method_comparison``: chapter 11's methods on both exact
  floors over seeds, each network method tuned on its own validation split;
  ``default_search``: candidate default settings over seeds on three datasets, each run
  given the same training time).
"""
