"""What a failing check may claim: a likely mistake is named only when the evidence shows it.

Shared by the checker modules of Lessons 01, 02 and 05. Two kinds of evidence:

- a wrong value that matches a typical mistake's value - but only when that mistake's value is
  itself far from the right one (:func:`distinct`). A forward difference at h = 1e-5 is within
  1e-5 of the central difference, so a slightly wrong value "matches" it and a message would
  blame a formula the student never wrote;
- what the student's code visibly did: computed in float32 (:func:`low_precision`), returned a
  list where the exercise asks for a NumPy array (:func:`require_array`).

Everything here is bound at import time, before student code runs (see :mod:`helpers.checks`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import CheckFailure, trusted_relative_error

_isinstance = isinstance
_ndarray = np.ndarray
_generic = np.generic
_dtype = np.dtype
_min = min
_type = type
_NAN = float("nan")
_LOW = (np.dtype(np.float16), np.dtype(np.float32))
LOW_DTYPES = _LOW  # floating types too coarse for a finite difference or a check at 1e-9


def match_tolerance(rtol: float) -> float:
    """How loosely :func:`helpers.checks.check` matches a wrong value to a listed mistake."""
    return _min(0.001, rtol * 100)


def distinct(
    mistakes: dict[str, Any], expected: Any, rtol: float, got: Any = None
) -> dict[str, Any]:
    """The mistakes a wrong value may be matched with: those the evidence can tell apart.

    A mistake is kept when its value lies far from ``expected`` (at least ten matching
    tolerances), or - given the student's value ``got`` - when ``got`` is a hundred times closer
    to the mistake than to ``expected``. A mistake whose value is nearly the right one could
    otherwise "match" any slightly wrong answer and blame a formula the student never wrote.
    """
    far = 10 * match_tolerance(rtol)
    off = _relative(got, expected) if got is not None else None
    kept = {}
    for description, value in mistakes.items():
        if value is None:
            continue
        err = _relative(value, expected)
        if err != err:  # nan: no comparable value
            continue
        if err > far or (off is not None and off == off and _relative(got, value) * 100 < off):
            kept[description] = value
    return kept


def _relative(a: Any, b: Any) -> float:
    try:
        return trusted_relative_error(a, b)
    except (TypeError, ValueError, AttributeError):
        return _NAN


def dtype_of(value: Any) -> np.dtype | None:
    """The dtype of a NumPy array or scalar; None for anything else (lists, floats)."""
    if _isinstance(value, (_ndarray, _generic)):
        return value.dtype
    return None


def low_precision(value: Any) -> str | None:
    """A sentence when ``value`` is a float32 or float16 array or scalar, else None."""
    dtype = dtype_of(value)
    if dtype is None or dtype not in _LOW:
        return None
    return (
        f"your result is {dtype.name} (about {7 if dtype == _LOW[1] else 3} significant "
        "digits): compute in float64, the default of np.array(..., dtype=float)"
    )


def require_array(name: str, got: Any, shown: str, what: str) -> None:
    """Fail plainly unless ``got`` is a NumPy array (the exercise's text asks for one)."""
    if got is None or _isinstance(got, _ndarray):
        return
    raise CheckFailure(
        f"{name} must return a NumPy array.",
        [
            f"call : {shown}",
            f"got  : {_type(got).__name__}",
            f"{what}: build it with np.array(...) or np.zeros(...), or wrap your list in "
            "np.array(...)",
        ],
    )
