"""Lesson 04's checkers (helpers.exercises.gradient_descent): right forms pass, mistakes named.

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


def test_quiz_check_rejects_strings():
    with pytest.raises(CheckFailure):
        ex.check_quiz(True, False, True, True, "False")
    ex.check_quiz(True, False, True, True, np.bool_(False))


def test_quiz_names_are_the_notebook_answer_names():
    assert ex.QUIZ == (
        "q1_minibatch_gradient_unbiased",
        "q2_larger_rate_never_slower",
        "q3_step_bound_from_lambda_max",
        "q4_half_rate_solves_the_bowl",
        "q5_flat_point_is_global_minimum",
    )


def test_expect_gradient_descent_checks_the_input_it_is_given():
    ex.expect_gradient_descent(descend, ex.bowl_grad, [4.0, -3.0], 0.3, 7)
    with pytest.raises(CheckFailure, match="gave a wrong value"):
        ex.expect_gradient_descent(
            lambda g, w0, lr, n: descend(g, w0, 1.01 * lr, n), ex.bowl_grad, [4.0, -3.0], 0.3, 7
        )


def test_gradient_descent_returning_none_is_asked_about_return():
    assert "gradient_descent returned None" in failure(
        ex.check_gradient_descent, lambda g, w0, lr, n: None
    )


# --------------------------------------------------------------------------- minibatch_indices


def batches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


@pytest.mark.parametrize(
    "fn",
    [
        batches,
        lambda n, b, rng: np.split(rng.permutation(n), range(b, n, b)),
        lambda n, b, rng: [list(c) for c in batches(n, b, rng)],
    ],
    ids=["slices", "np.split at multiples", "lists of ints"],
)
def test_minibatch_indices_accepts_every_right_cut(fn):
    ex.check_minibatch_indices(fn)


def test_minibatch_indices_accepts_a_shuffle_in_place():
    def shuffled(n, batch_size, rng):
        order = np.arange(n)
        rng.shuffle(order)
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]

    ex.check_minibatch_indices(shuffled)


@pytest.mark.parametrize(
    "fn, diagnosis",
    [
        (
            lambda n, b, rng: (
                batches(n, b, np.random.default_rng(0))
                and [np.arange(n)[i : i + b] for i in range(0, n, b)]
            ),
            "not shuffled",
        ),
        (lambda n, b, rng: [c for c in batches(n, b, rng) if len(c) == b], "last, shorter batch"),
        (lambda n, b, rng: np.array_split(rng.permutation(n), b), "made batch_size batches"),
        (lambda n, b, rng: np.array_split(rng.permutation(n), -(-n // b)), "balances"),
        (lambda n, b, rng: batches(n, b, np.random.default_rng(99)), "not the one drawn from rng"),
        (
            lambda n, b, rng: [rng.integers(0, n, size=len(c)) for c in batches(n, b, rng)],
            "exactly once",
        ),
        (lambda n, b, rng: [c[:-1] for c in batches(n, b, rng)], "indices in all"),
    ],
    ids=["no shuffle", "drop last", "count", "balanced", "own rng", "with replacement", "short"],
)
def test_minibatch_indices_names_the_likely_mistake(fn, diagnosis):
    assert diagnosis in failure(ex.check_minibatch_indices, fn)


@pytest.mark.parametrize(
    "fn, problem",
    [
        (lambda n, b, rng: None, "returned None"),
        (lambda n, b, rng: iter(batches(n, b, rng)), "must return a list"),
        (lambda n, b, rng: [c.astype(float) for c in batches(n, b, rng)], "integer indices"),
    ],
)
def test_minibatch_indices_wrong_types_are_named(fn, problem):
    assert problem in failure(ex.check_minibatch_indices, fn)


# --------------------------------------------------------------------------- sgd


def reference_sgd(grad_fn, w0, X, y, lr, batch_size, epochs, seed=0, **variant):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=float)
    for _ in range(epochs):
        if variant.get("same_order"):
            rng = np.random.default_rng(seed)
        cuts = batches(len(X), batch_size, rng)
        if variant.get("drop_last"):
            cuts = [c for c in cuts if len(c) == batch_size]
        for idx in cuts:
            w = w - variant.get("scale", 1.0) * lr * grad_fn(w, X[idx], y[idx])
    return w


def test_sgd_accepts_the_reference_and_an_in_place_update_of_a_float_copy():
    def in_place(grad_fn, w0, X, y, lr, batch_size, epochs, seed=0):
        rng = np.random.default_rng(seed)
        w = np.asarray(w0, dtype=float).copy()
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start : start + batch_size]
                w -= lr * grad_fn(w, X[idx], y[idx])
        return w

    ex.check_sgd(reference_sgd)
    ex.check_sgd(in_place)


@pytest.mark.parametrize(
    "variant, diagnosis",
    [
        ({"same_order": True}, "same shuffle"),
        ({"drop_last": True}, "last, shorter batch"),
        ({"scale": 3.0}, "wrong value"),
    ],
)
def test_sgd_names_the_likely_mistake(variant, diagnosis):
    assert diagnosis in failure(ex.check_sgd, lambda *a, **k: reference_sgd(*a, **k, **variant))


def test_sgd_that_sums_instead_of_averaging_is_told_grad_fn_already_averages():
    def summed(grad_fn, w0, X, y, lr, batch_size, epochs, seed=0):
        rng = np.random.default_rng(seed)
        w = np.array(w0, dtype=float)
        for _ in range(epochs):
            for idx in batches(len(X), batch_size, rng):
                w = w - lr * len(idx) * grad_fn(w, X[idx], y[idx])
        return w

    assert "already returns the mean" in failure(ex.check_sgd, summed)


def test_sgd_that_ignores_the_seed_is_told_to_use_it():
    assert "seed argument is not used" in failure(
        ex.check_sgd, lambda g, w0, X, y, lr, b, e, seed=0: reference_sgd(g, w0, X, y, lr, b, e)
    )


def test_sgd_with_an_unseeded_generator_is_caught():
    def unseeded(grad_fn, w0, X, y, lr, batch_size, epochs, seed=0):
        return reference_sgd(grad_fn, w0, X, y, lr, batch_size, epochs, seed=None)

    with pytest.raises(CheckFailure):
        ex.check_sgd(unseeded)


def test_sgd_that_modifies_w0_is_caught():
    def in_place(grad_fn, w0, X, y, lr, batch_size, epochs, seed=0):
        rng = np.random.default_rng(seed)
        w = w0
        for _ in range(epochs):
            for idx in batches(len(X), batch_size, rng):
                w -= lr * grad_fn(w, X[idx], y[idx])
        return w

    ex.expect_sgd(reference_sgd, ex.mse_grad, [0.0, 0.0], ex.SGD_X, ex.SGD_Y, 0.1, 3, 3, seed=0)
    with pytest.raises(CheckFailure, match="modified its input"):
        ex.expect_sgd(in_place, ex.mse_grad, np.zeros(2), ex.SGD_X, ex.SGD_Y, 0.1, 3, 3, seed=0)


@pytest.mark.parametrize(
    "wrap, problem",
    [
        (lambda w: list(w), "must return the final w as a NumPy array"),
        (lambda w: np.tile(w, (3, 1)), "returned a path"),
        (lambda w: None, "did you forget `return w`"),
    ],
    ids=["list", "path", "None"],
)
def test_sgd_wrong_return_types_are_named(wrap, problem):
    assert problem in failure(ex.check_sgd, lambda *a, **k: wrap(reference_sgd(*a, **k)))


def test_sgd_is_called_without_a_seed_when_the_hidden_test_checks_the_default():
    calls = []

    def recording(grad_fn, w0, X, y, lr, batch_size, epochs, **kwargs):
        calls.append(kwargs)
        return reference_sgd(grad_fn, w0, X, y, lr, batch_size, epochs, **kwargs)

    ex.expect_sgd(recording, ex.mse_grad, [1.0, 1.0], ex.SGD_X, ex.SGD_Y, 0.02, 1, 1)
    assert calls and all(c == {} for c in calls)
