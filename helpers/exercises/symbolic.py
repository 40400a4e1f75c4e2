"""Symbolic answers: a SymPy expression checked by equivalence, never by its string.

Shared by the checker modules whose exercises ask for a SymPy expression (Lessons 01, 02 and 03):
``4*x*cos(2*x**2)`` and ``2*x*2*cos(2*x**2)`` are the same answer.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from typing import Any

from ..checks import CheckFailure, relative_error

_isinstance = isinstance


# Functions a wrong answer can use to agree with the derivative wherever it is sampled and
# differ elsewhere (a Piecewise switching at x = 1e6, a Heaviside step). An answer may use one
# only when the derivative itself does.
_PIECEWISE = (
    "Piecewise Heaviside sign Abs floor ceiling frac Min Max DiracDelta KroneckerDelta Mod "
    "re im arg conjugate"
).split()
MAX_OPERATIONS = 2000  # a larger expression is refused, not checked: it could take minutes
PROVE_BELOW = 300  # sympy.simplify is tried only on differences with fewer operations
RANDOM_POINTS = 16  # points where both expressions are real that an answer must agree at
MAX_DRAWS = 200  # random points drawn at most to find them (many fall outside a domain)
PRECISION = 30  # digits of the numerical comparison (cancellation in a right answer is fine)


def _sample_points(n_vars: int) -> list[tuple[float, ...]]:
    # Irregular values away from 0 and 1, where many wrong formulas happen to agree. Public:
    # they only choose the message's point; a verdict never rests on them alone.
    base = (0.7, -1.3, 1.9, 0.45, -0.35)
    return [tuple(base[(i + k) % len(base)] for k in range(n_vars)) for i in range(3)]


def _random_point(rng: random.Random, n_vars: int) -> tuple[float, ...]:
    """Half the coordinates near the origin, half over four decades, either sign."""

    def one() -> float:
        if rng.random() < 0.5:
            return rng.uniform(-3.0, 3.0)
        return rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-2.0, 2.0)

    return tuple(one() for _ in range(n_vars))


def _numeric(expr: Any, variables: Sequence[Any], point: tuple[float, ...]) -> float:
    """The real value of ``expr`` at ``point``; nan when it has none.

    None: complex, undefined, infinite, or an unknown function in it.
    """
    try:
        value = complex(expr.subs(dict(zip(variables, point))).evalf(PRECISION))
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return math.nan
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        return math.nan
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        return math.nan
    return value.real


def _close(a: float, b: float) -> bool:
    # nan (no real value) never counts as close: written so that nan compares False
    return relative_error(a, b) <= 1e-10


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _rel(a: float, b: float) -> str:
    err = relative_error(a, b)
    return "not a real number" if math.isnan(err) else f"{err:.2e}"


def _proven_equal(expr: Any, expected: Any) -> bool:
    """Whether SymPy proves ``expr == expected`` (tried only where it is cheap to try)."""
    import sympy

    difference = expr - expected
    if difference == 0 or sympy.expand(difference) == 0:
        return True
    if sympy.count_ops(difference) >= PROVE_BELOW:
        return False
    return sympy.simplify(difference) == 0


def _mismatch(expr, expected, variables, points) -> tuple[tuple[float, ...], float, float] | None:
    """The first point where the derivative is real and the answer does not agree with it."""
    for point in points:
        want = _numeric(expected, variables, point)
        if math.isnan(want):
            continue  # outside the derivative's domain: nothing to compare
        got = _numeric(expr, variables, point)
        if not _close(got, want):
            return point, want, got
    return None


def _random_mismatch(name: str, expr, expected, variables):
    """A mismatch at points drawn here, where the student cannot know them; or None when the
    answer agrees at :data:`RANDOM_POINTS` of them."""
    rng = random.Random(os.urandom(16))
    compared = 0
    for _ in range(MAX_DRAWS):
        point = _random_point(rng, len(variables))
        found = _mismatch(expr, expected, variables, [point])
        if found is not None:
            return found
        compared += not math.isnan(_numeric(expected, variables, point))
        if compared >= RANDOM_POINTS:
            return None
    raise CheckFailure(
        f"{name} could not be checked.",
        [
            "SymPy cannot prove it equal to the derivative, and the two could not be compared "
            f"at {RANDOM_POINTS} points: write it more simply (sympy.simplify may help)"
        ],
    )


def _refuse_the_uncheckable(name: str, expr: Any, expected: Any) -> None:
    """An answer too large to check, or built from piecewise functions the derivative lacks."""
    import sympy

    size = sympy.count_ops(expr)
    if size > MAX_OPERATIONS:
        raise CheckFailure(
            f"{name} is too large to check ({size} operations).",
            ["simplify it (sympy.simplify) or write the derivative more directly"],
        )
    used = {type(f).__name__ for f in expr.atoms(sympy.Function)}
    used |= {type(f).__name__ for f in expr.atoms(sympy.Piecewise)}
    allowed = {type(f).__name__ for f in expected.atoms(sympy.Function)}
    odd = sorted(n for n in used if n in _PIECEWISE and n not in allowed)
    if odd:
        raise CheckFailure(
            f"{name} uses {', '.join(odd)}, which the derivative asked for does not need.",
            ["write the derivative as one formula, without cases, steps or absolute values"],
        )


def _symbolic(name: str, got: Any, variables: Sequence[Any]) -> Any:
    """``got`` as a SymPy expression in ``variables`` (matched by name), or a CheckFailure."""
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
    return expr.subs({s: by_name[str(s)] for s in expr.free_symbols}, simultaneous=True)


def check_expression(
    name: str,
    got: Any,
    expected: Any,
    variables: Sequence[Any],
    *,
    mistakes: dict[str, Any] | None = None,
) -> None:
    """Require a SymPy expression equivalent to ``expected``.

    Equivalent means proven equal by SymPy (``expand`` or, for expressions small enough to
    simplify quickly, ``simplify`` of the difference is 0), or - where SymPy cannot decide -
    equal to a relative 1e-10 at :data:`RANDOM_POINTS` points drawn afresh from ``os.urandom``
    for each check, wherever the derivative is real. Fixed public points are compared first,
    only so that the message of a plain mistake names the same point on every run. Symbols are
    matched by name, so ``Symbol('x', real=True)`` counts as ``x``. Answers of more than
    :data:`MAX_OPERATIONS` operations, or using a piecewise function the derivative does not
    use, are refused. The message never shows the expected formula, only its value at a point.
    """
    expr = _symbolic(name, got, variables)
    _refuse_the_uncheckable(name, expr, expected)
    if _proven_equal(expr, expected):
        return
    points = _sample_points(len(variables))
    found = _mismatch(expr, expected, variables, points)
    if found is None:
        found = _random_mismatch(name, expr, expected, variables)
        if found is None:
            return  # equal wherever we looked, and SymPy could not prove it: accepted
    point, want, value = found
    at = ", ".join(f"{v} = {p:.6g}" for v, p in zip(variables, point))
    details = [
        f"at             : {at}",
        f"expected value : {want:.12g}",
        f"your value     : {value:.12g}",
        f"relative error : {_rel(value, want)}",
        f"your answer    : {_clip(str(expr))}",
    ]
    for description, wrong in (mistakes or {}).items():
        if _mismatch(expr, wrong, variables, points) is None:
            details.append(f"likely mistake : {description}")
            break
    raise CheckFailure(f"{name} is not equivalent to the derivative asked for.", details)


def symbol_x():
    """The SymPy symbol ``x`` the exercises use."""
    import sympy

    return sympy.Symbol("x")
