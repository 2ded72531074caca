import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def random_params():
    """Random mixture parameters [batch, K] and targets y [batch], float64."""
    rng = np.random.default_rng(1234)
    batch, k = 64, 5
    return (rng.normal(0, 2, batch), rng.normal(0, 2, (batch, k)),
            rng.normal(0, 3, (batch, k)), rng.normal(0, 0.7, (batch, k)))
