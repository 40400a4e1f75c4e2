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

    assert "appended w and then changed that very array in place" in failure(
        ex.check_gradient_descent, aliased
    )


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
        (
            lambda n, b, rng: batches(n, b, np.random.default_rng(99)),
            "not the one rng.permutation(n) draws",
        ),
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


# --------------------------------------------------------------------------- integers and aliasing


def in_place_on_a_copy(grad_fn, w0, lr, n):
    w = w0.copy()  # an integer w0 stays integer: w -= ... cannot hold the fractions
    path = [w.astype(float)]
    for _ in range(n):
        w -= lr * grad_fn(w)
        path.append(w.astype(float))
    return np.array(path)


def test_gradient_descent_with_an_integer_w0_is_told_to_start_from_a_float_copy():
    message = failure(ex.check_gradient_descent, in_place_on_a_copy)
    assert "w0 holds integers here" in message and "float copy" in message


def test_gradient_descent_stored_in_an_integer_array_is_named():
    def integer_path(grad_fn, w0, lr, n):
        path = np.empty((n + 1, len(w0)), dtype=np.asarray(w0).dtype)
        path[0] = w0
        for k in range(n):
            path[k + 1] = path[k] - lr * grad_fn(path[k])
        return path

    assert "stored as integers" in failure(ex.check_gradient_descent, integer_path)


def test_a_path_returned_as_a_list_is_refused_as_the_text_asks_for_an_array():
    message = failure(ex.check_gradient_descent, lambda g, w0, lr, n: list(descend(g, w0, lr, n)))
    assert "must return a NumPy array" in message


@pytest.mark.parametrize("keep_w0", [False, True], ids=["all rows", "after w0"])
def test_momentum_updated_in_place_is_diagnosed_as_aliasing_like_gradient_descent(keep_w0):
    def aliased(grad_fn, w0, lr, beta, n):
        w = np.array(w0, dtype=float)
        v = np.zeros_like(w)
        path = [w.copy() if keep_w0 else w]
        for _ in range(n):
            v = beta * v - lr * grad_fn(w)
            w += v
            path.append(w)
        return np.array(path)

    assert "appended w and then changed that very array in place" in failure(
        ex.check_momentum_descent, aliased
    )


def test_momentum_with_an_integer_w0_updated_in_place_is_told_so():
    def integer(grad_fn, w0, lr, beta, n):
        w, v = w0.copy(), np.zeros(len(w0))
        path = [w.astype(float)]
        for _ in range(n):
            v = beta * v - lr * grad_fn(w)
            w += v
            path.append(w.astype(float))
        return np.array(path)

    assert "w0 holds integers here" in failure(ex.check_momentum_descent, integer)


def test_the_checks_pass_integer_w0_through_unchanged():
    seen = []

    def recording(grad_fn, w0, lr, n):
        seen.append(np.asarray(w0).dtype.kind)
        return descend(grad_fn, w0, lr, n)

    ex.check_gradient_descent(recording)
    assert "i" in seen and "f" in seen


# --------------------------------------------------------------------------- steps to tolerance


def test_steps_to_tolerance_reached_exactly_at_max_steps_counts():
    def stops_early(grad_fn, w0, lr, tol, max_steps):
        return steps(grad_fn, w0, lr, tol, max_steps - 1)  # tests w_k only for k < max_steps

    message = failure(ex.check_steps_to_tolerance, stops_early)
    assert "after exactly max_steps steps was not tested" in message


def test_steps_to_tolerance_with_a_strict_inequality_is_named():
    def strict(grad_fn, w0, lr, tol, max_steps):
        w = np.array(w0, dtype=float)
        for k in range(max_steps + 1):
            g = grad_fn(w)
            if np.linalg.norm(g) < tol:
                return k
            w = w - lr * g
        return None

    assert "used < where the criterion is" in failure(ex.check_steps_to_tolerance, strict)


def test_steps_to_tolerance_accepts_numpy_integers_and_rejects_floats():
    ex.check_steps_to_tolerance(lambda *a: None if steps(*a) is None else np.int64(steps(*a)))
    message = failure(
        ex.check_steps_to_tolerance, lambda *a: None if steps(*a) is None else float(steps(*a))
    )
    assert "must return an integer" in message


