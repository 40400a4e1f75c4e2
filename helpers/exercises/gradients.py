"""Checks for Lesson 03: partial derivatives, gradients, Jacobians and Hessians.

Each ``check_*`` function is the visible test of one exercise (registered for
:func:`helpers.progress`); each ``expect_*`` function compares a student's answer on one given
input with the textbook formula and names the likely mistake. Hidden tests call the
``expect_*`` functions with inputs of their own.

The test functions are chosen so that the neighbouring wrong answers - a forward difference for
a central one, a Jacobian handed back transposed, a Hessian without its mixed partials - land
far outside the tolerance, while every correct formula (any O(h^2) stencil at the step asked
for) lands well inside it.
"""

from __future__ import annotations

import contextlib
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import (
    CheckFailure,
    call,
    check,
    describe_call,
    exercise,
    quiz_exercise,
    relative_error,
    require_returned,
)
from .symbolic import check_expression

LESSON = "03_gradients"

# Bound at import time, before student code can rebind them (see helpers.checks).
_array = np.array
_asarray = np.asarray
_sin, _cos, _exp = np.sin, np.cos, np.exp
_shape = np.shape
_settrace, _gettrace = sys.settrace, sys.gettrace
_tm_start, _tm_stop, _tm_tracing = tracemalloc.start, tracemalloc.stop, tracemalloc.is_tracing
_tm_memory, _tm_reset_peak = tracemalloc.get_traced_memory, tracemalloc.reset_peak
_MemoryError = MemoryError
_isinstance = isinstance

FORWARD = "used a forward difference (F(x + h e_j) - F(x)) / h; the central one is needed"


def _near(got: Any, expected: np.ndarray, rtol: float) -> bool:
    """True when ``got`` is an array of ``expected``'s shape within ``rtol`` (never raises)."""
    try:
        value = _array(got, dtype=float)
    except (TypeError, ValueError):
        return False
    return value.shape == expected.shape and relative_error(value, expected) < rtol


# --------------------------------------------------------------------------- gradient_p


def _p_partials(x: float, y: float) -> tuple[float, float]:
    """The partials of p(x, y) = x^3 y - 4 x y^2 + 3 y."""
    return 3 * x * x * y - 4 * y * y, x**3 - 8 * x * y + 3


def expect_gradient_p(gradient_p: Callable[..., Any], x: float, y: float) -> None:
    """Require ``gradient_p(x, y) == [3x^2 y - 4y^2, x^3 - 8xy + 3]``."""
    shown = describe_call("gradient_p", x, y)
    got = require_returned("gradient_p", call(gradient_p, x, y, name="gradient_p"), shown)
    px, py = _p_partials(x, y)
    expected = _array([px, py])
    approximate = _near(got, expected, 1e-6)
    check(
        "gradient_p",
        got,
        expected,
        call=shown,
        rtol=1e-12,
        mistakes={
            "the two partials are swapped: the first entry is dp/dx, the second dp/dy": [py, px],
            "the sign is flipped: that is the negative gradient (the descent direction)": [
                -px,
                -py,
            ],
            "d(y^2)/dy is 2y, so d(4xy^2)/dy = 8xy, not 4xy": [px, x**3 - 4 * x * y + 3],
            "the term 3y is missing from dp/dy (its derivative is 3)": [px, py - 3],
            "in dp/dx, y is a constant: d(x^3 y)/dx = 3x^2 y, not 3x^2": [
                3 * x * x - 4 * y * y,
                py,
            ],
        },
        hint="close, but not exact: this looks like a finite-difference approximation; the "
        "exercise asks for the exact partial derivatives"
        if approximate
        else "differentiate with respect to one variable and treat the other as a constant",
    )


@exercise(LESSON, "Exercise 03.1 · A gradient by hand", "gradient_p")
def check_gradient_p(gradient_p: Callable[..., Any]) -> None:
    """Visible test of ``gradient_p(x, y)``."""
    expect_gradient_p(gradient_p, 1.5, 0.5)
    expect_gradient_p(gradient_p, -0.8, 2.1)


