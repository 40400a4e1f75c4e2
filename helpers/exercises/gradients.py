"""Visible checks of Lesson 03 (partial derivatives, gradients, Jacobian, Hessian).

The test functions are chosen so that the neighbouring wrong answers - a forward difference for
a central one, a Jacobian handed back transposed, a Hessian without its mixed partials - land
far outside the tolerance, while every correct formula (any O(h^2) stencil at the step asked
for) lands well inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
)
from .chain_rule import check_expression

LESSON = "03_gradients"

# Bound at import time, before student code can rebind them (see helpers.checks).
_array = np.array
_asarray = np.asarray
_sin, _cos, _exp = np.sin, np.cos, np.exp
_shape = np.shape


def _near(got: Any, expected: np.ndarray, rtol: float) -> bool:
    """True when ``got`` is an array of ``expected``'s shape within ``rtol`` (never raises)."""
    try:
        value = _array(got, dtype=float)
    except (TypeError, ValueError):
        return False
    return value.shape == expected.shape and relative_error(value, expected) < rtol


# --------------------------------------------------------------------------- gradient of f


@exercise(LESSON, "Gradient of f(x, y) = x^2 + 2xy + y^2", "gradient_f")
def check_gradient_f(
    gradient_f: Callable[..., Any],
    points: Sequence[tuple[float, float]] = ((1.5, -0.5), (-0.8, 2.1)),
) -> None:
    """grad f = (2x + 2y, 2x + 2y) as an array of two numbers."""
    for x, y in points:
        shown = describe_call("gradient_f", x, y)
        got = call(gradient_f, x, y)
        expected = _array([2 * x + 2 * y, 2 * x + 2 * y])
        approximate = _near(got, expected, 1e-6)
        check(
            "gradient_f",
            got,
            expected,
            call=shown,
            rtol=1e-12,
            mistakes={
                "the cross term 2xy is missing: d(2xy)/dx = 2y and d(2xy)/dy = 2x": [2 * x, 2 * y],
                "d(2xy)/dx is 2y (not y), and d(2xy)/dy is 2x (not x)": [2 * x + y, x + 2 * y],
                "differentiated 2xy as 2x with respect to x: y is the constant there, so it gives 2y": [
                    4 * x,
                    4 * y,
                ],
                "the sign is flipped: that is the negative gradient (the descent direction)": [
                    -(2 * x + 2 * y),
                    -(2 * x + 2 * y),
                ],
            },
            hint="close, but not exact: this looks like a finite-difference approximation; the exercise "
            "asks for the exact partial derivatives"
            if approximate
            else "return np.array([df/dx, df/dy]); treat the other variable as a constant",
        )


@exercise(LESSON, "Partial derivative in SymPy: dg/dy of x^2 y + sin(xy)", "dg_dy")
def check_dg_dy(dg_dy: Any) -> None:
    """d/dy [x^2 y + sin(x y)] = x^2 + x cos(x y)."""
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


def _check_jacobian_shape(got: Any, m: int, n: int, shown: str) -> None:
    try:
        shape = _shape(got) if got is not None else None
    except (TypeError, ValueError):  # ragged nested lists: check() reports them
        return
    if shape == (n, m) and m != n:
        raise CheckFailure(
            "numerical_jacobian returned the transpose.",
            [
                f"call           : {shown}",
                f"expected shape : ({m}, {n})  (m outputs by n inputs)",
                f"got shape      : {shape}",
                (
                    "likely mistake : returned the transpose (n, m): row i holds the partials of output "
                    "F_i, column j the derivatives with respect to x_j"
                ),
            ],
        )


