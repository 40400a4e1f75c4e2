"""Lesson 03's checkers (helpers.exercises.gradients): right in every form, and say why when not.

The lesson harness (test_lessons.py) proves through nbgrader that fixtures gain or lose points;
these tests pin down the rest: the exact Jacobian and Hessian the checkers compare with agree
with SymPy, every correct stencil passes, and each typical mistake is named in the message.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import helpers
from helpers.checks import CheckFailure
from helpers.exercises import gradients as ex


def failure(checker, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as caught:
        checker(*args, **kwargs)
    return str(caught.value)


# ------------------------------------------------------------------ references against SymPy

X = sympy.symbols("x0:3")


@pytest.mark.parametrize("point", [(0.7, -1.2, 0.4), (-0.3, 0.9, 1.4), (1, 2, 0)])
def test_jacobian_reference_agrees_with_sympy(point):
    F = sympy.Matrix([X[0] ** 2 * X[1] + X[2], sympy.sin(X[1]) * sympy.exp(X[2]) + X[0] * X[2]])
    exact = np.array(F.jacobian(X).subs(dict(zip(X, point))).evalf(), dtype=float)
    assert helpers.relative_error(ex._F_jacobian(point), exact) < 1e-14
    assert (
        helpers.relative_error(
            ex._F(np.array(point, dtype=float)),
            np.array(F.subs(dict(zip(X, point))).evalf(), dtype=float).ravel(),
        )
        < 1e-14
    )


@pytest.mark.parametrize("point", [(0.5, -0.3, 0.8), (-0.6, 0.2, 1.3)])
def test_hessian_reference_agrees_with_sympy(point):
    f = X[0] ** 2 * X[1] + sympy.sin(X[0] * X[2]) + sympy.exp(X[1]) * X[2]
    exact = np.array(sympy.hessian(f, X).subs(dict(zip(X, point))).evalf(), dtype=float)
    assert helpers.relative_error(ex._f_hessian(point), exact) < 1e-14


# --------------------------------------------------------------------------- gradient_p and dg_dy


def p_gradient(x, y):
    return np.array([3 * x**2 * y - 4 * y**2, x**3 - 8 * x * y + 3])


@pytest.mark.parametrize(
    "fn",
    [
        p_gradient,
        lambda x, y: [x * (3 * x * y) - 4 * y * y, x * x * x - 8 * y * x + 3],
        lambda x, y: np.array([y * (3 * x**2 - 4 * y), x**3 + 3 - 8 * x * y]),
    ],
    ids=["array", "list", "factored"],
)
def test_gradient_p_accepts_every_exact_form(fn):
    ex.check_gradient_p(fn)


def test_gradient_p_by_finite_differences_is_told_the_exercise_wants_exact_partials():
    def approximate(x, y):
        return helpers.gradient(
            lambda q: q[0] ** 3 * q[1] - 4 * q[0] * q[1] ** 2 + 3 * q[1], np.array([x, y])
        )

    assert "finite-difference approximation" in failure(ex.check_gradient_p, approximate)


@pytest.mark.parametrize(
    "fn, diagnosis",
    [
        (lambda x, y: p_gradient(x, y)[::-1], "partials are swapped"),
        (lambda x, y: -p_gradient(x, y), "negative gradient"),
        (lambda x, y: p_gradient(x, y) + [0, 4 * x * y], "not 4xy"),
        (lambda x, y: p_gradient(x, y) - [0, 3], "term 3y is missing"),
        (lambda x, y: [3 * x**2 - 4 * y**2, p_gradient(x, y)[1]], "y is a constant"),
    ],
)
def test_gradient_p_names_the_likely_mistake(fn, diagnosis):
    assert diagnosis in failure(ex.check_gradient_p, fn)


def test_gradient_p_returning_a_number_is_a_shape_error():
    assert "wrong shape" in failure(ex.check_gradient_p, lambda x, y: 3 * x**2 * y)


def test_gradient_p_returning_none_is_asked_about_return():
    assert "gradient_p returned None" in failure(ex.check_gradient_p, lambda x, y: None)


def test_expect_gradient_p_checks_the_point_it_is_given():
    ex.expect_gradient_p(p_gradient, 0.25, 0.6)
    assert "gradient_p(0.25, 0.6)" in failure(
        ex.expect_gradient_p, lambda x, y: p_gradient(1.0, 1.0), 0.25, 0.6
    )


def test_dg_dy_accepts_a_factored_form():
    x, y = sympy.symbols("x y")
    ex.check_dg_dy(x * (x + sympy.cos(y * x)))


def test_dg_dy_names_the_partial_with_respect_to_the_other_variable():
    x, y = sympy.symbols("x y")
    assert "this is dg/dx" in failure(ex.check_dg_dy, 2 * x * y + y * sympy.cos(x * y))


# --------------------------------------------------------------------------- Jacobian


def central_jacobian(F, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return np.column_stack(
        [(np.asarray(F(x + e)) - np.asarray(F(x - e))) / (2 * h) for e in np.eye(x.size) * h]
    )


def forward_jacobian(F, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return np.column_stack(
        [(np.asarray(F(x + e)) - np.asarray(F(x))) / h for e in np.eye(x.size) * h]
    )


@pytest.mark.parametrize(
    "fn",
    [central_jacobian, lambda F, x, h=1e-5: helpers.jacobian(F, x, h=h)],
    ids=["textbook", "helpers.jacobian with h"],
)
def test_numerical_jacobian_accepts_central_differences(fn):
    ex.check_numerical_jacobian(fn)
    ex.expect_numerical_jacobian(fn, (-0.3, 0.9, 1.4), h=3e-2)


@pytest.mark.parametrize(
    "fn, diagnosis",
    [
        (forward_jacobian, "used a forward difference"),
        (lambda F, x, h=1e-5: central_jacobian(F, x, h).T, "returned the transpose (n, m)"),
        (lambda F, x, h=1e-5: central_jacobian(F, x), "step h passed in was not used"),
        (lambda F, x, h=1e-5: 2 * central_jacobian(F, x, h), "divided by h instead of 2h"),
    ],
    ids=["forward", "transpose", "h ignored", "h not 2h"],
)
def test_numerical_jacobian_names_the_likely_mistake(fn, diagnosis):
    assert diagnosis in failure(ex.check_numerical_jacobian, fn)


def test_numerical_jacobian_that_perturbs_an_integer_copy_is_told_to_convert():
    def in_place(F, x, h=1e-5):
        cols = []
        for j in range(len(x)):
            xp, xm = x.copy(), x.copy()
            xp[j] += h
            xm[j] -= h
            cols.append((F(xp) - F(xm)) / (2 * h))
        return np.column_stack(cols)

    assert "truncated back to whole numbers" in failure(ex.check_numerical_jacobian, in_place)


def test_numerical_jacobian_that_modifies_x_is_caught():
    def modifies(F, x, h=1e-5):
        x = np.asarray(x, dtype=float)
        J = central_jacobian(F, x, h)
        x += 1.0
        return J

    assert "modified its input" in failure(ex.check_numerical_jacobian, modifies)


# --------------------------------------------------------------------------- Hessian


def three_point(f, x, h=1e-4):
    return ex._hessian_stencil(f, np.asarray(x, dtype=float), h, "three_point")


def nested(f, x, h=1e-4):
    x = np.asarray(x, dtype=float)
    E = np.eye(x.size) * h

    def grad(p):
        return np.array([(f(p + e) - f(p - e)) / (2 * h) for e in E])

    return np.array([(grad(x + e) - grad(x - e)) / (2 * h) for e in E])


@pytest.mark.parametrize(
    "fn", [three_point, nested], ids=["3-point and 4-point stencils", "gradient of gradient"]
)
def test_numerical_hessian_accepts_both_usual_central_forms(fn):
    ex.check_numerical_hessian(fn)
    ex.expect_numerical_hessian(fn, (-0.6, 0.2, 1.3), h=5e-2)


@pytest.mark.parametrize(
    "fn, diagnosis",
    [
        (lambda f, x, h=1e-4: np.diag(np.diag(three_point(f, x, h))), "mixed partials missing"),
        (lambda f, x, h=1e-4: np.triu(three_point(f, x, h)), "not symmetric"),
        (
            lambda f, x, h=1e-4: ex._forward_hessian(f, np.asarray(x, dtype=float), h),
            "forward differences",
        ),
        (lambda f, x, h=1e-4: helpers.hessian(f, x), "step h passed in was not used"),
        (lambda f, x, h=1e-4: helpers.gradient(f, x), "looks like a gradient"),
    ],
    ids=["diagonal only", "upper triangle", "forward", "h ignored", "gradient"],
)
def test_numerical_hessian_names_the_likely_mistake(fn, diagnosis):
    assert diagnosis in failure(ex.check_numerical_hessian, fn)


def test_numerical_hessian_that_is_not_symmetric_is_told_so_even_without_a_listed_mistake():
    def lopsided(f, x, h=1e-4):
        H = three_point(f, x, h)
        H[0, 1] += 0.5
        return H

    assert "not symmetric" in failure(ex.check_numerical_hessian, lopsided)


# ------------------------------------------------------------ directional derivative and quiz


def test_directional_derivative_accepts_a_unit_vector_built_by_hand():
    ex.check_directional_derivative(
        lambda g, u: np.asarray(g) @ (np.asarray(u) / np.sqrt(np.sum(np.square(u))))
    )


@pytest.mark.parametrize(
    "fn, diagnosis",
    [
        (lambda g, u: float(np.dot(g, u)), "not normalised"),
        (lambda g, u: float(np.dot(g, u) / np.dot(u, u)), "||u||^2"),
        (lambda g, u: float(np.linalg.norm(g)), "the largest slope"),
    ],
)
def test_directional_derivative_names_the_likely_mistake(fn, diagnosis):
    assert diagnosis in failure(ex.check_directional_derivative, fn)


def test_quiz_check_rejects_none():
    assert "q3_mixed_partials_commute must be True or False" in failure(
        ex.check_quiz, True, True, None, False
    )


def test_quiz_check_wants_every_answer():
    assert "takes the 4 quiz answers" in failure(ex.check_quiz, True, True)


def test_numerical_hessian_returning_none_is_asked_about_return():
    assert "did you forget `return H`" in failure(
        ex.check_numerical_hessian, lambda f, x, h=1e-4: None
    )


def test_numerical_jacobian_returning_none_is_asked_about_return():
    assert "numerical_jacobian returned None" in failure(
        ex.check_numerical_jacobian, lambda F, x, h=1e-5: None
    )


def test_quiz_names_are_the_notebook_answer_names():
    assert ex.QUIZ == (
        "q1_gradient_is_steepest_descent",
        "q2_layer_jacobian_is_W_transposed",
        "q3_mixed_partials_commute",
        "q4_jacobian_rows_are_inputs",
    )


# --------------------------------------------------------------------------- softmax VJP


def vjp(s, g):
    return s * (g - g @ s)


def forms_jacobian(s, g):
    return g @ (np.diag(s) - np.outer(s, s))


@pytest.mark.parametrize(
    "fn",
    [
        vjp,
        lambda s, g: s * g - np.dot(s, g) * s,
        lambda s, g: np.multiply(s, np.subtract(g, np.sum(g * s))),
        lambda s, g: np.array([si * (gi - g @ s) for si, gi in zip(s, g)]),
    ],
    ids=["formula", "expanded", "ufuncs", "loop"],
)
def test_softmax_vjp_accepts_right_answers_in_other_styles(fn):
    ex.check_softmax_vjp(fn)


def test_softmax_vjp_reference_in_helpers_is_the_exercise():
    from helpers import jacobians

    # handed in as a student would: the reference itself is refused as not the student's own
    ex.check_softmax_vjp(lambda s, g: jacobians.softmax_vjp(s, g))


@pytest.mark.parametrize(
    "fn",
    [
        forms_jacobian,
        lambda s, g: (np.diag(s) - s[:, None] * s[None, :]) @ g,
        lambda s, g: g @ helpers_jacobian_of_softmax(s),
    ],
    ids=["diag - outer", "broadcast", "a helper that forms J"],
)
def test_softmax_vjp_that_forms_the_jacobian_fails_the_visible_memory_check(fn):
    message = failure(ex.check_softmax_vjp, fn)
    assert "far too much memory" in message and "formed J" in message
    assert "n = 20,000" in message and "3.2 GB" in message


def helpers_jacobian_of_softmax(s):
    from helpers.jacobians import softmax_jacobian

    return softmax_jacobian(s)


def test_the_memory_limit_leaves_no_trace_function_or_tracemalloc_behind():
    import sys
    import tracemalloc

    before = sys.gettrace()
    failure(ex.check_softmax_vjp, forms_jacobian)
    ex.check_softmax_vjp(vjp)
    assert sys.gettrace() is before
    assert not tracemalloc.is_tracing()


def test_softmax_vjp_memory_error_of_the_grader_is_reported_as_forming_j():
    # In batch grading the kernel's address-space limit raises MemoryError by itself at n = 20,000.
    def out_of_memory(s, g):
        raise MemoryError("Unable to allocate 3.0 GiB for an array with shape (20000, 20000)")

    message = failure(ex.expect_softmax_vjp, out_of_memory, *ex.softmax_case(20_000, seed=4))
    assert "formed J" in message


@pytest.mark.parametrize(
    "fn, diagnosis",
    [
        (lambda s, g: s * g, "s * g is only diag(s) g"),
        (lambda s, g: -vjp(s, g), "the sign is flipped"),
        (lambda s, g: s * g - g @ s, "not the number g . s alone"),
        (lambda s, g: s * (g - g.sum()), "used sum(g)"),
        (lambda s, g: g - g @ s, "the factor s is missing"),
        (lambda s, g: s * (g + g @ s), "added (g . s) s"),
        (lambda s, g: vjp(np.exp(s) / np.exp(s).sum(), g), "softmax was applied to it again"),
        (lambda s, g: s * (1 - s) * g, "sigmoid's derivative"),
    ],
    ids=["diagonal", "sign", "no s", "sum", "no factor", "plus", "softmax again", "sigmoid"],
)
def test_softmax_vjp_names_the_likely_mistake(fn, diagnosis):
    assert diagnosis in failure(ex.check_softmax_vjp, fn)


@pytest.mark.parametrize(
    "fn, problem",
    [
        (lambda s, g: vjp(s, g)[None, :], "came back as a row or a column"),
        (lambda s, g: vjp(s, g)[:, None], "came back as a row or a column"),
        (lambda s, g: list(vjp(s, g)), "must return a NumPy array"),
        (lambda s, g: None, "softmax_vjp returned None"),
        (lambda s, g: np.diag(s) - np.outer(s, s), "returned the Jacobian itself"),
    ],
    ids=["row", "column", "list", "None", "J"],
)
def test_softmax_vjp_shape_and_type_mistakes_are_named(fn, problem):
    assert problem in failure(ex.check_softmax_vjp, fn)


def test_softmax_vjp_that_modifies_g_is_caught():
    def in_place(s, g):
        g -= g @ s
        return s * g

    assert "modified its input array" in failure(ex.check_softmax_vjp, in_place)


def test_softmax_vjp_of_a_constant_gradient_is_zero_up_to_rounding():
    s, _ = ex.softmax_case(50, seed=3, spread=4.0)
    ex.expect_softmax_vjp(lambda s, g: s * g - (g @ s) * s, s, np.full(50, 0.7))
    ex.expect_softmax_vjp(vjp, *ex.softmax_case(1, seed=5))


def test_softmax_vjp_hidden_sizes_run_quickly_for_a_right_answer():
    import time

    start = time.perf_counter()
    ex.expect_softmax_vjp(vjp, *ex.softmax_case(ex.LARGE_N, seed=4))
    assert time.perf_counter() - start < 2.0


def test_helpers_softmax_functions_agree_with_each_other_and_with_finite_differences():
    from helpers.jacobians import softmax, softmax_jacobian, softmax_vjp

    z = np.array([0.3, -1.2, 2.0, 0.5])
    s, g = softmax(z), np.array([1.0, -0.5, 0.25, 2.0])
    J = softmax_jacobian(s)
    assert helpers.relative_error(J, helpers.jacobian(softmax, z)) < 1e-9
    assert helpers.relative_error(softmax_vjp(s, g), g @ J) < 1e-14
    assert np.allclose(J.sum(axis=0), 0.0) and np.allclose(J, J.T)
    assert np.isfinite(softmax([1000.0, 0.0])).all()
    with pytest.raises(ValueError):
        softmax_vjp(s, g[:3])
    with pytest.raises(ValueError):
        softmax(np.zeros((2, 2)))


def test_jacobians_docstring_examples_run():
    import doctest

    import helpers.jacobians

    assert doctest.testmod(helpers.jacobians).failed == 0


def test_numerical_jacobian_on_integers_is_not_blamed_on_truncation_without_evidence():
    def negated(F, x, h=1e-5):
        return -central_jacobian(F, np.asarray(x, dtype=float), h)  # a float copy, wrong sign

    message = failure(ex.expect_numerical_jacobian, negated, np.array([1, 2, 0]))
    assert "truncated" not in message and "expected" in message


def test_a_big_import_in_the_first_small_call_is_not_taken_for_a_jacobian():
    def imports_first(s, g):
        blob = bytearray(40_000_000)  # stands for a large module imported inside the function
        del blob
        return vjp(s, g)

    ex.expect_softmax_vjp(imports_first, *ex.softmax_case(4, seed=1))
