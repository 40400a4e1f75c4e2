"""Lesson 02's checkers (helpers.exercises.chain_rule): right in every form, and say why when not.

The lesson harness (test_lessons.py) proves through nbgrader that fixtures gain or lose points;
these tests pin down the rest of the contract quickly: the references the checkers compare
with are themselves right (against central differences and SymPy), equivalent answers pass,
and each typical mistake is named in the message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import helpers
from helpers.checks import CheckFailure
from helpers.exercises import chain_rule as ex

x = sympy.Symbol("x")


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def failure(checker, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as caught:
        checker(*args, **kwargs)
    return str(caught.value)


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    "case", [(1.5, 0.8, -1.3, 0.5), (-0.6, 2.0, 0.7, -0.2), (3.0, -0.4, 1.7, 2.0)]
)
def test_tanh_network_reference_agrees_with_central_differences(case):
    x0, w1, w2, y = case
    numeric = helpers.gradient(lambda w: (w[1] * np.tanh(w[0] * x0) - y) ** 2, np.array([w1, w2]))
    assert helpers.relative_error(np.array(ex.tanh_network_reference(*case)), numeric) < 1e-8


@pytest.mark.parametrize("x0", [0.9, -0.4, 1.7, -1.1])
def test_fork_reference_agrees_with_central_differences(x0):
    def loss(t):
        u = 3 * t - 1
        return u**2 * np.sin(u)

    assert helpers.relative_error(right_fork(x0), helpers.central_difference(loss, x0)) < 1e-8
    ex.expect_fork_gradient(right_fork, x0)


@pytest.mark.parametrize("weights", [(1.5, -2.0, 0.7), (0.9, 2.5, -1.1, 1.8), (-0.5,)])
def test_chain_reference_agrees_with_central_differences(weights):
    w = np.array(weights)
    numeric = helpers.gradient(lambda v: ex.chain_forward(0.8, v)[-1], w)
    assert helpers.relative_error(ex.chain_gradients_reference(0.8, w), numeric) < 1e-7


# --------------------------------------------------------------------------- symbolic answers


@pytest.mark.parametrize(
    "answer",
    [
        3 * sympy.cos(3 * x) * sympy.exp(sympy.sin(3 * x)),
        sympy.exp(sympy.sin(3 * x)) * sympy.cos(3 * x) * 3,
        3 * (4 * sympy.cos(x) ** 3 - 3 * sympy.cos(x)) * sympy.exp(sympy.sin(3 * x)),
        sympy.Derivative(sympy.exp(sympy.sin(3 * x)), x),
    ],
    ids=["textbook", "unsimplified", "trig identity", "unevaluated Derivative"],
)
def test_symbolic_answer_accepts_every_equivalent_form(answer):
    ex.check_derivative_exp_sin(answer)


def test_symbolic_answer_matches_symbols_by_name_not_by_assumptions():
    t = sympy.Symbol("x", real=True)
    ex.check_derivative_exp_sin(sympy.diff(sympy.exp(sympy.sin(3 * t)), t))


@pytest.mark.parametrize(
    "answer, diagnosis",
    [
        (sympy.cos(3 * x) * sympy.exp(sympy.sin(3 * x)), "innermost factor"),
        (3 * sympy.exp(sympy.sin(3 * x)), "middle factor"),
        (sympy.exp(sympy.sin(3 * x)), "itself"),
        (3 * sympy.cos(3 * x) * sympy.exp(sympy.cos(3 * x)), "keeps its inside"),
    ],
)
def test_symbolic_answer_names_the_likely_mistake(answer, diagnosis):
    message = failure(ex.check_derivative_exp_sin, answer)
    assert "likely mistake" in message and diagnosis in message
    assert "expected value" in message and "relative error" in message


def test_symbolic_answer_never_shows_the_expected_formula():
    message = failure(ex.check_derivative_exp_sin, sympy.exp(sympy.sin(3 * x)))
    assert str(3 * sympy.cos(3 * x) * sympy.exp(sympy.sin(3 * x))) not in message


@pytest.mark.parametrize(
    "answer, summary",
    [
        ("3*cos(3*x)*exp(sin(3*x))", "is a string"),
        (None, "is None"),
        (lambda v: 4 * v, "is a Python function"),
        ((4 * x, sympy.cos(x)), "not a single expression"),
        (3 * sympy.Symbol("t") * sympy.cos(3 * x), "symbols the exercise does not have"),
    ],
    ids=["string", "None", "lambda", "tuple", "stranger symbol"],
)
def test_symbolic_answer_of_the_wrong_kind_gets_a_clear_summary(answer, summary):
    assert summary in failure(ex.check_derivative_exp_sin, answer).splitlines()[0]


def test_symbolic_answer_without_a_real_value_fails_with_a_message():
    message = failure(ex.check_derivative_exp_sin, sympy.sqrt(x - 5))
    assert "not a real number" in message


@pytest.mark.parametrize(
    "answer",
    [
        (sympy.cos(x) * (1 + x**2) - 2 * x * sympy.sin(x)) / (1 + x**2) ** 2,
        sympy.diff(sympy.sin(x) * (1 + x**2) ** -1, x),
    ],
)
def test_quotient_answer_accepts_both_rule_forms(answer):
    ex.check_derivative_quotient(answer)


def test_quotient_answer_names_the_unsquared_denominator():
    answer = (sympy.cos(x) * (1 + x**2) - 2 * x * sympy.sin(x)) / (1 + x**2)
    assert "must be squared" in failure(ex.check_derivative_quotient, answer)


# --------------------------------------------------------------------------- sigmoid derivative


@pytest.mark.parametrize(
    "fn",
    [
        lambda z: sig(z) * (1 - sig(z)),
        lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
        lambda z: 0.25 / np.cosh(np.asarray(z) / 2) ** 2,
    ],
    ids=["s(1-s)", "e^-z/(1+e^-z)^2", "sech^2"],
)
def test_sigmoid_derivative_accepts_every_correct_formula(fn):
    ex.check_sigmoid_derivative(fn)
    for z in (-0.7, 2.6, 5.0, [[-2.5, 0.2], [1.1, -6.0]]):
        ex.expect_sigmoid_derivative(fn, z)


@pytest.mark.parametrize(
    "fn, diagnosis",
    [
        (sig, "this is sigma(z), not its derivative"),
        (lambda z: z * (1 - z), "applied s * (1 - s) to z itself"),
        (lambda z: 1 - sig(z) ** 2, "tanh"),
        (lambda z: np.exp(-z) / (1 + np.exp(-z)), "must be squared"),
    ],
)
def test_sigmoid_derivative_names_the_likely_mistake(fn, diagnosis):
    assert diagnosis in failure(ex.check_sigmoid_derivative, fn)


def test_sigmoid_derivative_with_math_exp_is_told_to_use_numpy():
    def scalar_only(z):
        s = 1 / (1 + math.exp(-z))
        return s * (1 - s)

    assert "np.exp works on whole arrays" in failure(ex.check_sigmoid_derivative, scalar_only)


def test_sigmoid_derivative_that_changes_its_input_is_caught():
    def in_place(z):
        z = np.asarray(z, dtype=float)
        z *= 1.0 if z.ndim == 0 else -1.0
        return sig(-z) * (1 - sig(-z))

    assert "modified its input" in failure(ex.check_sigmoid_derivative, in_place)


def test_unwritten_answer_says_it_is_not_written_yet():
    def sigmoid_derivative(z):
        raise NotImplementedError()

    assert "not written yet" in failure(ex.check_sigmoid_derivative, sigmoid_derivative)


# --------------------------------------------------------------------------- tanh network


def right_tanh_network(x0, w1, w2, y):
    a = np.tanh(w1 * x0)
    d = 2 * (w2 * a - y)
    return d * w2 * (1 - a**2) * x0, d * a


@pytest.mark.parametrize("wrap", [tuple, list, np.array], ids=["tuple", "list", "array"])
def test_tanh_network_accepts_any_pair_container(wrap):
    ex.check_tanh_network_gradients(lambda *a: wrap(right_tanh_network(*a)))


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda *a: right_tanh_network(*a)[::-1], "order is (dL/dw1, dL/dw2)"),
        (
            lambda *a: (right_tanh_network(*a)[0] / a[0], right_tanh_network(*a)[1]),
            "factor x from dz1/dw1",
        ),
        (lambda *a: (right_tanh_network(*a)[0] / a[2], right_tanh_network(*a)[1]), "factor w2"),
        (lambda *a: tuple(g / 2 for g in right_tanh_network(*a)), "factor 2"),
        (lambda *a: tuple(-g for g in right_tanh_network(*a)), "sign is flipped"),
    ],
    ids=["swapped", "no x", "no w2", "no 2", "sign"],
)
def test_tanh_network_names_the_likely_mistake(wrong, diagnosis):
    assert diagnosis in failure(ex.check_tanh_network_gradients, wrong)


def test_tanh_network_returning_one_number_is_told_to_return_two():
    assert "two numbers" in failure(
        ex.check_tanh_network_gradients, lambda *a: right_tanh_network(*a)[0]
    )


# --------------------------------------------------------------------------- a value used twice


def right_fork(t):
    u = 3 * t - 1
    return 3 * (2 * u * np.sin(u) + u**2 * np.cos(u))


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda t: 3 * 2 * (3 * t - 1) * np.sin(3 * t - 1), "only the path through p"),
        (lambda t: 3 * (3 * t - 1) ** 2 * np.cos(3 * t - 1), "only the path through q"),
        (lambda t: right_fork(t) / 3, "forgot du/dx"),
    ],
    ids=["path p only", "path q only", "no du/dx"],
)
def test_fork_gradient_names_the_likely_mistake(wrong, diagnosis):
    assert diagnosis in failure(ex.check_fork_gradient, wrong)


def test_fork_gradient_returning_none_is_told_so():
    assert "returned None" in failure(ex.check_fork_gradient, lambda t: None)


# ---------------------------------------------------------------- numerical gradients and the chain


def central_network(x0, w1, w2, y, h=1e-5):
    def L(a, b):
        return (b * np.tanh(a * x0) - y) ** 2

    return (L(w1 + h, w2) - L(w1 - h, w2)) / (2 * h), (L(w1, w2 + h) - L(w1, w2 - h)) / (2 * h)


def forward_network(x0, w1, w2, y, h=1e-5):
    def L(a, b):
        return (b * np.tanh(a * x0) - y) ** 2

    return (L(w1 + h, w2) - L(w1, w2)) / h, (L(w1, w2 + h) - L(w1, w2)) / h


def test_numerical_tanh_gradients_accepts_central_differences_with_the_given_step():
    ex.check_numerical_tanh_gradients(central_network)


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (forward_network, "forward difference"),
        (
            lambda x0, w1, w2, y, h=1e-5: central_network(x0, w1, w2, y),
            "step h passed in was not used",
        ),
        (
            lambda x0, w1, w2, y, h=1e-5: tuple(2 * g for g in central_network(x0, w1, w2, y, h)),
            "instead of 2h",
        ),
    ],
    ids=["forward", "h ignored", "divided by h"],
)
def test_numerical_tanh_gradients_names_the_likely_mistake(wrong, diagnosis):
    assert diagnosis in failure(ex.check_numerical_tanh_gradients, wrong)


def test_chain_gradients_accepts_finite_differences_of_the_forward_pass():
    ex.check_chain_gradients(
        lambda x0, w: helpers.gradient(lambda v: ex.chain_forward(x0, v)[-1], w)
    )


@pytest.mark.parametrize(
    "part, diagnosis",
    [("no_input", "factor a_(k-1)"), ("no_weight", "factor w_k")],
)
def test_chain_gradients_names_a_missing_factor(part, diagnosis):
    def wrong(x0, weights):
        return ex._chain_parts(x0, weights)[part]

    assert diagnosis in failure(ex.check_chain_gradients, wrong)


def test_chain_gradients_names_the_reversed_order():
    assert "reversed" in failure(
        ex.check_chain_gradients, lambda x0, w: ex.chain_gradients_reference(x0, w)[::-1]
    )


# --------------------------------------------------------------------------- quiz


def test_quiz_check_accepts_python_and_numpy_booleans():
    ex.check_quiz(True, np.bool_(False), False, True)


@pytest.mark.parametrize("value", [None, "True", 1])
def test_quiz_check_rejects_anything_but_a_boolean(value):
    assert "must be True or False" in failure(ex.check_quiz, True, value, False, True)


# --------------------------------------------------------------------------- issue 24: the texts


def test_sigmoid_derivative_of_an_array_is_an_array_of_its_shape():
    def as_list(z):
        if np.ndim(z) == 0:
            return sig(z) * (1 - sig(z))
        return [sig(t) * (1 - sig(t)) for t in np.ravel(z)]

    assert "must return a NumPy array" in failure(ex.check_sigmoid_derivative, as_list)


def test_sigmoid_derivative_fitted_to_vectors_passes_visibly_and_fails_the_hidden_matrix():
    # The course demo's "mistake only a hidden check finds" (autograder/sample_mistakes.py).
    def vector_loop(z):
        if np.ndim(z) == 0:
            return sig(z) * (1 - sig(z))
        out = np.zeros(len(z))
        for i in range(len(z)):
            out[i] = sig(z[i]) * (1 - sig(z[i]))
        return out

    ex.check_sigmoid_derivative(vector_loop)
    assert "raised ValueError" in failure(
        ex.expect_sigmoid_derivative, vector_loop, [[-2.5, 0.2], [1.1, -6.0]]
    )


def test_sigmoid_derivative_in_float32_is_told_so():
    message = failure(
        ex.check_sigmoid_derivative,
        lambda z: sig(np.asarray(z, dtype=np.float32)) * (1 - sig(np.asarray(z, dtype=np.float32))),
    )
    assert "float32" in message


def test_chain_gradients_returns_a_numpy_array():
    assert "must return a NumPy array" in failure(
        ex.check_chain_gradients, lambda x0, w: list(ex.chain_gradients_reference(x0, w))
    )


@pytest.mark.parametrize("default", [1e-4, 1e-3])
def test_numerical_tanh_gradients_default_step_is_tested(default):
    def other_default(x0, w1, w2, y, h=default):
        return central_network(x0, w1, w2, y, h)

    message = failure(ex.check_numerical_tanh_gradients, other_default)
    # The evidence names the step only when it can tell it apart; it never blames a formula.
    assert "forward difference" not in message


def test_a_mistake_close_to_the_right_value_is_not_named():
    # A forward difference at h = 1e-5 is within 1e-5 of the central one: a slightly wrong
    # answer must not be told it is a forward difference.
    def slightly_off(x0, w1, w2, y, h=1e-5):
        return tuple(g * (1 + 3e-7) for g in central_network(x0, w1, w2, y, h))

    message = failure(ex.check_numerical_tanh_gradients, slightly_off)
    assert "likely mistake" not in message


# --------------------------------------------------------------------------- student report 02


def _tanh_with(local):
    def answer(x, w1, w2, y_true):
        a = np.tanh(w1 * x)
        d = 2 * (w2 * a - y_true)
        return d * w2 * local(x, w1) * x, d * a

    return answer


@pytest.mark.parametrize(
    ("local", "named"),
    [
        (lambda x, w1: sig(w1 * x) * (1 - sig(w1 * x)), "kept the sigmoid's derivative"),
        (lambda x, w1: 1 - np.tanh(w1 * x), "forgot the square"),
        (lambda x, w1: 1 - np.tanh(x) ** 2, "took tanh' at x"),
    ],
)
def test_tanh_network_gradients_names_the_wrong_local_derivative(local, named):
    message = failure(ex.check_tanh_network_gradients, _tanh_with(local))
    assert f"likely mistake : {named}" in message


def test_a_one_element_array_for_a_number_is_told_the_shape_not_the_calculus():
    def one_element(z):
        return np.atleast_1d(sig(z) * (1 - sig(z)))

    message = failure(ex.check_sigmoid_derivative, one_element)
    assert "wrong shape" in message and "one number is expected" in message
    assert "peaks at 0.25" not in message

    def fork_one_element(x):
        u = 3 * x - 1
        return np.array([3 * (2 * u * np.sin(u) + u**2 * np.cos(u))])

    message = failure(ex.check_fork_gradient, fork_one_element)
    assert "one number is expected" in message and "u feeds two nodes" not in message


def test_an_input_changed_in_place_is_named_by_position_not_as_x():
    def in_place(z):
        z = np.asarray(z)
        if z.ndim:
            z *= 0.5
            z += 0.5
        return sig(z) * (1 - sig(z))

    message = failure(ex.check_sigmoid_derivative, in_place)
    assert "modified its input" in message and "copy of argument 1" in message
    assert "x.copy()" not in message
