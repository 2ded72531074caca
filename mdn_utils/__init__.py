"""mdn_utils: the library behind the MDN book.

Modules, in the order data flows (each imports only those before it):
``checks`` (argument validation), ``data``, ``params`` (the layout of a mixture's
parameters, any output width D), ``mixture``, ``losses``, ``model``, ``device``,
``loop`` (the compiled training loop), ``train``, ``baseline`` (the squared-error
network), ``cache`` (trained models reused across chapters), ``sampling``, ``plots``;
then, for the measurements, ``stability`` (loss forms scored by relative error),
``evaluation``, ``calibration``, ``tables`` (Markdown tables) and ``bench``
(``make bench``).
"""
import os

# Keep TensorFlow's start-up chatter out of notebooks and test logs (set before TF loads).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
