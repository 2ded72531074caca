"""The mixture density network: mixture parameters (``params``, ``mixture``), losses, the
Keras model, devices, the compiled training loop and ``train_mdn``, sampling with a
temperature, the squared-error baseline, and the loss-stability probes."""