def test_steps_to_tolerance_comparing_the_squared_norm_is_named():
    def squared(grad_fn, w0, lr, tol, max_steps):
        w = np.array(w0, dtype=float)
        for k in range(max_steps + 1):
            g = grad_fn(w)
            if g @ g <= tol:
                return k
            w = w - lr * g
        return None

    assert "squared norm" in failure(ex.check_steps_to_tolerance, squared)


def test_steps_to_tolerance_on_an_integer_w0_in_place_is_told_so():
    def in_place(grad_fn, w0, lr, tol, max_steps):
        w = w0.copy()
        for k in range(max_steps + 1):
            g = grad_fn(w)
            if np.linalg.norm(g) <= tol:
                return k
            w -= lr * g
        return None

    assert "w0 holds integers here" in failure(ex.check_steps_to_tolerance, in_place)


def test_steps_to_tolerance_boundary_case_is_not_rounding_sensitive():
    # the visible boundary case: the gradient norm at the step found is well below tol, and
    # one step earlier well above it, so another way of computing the norm finds the same k
    k = ex._steps_to_tolerance(ex.ill_grad, ex.GOAL_START, 0.05, 1e-3, 10_000)
    path = descend(ex.ill_grad, ex.GOAL_START, 0.05, k)
    norms = [np.linalg.norm(ex.ill_grad(w)) for w in path]
    assert norms[-1] < 0.99e-3 < 1.001e-3 < norms[-2]


# --------------------------------------------------------------------------- minibatch rng state


def test_minibatch_indices_that_draws_twice_from_rng_is_caught():
    def extra_draw(n, batch_size, rng):
        order = rng.permutation(n)
        rng.random()  # e.g. a draw for something else
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]

    assert "drew more from rng than one permutation" in failure(
        ex.check_minibatch_indices, extra_draw
    )


def test_minibatch_indices_accepts_permuted_which_draws_the_same_permutation():
    ex.check_minibatch_indices(
        lambda n, b, rng: [
            c for c in np.split(rng.permuted(np.arange(n)), range(b, n, b)) if len(c)
        ]
    )


# --------------------------------------------------------------------------- adam


