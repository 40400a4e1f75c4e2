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

from ..checks import CheckFailure

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
PRECISION = 50  # digits of the numerical comparison: 30 to spare for a right answer's cancellation
# Agreement at a point: relative error at most this. An exact answer (no floats in it) agrees
# with the derivative to ~1e-45 at 50 digits; one with Python floats (0.1) only to ~1e-16.
EXACT_TOLERANCE = 1e-20
FLOAT_TOLERANCE = 1e-12
# The size of any constant in an answer (a number, or a part without symbols such as exp(100)).
# A switch hidden in an answer (|2x + c| - c) sits where x is about as large as its constants,
# and the points are drawn up to SAMPLE_REACH, far beyond: no switch can hide from them.
MAX_CONSTANT = 1e6
SAMPLE_REACH = 8.0  # random points reach |x| = 10**SAMPLE_REACH


def _sample_points(n_vars: int) -> list[tuple[float, ...]]:
    # Irregular values away from 0 and 1, where many wrong formulas happen to agree. Public:
    # they only choose the message's point; a verdict never rests on them alone.
    base = (0.7, -1.3, 1.9, 0.45, -0.35)
    return [tuple(base[(i + k) % len(base)] for k in range(n_vars)) for i in range(3)]


def _random_point(rng: random.Random, n_vars: int) -> tuple[float, ...]:
    """Half the coordinates near the origin, half over ten decades up to 10**SAMPLE_REACH."""

    def one() -> float:
        if rng.random() < 0.5:
            return rng.uniform(-3.0, 3.0)
        return rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-2.0, SAMPLE_REACH)

    return tuple(one() for _ in range(n_vars))


def _numeric(expr: Any, variables: Sequence[Any], point: tuple[float, ...]) -> Any:
    """The real value of ``expr`` at ``point`` to :data:`PRECISION` digits; nan when it has none.

    None: complex, undefined, infinite, or an unknown function in it. The point's floats are
    taken exactly, so two equivalent expressions see the same number.
    """
    import sympy

    at = {v: sympy.Float(p, PRECISION) for v, p in zip(variables, point)}
    try:
        value = sympy.N(expr, PRECISION, subs=at)
        real, imag = value.as_real_imag()
        real, imag = sympy.Float(real, PRECISION), sympy.Float(imag, PRECISION)
    except (TypeError, ValueError, ArithmeticError, RecursionError, AttributeError):
        return math.nan
    if not (real.is_finite and imag.is_finite):
        return math.nan
    if abs(imag) > 1e-12 * max(1, abs(real)):
        return math.nan
    return real


def _close(a: Any, b: Any, tolerance: float = 1e-10) -> bool:
    # nan (no real value) never counts as close: written so that nan compares False
    return _relative(a, b) <= tolerance


def _relative(a: Any, b: Any) -> float:
    """|a - b| / max(|a|, |b|) in the numbers' own precision; 0 for two zeros, nan for a nan."""
    if _isinstance(a, float) and math.isnan(a) or _isinstance(b, float) and math.isnan(b):
        return math.nan
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else float(abs(a - b) / scale)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _rel(a: Any, b: Any) -> str:
    err = _relative(a, b)
    return "not a real number" if math.isnan(err) else f"{err:.2e}"


def _decided(expr: Any, expected: Any, variables: Sequence[Any]) -> bool | None:
    """True when SymPy proves ``expr == expected``, False when it proves them different, None
    when it cannot tell (then the points decide). Tried only where it is cheap to try.

    A difference that simplifies to a nonzero rational function of the symbols is a proof:
    rational functions have a canonical form, so ``(x/1000)**12`` cannot hide a zero.
    """
    import sympy

    difference = expr - expected
    if difference == 0 or sympy.expand(difference) == 0:
        return True
    if sympy.count_ops(difference) >= PROVE_BELOW:
        return None
    reduced = sympy.simplify(difference)
    if reduced == 0:
        return True
    if reduced.is_rational_function(*variables):
        return False
    return None


def _mismatch(
    expr, expected, variables, points, tolerance: float = 1e-10
) -> tuple[tuple[float, ...], float, float] | None:
    """The first point where the derivative is real and the answer does not agree with it."""
    for point in points:
        want = _numeric(expected, variables, point)
        if math.isnan(want):
            continue  # outside the derivative's domain: nothing to compare
        got = _numeric(expr, variables, point)
        if not _close(got, want, tolerance):
            return point, want, got
    return None


