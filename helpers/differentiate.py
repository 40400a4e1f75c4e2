"""Finite differences: derivatives, gradients, Jacobians and Hessians from function values.

Every routine here follows the same rules, because a finite difference is only as good as
its step:

* the point is upcast to float64 and copied (integer input works; the caller's array is never
  touched), and float32 input gets a warning - its error floor is about 1e-4;
* the default step is relative to the point, ``h = eps**p * max(1, |x|)`` with the power ``p``
  that balances truncation against rounding for the scheme (see :func:`default_step`);
* the quotient is divided by the step that was actually taken, ``(x + h) - x`` or
  ``(x + h) - (x - h)`` in floating point, not by ``h`` (this halves the error);
* bad input - a non-callable ``f``, a step that is not positive and finite, a vector where a
  scalar is needed, a non-finite function value - raises a ``TypeError`` or ``ValueError``
  that names the problem.

Float64 floors at the default steps (relative error on smooth functions): forward and
backward ~1e-8, central ~1e-10, second derivative ~1e-8. The figures behind these choices are
the errors ``python -m benchmarks`` measures against 50-digit mpmath (benchmarks/accuracy.py).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

import numpy as np

__all__ = [
    "backward_difference",
    "central_difference",
    "default_step",
    "forward_difference",
    "gradient",
    "hessian",
    "jacobian",
    "second_derivative",
]

EPS = float(np.finfo(np.float64).eps)

# The step that balances truncation error (grows with h) against rounding error (grows like
# eps / h**k) for each scheme: eps**(1/2) for O(h) one-sided differences, eps**(1/3) for the
# O(h**2) central difference, eps**(1/4) for the O(h**2) second difference.
_STEP_POWER = {"forward": 1 / 2, "backward": 1 / 2, "central": 1 / 3, "second": 1 / 4}

# Batched gradients send f at most this many bytes of perturbed points per call (a row larger
# than that goes alone): the batch and the temporaries f makes from it then stay below glibc's
# default mmap threshold, 128 KiB, so no call page-faults on fresh memory. The measurements
# behind it are in gradient's Notes and benchmarks/gradient_speed.py.
_CHUNK_BYTES = 2**17


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _check_callable(f: object, name: str = "f") -> None:
    if not callable(f):
        raise TypeError(f"{name} must be a callable function; got {type(f).__name__} {f!r:.60}")


def _warn_low_precision(dtype: np.dtype, what: str = "x") -> None:
    if dtype.kind == "f" and dtype.itemsize < 8:
        floor = "1e-4" if dtype.itemsize == 4 else "1e-2"
        advice = (
            "x is upcast to float64, but use float64 data throughout"
            if what == "x"
            else "f computes in low precision: make it compute in float64"
        )
        warnings.warn(
            f"{what} has dtype {dtype}: finite differences computed in {dtype} have an error "
            f"floor of about {floor} (float64: about 1e-10). {advice} for a meaningful "
            f"derivative or gradient check.",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )


def _caller_stacklevel() -> int:
    """Stack level of the first frame outside ``helpers``, so warnings point at user code."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("helpers."):
        level += 1
        frame = frame.f_back
    return level


def _as_float64_array(x: object, name: str = "x") -> np.ndarray:
    """Copy ``x`` into a fresh float64 array, rejecting non-numeric and complex input."""
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as err:  # ragged lists and the like
        raise TypeError(f"{name} must be a real number or an array of real numbers: {err}") from err
    if raw.dtype == object or raw.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real-valued; got dtype {raw.dtype} ({type(x).__name__})")
    _warn_low_precision(raw.dtype, name)
    out = np.array(raw, dtype=np.float64, copy=True)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must be finite; got {_show(out)}")
    return out


def _as_scalar_point(x: object, func: str) -> float:
    arr = _as_float64_array(x)
    if arr.ndim != 0:
        raise ValueError(
            f"{func} differentiates a scalar function at a scalar x; got an array of shape "
            f"{arr.shape}. For f: R^n -> R use helpers.gradient(f, x), for a vector-valued F "
            f"helpers.jacobian(F, x)."
        )
    return float(arr)


