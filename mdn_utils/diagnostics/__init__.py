"""Measurements of a fitted model: calibration (PIT, coverage, HDR, CRPS), the
approximation floor of a K-component mixture, and the closed-form gradients of the NLL."""