@exercise(LESSON, "Numerical Jacobian (central differences)", "numerical_jacobian")
def check_numerical_jacobian(
    numerical_jacobian: Callable[..., Any],
    x: Sequence[float] = (0.7, -1.2, 0.4),
    h: float = 1e-2,
) -> None:
    """Central differences, shape (m, n); default step 1e-5, and the step h when one is given."""
    x = _array(x, dtype=float)
    m, n = 2, x.size
    # 1. Default step: accurate to O(h^2), so within 1e-7 of the exact Jacobian.
    shown = describe_call("numerical_jacobian", _F, x)
    got = call(numerical_jacobian, _F, x)
    _check_jacobian_shape(got, m, n, shown)
    exact = _F_jacobian(x)
    check(
        "numerical_jacobian",
        got,
        exact,
        call=shown,
        rtol=1e-7,
        mistakes={
            "used a forward difference (F(x + h e_j) - F(x)) / h; use (F(x + h e_j) - F(x - h e_j)) / (2h)": _difference_jacobian(
                _F, x, 1e-5, "forward"
            ),
            "divided by h instead of 2h": 2 * exact,
            "divided by 4h instead of 2h": exact / 2,
        },
        hint="column j is (F(x + h e_j) - F(x - h e_j)) / (2h), with e_j the j-th unit vector",
    )
    # 2. The step passed in is the one used.
    shown = describe_call("numerical_jacobian", _F, x, h=h)
    got = call(numerical_jacobian, _F, x, h=h)
    _check_jacobian_shape(got, m, n, shown)
    check(
        "numerical_jacobian",
        got,
        _difference_jacobian(_F, x, h, "central"),
        call=shown,
        rtol=1e-9,
        mistakes={
            "the step h passed in was not used (the result is as accurate as a tiny step gives)": exact,
            "used a forward difference (F(x + h e_j) - F(x)) / h; use (F(x + h e_j) - F(x - h e_j)) / (2h)": _difference_jacobian(
                _F, x, h, "forward"
            ),
        },
    )
    # 3. Integer input: x + h must not be rounded back to x.
    xi = _array([1, 2, 0])
    shown = describe_call("numerical_jacobian", _F, xi)
    got = call(numerical_jacobian, _F, xi)
    _check_jacobian_shape(got, m, n, shown)
    check(
        "numerical_jacobian",
        got,
        _F_jacobian(xi),
        call=shown,
        rtol=1e-7,
        hint="x is an integer array here, so a copy of it perturbed in place (xp[j] += h) is "
        "rounded back to whole numbers: start from x = np.asarray(x, dtype=float)",
    )


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
    if got is None:
        raise CheckFailure(
            "numerical_hessian returned None.",
            [f"call : {shown}", "did you forget `return H`? (printing a value does not return it)"],
        )
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
    return "H[i, i] = (f(x + h e_i) - 2 f(x) + f(x - h e_i)) / h^2; off the diagonal use the 4-point stencil / (4 h^2)"


@exercise(LESSON, "Numerical Hessian (mixed partials included)", "numerical_hessian")
def check_numerical_hessian(
    numerical_hessian: Callable[..., Any],
    x: Sequence[float] = (0.5, -0.3, 0.8),
    h: float = 2e-2,
) -> None:
    """Shape (n, n), symmetric, O(h^2) accurate at the default step, and using the step given."""
    x = _array(x, dtype=float)
    n = x.size
    exact = _f_hessian(x)
    diagonal_only = np.diag(np.diag(exact))
    upper_only = np.triu(exact)
    # 1. Default step (1e-4): central stencils land within about 1e-8 of the exact Hessian,
    #    forward ones about 1e-4 away (their error is O(h)); 1e-6 sits between the two.
    shown = describe_call("numerical_hessian", _f, x)
    H = _as_hessian(call(numerical_hessian, _f, x), n, shown)
    check(
        "numerical_hessian",
        H,
        exact,
        call=shown,
        rtol=1e-6,
        mistakes={
            "mixed partials missing: only the diagonal d2f/dxi2 is filled in": diagonal_only,
            "Hessian not symmetric: only the upper triangle is filled in, H[j, i] must equal H[i, j]": upper_only,
            "used forward differences (error O(h)); use central stencils (error O(h^2))": _forward_hessian(
                _f, x, 1e-4
            ),
            "off-diagonal stencil divided by h^2 instead of 4h^2": exact
            + 3 * (exact - diagonal_only),
        },
        hint=_symmetry_note(H),
    )
    # 2. The step passed in is the one used (either of the usual central forms is right).
    shown = describe_call("numerical_hessian", _f, x, h=h)
    H = _as_hessian(call(numerical_hessian, _f, x, h=h), n, shown)
    three_point = _hessian_stencil(_f, x, h, "three_point")
    nested = _hessian_stencil(_f, x, h, "nested")
    if relative_error(H, nested) <= 1e-7:
        return
    check(
        "numerical_hessian",
        H,
        three_point,
        call=shown,
        rtol=1e-7,
        mistakes={
            "the step h passed in was not used": exact,
            "used forward differences": _forward_hessian(_f, x, h),
        },
        hint=_symmetry_note(H),
    )


# --------------------------------------------------------------------------- directional derivative


@exercise(LESSON, "Directional derivative", "directional_derivative")
def check_directional_derivative(
    directional_derivative: Callable[..., Any],
    cases: Sequence[tuple[Sequence[float], Sequence[float]]] = (
        ((3.0, -1.0), (2.0, 1.0)),
        ((0.5, 2.0, -1.5), (-1.0, 0.0, 3.0)),
    ),
) -> None:
    """D_u f = grad . u / ||u||: the slope along the direction of u, whatever u's length."""
    for g, u in cases:
        g, u = _array(g, dtype=float), _array(u, dtype=float)
        shown = describe_call("directional_derivative", g, u)
        got = call(directional_derivative, g, u)
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
            hint="return np.dot(grad, u) / np.linalg.norm(u), a single number",
        )


# --------------------------------------------------------------------------- quiz


# The quiz's answer names, in order (the notebook defines them; progress() looks them up).
QUIZ = (
    "q1_gradient_points_downhill",
    "q2_linear_layer_jacobian_is_W",
    "q3_smooth_hessian_is_symmetric",
    "q4_jacobian_of_R3_to_R2_is_3_by_2",
)


check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz answers are True/False")