def _as_vector_point(x: object, func: str) -> np.ndarray:
    arr = _as_float64_array(x)
    if arr.ndim != 1:
        raise ValueError(
            f"{func} needs x as a 1-D array of shape (n,); got shape {arr.shape}. "
            + (
                "For a scalar x use helpers.central_difference (or pass np.array([x]))."
                if arr.ndim == 0
                else "Flatten it first (x.ravel()) and reshape inside f."
            )
        )
    if arr.size == 0:
        raise ValueError(f"{func} needs at least one coordinate; got an empty x")
    return arr


def _check_scheme(scheme: str) -> float:
    try:
        return _STEP_POWER[scheme]
    except (KeyError, TypeError):
        raise ValueError(f"scheme must be one of {sorted(_STEP_POWER)}; got {scheme!r}") from None


def _step(x, h, scheme: str):
    """Return the step(s) to use at ``x``: the default, or the validated user ``h``."""
    if h is None:
        return default_step(x, scheme)
    try:
        raw = np.asarray(h)
    except (TypeError, ValueError):  # ragged lists and the like
        raw = np.asarray(None)
    if isinstance(h, bool) or raw.dtype.kind not in "iuf":
        raise TypeError(f"h must be a positive real number; got {type(h).__name__} {h!r:.60}")
    harr = np.array(raw, dtype=np.float64)
    if not np.all(np.isfinite(harr)) or not np.all(harr > 0):
        raise ValueError(f"h must be positive and finite; got {_show(harr)}")
    if np.ndim(x) == 0:
        if harr.ndim != 0:
            raise ValueError(f"h must be a scalar for a scalar x; got shape {harr.shape}")
        return float(harr)
    if harr.ndim != 0 and harr.shape != np.shape(x):
        raise ValueError(
            f"h must be a scalar or have the shape of x {np.shape(x)}; got shape {harr.shape}"
        )
    return np.broadcast_to(harr, np.shape(x)).copy()


def _show(value, width: int = 80) -> str:
    if np.ndim(value) == 0:
        return repr(float(value))
    text = np.array2string(np.asarray(value), threshold=8, precision=6, separator=", ")
    return text if len(text) <= width else text[: width - 3] + "..."


def _scalar_value(f: Callable, point, where: object) -> float:
    """Call ``f(point)`` and insist on one finite real number.

    ``where`` describes the point for error messages; it is only formatted on error.
    """
    value = f(point)
    # Fast path (np.float64 is a float subclass): a finite Python or NumPy float64.
    if (type(value) is float or type(value) is np.float64) and value - value == 0.0:
        return float(value)  # (value - value == 0.0 is False for inf and nan)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged sequences and the like
        arr = np.asarray(None)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"f must return a real number; at {where} it returned {type(value).__name__} "
            f"{value!r:.60}"
        )
    if arr.ndim != 0:
        raise ValueError(
            f"f must return a scalar, but at {where} it returned an array of shape {arr.shape}. "
            f"Return a single number (e.g. np.sum(...) or .item()); for a vector-valued "
            f"function use helpers.jacobian."
        )
    _warn_low_precision(arr.dtype, "f's return value")
    result = float(arr)
    if not np.isfinite(result):
        raise ValueError(
            f"f returned {result} at {where}; finite differences need finite values of f "
            f"near x (is x near a singularity, or the step too large?)"
        )
    return result


def _finite_result(value, what: str, where: object):
    if not np.isfinite(value).all():
        raise ValueError(
            f"the {what} at {where} is not finite ({_show(value)}): the function values "
            f"overflowed in the difference quotient"
        )
    return value


class _Where:
    """The point of an evaluation, described lazily (formatting x costs more than f often does)."""

    __slots__ = ("coords", "signs", "x")

    def __init__(self, x: np.ndarray, coords: tuple = (), signs: tuple = ()):
        self.x, self.coords, self.signs = x, coords, signs

    def __str__(self) -> str:
        base = f"x = {_show(self.x)}"
        if len(self.coords) == 1:
            return f"{base} with coordinate {self.coords[0]} moved by {self.signs[0]}h"
        if self.coords:
            moves = ", ".join(f"{sign}h" for sign in self.signs)
            return f"{base} with coordinates {self.coords} moved by ({moves})"
        return base


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


