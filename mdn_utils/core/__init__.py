"""The mixture density network. Imports ``checks`` and ``problems``; the only layer
below ``compare`` and ``book`` that uses TensorFlow, TensorFlow Probability and Keras.

* ``params``: ``MixtureParams`` (the mixture every module passes: diag or full
  covariance, any width D), ``ConditionalMixture`` (a conditional density that is a
  mixture at each x, scored by the NumPy kernel) and ``HeadLayout`` (where each number
  sits in the network's flat output).
* ``mixture``: network outputs to TFP ``MixtureSameFamily`` distributions and ancestral
  sampling.
* ``losses``: the mixture NLL, naive and in log space, and the Keras loss ``MixtureNLL``.
* ``model``: the Keras 3 MDN (``build_mdn``) and its predictions (``predict_mixture``,
  ``predictive_distribution``, and ``conditional``, the model as ``diagnostics.scoring``
  scores it).
* ``device``: where training runs (``choose_device``) and seeding.
* ``loop``: the compiled training loop (``make_train_loop``) and its optimiser
  (``adam_cosine``).
* ``train``: ``train_mdn``, which builds the model for (x, y) and trains it.
* ``trained``: trained models kept in the library's store and reused (``trained_mdn``).
* ``baseline``: the squared-error network of chapter 1.
* ``sampling``: sampling with a temperature, and what the temperature does to a density.
* ``box_transform``: targets confined to a box, learned in unbounded coordinates.
* ``stability``: each form of the loss scored by its relative error.
"""