def adam_reference(
    grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100
):
    w = np.array(w0, dtype=float)
    m, v = np.zeros_like(w), np.zeros_like(w)
    path = [w.copy()]
    for t in range(1, num_steps + 1):
        g = grad_fn(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        w = w - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        path.append(w)
    return np.array(path)


def adam_preallocated(
    grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100
):
    # another style: running powers of the betas, a preallocated path, m and v as scalars first
    w0 = np.asarray(w0, dtype=np.float64)
    path = np.zeros((num_steps + 1, w0.size))
    path[0] = w0
    m = v = 0.0
    power1 = power2 = 1.0
    for t in range(num_steps):
        g = np.asarray(grad_fn(path[t].copy()), dtype=float)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * np.square(g)
        power1, power2 = power1 * beta1, power2 * beta2
        path[t + 1] = path[t] - learning_rate * (m / (1 - power1)) / (
            np.sqrt(v / (1 - power2)) + eps
        )
    return path


@pytest.mark.parametrize("fn", [adam_reference, adam_preallocated], ids=["loop", "preallocated"])
def test_adam_accepts_right_answers_in_other_styles(fn):
    ex.check_adam(fn)
    ex.expect_adam(fn, ex.bowl_grad, np.array([4, -3]), learning_rate=0.5, beta1=0.0, eps=1e-3)


def test_adam_reference_in_helpers_is_the_exercise():
    from helpers import descent

    def adam(grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100):
        # handed in as a student would: the reference itself is refused as not their own
        return descent.adam(grad_fn, w0, learning_rate, beta1, beta2, eps, num_steps)

    ex.check_adam(adam)


def adam_variant(**change):
    """adam_reference with one line changed, as a typical wrong answer."""

    def wrong(grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100):
        w = np.array(w0, dtype=float)
        m, v = np.zeros_like(w), np.zeros_like(w)
        path = [w]
        for t in range(change.get("first_t", 1), num_steps + change.get("first_t", 1)):
            g = grad_fn(w)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = m if change.get("raw_m") else m / (1 - beta1**t)
            v_hat = v if change.get("raw_v") else v / (1 - beta2**t)
            if change.get("eps_inside"):
                w = w - learning_rate * m_hat / np.sqrt(v_hat + eps)
            elif change.get("alias"):  # updated in place, the same array appended every time
                w -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
            else:
                w = w - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
            path.append(w)
            if change.get("extra_call") and t == num_steps:
                grad_fn(w)
        return np.array(path)

    return wrong


@pytest.mark.parametrize(
    "change, diagnosis",
    [
        ({"raw_m": True, "raw_v": True}, "no bias correction"),
        ({"raw_v": True}, "only m_t is bias-corrected"),
        ({"raw_m": True}, "only v_t is bias-corrected"),
        ({"eps_inside": True}, "eps is inside the square root"),
        ({"first_t": 0}, "t = 0 the bias correction divides by"),
        ({"extra_call": True}, "an extra gradient after the last step"),
    ],
    ids=["no correction", "only m", "only v", "eps inside", "t from 0", "extra call"],
)
def test_adam_names_the_likely_mistake(change, diagnosis):
    assert diagnosis in failure(ex.check_adam, adam_variant(**change))


def test_adam_without_bias_correction_differs_hugely_on_tiny_gradients():
    right = adam_reference(ex.tiny_grad, np.zeros(3), learning_rate=0.05, num_steps=3)
    wrong = adam_variant(raw_m=True, raw_v=True)(
        ex.tiny_grad, np.zeros(3), learning_rate=0.05, num_steps=3
    )
    # first step: about lr with the correction, about a tenth of it without
    assert np.all(np.abs(right[1]) > 5 * np.abs(wrong[1]))


def test_adam_that_computes_the_gradient_twice_is_told_to_call_it_once():
    def twice(grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100):
        w = np.array(w0, dtype=float)
        m, v = np.zeros_like(w), np.zeros_like(w)
        path = [w.copy()]
        for t in range(1, num_steps + 1):
            m = beta1 * m + (1 - beta1) * grad_fn(w)
            v = beta2 * v + (1 - beta2) * grad_fn(w) ** 2
            w = w - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
            path.append(w)
        return np.array(path)

    assert "the gradient is computed twice per step" in failure(ex.check_adam, twice)


def test_adam_with_another_default_learning_rate_is_named():
    def default_1e3(grad_fn, w0, learning_rate=0.001, **kwargs):
        return adam_reference(grad_fn, w0, learning_rate, **kwargs)

    assert "the default learning_rate must be 0.01" in failure(ex.check_adam, default_1e3)


@pytest.mark.parametrize(
    "wrap, problem",
    [
        (lambda p: list(p), "must return a NumPy array"),
        (lambda p: p[-1], "returned only the final point"),
        (lambda p: p[1:], "does not start with w0"),
        (lambda p: p.T, "wrong shape"),
    ],
    ids=["list", "final point", "no w0", "transposed"],
)
def test_adam_shape_and_type_mistakes_are_named(wrap, problem):
    assert problem in failure(ex.check_adam, lambda *a, **k: wrap(adam_reference(*a, **k)))


def test_adam_aliased_path_and_integer_w0_are_named():
    assert "appended w and then changed that very array" in failure(
        ex.check_adam, adam_variant(alias=True)
    )

    def integer(grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100):
        w = w0.copy()
        m, v = np.zeros(len(w)), np.zeros(len(w))
        path = [np.array(w, dtype=float)]
        for t in range(1, num_steps + 1):
            g = grad_fn(w)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            w -= learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
            path.append(np.array(w, dtype=float))
        return np.array(path)

    assert "w0 holds integers here" in failure(ex.check_adam, integer)


def test_expect_adam_passes_only_the_arguments_it_is_given():
    calls = []

    def recording(grad_fn, w0, **kwargs):
        calls.append(sorted(kwargs))
        return adam_reference(grad_fn, w0, **kwargs)

    ex.expect_adam(recording, ex.bowl_grad, [1.0, 2.0])
    ex.expect_adam(recording, ex.bowl_grad, [1.0, 2.0], beta2=0.9, num_steps=3)
    assert calls == [[], ["beta2", "num_steps"]]
    with pytest.raises(TypeError):
        ex.expect_adam(recording, ex.bowl_grad, [1.0], lr=0.1)


def test_minibatch_indices_from_a_new_generator_with_the_same_seed_is_told_to_use_rng():
    def own(n, batch_size, rng):
        order = np.random.default_rng(0).permutation(n)  # the visible test's first seed is 0
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]

    assert "did not draw from the generator it was given" in failure(
        ex.check_minibatch_indices, own
    )