# --------------------------------------------------------------------------- dg_dy


@exercise(LESSON, "Exercise 03.2 · A partial derivative in SymPy", "dg_dy")
def check_dg_dy(dg_dy: Any) -> None:
    """d/dy [x^2 y + sin(x y)] = x^2 + x cos(x y), in any equivalent form."""
    import sympy

    x, y = sympy.symbols("x y")
    check_expression(
        "dg_dy",
        dg_dy,
        x**2 + x * sympy.cos(x * y),
        [x, y],
        mistakes={
            "this is dg/dx, not dg/dy": 2 * x * y + y * sympy.cos(x * y),
            "the inner derivative d(xy)/dy = x is missing from the cosine term": x**2
            + sympy.cos(x * y),
            "the sin(xy) term is missing": x**2,
            "the derivative of sin is cos, not -cos": x**2 - x * sympy.cos(x * y),
        },
    )


# --------------------------------------------------------------------------- Jacobian


def _F(x: Any) -> np.ndarray:
    """A map R^3 -> R^2 whose Jacobian rows differ in every entry."""
    x0, x1, x2 = x[0], x[1], x[2]
    return _array([x0**2 * x1 + x2, _sin(x1) * _exp(x2) + x0 * x2], dtype=float)


def _F_jacobian(x: Any) -> np.ndarray:
    x0, x1, x2 = (float(v) for v in x)
    return _array(
        [
            [2 * x0 * x1, x0**2, 1.0],
            [x2, _cos(x1) * _exp(x2), _sin(x1) * _exp(x2) + x0],
        ]
    )


