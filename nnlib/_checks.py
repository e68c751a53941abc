"""Input validation shared by every nnlib module.

Each helper raises ``TypeError`` or ``ValueError`` with a message that names the
argument, what it received and what was expected, so that a student reading the
error knows what to change without reading NumPy's internals.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_positive",
    "check_same_shape",
    "check_binary_labels",
    "check_rng",
]


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None,
                   allow_empty: bool = False) -> np.ndarray:
    """Return ``x`` as a floating-point NumPy array without modifying it.

    Integer and boolean inputs are converted to float64; float32 and float64
    are kept as they are (no copy). Strings, objects and complex numbers are
    rejected with a ``TypeError``.

    Parameters
    ----------
    x : array_like
        The input.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    allow_empty : bool
        Whether an array with no elements is acceptable.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:  # ragged lists and the like
            raise TypeError(f"{name} could not be read as a numeric array: {exc}") from None
    if arr.dtype == object or arr.dtype.kind in "USVMm":
        raise TypeError(
            f"{name} must be a numeric array, got dtype {arr.dtype}"
            + (" (a ragged list?)" if arr.dtype == object else "")
        )
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one element")
    return arr


def check_positive(value, name: str, *, allow_zero: bool = False, integer: bool = False):
    """Check that a scalar hyper-parameter is a positive (finite) number.

    Returns the value unchanged. Booleans are rejected: ``eta=True`` is a typo.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise TypeError(f"{name} must be {what}, got {value!r} of type {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return value


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}; "
            "they must match (one row per sample)"
        )


def check_binary_labels(y: np.ndarray, name: str = "y") -> None:
    """Raise ``ValueError`` unless every entry of ``y`` is 0 or 1."""
    bad = (y != 0) & (y != 1)
    if np.any(bad):
        examples = np.unique(y[bad])[:5]
        raise ValueError(
            f"{name} must contain only the labels 0 and 1, found {examples.tolist()}"
        )


def check_rng(seed) -> np.random.Generator:
    """Turn ``seed`` (None, int or Generator) into a ``np.random.Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(
        f"seed must be None, an int or a numpy.random.Generator, got {type(seed).__name__}"
    )