def default_step(x, scheme: str = "central"):
    r"""Default finite-difference step at ``x`` for a scheme.

    .. math:: h = \varepsilon^{p} \max(1, |x|), \quad \varepsilon = 2^{-52} \approx 2.2\cdot10^{-16}

    with :math:`p = 1/2` for ``"forward"`` and ``"backward"`` (error O(h)), :math:`p = 1/3`
    for ``"central"`` (error O(h^2)) and :math:`p = 1/4` for ``"second"`` (the 3-point second
    difference, error O(h^2)). Each power balances the truncation error against the rounding
    error :math:`\varepsilon |f| / h^k`; scaling with ``|x|`` keeps the step relative, so that
    ``x + h`` differs from ``x`` in the same number of bits at any magnitude.

    Parameters
    ----------
    x : float or array_like
        Point(s). Arrays give elementwise steps (one per coordinate).
    scheme : {"forward", "backward", "central", "second"}
        Difference scheme the step is for.

    Returns
    -------
    float or ndarray
        The step: about 1.5e-8, 6.1e-6 or 1.2e-4 at ``|x| <= 1``.

    Examples
    --------
    >>> default_step(1.0, "central")  # doctest: +ELLIPSIS
    6.05545445239...e-06
    >>> default_step([0.0, 1e8], "forward")
    array([1.49011612e-08, 1.49011612e+00])
    """
    power = _check_scheme(scheme)
    ax = np.abs(np.asarray(x, dtype=np.float64))
    h = EPS**power * np.maximum(1.0, ax)
    return float(h) if h.ndim == 0 else h


# --------------------------------------------------------------------------------------------
# Scalar derivatives
# --------------------------------------------------------------------------------------------


def forward_difference(f: Callable[[float], float], x, h=None) -> float:
    r"""Forward-difference approximation of :math:`f'(x)`.

    .. math:: f'(x) \approx \frac{f(x + h) - f(x)}{(x + h) - x}

    The denominator is the step actually taken in floating point. Truncation error
    :math:`\tfrac{h}{2} |f''|`: first order, O(h).

    Parameters
    ----------
    f : callable
        Scalar function of a scalar, ``f(x) -> float``.
    x : float
        Point (a Python or NumPy scalar or a 0-d array; arrays are rejected - see
        :func:`gradient`).
    h : float, optional
        Step, positive and finite. Default :math:`\sqrt{\varepsilon}\max(1, |x|)`
        (about 1.5e-8 at ``|x| <= 1``), where the float64 error floor is ~1e-8.

    Returns
    -------
    float
        The derivative estimate (2 evaluations of ``f``).

    Raises
    ------
    TypeError
        If ``f`` is not callable or returns a non-number.
    ValueError
        If ``x`` is an array, ``h`` is not positive and finite, or ``f`` returns a vector or a
        non-finite value.

    See Also
    --------
    backward_difference, central_difference

    Examples
    --------
    >>> import numpy as np
    >>> bool(abs(forward_difference(np.exp, 0.0) - 1.0) < 1e-7)
    True
    """
    _check_callable(f)
    x = _as_scalar_point(x, "forward_difference")
    h = _step(x, h, "forward")
    x_plus = x + h
    step = x_plus - x
    if step == 0.0:
        raise ValueError(f"h = {h!r} is too small to change x = {x!r} in float64")
    f_plus = _scalar_value(f, x_plus, f"x + h = {x_plus!r}")
    f_0 = _scalar_value(f, x, f"x = {x!r}")
    return _finite_result((f_plus - f_0) / step, "forward difference", f"x = {x!r}")


