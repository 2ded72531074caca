"""mdn_utils: the library behind the MDN book.

Subpackages, in the order data flows (each imports only those before it)::

    checks        argument validation shared by every subpackage
    problems      the datasets: synthetic ones with an exact density, the robot arm, real data
    core          the MDN: mixture parameters, losses, the Keras model, the training loop, sampling
    diagnostics   scores, calibration, approximation floors, gradients (NumPy)
    compare       the MDN's alternatives behind one estimator interface
    book          what only the book needs: plots, interactive figures, tables, the store, bench
"""
import os

# Keep TensorFlow's start-up chatter out of notebooks and test logs (set before TF loads).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
