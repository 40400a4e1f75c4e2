"""Checks for Lesson 01, derivatives and numerical differentiation.

Each ``check_*`` function is the visible test of one exercise (registered for
:func:`helpers.progress`); each ``expect_*`` function compares a student's answer on one given
input with the textbook formula and names the likely mistake. Hidden tests call the
``expect_*`` functions with inputs of their own.

The expected values are the textbook formulas computed here, never the student's code. The
inputs use large steps (h = 0.1 or 0.25) on curved functions so that every neighbouring
formula - forward for central, dividing by h instead of 2h, a step of 2h - differs from the
asked-for one by far more than the tolerance, while two right ways of writing a formula differ
only by rounding (rtol 1e-8 is five orders of magnitude above that).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import (
    CheckFailure,
    _not_written,
    call,
    check,
    describe_call,
    exercise,
    quiet,
    quiz_exercise,
    require_returned,
)
from ..gradcheck import PASS_BELOW
from .evidence import LOW_DTYPES, distinct, dtype_of, require_array
from .symbolic import check_expression, symbol_x
from .textbook import differences as _differences

LESSON = "01_derivatives"
RTOL = 1e-8

_array = np.array
_float64 = np.float64
_sqrt = math.sqrt


def _scalar(name: str, got: Any, shown: str) -> Any:
    """``got`` unchanged when it is one number; a CheckFailure naming the problem otherwise."""
    if got is None or isinstance(got, (bool, np.bool_)):
        return got  # check() explains None; a bool is caught as "not a number" below
    if isinstance(got, (str, bytes)):
        raise CheckFailure(
            f"{name} must return a number, not a string.",
            [
                f"call : {shown}",
                f"got  : {got!r:.60}",
                "return the value itself (a float), not str(...) of it or a formatted text",
            ],
        )
    try:
        arr = _array(got, dtype=_float64)
    except (TypeError, ValueError):
        return got
    if arr.size != 1:
        raise CheckFailure(
            f"{name} must return one number.",
            [
                f"call : {shown}",
                f"got  : an array of shape {arr.shape}",
                "x is a single number here: return the difference quotient, not a list of them",
            ],
        )
    return float(arr.ravel()[0])


# --------------------------------------------------------------------------- forward_difference


def _one_sided(f: Callable, x: float, h: float) -> dict[str, float]:
    fx, fp, fm = f(x), f(x + h), f(x - h)
    return {
        "central": (fp - fm) / (2 * h),
        "forward": (fp - fx) / h,
        "backward": (fx - fm) / h,
    }


def expect_forward_difference(
    forward_difference: Callable, f: Callable, x: float, h: float
) -> None:
    """Require ``forward_difference(f, x, h) == (f(x + h) - f(x)) / h``."""
    shown = describe_call("forward_difference", f, x, h)
    got = _scalar(
        "forward_difference", call(forward_difference, f, x, h, name="forward_difference"), shown
    )
    v = _one_sided(f, x, h)
    expected = v["forward"]
    mistakes = {
        "this looks like a central difference: the forward difference uses f(x + h) and f(x)": (
            v["central"]
        ),
        "this looks like a backward difference, (f(x) - f(x - h)) / h: step forward, to x + h": v[
            "backward"
        ],
        "divided by 2h: the two points x and x + h are h apart": expected / 2,
        "forgot to divide by h": expected * h,
        "the sign is flipped: compute f(x + h) - f(x), in that order": -expected,
    }
    check(
        "forward_difference",
        got,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=mistakes,
        hint="step forward from x by the h you are given, and divide the change in f by that step",
    )


@exercise(LESSON, "Exercise 01.1 · Forward difference", "forward_difference")
def check_forward_difference(forward_difference: Callable) -> None:
    """Visible test of ``forward_difference(f, x, h)``."""
    expect_forward_difference(forward_difference, np.sin, 0.7, 0.1)
    expect_forward_difference(forward_difference, lambda x: x**3 - 2 * x, 1.5, 0.25)
    expect_forward_difference(forward_difference, np.exp, -1.0, 1e-3)


# --------------------------------------------------------------------------- cube_slope


def expect_cube_slope(cube_slope: Callable, h: float) -> None:
    """Require ``cube_slope(h)``: the forward-difference slope of x**3 at x = 2 with step h."""
    shown = describe_call("cube_slope", h)
    got = _scalar("cube_slope", call(cube_slope, h, name="cube_slope"), shown)
    expected = ((2 + h) ** 3 - 2**3) / h
    mistakes = {
        "this is the exact derivative 3 * 2**2 = 12: the exercise asks for the forward-difference "
        "estimate with step h, which is not exact": 12.0,
        "this looks like a central difference: use (f(2 + h) - f(2)) / h": (
            (2 + h) ** 3 - (2 - h) ** 3
        )
        / (2 * h),
        "divided by 2h: the forward difference divides by h": expected / 2,
        "this is the slope of x**2, not x**3": ((2 + h) ** 2 - 4) / h,
    }
    check(
        "cube_slope",
        got,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=mistakes,
        hint="apply the forward difference to f(x) = x**3 at the point x = 2",
    )


@exercise(LESSON, "Exercise 01.3 · A numerical derivative by hand", "cube_slope")
def check_cube_slope(cube_slope: Callable) -> None:
    """Visible test of ``cube_slope(h)``."""
    expect_cube_slope(cube_slope, 0.5)
    expect_cube_slope(cube_slope, 0.1)


# --------------------------------------------------------------------------- x**2 + 3x + 5


def _estimate_hint(quadratic_derivative: Callable, x: float, gap: float) -> str:
    """Why a value ``gap`` away from 2x + 3 looks like a finite difference, named by its cause.

    For f(x) = x**2 + 3x + 5 (second derivative 2, third 0) a one-sided difference with step
    h is off by exactly +h or -h at every x (truncation, h f''/2), a central one only by
    rounding, which grows with f(x). So the function is asked once more, at x = 1: the same
    offset there is a one-sided step; another offset is rounding.
    """
    probe = _scalar(
        "quadratic_derivative", call(quadratic_derivative, 1.0), "quadratic_derivative(1.0)"
    )
    try:
        gap_at_1 = float(probe) - 5.0
    except (TypeError, ValueError):
        gap_at_1 = None
    if gap_at_1 is not None and abs(gap_at_1 - gap) <= 1e-3 * abs(gap):
        side = "forward" if gap > 0 else "backward"
        return (
            f"your value is f'(x) {'+' if gap > 0 else '-'} {abs(gap):.1e}, and off by the same "
            f"at x = 1: a {side} difference with h = {abs(gap):.1e} is off by exactly h at every x "
            "(truncation error h f''/2, and f'' = 2) - use the formula from the rules"
        )
    fx = x * x + 3 * x + 5
    return (
        f"your value is off by {abs(gap):.1e}, and by another amount at x = 1: rounding of an "
        f"estimate - f(x) is about {fx:.1e} here, and a difference of two such values keeps few "
        "digits. The formula from the rules is exact to rounding at any x"
    )


def expect_quadratic_derivative(quadratic_derivative: Callable, x: float) -> None:
    """Require ``quadratic_derivative(x) == 2x + 3``, the derivative of x**2 + 3x + 5."""
    shown = describe_call("quadratic_derivative", x)
    got = _scalar(
        "quadratic_derivative", call(quadratic_derivative, x, name="quadratic_derivative"), shown
    )
    got = require_returned("quadratic_derivative", got, shown)
    mistakes = {
        "this is f(x) = x**2 + 3x + 5 itself, not its derivative": x**2 + 3 * x + 5,
        "the constant 5 does not survive differentiation: its derivative is 0": 2 * x + 8,
        "the derivative of 3x is 3, not 0": 2 * x,
        "the power rule brings the exponent down: d/dx x**2 = 2x, not x": x + 3,
        "the derivative of 3x is 3, not 3x": 5 * x,
    }
    hint = "differentiate term by term: the power rule for x**2, then 3x, then the constant"
    exact = 2 * x + 3
    try:
        gap = float(got) - exact
    except (TypeError, ValueError):
        gap = None
    if gap is not None and gap != 0 and abs(gap) < 1e-2 * abs(exact):
        hint = _estimate_hint(quadratic_derivative, x, gap)
    check(
        "quadratic_derivative",
        got,
        2 * x + 3,
        call=shown,
        rtol=RTOL,
        mistakes=mistakes,
        hint=hint,
    )


@exercise(LESSON, "Exercise 01.4 · x² + 3x + 5 by hand", "quadratic_derivative")
def check_quadratic_derivative(quadratic_derivative: Callable) -> None:
    """Visible test of ``quadratic_derivative(x)``."""
    expect_quadratic_derivative(quadratic_derivative, 2.0)
    expect_quadratic_derivative(quadratic_derivative, -0.75)
    # The formula is exact at any x; a finite difference loses digits to round-off here.
    expect_quadratic_derivative(quadratic_derivative, 2.5e6)


def expect_quadratic_derivative_sympy(quadratic_derivative_sympy: Any) -> None:
    """Require a SymPy expression equivalent to 2x + 3."""
    x = symbol_x()
    check_expression(
        "quadratic_derivative_sympy",
        quadratic_derivative_sympy,
        2 * x + 3,
        [x],
        mistakes={
            "this is x**2 + 3x + 5 itself: pass it to sympy.diff with the symbol x": x**2
            + 3 * x
            + 5,
            "the constant 5 has derivative 0": 2 * x + 8,
            "the derivative of 3x is 3": 2 * x,
        },
    )


@exercise(LESSON, "Exercise 01.4 · x² + 3x + 5 with SymPy", "quadratic_derivative_sympy")
def check_quadratic_derivative_sympy(quadratic_derivative_sympy: Any) -> None:
    """Visible test of ``quadratic_derivative_sympy`` (an expression, compared by equivalence)."""
    expect_quadratic_derivative_sympy(quadratic_derivative_sympy)


# --------------------------------------------------------------------------- central_difference


def expect_central_difference(
    central_difference: Callable, f: Callable, x: float, h: float
) -> None:
    """Require ``central_difference(f, x, h) == (f(x + h) - f(x - h)) / (2 h)``."""
    shown = describe_call("central_difference", f, x, h)
    got = _scalar(
        "central_difference", call(central_difference, f, x, h, name="central_difference"), shown
    )
    v = _one_sided(f, x, h)
    expected = v["central"]
    mistakes = {
        "this looks like a forward difference: use f(x + h) and f(x - h)": v["forward"],
        "this looks like a backward difference: use f(x + h) and f(x - h)": v["backward"],
        "divided by h instead of 2h: x - h and x + h are 2h apart": 2 * expected,
        "forgot the parentheses around 2 * h: a / 2 * h is (a / 2) * h": (f(x + h) - f(x - h))
        / 2
        * h,
        "used a step of 2h on each side: evaluate f at x + h and x - h": (
            f(x + 2 * h) - f(x - 2 * h)
        )
        / (4 * h),
        "the sign is flipped: compute f(x + h) - f(x - h), in that order": -expected,
    }
    check(
        "central_difference",
        got,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=mistakes,
        hint="look both ways: one step h to each side of x, so the two points are 2h apart",
    )


@exercise(LESSON, "Exercise 01.5 · Central difference", "central_difference")
def check_central_difference(central_difference: Callable) -> None:
    """Visible test of ``central_difference(f, x, h)``."""
    expect_central_difference(central_difference, np.sin, 0.7, 0.1)
    expect_central_difference(central_difference, lambda x: x**3 - 2 * x, 1.5, 0.25)
    expect_central_difference(central_difference, np.exp, -1.0, 1e-3)


# --------------------------------------------------------------------------- difference_errors


def _pair(name: str, got: Any, shown: str) -> np.ndarray:
    """``got`` as two floats, or a CheckFailure saying what was returned instead."""
    require_returned(name, got, shown, "return the tuple (forward_error, central_error)")
    try:
        pair = _array(got, dtype=_float64)
    except (TypeError, ValueError):
        pair = None
    if pair is None or pair.shape != (2,):
        raise CheckFailure(
            f"{name} must return two numbers, (forward_error, central_error).",
            [f"call : {shown}", f"got  : {got!r:.80}"],
        )
    return pair


def expect_difference_errors(
    difference_errors: Callable, f: Callable, df: Callable, x: float, h: float
) -> None:
    """Require ``difference_errors(f, df, x, h)`` = (|forward - df(x)|, |central - df(x)|)."""
    shown = describe_call("difference_errors", f, df, x, h)
    df_calls: list[Any] = []

    def exact_derivative(t):
        df_calls.append(t)
        return df(t)

    exact_derivative.__name__ = getattr(df, "__name__", "df")
    got = _pair(
        "difference_errors",
        call(difference_errors, f, exact_derivative, x, h, name="difference_errors"),
        shown,
    )
    if not df_calls:
        raise CheckFailure(
            "difference_errors never called df.",
            [
                f"call : {shown}",
                "the errors are measured against the exact derivative you are given: "
                "f'(x) = df(x), not an estimate of it",
            ],
        )
    v, exact = _one_sided(f, x, h), df(x)
    fwd, cen = abs(v["forward"] - exact), abs(v["central"] - exact)
    mistakes = {
        "the order is (forward_error, central_error)": [cen, fwd],
        "these are the estimates themselves: subtract df(x) and take the absolute value": [
            v["forward"],
            v["central"],
        ],
        "these are relative errors: the exercise asks for absolute errors |estimate - df(x)|": [
            fwd / abs(exact),
            cen / abs(exact),
        ],
        "the central difference divides by 2h": [fwd, abs(2 * v["central"] - exact)],
        "an error is never negative: take the absolute value": [
            v["forward"] - exact,
            v["central"] - exact,
        ],
    }
    check(
        "difference_errors",
        got,
        _array([fwd, cen]),
        call=shown,
        rtol=1e-7,
        mistakes=mistakes,
        hint="estimate f'(x) both ways with the step h, then compare each estimate with df(x)",
    )


@exercise(LESSON, "Exercise 01.6 · Forward against central", "difference_errors")
def check_difference_errors(difference_errors: Callable) -> None:
    """Visible test of ``difference_errors(f, df, x, h)``."""
    expect_difference_errors(difference_errors, np.sin, np.cos, 1.0, 0.1)
    expect_difference_errors(difference_errors, np.exp, np.exp, -0.5, 0.25)


# --------------------------------------------------------------------------- second_derivative


def expect_second_derivative(second_derivative: Callable, f: Callable, x: float, h: float) -> None:
    """Require ``second_derivative(f, x, h) == (f(x + h) - 2 f(x) + f(x - h)) / h**2``."""
    shown = describe_call("second_derivative", f, x, h)
    got = _scalar(
        "second_derivative", call(second_derivative, f, x, h, name="second_derivative"), shown
    )
    fp, f0, fm = f(x + h), f(x), f(x - h)
    expected = (fp - 2 * f0 + fm) / h**2
    mistakes = {
        "divided by h instead of h**2": expected * h,
        "divided by 2 * h**2: the stencil divides by h**2": expected / 2,
        "forgot the factor 2 on f(x): the stencil is f(x + h) - 2 f(x) + f(x - h)": (fp - f0 + fm)
        / h**2,
        "this is a central first derivative, not the second derivative": (fp - fm) / (2 * h),
        "used the one-sided stencil f(x + 2h) - 2 f(x + h) + f(x): centre it on x": (
            f(x + 2 * h) - 2 * fp + f0
        )
        / h**2,
        "used steps of 2h (the central difference applied twice): evaluate at x - h, x, x + h": (
            f(x + 2 * h) - 2 * f0 + f(x - 2 * h)
        )
        / (4 * h**2),
        "wrote h * 2 for h**2 (or h ^ 2, which is not a power in Python)": (fp - 2 * f0 + fm)
        / (2 * h),
        "the sign is flipped: the stencil is f(x + h) - 2 f(x) + f(x - h), over h**2": -expected,
    }
    check(
        "second_derivative",
        got,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=mistakes,
        hint="the three-point stencil weighs f(x - h), f(x), f(x + h) as 1, -2, 1 over h squared",
    )


@exercise(LESSON, "Exercise 01.7 · Second derivative", "second_derivative")
def check_second_derivative(second_derivative: Callable) -> None:
    """Visible test of ``second_derivative(f, x, h)``."""
    expect_second_derivative(second_derivative, np.sin, 0.7, 0.1)
    expect_second_derivative(second_derivative, lambda x: x**4, 1.5, 0.25)


# --------------------------------------------------------------------------- make_derivative


def expect_make_derivative(
    make_derivative: Callable, f: Callable, x: float, h: float | None = None
) -> None:
    """Require ``make_derivative(f[, h])`` to return a function x -> central difference of f at x.

    ``h=None`` calls ``make_derivative(f)`` so that its default step 1e-5 is used.
    """
    args = (f,) if h is None else (f, h)
    step = 1e-5 if h is None else h
    made = describe_call("make_derivative", *args)
    df = call(make_derivative, *args, name="make_derivative")
    require_returned(
        "make_derivative", df, made, "return the inner function (return df), do not call it"
    )
    if not callable(df):
        raise CheckFailure(
            "make_derivative must return a function, not a value.",
            [
                f"call : {made}",
                f"got  : {type(df).__name__} {df!r:.60}",
                "define df(x) inside make_derivative and return df itself",
            ],
        )
    shown = f"{made}({x!r})"
    got = _scalar("the returned function", call(df, x, name=f"{made}"), shown)
    v = _one_sided(f, x, step)
    expected = v["central"]
    mistakes = {
        "this looks like a forward difference: use f(x + h) and f(x - h)": v["forward"],
        "divided by h instead of 2h": 2 * expected,
    }
    if h is None:
        for other in (1e-4, 1e-3, 1e-2):
            mistakes[
                f"this is the central difference with h = {other:g}: the default step is "
                "h=1e-5, as in the signature"
            ] = _one_sided(f, x, other)["central"]
    else:
        mistakes["ignored the step h you were given"] = (f(x + 1e-5) - f(x - 1e-5)) / 2e-5
    check(
        "make_derivative(...)(x)",
        got,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=distinct(mistakes, expected, RTOL, got),
        hint="the inner df(x) is a central difference using the f and h given to make_derivative"
        + ("" if h is not None else "; called as make_derivative(f), h is the default 1e-5"),
    )


@exercise(LESSON, "Exercise 01.8 · A derivative you can call", "make_derivative")
def check_make_derivative(make_derivative: Callable) -> None:
    """Visible test of ``make_derivative(f, h=1e-5)``."""
    expect_make_derivative(make_derivative, lambda x: x**2, 3.0)
    expect_make_derivative(make_derivative, np.sin, 0.7, 0.1)
    # A function that bends fast: only the default step h = 1e-5 gives this value to 1e-8.
    expect_make_derivative(make_derivative, sin_20x, 0.02)


def sin_20x(x):
    """sin(20 x): its third derivative is 400 times its first, so the step shows."""
    return np.sin(20 * x)


# --------------------------------------------------------------------------- numerical_gradient


def _watching(f: Callable, x_given: np.ndarray) -> tuple[Callable, list[bool], list[Any]]:
    """``f`` wrapped to notice when the caller's array changes while f is being evaluated.

    A loop that adds h to x[i] and subtracts it again leaves x (nearly) as it was, so comparing
    x before and after the call misses it; looking at x during the calls does not. The dtypes
    of the points f is given are kept too: a float32 copy of x is evidence, not a guess.
    """
    original = x_given.copy()
    seen: list[bool] = []
    dtypes: list[Any] = []

    def watched(z):
        seen.append(not np.array_equal(x_given, original))
        dtypes.append(dtype_of(z))
        return f(z)

    return watched, seen, dtypes


def expect_numerical_gradient(
    numerical_gradient: Callable, f: Callable, x: Any, h: float | None = None
) -> None:
    """Require ``numerical_gradient(f, x[, h])``: central differences, x left untouched.

    ``h=None`` calls the function without ``h`` so that its default 1e-5 is used.
    """
    x_given = _array(x)  # the student's function gets this very array, so changes are seen
    step = 1e-5 if h is None else h
    kwargs = {} if h is None else {"h": h}
    shown = describe_call("numerical_gradient", f, x_given, **kwargs)
    watched, seen, dtypes = _watching(f, x_given)
    original = x_given.copy()
    with quiet():
        try:
            got = numerical_gradient(watched, x_given, **kwargs)
        except NotImplementedError as exc:
            raise _not_written("numerical_gradient", numerical_gradient, exc) from None
        except Exception as exc:  # noqa: BLE001 - any crash of student code is the finding
            details = [f"call    : {shown}", f"message : {type(exc).__name__}: {exc}"]
            if x_given.dtype.kind in "iu":
                details.append("x holds integers here: work on a float copy, x.astype(float)")
            raise CheckFailure("numerical_gradient raised an error.", details) from None
    if not np.array_equal(x_given, original) or any(seen):
        raise CheckFailure(
            "numerical_gradient modified x in place.",
            [
                f"call : {shown}",
                "x must not change, not even temporarily: perturb a float copy of x, "
                "one coordinate at a time",
            ],
        )
    require_array(
        "numerical_gradient", got, shown, "return the gradient as an array of the shape of x"
    )
    ref = _differences(f, x_given, step)
    expected = ref["central"]
    if x_given.dtype.kind in "iu":
        with np.errstate(all="ignore"):
            truncated = _differences(lambda z: f(np.trunc(z)), x_given, step)["central"]
    else:
        truncated = None
    mistakes = {
        "this looks like a forward difference: use x + h*e_i and x - h*e_i": ref["forward"],
        "this looks like a backward difference: use x + h*e_i and x - h*e_i": ref["backward"],
        "divided by h instead of 2h": 2 * expected,
    }
    if h is None:
        for other in (1e-4, 1e-3, 1e-2):
            mistakes[
                f"this is the central difference with h = {other:g}: the default step is "
                "h=1e-5, as in the signature"
            ] = _differences(f, x_given, other)["central"]
    else:
        mistakes["ignored the step h you were given"] = _differences(f, x_given, 1e-5)["central"]
    if truncated is not None:
        mistakes[
            "x holds integers and x + h was rounded back to an integer: use x.astype(float)"
        ] = truncated
    low = [d for d in dtypes if d is not None and d in LOW_DTYPES]
    hint = "one central difference per coordinate, moving only that coordinate of a float copy"
    if h is None:
        hint += "; called without h, the step is the default h=1e-5"
    if low:
        hint = (
            f"f was evaluated at {low[0].name} points: with about 7 digits the central "
            "difference loses most of its accuracy; perturb a float64 copy, x.astype(float)"
        )
    check(
        "numerical_gradient",
        got,
        expected,
        call=shown,
        rtol=1e-7,
        mistakes=distinct(mistakes, expected, 1e-7, got),
        hint=hint,
    )


@exercise(LESSON, "Exercise 01.10 · Numerical gradient", "numerical_gradient")
def check_numerical_gradient(numerical_gradient: Callable) -> None:
    """Visible test of ``numerical_gradient(f, x, h=1e-5)``."""

    def bowl(v):
        return v[0] ** 2 + v[1] ** 2

    expect_numerical_gradient(numerical_gradient, bowl, [1.0, -2.0])
    # Not separable: a step left in one coordinate changes the others' differences.
    expect_numerical_gradient(numerical_gradient, sin_times_cube, [0.3, 1.2, -0.5], h=0.1)
    # Integers in x, as the exercise warns.
    expect_numerical_gradient(numerical_gradient, sin_times_cube, np.array([1, -2, 2]), h=0.1)
    # Bends fast in x0: only the default step h = 1e-5 gives this gradient to 1e-7.
    expect_numerical_gradient(numerical_gradient, wave_plus_product, [0.02, 0.7])


def sin_times_cube(v):
    """sin(v0) v1**3 + v2: v0 and v1 interact."""
    return np.sin(v[0]) * v[1] ** 3 + v[2]


def wave_plus_product(v):
    """sin(20 v0) + v0 v1: a fast wave in v0, coupled to v1."""
    return np.sin(20 * v[0]) + v[0] * v[1]


# --------------------------------------------------------------------------- gradients_agree


def _norm(v: np.ndarray) -> float:
    v = _array(v, dtype=_float64).ravel()
    return _sqrt(float(np.add.reduce(v * v)))


def _central(f: Callable, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    return _differences(f, x, h)["central"]


def _recording(fn: Callable, calls: list[Any]) -> Callable:
    """``fn`` wrapped to keep a float64 copy of every point it is evaluated at."""

    def recorded(z):
        try:
            calls.append(_array(z, dtype=_float64).copy())
        except (TypeError, ValueError):
            calls.append(None)
        return fn(z)

    recorded.__name__ = getattr(fn, "__name__", "f")
    return recorded


def _steps_taken(x: np.ndarray, points: list[Any]) -> tuple[bool, dict[int, list[float]]]:
    """Whether f was evaluated at x itself, and the displacements along each coordinate.

    Only points that differ from x in exactly one coordinate count: those are the points of a
    finite difference, the evidence of which formula and which step the numerical side used.
    """
    centre, moved = False, {}
    for p in points:
        if p is None or p.shape != x.shape:
            continue
        d = (p - x).ravel()
        nz = np.flatnonzero(d)
        if nz.size == 0:
            centre = True
        elif nz.size == 1:
            moved.setdefault(int(nz[0]), []).append(float(d[nz[0]]))
    return centre, moved


def _numerical_side(x: np.ndarray, points: list[Any]) -> str | None:
    """What the points f was evaluated at show about the student's numerical gradient, or None."""
    centre, moved = _steps_taken(x, points)
    if not moved:
        return None
    one_sided = [i for i, d in moved.items() if min(d) > 0 or max(d) < 0]
    if centre and len(one_sided) == len(moved):
        side = "forward" if min(moved[one_sided[0]]) > 0 else "backward"
        return (
            f"f was evaluated at x and at x {'+' if side == 'forward' else '-'} h e_i only: "
            f"the numerical gradient is a {side} difference, whose error is of order h, not h**2; "
            "use central differences (your numerical_gradient)"
        )
    steps = sorted(abs(v) for d in moved.values() for v in d)
    step = steps[len(steps) // 2]
    if not 0.5e-5 <= step <= 2e-5:
        return (
            f"f was evaluated at steps of about {step:.0e} from x: the numerical gradient should "
            "use numerical_gradient's default step h=1e-5 (Section 4: a step that size "
            "keeps both truncation and round-off small)"
        )
    return None


def _verdicts(a: np.ndarray, n: np.ndarray, tol: float) -> dict[str, tuple[bool, float | None]]:
    """Verdicts (and errors) of typical wrong ways to compare a and n, for the message."""
    na, nn, nd = _norm(a), _norm(n), _norm(a - n)
    big = max(na, nn)
    with np.errstate(all="ignore"):
        denom = np.maximum(np.abs(a), np.abs(n))
        per = np.where(denom == 0, 0.0, np.abs(a - n) / np.where(denom == 0, 1.0, denom))
    right = nd / big if big else 0.0
    ratios = {
        "an absolute error ||a - n|| (it grows and shrinks with the scale of f)": nd,
        "a relative error per coordinate (a coordinate near 0 makes it large)": float(per.max()),
        "the mean of the per-coordinate relative errors": float(per.mean()),
        "dividing by ||a|| alone": nd / na if na else float("inf") if nd else 0.0,
        "dividing by min(||a||, ||n||)": nd / min(na, nn) if min(na, nn) else float("inf"),
        "dividing by ||a|| + ||n||": nd / (na + nn) if na + nn else 0.0,
    }
    out: dict[str, tuple[bool, float | None]] = {k: (v <= tol, v) for k, v in ratios.items()}
    out["np.allclose(a, n, rtol=tol): its absolute floor atol=1e-8 passes small gradients"] = (
        bool(np.all(np.abs(a - n) <= 1e-8 + tol * np.abs(n))),
        None,
    )
    out["a strict < tol where the text says at most tol"] = (right < tol, right)
    out["the default 1e-7 in place of the tol given"] = (right <= PASS_BELOW, right)
    if not big:
        out["0 / 0 = nan when both gradients are zero (nan <= tol is False)"] = (False, None)
    return out


def expect_gradients_agree(
    gradients_agree: Callable,
    f: Callable,
    grad_f: Callable,
    x: Any,
    expected: bool,
    tol: float | None = None,
    why: str = "",
) -> None:
    """Require ``gradients_agree(f, grad_f, x[, tol])`` to return ``expected``.

    ``why`` describes this case - what makes the verdict right - and is shown when the answer is
    wrong. One True or False is no evidence of which formula gave it, so the message names a
    cause only from evidence: the points at which the student's code evaluated f (a forward
    difference, another step), whether it called grad_f, and which typical wrong comparisons
    give the student's verdict on this very case (with their error values).
    """
    x = _array(x, dtype=_float64)
    kwargs = {} if tol is None else {"tol": tol}
    shown = describe_call("gradients_agree", f, grad_f, x, **kwargs)
    f_points: list[Any] = []
    g_points: list[Any] = []
    got = call(
        gradients_agree,
        _recording(f, f_points),
        _recording(grad_f, g_points),
        x,
        name="gradients_agree",
        **kwargs,
    )
    require_returned(
        "gradients_agree", got, shown, "return True or False (did you forget `return`?)"
    )
    if not isinstance(got, (bool, np.bool_)):
        raise CheckFailure(
            "gradients_agree must return True or False.",
            [
                f"call : {shown}",
                f"got  : {type(got).__name__} {got!r:.60}",
                "compare the relative error with tol: return error <= tol",
            ],
        )
    if bool(got) == expected:
        return
    limit = PASS_BELOW if tol is None else tol
    numeric, analytic = _central(f, x), _array(grad_f(x.copy()), dtype=_float64)
    scale = max(_norm(numeric), _norm(analytic))
    rel = _norm(numeric - analytic) / scale if scale else 0.0
    details = [
        f"call           : {shown}",
        f"expected       : {expected}",
        f"got            : {bool(got)}",
        f"numerical      : {numeric}",
        f"grad_f(x)      : {analytic}",
        f"relative error : {rel:.2e} (tol {limit:.0e})",
    ]
    if why:
        details.append(f"this case      : {why}")
    evidence = _numerical_side(x, f_points)
    if not g_points:
        evidence = "grad_f was never called: a is grad_f(x), the analytic gradient you check"
    if evidence is None and not f_points:
        evidence = "f was never called: n is the central-difference gradient of f at x"
    if evidence is not None:
        details.append(f"likely mistake : {evidence}")
    else:
        same = [
            desc + ("" if err is None else f" ({err:.1e})")
            for desc, (verdict, err) in _verdicts(analytic, numeric, limit).items()
            if verdict == bool(got)
        ]
        if same:
            details.append(f"gives {bool(got)} here : " + "; ".join(same[:3]))
    raise CheckFailure("gradients_agree gave the wrong verdict.", details)


def cross_f(v):
    return np.sum(v**2) + v[0] * v[1]


def cross_grad(v):
    return 2 * v + np.array([v[1], v[0]])


def cross_grad_forgotten(v):  # the cross term v0 * v1 left out
    return 2 * v


def cos_plus_square(v):
    return np.sum(np.cos(v)) + v[0] ** 2


def cos_plus_square_grad(v):
    return -np.sin(v) + np.array([2 * v[0], 0.0])


def big_f(v):
    return 1e6 * np.sum(v**3)


def big_grad(v):
    return 3e6 * v**2


def tiny_f(v):
    return 1e-9 * np.sum(v**2)


def tiny_grad_wrong(v):  # 3e-9 v where 2e-9 v is right
    return 3e-9 * v


def bowl_f(v):
    return np.sum(v**2)


def bowl_grad(v):
    return 2 * v


def bowl_grad_off_by(rel: float) -> Callable:
    def grad(v):
        return 2 * v * (1 + rel)

    grad.__name__ = f"grad_off_by_{rel:g}"
    return grad


# The visible cases of gradients_agree: (f, grad_f, x, the right verdict, tol or None for the
# default, what makes that verdict right - shown when the answer gives the other one).
GRADIENTS_AGREE_CASES = [
    (
        cross_f,
        cross_grad,
        [0.5, -1.5],
        True,
        None,
        "grad_f is the right gradient of f: its relative error to the central differences "
        "is far below 1e-7",
    ),
    (
        cross_f,
        cross_grad_forgotten,
        [0.5, -1.5],
        False,
        None,
        "grad_f forgets the cross term v0 * v1 of f: its relative error is far above tol",
    ),
    (
        cos_plus_square,
        cos_plus_square_grad,
        [1.0, 1e-9],
        True,
        None,
        "a right gradient with one coordinate near 0 (-1e-9): rounding moves that "
        "coordinate's estimate by about 2 % of itself, but the normwise relative error is 2e-11",
    ),
    (
        big_f,
        big_grad,
        [1.0, 2.0, -1.0],
        True,
        None,
        "a right gradient of a large function (f about 1e7): the absolute error grows with "
        "the scale of f, the relative error does not",
    ),
    (
        tiny_f,
        tiny_grad_wrong,
        [1.0, 2.0],
        False,
        None,
        "a wrong gradient (3e-9 v for 2e-9 v) of a tiny function: the absolute error is tiny "
        "because f is, the relative error is 1/3",
    ),
    (
        bowl_f,
        bowl_grad,
        [0.0, 0.0],
        True,
        None,
        "both gradients are zero at the bottom of the bowl: the relative error is then "
        "taken as 0 (0 / 0 would be nan, and nan <= tol is False)",
    ),
    (
        bowl_f,
        bowl_grad_off_by(1e-4),
        [1.0, 2.0],
        True,
        1e-3,
        "a relative error of 1e-4 is within the tol=1e-3 given here: use the tol argument",
    ),
    (
        bowl_f,
        bowl_grad_off_by(-0.9995e-3),
        [1.0, 2.0],
        True,
        1e-3,
        "||a - n|| / max(||a||, ||n||) is 0.9995e-3, within tol=1e-3 (here ||a|| < ||n||: "
        "divided by the smaller norm it would exceed tol)",
    ),
    (
        bowl_f,
        bowl_grad_off_by(1.5e-3),
        [1.0, 2.0],
        False,
        1e-3,
        "||a - n|| / max(||a||, ||n||) is about 1.5e-3, above tol=1e-3",
    ),
]


@exercise(LESSON, "Exercise 01.11 · Use a gradient check", "gradients_agree")
def check_gradients_agree(gradients_agree: Callable) -> None:
    """Visible test of ``gradients_agree(f, grad_f, x, tol=PASS_BELOW)`` (PASS_BELOW = 1e-7)."""
    for f, grad_f, x, expected, tol, why in GRADIENTS_AGREE_CASES:
        expect_gradients_agree(gradients_agree, f, grad_f, x, expected, tol=tol, why=why)


# --------------------------------------------------------------------------- quiz item 8


def expect_square_central_difference(
    square_central_difference: Callable, x: float, h: float
) -> None:
    """Require ``square_central_difference(x, h) == ((x + h)**2 - (x - h)**2) / (2 h)``."""
    shown = describe_call("square_central_difference", x, h)
    got = _scalar(
        "square_central_difference",
        call(square_central_difference, x, h, name="square_central_difference"),
        shown,
    )
    expected = ((x + h) ** 2 - (x - h) ** 2) / (2 * h)
    mistakes = {
        "this looks like a forward difference ((x + h)**2 - x**2) / h = 2x + h": (
            (x + h) ** 2 - x**2
        )
        / h,
        "divided by h instead of 2h": 2 * expected,
        "this is the central difference of x**3, not x**2": ((x + h) ** 3 - (x - h) ** 3) / (2 * h),
    }
    check(
        "square_central_difference",
        got,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=mistakes,
        hint="write the central difference out for f(x) = x**2",
    )


@exercise(LESSON, "Challenge 01 · The central difference of a square", "square_central_difference")
def check_square_central_difference(square_central_difference: Callable) -> None:
    """Visible test of ``square_central_difference(x, h)``."""
    expect_square_central_difference(square_central_difference, 3.0, 0.5)
    expect_square_central_difference(square_central_difference, -1.25, 0.1)


# --------------------------------------------------------------------------- quiz


QUIZ = (
    "q1_float64_difference_is_exact",
    "q2_central_closer_at_equal_step",
    "q3_shrinking_h_always_helps",
    "q4_differences_catch_gradient_bugs",
)


check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 01")


__all__ = [
    "LESSON",
    "QUIZ",
    "check_central_difference",
    "check_cube_slope",
    "check_difference_errors",
    "check_forward_difference",
    "check_gradients_agree",
    "check_make_derivative",
    "check_numerical_gradient",
    "check_quadratic_derivative",
    "check_quadratic_derivative_sympy",
    "check_quiz",
    "check_second_derivative",
    "check_square_central_difference",
    "expect_central_difference",
    "expect_cube_slope",
    "expect_difference_errors",
    "expect_forward_difference",
    "expect_gradients_agree",
    "expect_make_derivative",
    "expect_numerical_gradient",
    "expect_quadratic_derivative",
    "expect_quadratic_derivative_sympy",
    "expect_second_derivative",
    "expect_square_central_difference",
]