def backward_difference(f: Callable[[float], float], x, h=None) -> float:
    r"""Backward-difference approximation of :math:`f'(x)`.

    .. math:: f'(x) \approx \frac{f(x) - f(x - h)}{x - (x - h)}

    The denominator is the step actually taken in floating point. Truncation error
    :math:`\tfrac{h}{2} |f''|`: first order, O(h).

    Parameters
    ----------
    f : callable
        Scalar function of a scalar, ``f(x) -> float``.
    x : float
        Point (scalar or 0-d array; arrays are rejected - see :func:`gradient`).
    h : float, optional
        Step, positive and finite. Default :math:`\sqrt{\varepsilon}\max(1, |x|)`
        (about 1.5e-8 at ``|x| <= 1``), float64 error floor ~1e-8.

    Returns
    -------
    float
        The derivative estimate (2 evaluations of ``f``).

    Raises
    ------
    TypeError
        If ``f`` is not callable or returns a non-number.
    ValueError
        If ``x`` is an array, ``h`` is not positive and finite, or ``f`` returns a vector or a
        non-finite value.

    See Also
    --------
    forward_difference, central_difference

    Examples
    --------
    >>> import numpy as np
    >>> bool(abs(backward_difference(np.exp, 0.0) - 1.0) < 1e-7)
    True
    """
    _check_callable(f)
    x = _as_scalar_point(x, "backward_difference")
    h = _step(x, h, "backward")
    x_minus = x - h
    step = x - x_minus
    if step == 0.0:
        raise ValueError(f"h = {h!r} is too small to change x = {x!r} in float64")
    f_0 = _scalar_value(f, x, f"x = {x!r}")
    f_minus = _scalar_value(f, x_minus, f"x - h = {x_minus!r}")
    return _finite_result((f_0 - f_minus) / step, "backward difference", f"x = {x!r}")


def central_difference(f: Callable[[float], float], x, h=None) -> float:
    r"""Central-difference approximation of :math:`f'(x)`.

    .. math:: f'(x) \approx \frac{f(x + h) - f(x - h)}{(x + h) - (x - h)}

    The denominator is the distance between the two points actually evaluated, which halves
    the error compared with dividing by ``2h``. Truncation error :math:`\tfrac{h^2}{6}|f'''|`:
    second order, O(h^2).

    Parameters
    ----------
    f : callable
        Scalar function of a scalar, ``f(x) -> float``.
    x : float
        Point (scalar or 0-d array; arrays are rejected - see :func:`gradient`).
    h : float, optional
        Step, positive and finite. Default :math:`\varepsilon^{1/3}\max(1, |x|)`
        (about 6.1e-6 at ``|x| <= 1``), where the float64 error floor is ~1e-10.

    Returns
    -------
    float
        The derivative estimate (2 evaluations of ``f``).

    Raises
    ------
    TypeError
        If ``f`` is not callable or returns a non-number.
    ValueError
        If ``x`` is an array, ``h`` is not positive and finite, or ``f`` returns a vector or a
        non-finite value.

    See Also
    --------
    forward_difference, second_derivative, gradient

    Examples
    --------
    >>> import numpy as np
    >>> bool(abs(central_difference(np.sin, 0.5) - np.cos(0.5)) < 1e-10)
    True
    """
    _check_callable(f)
    x = _as_scalar_point(x, "central_difference")
    h = _step(x, h, "central")
    x_plus, x_minus = x + h, x - h
    step = x_plus - x_minus
    if step == 0.0:
        raise ValueError(f"h = {h!r} is too small to change x = {x!r} in float64")
    f_plus = _scalar_value(f, x_plus, f"x + h = {x_plus!r}")
    f_minus = _scalar_value(f, x_minus, f"x - h = {x_minus!r}")
    return _finite_result((f_plus - f_minus) / step, "central difference", f"x = {x!r}")


