"""Specification of the SymPy answer check (helpers/exercises/symbolic.py, issue 22 class 3).

An answer passes when SymPy proves it equal to the derivative, or - where SymPy cannot
decide - when it agrees at points drawn afresh on the side that runs the check, which the
student cannot know. Three fixed public points only choose the point a message names.
"""

from __future__ import annotations

import pytest
import sympy

from helpers.checks import CheckFailure
from helpers.exercises import symbolic

x, y = sympy.symbols("x y")
EXPECTED = 3 * sympy.cos(3 * x) * sympy.exp(sympy.sin(3 * x))
PUBLIC = [p[0] for p in symbolic._sample_points(1)]


def failure(got, expected=EXPECTED, variables=(x,)) -> str:
    with pytest.raises(CheckFailure) as caught:
        symbolic.check_expression("d", got, expected, list(variables))
    return str(caught.value)


def vanishing_at_the_public_points():
    """A polynomial that is 0 at every public sample point and nowhere else near them."""
    poly = sympy.Integer(1)
    for p in PUBLIC:
        poly *= x - sympy.Rational(str(p))
    return poly


def test_an_answer_equal_only_at_the_public_points_is_refused():
    wrong = EXPECTED + vanishing_at_the_public_points()
    assert "not equivalent" in failure(wrong)


def test_a_disguised_wrong_answer_that_simplify_cannot_decide_is_refused():
    # exp(x)*cos-type terms that vanish at the public points, written so expand() keeps them
    bump = sympy.sin(sympy.pi * (x - sympy.Rational(7, 10))) * vanishing_at_the_public_points()
    assert "not equivalent" in failure(EXPECTED + bump / 1000)


def test_a_piecewise_answer_right_only_where_it_is_sampled_is_refused():
    wrong = sympy.Piecewise((EXPECTED, x < 10**6), (0, True))
    assert "Piecewise" in failure(wrong)


def test_a_step_function_answer_is_refused():
    wrong = EXPECTED * sympy.Heaviside(10**6 - x)
    assert "Heaviside" in failure(wrong)


def test_an_expression_too_large_to_check_is_refused_quickly():
    huge = EXPECTED + sum(sympy.sin(k * x) - sympy.sin(k * x) for k in range(1))
    big = sympy.Add(*[x**k for k in range(symbolic.MAX_OPERATIONS)], evaluate=False)
    assert "too large to check" in failure(big)
    symbolic.check_expression("d", huge, EXPECTED, [x])


def test_a_right_answer_simplify_cannot_prove_passes_at_random_points(monkeypatch):
    monkeypatch.setattr(symbolic, "PROVE_BELOW", 0)  # no simplify: the points must decide
    right = 3 * (4 * sympy.cos(x) ** 3 - 3 * sympy.cos(x)) * sympy.exp(sympy.sin(3 * x))
    symbolic.check_expression("d", right, EXPECTED, [x])


def test_the_random_points_differ_from_one_check_to_the_next():
    import random

    a = symbolic._random_point(random.Random(1), 2)
    b = symbolic._random_point(random.Random(2), 2)
    assert a != b and len(a) == 2


def test_a_right_answer_in_two_variables_passes():
    expected = 2 * x + 2 * y
    symbolic.check_expression("d", 2 * (x + y), expected, [x, y])


def test_a_plain_mistake_names_a_public_point_every_time():
    message = failure(sympy.exp(sympy.sin(3 * x)))
    assert f"x = {PUBLIC[0]:.6g}" in message


def test_a_term_negligible_wherever_points_were_drawn_before_is_refused():
    # a nonzero rational difference is a proof, whatever points are drawn
    assert "not equivalent" in failure(2 * x + 3 + (x / 1000) ** 12, 2 * x + 3)


def test_an_absolute_value_written_as_a_root_is_refused():
    wrong = sympy.sqrt((2 * x + 1003) ** 2) - 1000
    assert "Abs" in failure(wrong, 2 * x + 3)


def test_a_switch_built_from_a_huge_constant_is_refused():
    # exp(100) is a constant of size 3e43: a switch at x = -1e43 could hide behind it
    assert symbolic._largest_constant(2 * x + sympy.exp(100)) > 1e43
    wrong = 2 * x + 3 + sympy.sin(sympy.exp(100) * x) / sympy.exp(100)
    assert "constant of size" in failure(wrong, 2 * x + 3)


def test_a_right_answer_with_float_constants_passes():
    symbolic.check_expression("d", 0.5 * x * 4 + 3.0, 2 * x + 3, [x])
