"""The Lesson 04 checkers (helpers.exercises.gradient_descent): right forms pass, mistakes are named.

These run the checkers in process (fast); tests/test_lessons.py runs the same answers through
real nbgrader.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import CheckFailure
from helpers.exercises import gradient_descent as ex


def descend(grad_fn, w0, learning_rate, num_steps):
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for _ in range(num_steps):
        w = w - learning_rate * grad_fn(w)
        path.append(w)
    return np.array(path)


def failure(checker, fn) -> str:
    with pytest.raises(CheckFailure) as info:
        checker(fn)
    return str(info.value)


# --------------------------------------------------------------------------- gradient_descent


def test_gradient_descent_accepts_a_preallocated_path():
    def preallocated(grad_fn, w0, learning_rate, num_steps):
        path = np.empty((num_steps + 1, np.size(w0)))
        path[0] = w0
        for k in range(num_steps):
            path[k + 1] = path[k] - learning_rate * grad_fn(path[k])
        return path

    ex.check_gradient_descent(descend)
    ex.check_gradient_descent(preallocated)


def test_gradient_descent_names_an_added_gradient():
    def ascend(grad_fn, w0, lr, n):
        return descend(lambda w: -grad_fn(w), w0, lr, n)

    assert "added the gradient instead of subtracting it" in failure(
        ex.check_gradient_descent, ascend
    )


def test_gradient_descent_names_returning_only_the_final_point():
    message = failure(ex.check_gradient_descent, lambda g, w0, lr, n: descend(g, w0, lr, n)[-1])
    assert "returned only the final point" in message


def test_gradient_descent_names_a_path_without_w0():
    message = failure(ex.check_gradient_descent, lambda g, w0, lr, n: descend(g, w0, lr, n)[1:])
    assert "does not start with w0" in message


def test_gradient_descent_names_an_aliased_path():
    def aliased(grad_fn, w0, lr, n):
        w = np.array(w0, dtype=float)
        path = [w]
        for _ in range(n):
            w -= lr * grad_fn(w)
            path.append(w)
        return np.array(path)

    assert "append a copy" in failure(ex.check_gradient_descent, aliased)


def test_gradient_descent_catches_a_modified_w0():
    def in_place(grad_fn, w0, lr, n):
        path = [w0.copy()]
        for _ in range(n):
            w0 -= lr * grad_fn(w0)
            path.append(w0.copy())
        return np.array(path)

    assert "modified its input array" in failure(ex.check_gradient_descent, in_place)


def test_gradient_descent_message_gives_input_expected_got_and_relative_error():
    message = failure(ex.check_gradient_descent, lambda g, w0, lr, n: descend(g, w0, 2 * lr, n))
    for part in ("call", "expected", "got", "relative error"):
        assert part in message


# --------------------------------------------------------------------------- learning rate goal


@pytest.mark.parametrize("rate", [0.05, 0.06, 0.07, 2 / 26, np.float64(0.065), 0.0775])
def test_learning_rates_that_meet_the_goal_pass(rate):
    ex.check_chosen_learning_rate(rate)


@pytest.mark.parametrize(
    "rate, reason",
    [(0.08, "diverges"), (0.1, "diverges"), (0.03, "too small"), (0.045, "too small")],
)
def test_learning_rates_that_miss_the_goal_are_explained(rate, reason):
    with pytest.raises(CheckFailure) as info:
        ex.check_chosen_learning_rate(rate)
    assert reason in str(info.value)


@pytest.mark.parametrize("value", ["0.07", None, True, -0.07, float("nan")])
def test_a_learning_rate_must_be_a_positive_number(value):
    with pytest.raises(CheckFailure):
        ex.check_chosen_learning_rate(value)


def test_the_goal_window_lies_below_two_over_L():
    ok = [lr for lr in np.linspace(0.01, 0.09, 801) if ex.run_goal(lr)[-1] < ex.GOAL_LOSS]
    assert 0.045 < min(ok) < 0.05 and 0.077 < max(ok) < 2 / 25


# --------------------------------------------------------------------------- momentum


def heavy_ball(grad_fn, w0, lr, beta, n):
    w = np.array(w0, dtype=float)
    v = np.zeros_like(w)
    path = [w.copy()]
    for _ in range(n):
        v = beta * v - lr * grad_fn(w)
        w = w + v
        path.append(w)
    return np.array(path)


def test_momentum_accepts_both_textbook_forms():
    def accumulated(grad_fn, w0, lr, beta, n):
        w = np.array(w0, dtype=float)
        v = np.zeros_like(w)
        path = [w]
        for _ in range(n):
            v = beta * v + grad_fn(w)
            w = w - lr * v
            path.append(w)
        return np.array(path)

    ex.check_momentum_descent(heavy_ball)
    ex.check_momentum_descent(accumulated)


def test_momentum_names_plain_gradient_descent():
    message = failure(ex.check_momentum_descent, lambda g, w0, lr, beta, n: descend(g, w0, lr, n))
    assert "plain gradient descent" in message


def test_momentum_names_the_damped_average():
    def damped(grad_fn, w0, lr, beta, n):
        w = np.array(w0, dtype=float)
        v = np.zeros_like(w)
        path = [w]
        for _ in range(n):
            v = beta * v + (1 - beta) * grad_fn(w)
            w = w - lr * v
            path.append(w)
        return np.array(path)

    assert "damped average" in failure(ex.check_momentum_descent, damped)


# --------------------------------------------------------------------------- steps to tolerance


def steps(grad_fn, w0, lr, tol, max_steps, offset=0, none_value=None):
    w = np.array(w0, dtype=float)
    for k in range(max_steps + 1):
        g = grad_fn(w)
        if np.linalg.norm(g) <= tol:
            return k + offset
        w = w - lr * g
    return none_value


def test_steps_to_tolerance_passes_the_reference():
    ex.check_steps_to_tolerance(steps)


def test_steps_to_tolerance_names_an_off_by_one():
    message = failure(ex.check_steps_to_tolerance, lambda *a: steps(*a, offset=1))
    assert "one step too many" in message


def test_steps_to_tolerance_requires_none_when_not_reached():
    message = failure(ex.check_steps_to_tolerance, lambda *a: steps(*a, none_value=a[-1]))
    assert "should return None" in message


def test_quiz_types_reject_strings():
    with pytest.raises(CheckFailure):
        ex.check_quiz_types(False, False, True, True, "False")
    ex.check_quiz_types(False, False, True, True, np.bool_(False))