def second_derivative(f: Callable[[float], float], x, h=None) -> float:
    r"""Three-point central approximation of :math:`f''(x)`.

    .. math:: f''(x) \approx \frac{f(x + h) - 2 f(x) + f(x - h)}{h^2}

    evaluated with the steps actually taken, :math:`h_+ = (x + h) - x` and
    :math:`h_- = x - (x - h)`, as
    :math:`2\,[h_- f(x+h) - (h_+ + h_-) f(x) + h_+ f(x-h)] / [h_+ h_- (h_+ + h_-)]`, which is
    the formula above when :math:`h_+ = h_-` and stays exact for quadratics when rounding makes
    them differ. Truncation error :math:`\tfrac{h^2}{12}|f^{(4)}|`: second order, O(h^2).

    Parameters
    ----------
    f : callable
        Scalar function of a scalar, ``f(x) -> float``.
    x : float
        Point (scalar or 0-d array; arrays are rejected - see :func:`hessian`).
    h : float, optional
        Step, positive and finite. Default :math:`\varepsilon^{1/4}\max(1, |x|)`
        (about 1.2e-4 at ``|x| <= 1``), where the float64 error floor is ~1e-8.

    Returns
    -------
    float
        The second-derivative estimate (3 evaluations of ``f``).

    Raises
    ------
    TypeError
        If ``f`` is not callable or returns a non-number.
    ValueError
        If ``x`` is an array, ``h`` is not positive and finite, or ``f`` returns a vector or a
        non-finite value.

    See Also
    --------
    central_difference, hessian

    Examples
    --------
    >>> import numpy as np
    >>> bool(abs(second_derivative(np.exp, 1.0) - np.e) / np.e < 1e-7)
    True
    """
    _check_callable(f)
    x = _as_scalar_point(x, "second_derivative")
    h = _step(x, h, "second")
    x_plus, x_minus = x + h, x - h
    h_plus, h_minus = x_plus - x, x - x_minus
    if h_plus == 0.0 or h_minus == 0.0:
        raise ValueError(f"h = {h!r} is too small to change x = {x!r} in float64")
    f_plus = _scalar_value(f, x_plus, f"x + h = {x_plus!r}")
    f_0 = _scalar_value(f, x, f"x = {x!r}")
    f_minus = _scalar_value(f, x_minus, f"x - h = {x_minus!r}")
    value = (
        2.0
        * (h_minus * f_plus - (h_plus + h_minus) * f_0 + h_plus * f_minus)
        / (h_plus * h_minus * (h_plus + h_minus))
    )
    return _finite_result(value, "second difference", f"x = {x!r}")


# --------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------


