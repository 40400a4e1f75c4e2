"""Symbolic answers: a SymPy expression checked by equivalence, never by its string.

Shared by the checker modules whose exercises ask for a SymPy expression (Lessons 01, 02 and 03):
``4*x*cos(2*x**2)`` and ``2*x*2*cos(2*x**2)`` are the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..checks import CheckFailure, relative_error

_isinstance = isinstance


def _sample_points(n_vars: int) -> list[tuple[float, ...]]:
    # Irregular values away from 0 and 1, where many wrong formulas happen to agree.
    base = (0.7, -1.3, 1.9, 0.45, -0.35)
    return [tuple(base[(i + k) % len(base)] for k in range(n_vars)) for i in range(3)]


def _numeric(expr: Any, variables: Sequence[Any], point: tuple[float, ...]) -> float:
    """The real value of ``expr`` at ``point``; nan when it has none.

    None: complex, undefined, or an unknown function in it.
    """
    try:
        value = complex(expr.subs(dict(zip(variables, point))).evalf())
    except (TypeError, ValueError, ArithmeticError):
        return math.nan
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        return math.nan
    return value.real


def _close(a: float, b: float) -> bool:
    # nan (no real value) never counts as close: written so that nan compares False
    return relative_error(a, b) <= 1e-10


def _rel(a: float, b: float) -> str:
    err = relative_error(a, b)
    return "not a real number" if math.isnan(err) else f"{err:.2e}"


def check_expression(
    name: str,
    got: Any,
    expected: Any,
    variables: Sequence[Any],
    *,
    mistakes: dict[str, Any] | None = None,
) -> None:
    """Require a SymPy expression equivalent to ``expected``.

    Equivalent means ``sympy.simplify(got - expected) == 0``; when SymPy cannot decide, the
    two are compared at three points (relative error <= 1e-10). Symbols are matched by name,
    so ``Symbol('x', real=True)`` counts as ``x``. The message never shows the expected
    formula, only its values at a point.
    """
    import sympy

    names = ", ".join(str(v) for v in variables)
    if got is None:
        raise CheckFailure(
            f"{name} is None.",
            [
                "assign a SymPy expression to it in its answer cell, in place of "
                "`raise NotImplementedError()`, then run the cell"
            ],
        )
    if _isinstance(got, str):
        raise CheckFailure(
            f"{name} is a string, not a SymPy expression.",
            [
                f"build it from the symbols {names} and sympy functions "
                "(sympy.sin, sympy.cos, ...),",
                "or turn the text into an expression with sympy.sympify(...)",
            ],
        )
    if callable(got) and not _isinstance(got, sympy.Basic):
        raise CheckFailure(
            f"{name} is a Python function, not a SymPy expression.",
            [
                f"write the derivative as an expression in {names}, e.g. 3*x**2, "
                "without def or lambda"
            ],
        )
    try:
        expr = sympy.sympify(got)
    except (sympy.SympifyError, TypeError):
        raise CheckFailure(f"{name} is a {type(got).__name__}, not a SymPy expression.") from None
    if not _isinstance(expr, sympy.Expr):
        raise CheckFailure(
            f"{name} is a {type(expr).__name__}, not a single expression.",
            ["give the derivative itself (for example 2*x), not an equation, list or tuple"],
        )
    expr = expr.doit()
    by_name = {str(v): v for v in variables}
    strangers = sorted(str(s) for s in expr.free_symbols if str(s) not in by_name)
    if strangers:
        raise CheckFailure(
            f"{name} uses symbols the exercise does not have.",
            [f"unexpected : {', '.join(strangers)}", f"use only    : {names}"],
        )
    expr = expr.subs({s: by_name[str(s)] for s in expr.free_symbols}, simultaneous=True)
    if sympy.simplify(expr - expected) == 0:
        return
    points = _sample_points(len(variables))
    got_values = [_numeric(expr, variables, p) for p in points]
    exp_values = [_numeric(expected, variables, p) for p in points]
    agree = [_close(g, e) for g, e in zip(got_values, exp_values)]
    if all(agree):
        return  # equal where it matters; SymPy's simplify just could not prove it
    where = agree.index(False)
    at = ", ".join(f"{v} = {p}" for v, p in zip(variables, points[where]))
    details = [
        f"at             : {at}",
        f"expected value : {exp_values[where]:.12g}",
        f"your value     : {got_values[where]:.12g}",
        f"relative error : {_rel(got_values[where], exp_values[where])}",
        f"your answer    : {expr}",
    ]
    for description, wrong in (mistakes or {}).items():
        wrong_values = [_numeric(wrong, variables, p) for p in points]
        if all(_close(g, w) for g, w in zip(got_values, wrong_values)):
            details.append(f"likely mistake : {description}")
            break
    raise CheckFailure(f"{name} is not equivalent to the derivative asked for.", details)


def symbol_x():
    """The SymPy symbol ``x`` the exercises use."""
    import sympy

    return sympy.Symbol("x")
