"""Argument checks shared by every public function.

Each check raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right kind,
wrong value) with a message that names the argument and says what was expected, so
bad input never reaches TensorFlow and never turns into a silent NaN.
"""
from __future__ import annotations

import numbers

import numpy as np


def positive_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, requiring an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def positive_float(name: str, value) -> float:
    """Return ``value`` as a float, requiring a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def fraction(name: str, value, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, requiring a real number in (0, 1) (or [0, 1) when
    ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not (0.0 <= value < 1.0 if allow_zero else 0.0 < value < 1.0):
        raise ValueError(f"{name} must lie in {'[0' if allow_zero else '(0'}, 1), got {value}")
    return float(value)


def finite_array(name: str, value, ndim: int | tuple[int, ...] | None = None,
                 dtype=np.float64) -> np.ndarray:
    """Return ``value`` as a numeric array with all entries finite.

    ``ndim`` (an int or a tuple of allowed ints) constrains the rank.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array: {error}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    array = array.astype(dtype, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise ValueError(f"{name} must have rank {' or '.join(map(str, allowed))}, "
                             f"got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite, found {bad} NaN or infinite entries")
    return array


def column(name: str, value, dtype=np.float64) -> np.ndarray:
    """Return a finite 1-D array from shape ``[n]`` or ``[n, 1]``."""
    array = finite_array(name, value, ndim=(0, 1, 2), dtype=dtype)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim == 2:
        if array.shape[1] != 1:
            raise ValueError(f"{name} must have shape [n] or [n, 1], got {array.shape}")
        array = array[:, 0]
    return array


def matrix(name: str, value, dtype=np.float64) -> np.ndarray:
    """Return a finite ``[n, D]`` array from shape ``[n]`` (a width of 1) or ``[n, D]``."""
    array = finite_array(name, value, ndim=(1, 2), dtype=dtype)
    return array[:, None] if array.ndim == 1 else array


def same_length(**arrays) -> int:
    """Require that all named arrays have the same first dimension; return it."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"batch sizes must agree: {described}")
    return next(iter(lengths.values()))


def one_of(name: str, value, allowed) -> str:
    """Require ``value`` to be one of ``allowed`` (strings)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {sorted(allowed)}, "
                        f"got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def paired_columns(x, y, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Finite 1-D ``x`` and ``y`` (from ``[n]`` or ``[n, 1]``) of the same length."""
    x, y = column("x", x, dtype=dtype), column("y", y, dtype=dtype)
    same_length(x=x, y=y)
    return x, y