def _chunk_rows(n: int, itemsize: int = 8) -> int:
    """Rows of ``n`` entries of ``itemsize`` bytes per call of f: as many as fit in
    ``_CHUNK_BYTES``, and at least one."""
    return max(1, _CHUNK_BYTES // (n * itemsize))


def _batched_values(f: Callable, x: np.ndarray, coords: np.ndarray, values: np.ndarray):
    """Evaluate ``f`` on copies of ``x`` with ``x[coords[r]] = values[r]`` (row r).

    ``coords[r] < 0`` means row r is ``x`` itself. Rows are sent in chunks of at most
    ``_chunk_rows(n, x.itemsize)`` rows so that memory stays bounded whatever n is.
    """
    n = x.size
    total = coords.size
    chunk = _chunk_rows(n, x.itemsize)
    out = np.empty(total)
    rows = np.arange(min(chunk, total))
    for start in range(0, total, chunk):
        c = coords[start : start + chunk]
        v = values[start : start + chunk]
        k = c.size
        # A fresh batch per chunk: f may keep or modify what it is given.
        batch = np.repeat(x[np.newaxis, :], k, axis=0)
        if c[0] >= 0 and c.min() >= 0:
            batch[rows[:k], c] = v
        else:
            moved = c >= 0
            batch[rows[:k][moved], c[moved]] = v[moved]
        result = f(batch)
        try:
            arr = np.asarray(result, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"with batched=True, f must return a real array of shape (k,); it returned "
                f"{type(result).__name__}: {err}"
            ) from err
        if arr.shape != (k,):
            hint = (
                " - it returned a single number, so it is probably not vectorised over rows"
                if arr.ndim == 0
                else ""
            )
            raise ValueError(
                f"with batched=True, f must map a (k, n) array to shape (k,) (one value per "
                f"row); for input shape {batch.shape} it returned shape {arr.shape}{hint}. "
                f"Reduce over axis=-1, or call gradient with batched=False."
            )
        _warn_low_precision(np.asarray(result).dtype, "f's return value")
        if not np.isfinite(arr).all():
            r = int(np.flatnonzero(~np.isfinite(arr))[0])
            where = (
                f"x = {_show(x)}"
                if c[r] < 0
                else f"x = {_show(x)} with coordinate {int(c[r])} set to {float(v[r])!r}"
            )
            raise ValueError(
                f"f returned {arr[r]} at {where}; finite differences need finite values of f near x"
            )
        out[start : start + k] = arr
    return out


def gradient(
    f: Callable[[np.ndarray], float],
    x,
    h=None,
    method: str = "central",
    batched: bool = False,
) -> np.ndarray:
    r"""Finite-difference gradient of a scalar function :math:`f: \mathbb{R}^n \to \mathbb{R}`.

    Coordinate by coordinate, with :math:`e_i` the i-th unit vector,

    .. math::

        \partial_i f(x) \approx \frac{f(x + h_i e_i) - f(x - h_i e_i)}{(x_i + h_i) - (x_i - h_i)}
        \quad \text{(central, error O(h^2), 2n evaluations)}

        \partial_i f(x) \approx \frac{f(x + h_i e_i) - f(x)}{(x_i + h_i) - x_i}
        \quad \text{(forward, error O(h), n + 1 evaluations)}

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (n,). With ``batched=True``: ``f(X) -> (k,)`` for
        ``X`` of shape (k, n), one value per row.
    x : array_like, shape (n,)
        Point; copied to float64 (integers are fine), never modified.
    h : float or array_like of shape (n,), optional
        Step(s), positive and finite. Default per coordinate
        :math:`h_i = \varepsilon^{1/3}\max(1, |x_i|)` for central (float64 floor ~1e-10 relative)
        and :math:`\sqrt{\varepsilon}\max(1, |x_i|)` for forward (floor ~1e-8).
    method : {"central", "forward"}
        Difference scheme.
    batched : bool
        Evaluate the perturbed points as stacked rows, a few calls of ``f`` instead of 2n:
        each call gets as many rows as fit in 128 KiB, ``max(1, 2**17 // (8 * n))`` rows
        (one call for all 2n points up to n = 90; 2 calls at n = 100, 125 calls of 16 rows
        at n = 1000; one row per call above n = 8192), so memory stays bounded whatever n
        is: 128 KiB per call, or one row when a row is larger. Results agree with
        ``batched=False`` to rounding. The chunks themselves change no bit when f computes
        each row on its own (elementwise work, reductions along the row); a matrix product
        may be rounded differently by BLAS for a different number of rows (at n = 1000 a
        least-squares gradient moved by 3e-11, below the ~1e-10 error of the central
        difference itself). See Notes for why 128 KiB.

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    TypeError
        If ``f`` is not callable or returns a non-number.
    ValueError
        If ``x`` is not 1-D, ``h`` is not positive and finite, ``method`` is unknown, ``f``
        returns a vector where a scalar is needed (or not shape (k,) when batched), or a value
        is not finite.

    Notes
    -----
    Why 128 KiB per call (measured by ``python -m benchmarks``, one thread, a loaded 2-core
    machine): glibc serves allocations up to its default mmap threshold, 128 KiB, from
    memory the process keeps; above it, the batch and each temporary ``f`` makes from it
    can come from fresh pages, and the page faults cost more than ``f``. For a log-sum-exp
    at n = 1000 the batched gradient is 3.0-3.9x faster than the textbook loop in 16-row
    (128 KiB) chunks with no page faults, but 0.8-1.3x in 32-131-row chunks (256 KiB -
    1 MiB, the previous rule), with 5900-7200 page faults per gradient. Cheap functions
    gain little from larger chunks (0.5 ||x||^2 at n = 1000: 3.7-4.4x at 128 KiB, 4.0-5.5x
    at 256-512 KiB), and smaller chunks pay the cost of a call per few rows (1.4-2.0x at
    32 KiB). At n = 100 the cap means 2 calls instead of one: 0.5 ||x||^2 runs 10.9x faster
    than the loop in 128 KiB chunks, 4.0x in one 156 KiB call. Above n = 8192 each call
    gets one row (above n = 16384 that row alone exceeds the cap) and the batched gradient
    is slower than the loop for a cheap f (0.6-0.7x at n = 10000).

    See Also
    --------
    jacobian, hessian, helpers.gradient_check

    Examples
    --------
    >>> import numpy as np
    >>> g = gradient(lambda w: np.sum(w**2), np.array([1.0, -2.0]))
    >>> np.allclose(g, [2.0, -4.0])
    True
    >>> G = gradient(lambda W: np.sum(W**2, axis=1), [1, -2], batched=True)
    >>> np.allclose(G, [2.0, -4.0])
    True
    """
    _check_callable(f)
    if method not in ("central", "forward"):
        raise ValueError(f'method must be "central" or "forward"; got {method!r}')
    if not isinstance(batched, (bool, np.bool_)):
        raise TypeError(f"batched must be True or False; got {batched!r}")
    x = _as_vector_point(x, "gradient")
    n = x.size
    steps = _step(x, h, method)
    x_plus = x + steps
    if method == "central":
        x_minus = x - steps
        denominators = x_plus - x_minus
    else:
        denominators = x_plus - x
    if (denominators == 0.0).any():
        i = int(np.flatnonzero(denominators == 0.0)[0])
        raise ValueError(f"h[{i}] = {steps[i]!r} is too small to change x[{i}] = {x[i]!r}")

    if batched:
        index = np.arange(n)
        if method == "central":
            coords = np.concatenate([index, index])
            values = np.concatenate([x_plus, x_minus])
            fx = _batched_values(f, x, coords, values)
            numerators = fx[:n] - fx[n:]
        else:
            coords = np.concatenate([[-1], index])
            values = np.concatenate([[0.0], x_plus])
            fx = _batched_values(f, x, coords, values)
            numerators = fx[1:] - fx[0]
    else:
        numerators = np.empty(n)
        point = x.copy()  # the one array handed to f; x itself stays pristine
        if method == "forward":
            f_0 = _scalar_value(f, point.copy(), _Where(x))
        for i in range(n):
            point[i] = x_plus[i]
            f_plus = _scalar_value(f, point.copy(), _Where(x, (i,), "+"))
            if method == "central":
                point[i] = x_minus[i]
                f_minus = _scalar_value(f, point.copy(), _Where(x, (i,), "-"))
                numerators[i] = f_plus - f_minus
            else:
                numerators[i] = f_plus - f_0
            point[i] = x[i]
    grad = numerators / denominators
    return _finite_result(grad, "gradient", _Where(x))


def jacobian(F: Callable[[np.ndarray], np.ndarray], x, h=None) -> np.ndarray:
    r"""Central-difference Jacobian of :math:`F: \mathbb{R}^n \to \mathbb{R}^m`.

    Column by column,

    .. math::

        J_{:, j} \approx \frac{F(x + h_j e_j) - F(x - h_j e_j)}{(x_j + h_j) - (x_j - h_j)},

    second order, O(h^2). Exactly 2n evaluations of ``F`` whatever m is: every evaluation
    yields a whole column's worth of information.

    Parameters
    ----------
    F : callable
        ``F(x) -> array of shape (m,)`` for ``x`` of shape (n,) (a scalar is taken as m = 1).
    x : array_like, shape (n,)
        Point; copied to float64, never modified.
    h : float or array_like of shape (n,), optional
        Step(s), positive and finite. Default :math:`h_j = \varepsilon^{1/3}\max(1, |x_j|)`,
        float64 floor ~1e-10 relative.

    Returns
    -------
    ndarray of float64, shape (m, n)

    Raises
    ------
    TypeError
        If ``F`` is not callable or returns non-numbers.
    ValueError
        If ``x`` is not 1-D, ``h`` is invalid, ``F`` returns more than one dimension or a
        changing shape, or a value is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> J = jacobian(lambda v: np.array([v[0] * v[1], np.sin(v[0])]), [1.0, 2.0])
    >>> np.allclose(J, [[2.0, 1.0], [np.cos(1.0), 0.0]])
    True
    """
    _check_callable(F, "F")
    x = _as_vector_point(x, "jacobian")
    n = x.size
    steps = _step(x, h, "central")
    x_plus, x_minus = x + steps, x - steps
    denominators = x_plus - x_minus
    if np.any(denominators == 0.0):
        i = int(np.flatnonzero(denominators == 0.0)[0])
        raise ValueError(f"h[{i}] = {steps[i]!r} is too small to change x[{i}] = {x[i]!r}")

    m = None

    def evaluate(point: np.ndarray, where: _Where) -> np.ndarray:
        nonlocal m
        value = F(point)
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"F must return a real vector; at {where} it returned {type(value).__name__}: {err}"
            ) from err
        if arr.ndim > 1:
            raise ValueError(
                f"F must return a 1-D vector of shape (m,); at {where} it returned shape "
                f"{arr.shape} (flatten it)"
            )
        arr = arr.reshape(-1)
        if m is None:
            m = arr.size
        elif arr.size != m:
            raise ValueError(
                f"F returned {arr.size} values at {where} but {m} at an earlier point: the "
                f"output size must not depend on x"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"F returned non-finite values {_show(arr)} at {where}")
        return arr

    columns = []
    point = x.copy()
    for j in range(n):
        point[j] = x_plus[j]
        F_plus = evaluate(point.copy(), _Where(x, (j,), "+"))
        point[j] = x_minus[j]
        F_minus = evaluate(point.copy(), _Where(x, (j,), "-"))
        point[j] = x[j]
        columns.append((F_plus - F_minus) / denominators[j])
    J = np.stack(columns, axis=1)
    return _finite_result(J, "Jacobian", _Where(x))