def _difference_jacobian(
    F: Callable[[Any], Any], x: np.ndarray, h: float, scheme: str
) -> np.ndarray:
    x = _asarray(x, dtype=float)
    f0 = _asarray(F(x), dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        if scheme == "central":
            cols.append((_asarray(F(x + e)) - _asarray(F(x - e))) / (2 * h))
        else:
            cols.append((_asarray(F(x + e)) - f0) / h)
    return np.stack(cols, axis=1)


def _truncated_jacobian(F: Callable[[Any], Any], x: np.ndarray, h: float) -> np.ndarray:
    """What central differences give when x +- h is stored into a copy of an integer x."""
    cols = []
    for j in range(x.size):
        up, down = x.copy(), x.copy()
        up[j] = int(x[j] + h)  # item assignment truncates toward zero, as xp[j] += h does
        down[j] = int(x[j] - h)
        cols.append((_asarray(F(up), dtype=float) - _asarray(F(down), dtype=float)) / (2 * h))
    return np.stack(cols, axis=1)


def _check_jacobian_shape(got: Any, m: int, n: int, shown: str) -> None:
    try:
        shape = _shape(got)
    except (TypeError, ValueError):  # ragged nested lists: check() reports them
        return
    if shape == (n, m) and m != n:
        raise CheckFailure(
            "numerical_jacobian returned the transpose.",
            [
                f"call           : {shown}",
                f"expected shape : ({m}, {n})  (m outputs by n inputs)",
                f"got shape      : {shape}",
                "likely mistake : returned the transpose (n, m): row i holds the partials of "
                "output F_i, column j the derivatives with respect to x_j",
            ],
        )


def expect_numerical_jacobian(
    numerical_jacobian: Callable[..., Any], x: Any, h: float | None = None
) -> None:
    """Require central differences of the test map at ``x``, with step ``h`` when given.

    Without ``h`` the default step (1e-5) must land within 1e-7 of the exact Jacobian; with
    ``h`` the result must be the central stencil at that step (rtol 1e-9).
    """
    x = _asarray(x)
    m, n = 2, x.size
    kwargs = {} if h is None else {"h": h}
    shown = describe_call("numerical_jacobian", _F, x, **kwargs)
    got = require_returned(
        "numerical_jacobian",
        call(numerical_jacobian, _F, x, name="numerical_jacobian", **kwargs),
        shown,
    )
    _check_jacobian_shape(got, m, n, shown)
    exact = _F_jacobian(x)
    if h is None:
        expected, rtol = exact, 1e-7
        mistakes = {
            FORWARD: _difference_jacobian(_F, x, 1e-5, "forward"),
            "divided by h instead of 2h": 2 * exact,
            "divided by 4h instead of 2h": exact / 2,
        }
    else:
        expected, rtol = _difference_jacobian(_F, x, h, "central"), 1e-9
        mistakes = {
            "the step h passed in was not used (the result is as accurate as a tiny step "
            "gives)": exact,
            FORWARD: _difference_jacobian(_F, x, h, "forward"),
        }
    if np.issubdtype(x.dtype, np.integer):
        mistakes[
            "x is an integer array here, so a copy of it stepped in place (xp[j] += h) is "
            "truncated back to whole numbers: work on a float copy of x"
        ] = _truncated_jacobian(_F, x, 1e-5 if h is None else h)
    check(
        "numerical_jacobian",
        got,
        expected,
        call=shown,
        rtol=rtol,
        mistakes=mistakes,
        hint="column j is (F(x + h e_j) - F(x - h e_j)) / (2h), with e_j the j-th unit vector",
    )


@exercise(LESSON, "Exercise 03.3 · A numerical Jacobian", "numerical_jacobian")
def check_numerical_jacobian(numerical_jacobian: Callable[..., Any]) -> None:
    """Visible test: the default step, a given step, and an integer input."""
    expect_numerical_jacobian(numerical_jacobian, (0.7, -1.2, 0.4))
    expect_numerical_jacobian(numerical_jacobian, (0.7, -1.2, 0.4), h=1e-2)
    expect_numerical_jacobian(numerical_jacobian, _array([1, 2, 0]))


# --------------------------------------------------------------------------- softmax VJP

# The visible test's memory check runs at this size: J alone is 8 n^2 bytes = 200 MB, while a
# right answer allocates a few arrays of n numbers (well under 1 MB).
MEMORY_N = 5_000
# A hidden test uses this size: J alone would need 3.2 GB, more than a grader's kernel may use.
LARGE_N = 20_000


def _softmax(z: np.ndarray) -> np.ndarray:
    e = _exp(z - z.max())
    return e / e.sum()


def softmax_case(n: int, seed: int, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A softmax output ``s`` of n random scores (scaled by ``spread``) and a gradient ``g``."""
    rng = np.random.default_rng(seed)
    s = _softmax(spread * rng.standard_normal(n))
    return s, rng.standard_normal(n)


@contextlib.contextmanager
def _memory_limit(limit: int):
    """Make the code run inside raise MemoryError once it has allocated ``limit`` bytes more.

    tracemalloc measures what is allocated (NumPy reports its arrays to it); a trace function
    looks at the peak whenever a Python function is called or returns, so the student's own
    function, or a NumPy function it calls, raises right after the large allocation. The
    MemoryError is raised *inside* the student's code, so batch grading records it like any
    other exception of the student's function, and the verdict replayed outside the kernel is
    the same as in the notebook.
    """
    started = not _tm_tracing()
    if started:
        _tm_start()
    _tm_reset_peak()
    base = _tm_memory()[0]

    def over() -> bool:
        return _tm_memory()[1] - base > limit

    def on_event(frame, event, arg):
        if over():
            raise _MemoryError(f"more than {limit / 1e6:.0f} MB allocated")
        return on_event

    def on_call(frame, event, arg):
        frame.f_trace_lines = False  # calls and returns only: loops run at full speed
        return on_event(frame, event, arg)

    previous = _gettrace()
    _settrace(on_call)
    try:
        yield
    finally:
        _settrace(previous)
        if started:
            _tm_stop()


def _memory_failure(n: int, shown: str) -> CheckFailure:
    j_mb = 8 * n * n / 1e6
    return CheckFailure(
        "softmax_vjp used far too much memory: it looks like it forms the n x n Jacobian.",
        [
            f"call           : {shown}",
            f"n              : {n}; the Jacobian J alone holds n * n = {n * n:,} numbers "
            f"({j_mb:,.0f} MB), a right answer a few arrays of n",
            f"allocated      : more than {max(2 * n * n, 16_000_000) / 1e6:,.0f} MB while "
            "softmax_vjp ran",
            "likely mistake : formed J (np.diag(s) - np.outer(s, s), or s[:, None] * s) and "
            "multiplied g by it. Use g^T J = s * (g - g @ s): one dot product, no matrix. A "
            f"hidden test uses n = {LARGE_N:,}, where J alone needs "
            f"{8 * LARGE_N * LARGE_N / 1e9:.1f} GB: more memory than the grader gives a notebook",
        ],
    )


def expect_softmax_vjp(softmax_vjp: Callable[..., Any], s: Any, g: Any) -> None:
    """Require ``softmax_vjp(s, g) == s * (g - g @ s)``, shape (n,), without an n x n matrix.

    For n >= 1000 the call runs under a memory limit of a quarter of J's 8 n^2 bytes (at least
    16 MB): an answer that forms J raises MemoryError there (at large n, as in the grader, it may
    run out of memory by itself), and is told so.
    """
    s, g = _array(s, dtype=float), _array(g, dtype=float)
    n = s.size
    shown = describe_call("softmax_vjp", s, g)
    # Only where J would be large: a first call that imports a big module inside the function
    # must not be taken for a Jacobian.
    limit = _memory_limit(max(2 * n * n, 16_000_000)) if n >= 1000 else contextlib.nullcontext()
    try:
        with limit:
            got = call(softmax_vjp, s, g, name="softmax_vjp")
    except CheckFailure as failure:
        if failure.error == "MemoryError":
            raise _memory_failure(n, shown) from None
        raise
    require_returned("softmax_vjp", got, shown)
    if not _isinstance(got, np.ndarray):
        raise CheckFailure(
            "softmax_vjp must return a NumPy array.",
            [f"call : {shown}", f"got  : {type(got).__name__}", "return an array of shape (n,)"],
        )
    if got.shape != (n,):
        details = [
            f"call           : {shown}",
            f"expected shape : ({n},)",
            f"got shape      : {got.shape}",
        ]
        if got.shape in ((1, n), (n, 1)):
            details.append(
                "likely mistake : g^T J came back as a row or a column; return it as a 1-D "
                "array of shape (n,) (g @ J of 1-D g is already one)"
            )
        elif got.shape == (n, n):
            details.append("likely mistake : returned the Jacobian itself, not g^T J")
        raise CheckFailure("softmax_vjp returned the wrong shape.", details)
    d = float(g @ s)
    expected = s * (g - d)
    other = _softmax(s)
    scale = float(np.sqrt(np.sum(s * s)) * np.sqrt(np.sum(g * g)))
    check(
        "softmax_vjp",
        got,
        expected,
        call=shown,
        rtol=1e-9,
        atol=1e-13 * scale,
        mistakes={
            "the term (g . s) s is missing: s * g is only diag(s) g": s * g,
            "the sign is flipped: J = diag(s) - s s^T, so g^T J = s * g - (g . s) s": -expected,
            "the second term is (g . s) times the vector s, not the number g . s alone: "
            "s * g - (g . s) * s": s * g - d,
            "used sum(g) where the dot product g . s = g @ s is needed": s * (g - g.sum()),
            "the factor s is missing in front: the result is s * (g - g @ s)": g - d,
            "added (g . s) s instead of subtracting it": s * (g + d),
            "s is already a softmax output: softmax was applied to it again": other
            * (g - float(g @ other)),
            "this is the sigmoid's derivative s (1 - s) g, not softmax's": s * (1 - s) * g,
        },
        hint="g^T J with J = diag(s) - s s^T is s * g minus (g . s) * s",
    )


@exercise(LESSON, "Exercise 03.4 · A vector-Jacobian product", "softmax_vjp")
def check_softmax_vjp(softmax_vjp: Callable[..., Any]) -> None:
    """Visible test: small cases, a constant g (the answer is 0), and n = 5,000 for memory."""
    s = _softmax(_array([1.0, -0.5, 2.0, 0.3]))
    expect_softmax_vjp(softmax_vjp, s, _array([0.3, -1.2, 0.8, 2.0]))
    expect_softmax_vjp(softmax_vjp, *softmax_case(7, seed=1, spread=2.0))
    expect_softmax_vjp(softmax_vjp, s, _array([0.7, 0.7, 0.7, 0.7]))  # g^T J = 0
    expect_softmax_vjp(softmax_vjp, *softmax_case(MEMORY_N, seed=2))


# --------------------------------------------------------------------------- Hessian


def _f(x: Any) -> float:
    """A function R^3 -> R with every second partial non-zero at the test point."""
    x0, x1, x2 = x[0], x[1], x[2]
    return float(x0**2 * x1 + _sin(x0 * x2) + _exp(x1) * x2)


def _f_hessian(x: Any) -> np.ndarray:
    x0, x1, x2 = (float(v) for v in x)
    s, c = float(_sin(x0 * x2)), float(_cos(x0 * x2))
    e = float(_exp(x1))
    return _array(
        [
            [2 * x1 - x2**2 * s, 2 * x0, c - x0 * x2 * s],
            [2 * x0, e * x2, e],
            [c - x0 * x2 * s, e, -(x0**2) * s],
        ]
    )


def _unit(n: int, i: int, h: float) -> np.ndarray:
    e = np.zeros(n)
    e[i] = h
    return e


def _hessian_stencil(f: Callable[[Any], Any], x: np.ndarray, h: float, diagonal: str) -> np.ndarray:
    """Central Hessian; off-diagonal 4-point stencil / 4h^2.

    ``diagonal="three_point"``: (f(x+h) - 2f(x) + f(x-h)) / h^2;
    ``diagonal="nested"``: central difference of a central gradient, i.e. step 2h on the diagonal.
    """
    n = x.size
    f0 = f(x)
    H = np.zeros((n, n))
    for i in range(n):
        ei = _unit(n, i, h)
        if diagonal == "three_point":
            H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h**2
        else:
            H[i, i] = (f(x + 2 * ei) - 2 * f0 + f(x - 2 * ei)) / (4 * h**2)
        for j in range(i + 1, n):
            ej = _unit(n, j, h)
            H[i, j] = H[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h**2)
    return H


def _forward_hessian(f: Callable[[Any], Any], x: np.ndarray, h: float) -> np.ndarray:
    n = x.size
    f0 = f(x)
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = _unit(n, i, h), _unit(n, j, h)
            H[i, j] = (f(x + ei + ej) - f(x + ei) - f(x + ej) + f0) / h**2
    return H


def _as_hessian(got: Any, n: int, shown: str) -> np.ndarray:
    """``got`` as an (n, n) float array, or a CheckFailure saying what it is instead."""
    require_returned("numerical_hessian", got, shown, "did you forget `return H`?")
    try:
        H = _array(got, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            "numerical_hessian must return an (n, n) array of numbers.", [f"call : {shown}"]
        ) from None
    if H.shape != (n, n):
        raise CheckFailure(
            "numerical_hessian returned the wrong shape.",
            [
                f"call           : {shown}",
                f"expected shape : ({n}, {n})",
                f"got shape      : {H.shape}",
            ]
            + (
                ["likely mistake : this looks like a gradient (n,), not a Hessian (n, n)"]
                if H.shape == (n,)
                else []
            ),
        )
    return H


def _symmetry_note(H: np.ndarray) -> str:
    asym = relative_error(H, H.T)
    if asym > 1e-6:
        return (
            f"the result is not symmetric (relative error between H and H.T: {asym:.1e}): "
            "mixed partials d2f/dxidxj and d2f/dxjdxi must both be filled in and equal"
        )
    return "the diagonal needs the 3-point stencil, the entries off it the 4-point one"


def expect_numerical_hessian(
    numerical_hessian: Callable[..., Any], x: Any, h: float | None = None
) -> None:
    """Require a central Hessian of the test function at ``x``, with step ``h`` when given.

    Without ``h`` the default step (1e-4) must land within 1e-6 of the exact Hessian (central
    stencils are about 1e-8 away, forward ones about 1e-4); with ``h`` either usual central
    form at that step is accepted (rtol 1e-7).
    """
    x = _array(x, dtype=float)
    n = x.size
    kwargs = {} if h is None else {"h": h}
    shown = describe_call("numerical_hessian", _f, x, **kwargs)
    got = call(numerical_hessian, _f, x, name="numerical_hessian", **kwargs)
    H = _as_hessian(got, n, shown)
    exact = _f_hessian(x)
    if h is None:
        diagonal_only = np.diag(np.diag(exact))
        expected, rtol = exact, 1e-6
        mistakes = {
            "mixed partials missing: only the diagonal d2f/dxi2 is filled in": diagonal_only,
            "Hessian not symmetric: only the upper triangle is filled in, H[j, i] must equal "
            "H[i, j]": np.triu(exact),
            "used forward differences (error O(h)); use central stencils (error O(h^2))": (
                _forward_hessian(_f, x, 1e-4)
            ),
            "off-diagonal stencil divided by h^2 instead of 4h^2": exact
            + 3 * (exact - diagonal_only),
        }
    else:
        if relative_error(H, _hessian_stencil(_f, x, h, "nested")) <= 1e-7:
            return
        expected, rtol = _hessian_stencil(_f, x, h, "three_point"), 1e-7
        mistakes = {
            "the step h passed in was not used": exact,
            "used forward differences": _forward_hessian(_f, x, h),
        }
    check(
        "numerical_hessian",
        H,
        expected,
        call=shown,
        rtol=rtol,
        mistakes=mistakes,
        hint=_symmetry_note(H),
    )


@exercise(LESSON, "Exercise 03.5 · A numerical Hessian", "numerical_hessian")
def check_numerical_hessian(numerical_hessian: Callable[..., Any]) -> None:
    """Visible test: the default step and a given step."""
    expect_numerical_hessian(numerical_hessian, (0.5, -0.3, 0.8))
    expect_numerical_hessian(numerical_hessian, (0.5, -0.3, 0.8), h=2e-2)


# --------------------------------------------------------------------------- directional derivative


def expect_directional_derivative(
    directional_derivative: Callable[..., Any], grad: Any, u: Any
) -> None:
    """Require ``directional_derivative(grad, u) == grad . u / ||u||``."""
    g, u = _array(grad, dtype=float), _array(u, dtype=float)
    shown = describe_call("directional_derivative", g, u)
    got = require_returned(
        "directional_derivative",
        call(directional_derivative, g, u, name="directional_derivative"),
        shown,
    )
    norm = float(np.sqrt(np.sum(u * u)))
    dot = float(np.sum(g * u))
    check(
        "directional_derivative",
        got,
        dot / norm,
        call=shown,
        rtol=1e-12,
        mistakes={
            "u was not normalised: divide by its length ||u||": dot,
            "divided by ||u||^2 instead of ||u||": dot / norm**2,
            "this is ||grad||, the largest slope, not the slope along u": float(
                np.sqrt(np.sum(g * g))
            ),
        },
        hint="the slope along u is the gradient dotted with the unit vector of u: one number",
    )


@exercise(LESSON, "Challenge 03 · Slope along a direction", "directional_derivative")
def check_directional_derivative(directional_derivative: Callable[..., Any]) -> None:
    """Visible test of ``directional_derivative(grad, u)``."""
    expect_directional_derivative(directional_derivative, (3.0, -1.0), (2.0, 1.0))
    expect_directional_derivative(directional_derivative, (0.5, 2.0, -1.5), (-1.0, 0.0, 3.0))


# --------------------------------------------------------------------------- quiz


# The quiz's answer names, in order (the notebook defines them; progress() looks them up).
QUIZ = (
    "q1_gradient_is_steepest_descent",
    "q2_layer_jacobian_is_W_transposed",
    "q3_mixed_partials_commute",
    "q4_jacobian_rows_are_inputs",
)

check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 03")