def _tolerance(*exprs: Any) -> float:
    import sympy

    return FLOAT_TOLERANCE if any(e.atoms(sympy.Float) for e in exprs) else EXACT_TOLERANCE


def _random_mismatch(name: str, expr, expected, variables):
    """A mismatch at points drawn here, where the student cannot know them; or None when the
    answer agrees at :data:`RANDOM_POINTS` of them."""
    rng = random.Random(os.urandom(16))
    compared, tolerance = 0, _tolerance(expr, expected)
    for _ in range(MAX_DRAWS):
        point = _random_point(rng, len(variables))
        found = _mismatch(expr, expected, variables, [point], tolerance)
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
    big = _largest_constant(expr)
    if big > MAX_CONSTANT:
        raise CheckFailure(
            f"{name} holds a constant of size {big:.3g}, larger than a derivative here needs.",
            [f"the numbers in your answer should stay below {MAX_CONSTANT:g} in size"],
        )


def _largest_constant(expr: Any) -> float:
    """The largest size of a number, or of a part without symbols (exp(100)), in ``expr``."""
    import sympy

    largest = 0.0
    for part in sympy.preorder_traversal(expr):
        if part.free_symbols or not part.is_number:
            continue
        try:
            value = abs(complex(part.evalf(15)))
        except (TypeError, ValueError, ArithmeticError, OverflowError):
            return math.inf
        largest = max(largest, value if math.isfinite(value) else math.inf)
    return largest


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


def _as_real(expr: Any, variables: Sequence[Any]) -> tuple[Any, list[Any]]:
    """``expr`` over real symbols of the same names: sqrt(z**2) becomes Abs(z) by itself."""
    import sympy

    real = [sympy.Symbol(str(v), real=True) for v in variables]
    return expr.subs(dict(zip(variables, real)), simultaneous=True), real


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
    simplify quickly, ``simplify`` of the difference is 0). A difference that simplifies to a
    nonzero rational function is proof of a wrong answer. Where SymPy cannot decide, the two
    must agree at :data:`RANDOM_POINTS` points drawn afresh from ``os.urandom`` for each check,
    reaching ``|x| = 10**SAMPLE_REACH``, wherever the derivative is real, to a relative
    :data:`EXACT_TOLERANCE` at :data:`PRECISION` digits (:data:`FLOAT_TOLERANCE` when floats
    are in them). Fixed public points are compared first, only so that the message of a plain
    mistake names the same point on every run. Symbols are matched by name and taken as real
    (so ``sqrt(z**2)`` is ``Abs(z)``). Refused with a message: answers of more than
    :data:`MAX_OPERATIONS` operations, using a piecewise function the derivative does not use,
    or holding a constant larger than :data:`MAX_CONSTANT`. The message never shows the
    expected formula, only its value at a point.
    """
    expr, real = _as_real(_symbolic(name, got, variables), variables)
    expected, _ = _as_real(expected, variables)
    mistakes = {d: _as_real(w, variables)[0] for d, w in (mistakes or {}).items()}
    variables = real
    _refuse_the_uncheckable(name, expr, expected)
    decided = _decided(expr, expected, variables)
    if decided is True:
        return
    points = _sample_points(len(variables))
    found = _mismatch(expr, expected, variables, points)
    if found is None and decided is None:
        found = _random_mismatch(name, expr, expected, variables)
        if found is None:
            return  # equal wherever we looked, and SymPy could not prove it: accepted
    if found is None:  # proven different, yet equal at the public points: show a point
        found = _random_mismatch(name, expr, expected, variables) or (
            points[0],
            _numeric(expected, variables, points[0]),
            _numeric(expr, variables, points[0]),
        )
    point, want, value = found
    at = ", ".join(f"{v} = {p:.6g}" for v, p in zip(variables, point))
    details = [
        f"at             : {at}",
        f"expected value : {float(want):.12g}",
        f"your value     : {float(value):.12g}",
        f"relative error : {_rel(value, want)}",
        f"your answer    : {_clip(str(expr))}",
    ]
    for description, wrong in mistakes.items():
        if _mismatch(expr, wrong, variables, points) is None:
            details.append(f"likely mistake : {description}")
            break
    raise CheckFailure(f"{name} is not equivalent to the derivative asked for.", details)


def symbol_x():
    """The SymPy symbol ``x`` the exercises use."""
    import sympy

    return sympy.Symbol("x")