def hessian(f: Callable[[np.ndarray], float], x, h=None) -> np.ndarray:
    r"""Finite-difference Hessian of :math:`f: \mathbb{R}^n \to \mathbb{R}`, exactly symmetric.

    Diagonal, 3-point (sharing :math:`f(x)` across all i):

    .. math:: H_{ii} \approx \frac{f(x + h_i e_i) - 2 f(x) + f(x - h_i e_i)}{h_i^2}

    Off-diagonal, the symmetric 4-point stencil, computed once for i < j and mirrored:

    .. math::

        H_{ij} \approx \frac{f(x^{++}) - f(x^{+-}) - f(x^{-+}) + f(x^{--})}
        {[(x_i + h_i) - (x_i - h_i)]\,[(x_j + h_j) - (x_j - h_j)]},
        \qquad x^{\pm\pm} = x \pm h_i e_i \pm h_j e_j

    Both are second order, O(h^2), and exact for quadratics. Evaluations: 2n^2 + 1
    (1 + 2n for the diagonal, 4 per pair i < j).

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (n,).
    x : array_like, shape (n,)
        Point; copied to float64, never modified.
    h : float or array_like of shape (n,), optional
        Step(s), positive and finite. Default :math:`h_i = \varepsilon^{1/4}\max(1, |x_i|)`
        (about 1.2e-4), float64 floor ~1e-8 relative.

    Returns
    -------
    ndarray of float64, shape (n, n), symmetric

    Raises
    ------
    TypeError
        If ``f`` is not callable or returns a non-number.
    ValueError
        If ``x`` is not 1-D, ``h`` is invalid, ``f`` returns a vector or a non-finite value.

    Examples
    --------
    >>> import numpy as np
    >>> H = hessian(lambda v: v[0] ** 2 * v[1] + 3 * v[1] ** 2, [1.0, 2.0])
    >>> np.allclose(H, [[4.0, 2.0], [2.0, 6.0]])
    True
    """
    _check_callable(f)
    x = _as_vector_point(x, "hessian")
    n = x.size
    steps = _step(x, h, "second")
    x_plus, x_minus = x + steps, x - steps
    h_plus, h_minus = x_plus - x, x - x_minus
    if np.any(h_plus == 0.0) or np.any(h_minus == 0.0):
        i = int(np.flatnonzero((h_plus == 0.0) | (h_minus == 0.0))[0])
        raise ValueError(f"h[{i}] = {steps[i]!r} is too small to change x[{i}] = {x[i]!r}")
    widths = x_plus - x_minus

    def at(coords: tuple, signs: str) -> float:
        point = x.copy()
        for i, sign in zip(coords, signs):
            point[i] = x_plus[i] if sign == "+" else x_minus[i]
        return _scalar_value(f, point, _Where(x, coords, tuple(signs)))

    H = np.empty((n, n))
    f_0 = at((), "")
    for i in range(n):
        f_plus = at((i,), "+")
        f_minus = at((i,), "-")
        # The non-uniform 3-point formula on the points actually evaluated (see
        # second_derivative); identical to (f+ - 2 f0 + f-) / h^2 when h+ == h-.
        hp, hm = h_plus[i], h_minus[i]
        H[i, i] = 2.0 * (hm * f_plus - (hp + hm) * f_0 + hp * f_minus) / (hp * hm * (hp + hm))
    for i in range(n):
        for j in range(i + 1, n):
            f_pp = at((i, j), "++")
            f_pm = at((i, j), "+-")
            f_mp = at((i, j), "-+")
            f_mm = at((i, j), "--")
            H[i, j] = H[j, i] = ((f_pp - f_pm) - (f_mp - f_mm)) / (widths[i] * widths[j])
    return _finite_result(H, "Hessian", _Where(x))
