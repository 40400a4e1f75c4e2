"""Visible checks of Lesson 04 (gradient descent).

Every check calls the student's function through :func:`helpers.checks.call` (inputs are
passed as copies and compared afterwards) and compares with a reference computed here, on
inputs chosen so that the usual wrong formulas land far outside the tolerance. The
references are written out in this module on purpose: a check must not depend on the code
it is meant to judge, nor on the lesson's demonstrations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import (
    CheckFailure,
    call,
    check,
    describe_call,
    exercise,
    quiet,
    quiz_exercise,
)

LESSON = "04_gradient_descent"

# --------------------------------------------------------------------------- test problems

BOWL_MIN = np.array([1.0, -0.5])


def bowl_loss(w: np.ndarray) -> float:
    """L(w1, w2) = (w1 - 1)^2 + (w2 + 0.5)^2, the lesson's first example."""
    d = np.asarray(w, dtype=float) - BOWL_MIN
    return float(d @ d)


def bowl_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of :func:`bowl_loss`: 2 (w - (1, -0.5))."""
    return 2.0 * (np.asarray(w, dtype=float) - BOWL_MIN)


# The ill-conditioned quadratic of the lesson: L(w) = (w1^2 + 25 w2^2) / 2, curvatures 1 and 25.
ILL_CURVATURES = np.array([1.0, 25.0])


def ill_loss(w: np.ndarray) -> float:
    """L(w) = (w1^2 + 25 w2^2) / 2: the Hessian is diag(1, 25), so 2/L = 2/25 = 0.08."""
    w = np.asarray(w, dtype=float)
    return float(0.5 * (ILL_CURVATURES @ (w * w)))


def ill_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of :func:`ill_loss`: (w1, 25 w2)."""
    return ILL_CURVATURES * np.asarray(w, dtype=float)


_SOFT_CENTRE = np.array([0.3, -1.2, 2.0])


def soft_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of sum(log cosh(w - c)): tanh(w - c), a non-quadratic test case in 3-D."""
    return np.tanh(np.asarray(w, dtype=float) - _SOFT_CENTRE)


# The goal of the "pick a learning rate" exercise.
GOAL_START = np.array([2.0, 1.0])
GOAL_STEPS = 150
GOAL_LOSS = 1e-6


# --------------------------------------------------------------------------- references


def _descend(grad_fn, w0, learning_rate, num_steps, sign=-1.0):
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for _ in range(num_steps):
        w = w + sign * learning_rate * grad_fn(w)
        path.append(w.copy())
    return np.array(path)


def _heavy_ball(grad_fn, w0, learning_rate, momentum, num_steps, variant="right"):
    w = np.array(w0, dtype=float)
    v = np.zeros_like(w)
    path = [w.copy()]
    for _ in range(num_steps):
        if variant == "nesterov":
            g = grad_fn(w + momentum * v)
        else:
            g = grad_fn(w)
        if variant == "damped":
            v = momentum * v - (1.0 - momentum) * learning_rate * g
        elif variant == "ascent":
            v = momentum * v + learning_rate * g
        else:
            v = momentum * v - learning_rate * g
        w = w + v
        path.append(w.copy())
    return np.array(path)


def _late_velocity(grad_fn, w0, learning_rate, momentum, num_steps):
    # w moves with the velocity of the previous step, then the velocity is updated.
    w = np.array(w0, dtype=float)
    v = np.zeros_like(w)
    path = [w.copy()]
    for _ in range(num_steps):
        g = grad_fn(w)
        w = w + v
        v = momentum * v - learning_rate * g
        path.append(w.copy())
    return np.array(path)


def _steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps, measure="gradient"):
    w = np.array(w0, dtype=float)
    for k in range(max_steps + 1):
        g = grad_fn(w)
        size = np.linalg.norm(g) * (learning_rate if measure == "step" else 1.0)
        if size <= tol:
            return k
        if k < max_steps:
            w = w - learning_rate * g
    return None


# --------------------------------------------------------------------------- shared pieces


def _as_path(name: str, got: Any, shown: str) -> np.ndarray:
    if got is None:
        raise CheckFailure(
            f"{name} returned None.", [f"call : {shown}", "did you forget `return`?"]
        )
    try:
        arr = np.array(got, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"{name} did not return an array of numbers.",
            [
                f"call : {shown}",
                f"got  : {type(got).__name__}",
                "return np.array(path) with one row per iterate",
            ],
        ) from None
    return arr


def _check_path_shape(name: str, got: np.ndarray, expected: np.ndarray, shown: str) -> None:
    """Name the usual shape mistakes of a returned path before comparing values."""
    if got.shape == expected.shape:
        return
    steps, n = expected.shape[0] - 1, expected.shape[1]
    details = [
        f"call           : {shown}",
        f"expected shape : {expected.shape}  (num_steps + 1 rows: w0, then one row per step)",
        f"got shape      : {got.shape}",
    ]
    if got.shape == (n,):
        details.append(
            "likely mistake : returned only the final point; return the whole path, w0 first"
        )
    elif got.shape == (n, steps + 1) and n != steps + 1:
        details.append("likely mistake : the path is transposed; each row must be one iterate")
    elif got.shape == (steps, n):
        if np.allclose(got, expected[1:], rtol=1e-7):
            details.append(
                "likely mistake : the path does not start with w0; put w0 in the first row"
            )
        else:
            details.append(
                "likely mistake : one row too few; num_steps steps give num_steps + 1 points"
            )
    elif got.shape == (steps + 2, n):
        details.append("likely mistake : one step too many; take exactly num_steps steps")
    raise CheckFailure(f"{name} returned the wrong shape.", details)


# --------------------------------------------------------------------------- exercises


def _gd_cases():
    return [
        (bowl_grad, np.array([-1.5, 1.5]), 0.1, 30),
        (ill_grad, np.array([2.0, 1.0]), 0.05, 12),
        (soft_grad, np.array([2.5, 0.4, -1.0]), 0.7, 6),
    ]


@exercise(LESSON, "Gradient descent", "gradient_descent")
def check_gradient_descent(gradient_descent: Callable, cases=None) -> None:
    """``gradient_descent(grad_fn, w0, learning_rate, num_steps)`` returns the whole path."""
    for grad_fn, w0, lr, steps in cases or _gd_cases():
        shown = describe_call("gradient_descent", grad_fn, w0, lr, steps)
        got = _as_path("gradient_descent", call(gradient_descent, grad_fn, w0, lr, steps), shown)
        expected = _descend(grad_fn, w0, lr, steps)
        _check_path_shape("gradient_descent", got, expected, shown)
        with quiet():
            mistakes = {
                "added the gradient instead of subtracting it (w + lr * g climbs uphill)": _descend(
                    grad_fn, w0, lr, steps, sign=+1.0
                ),
                "every row is the final point: you appended w and then changed that same array "
                "in place (w -= ...); append a copy, or write w = w - learning_rate * g": np.tile(
                    expected[-1], (steps + 1, 1)
                ),
                "the rows after the first are all w0: w is never updated": np.tile(
                    w0, (steps + 1, 1)
                ),
                "the learning rate is not applied (w - g)": _descend(grad_fn, w0, 1.0, steps),
            }
        aliased = np.allclose(got, expected[-1], rtol=1e-9) and steps > 0
        if not aliased and not np.allclose(got[0], w0, rtol=1e-12, atol=0):
            raise CheckFailure(
                "gradient_descent: the path does not start with w0.",
                [
                    f"call      : {shown}",
                    f"w0        : {w0}",
                    f"got[0]    : {got[0]}",
                    "the first row must be w0 itself, before any step",
                ],
            )
        check(
            "gradient_descent",
            got,
            expected,
            call=shown,
            rtol=1e-9,
            mistakes=mistakes,
            hint="each step is w_next = w - learning_rate * grad_fn(w)",
        )


def run_goal(learning_rate: float) -> np.ndarray:
    """The losses of GD on the ill-conditioned quadratic from GOAL_START, GOAL_STEPS steps."""
    with quiet():
        path = _descend(ill_grad, GOAL_START, learning_rate, GOAL_STEPS)
        return np.array([ill_loss(w) for w in path])


@exercise(LESSON, "Pick a learning rate", "chosen_learning_rate")
def check_chosen_learning_rate(chosen_learning_rate: Any) -> None:
    """The goal: loss below 1e-6 after 150 steps on (w1^2 + 25 w2^2)/2 from (2, 1)."""
    value = chosen_learning_rate
    if value is None:
        raise CheckFailure(
            "chosen_learning_rate is not set yet.",
            ["replace None with a positive number in the answer cell and run that cell"],
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise CheckFailure(
            "chosen_learning_rate must be a number.",
            [
                f"got {type(value).__name__}: {value!r}",
                "assign a float, e.g. chosen_learning_rate = 0.05",
            ],
        )
    lr = float(value)
    if not math.isfinite(lr) or lr <= 0:
        raise CheckFailure(
            "chosen_learning_rate must be a positive, finite number.", [f"got {lr!r}"]
        )
    losses = run_goal(lr)
    final = losses[-1]
    if math.isfinite(final) and final < GOAL_LOSS:
        return
    rate_flat, rate_steep = abs(1 - lr * ILL_CURVATURES[0]), abs(1 - lr * ILL_CURVATURES[1])
    details = [
        f"learning rate      : {lr:g}",
        f"loss after {GOAL_STEPS} steps : {final:.3e}  (goal: below {GOAL_LOSS:.0e})",
        (
            f"per-step factors   : |1 - lr*1| = {rate_flat:.4f} (flat direction), "
            f"|1 - lr*25| = {rate_steep:.4f} (steep direction)"
        ),
    ]
    if lr >= 2 / ILL_CURVATURES.max():
        details.append(
            "likely mistake : at or above 2/L = 2/25 = 0.08 the steep direction is multiplied by a "
            "factor of size >= 1 every step, so it never shrinks (above 2/L it grows): GD does not "
            "converge, it diverges"
        )
    else:
        details.append(
            "likely mistake : too small; the flat direction (curvature 1) shrinks by only (1 - lr) per "
            "step. Take the largest rate that still keeps |1 - 25 lr| comfortably below 1"
        )
    raise CheckFailure("chosen_learning_rate does not meet the goal.", details)


def _momentum_cases():
    return [
        (bowl_grad, np.array([-1.5, 1.5]), 0.1, 0.9, 25),
        (ill_grad, np.array([2.0, 1.0]), 0.03, 0.6, 15),
        (soft_grad, np.array([2.5, 0.4, -1.0]), 0.5, 0.5, 8),
    ]


@exercise(LESSON, "Momentum", "momentum_descent")
def check_momentum_descent(momentum_descent: Callable, cases=None) -> None:
    """Heavy-ball momentum: v <- momentum * v - lr * grad(w); w <- w + v; v starts at 0."""
    for grad_fn, w0, lr, beta, steps in cases or _momentum_cases():
        shown = describe_call("momentum_descent", grad_fn, w0, lr, beta, steps)
        got = _as_path(
            "momentum_descent", call(momentum_descent, grad_fn, w0, lr, beta, steps), shown
        )
        expected = _heavy_ball(grad_fn, w0, lr, beta, steps)
        _check_path_shape("momentum_descent", got, expected, shown)
        with quiet():
            mistakes = {
                "the momentum term is missing: this is plain gradient descent": _descend(
                    grad_fn, w0, lr, steps
                ),
                "added the gradient instead of subtracting it": _heavy_ball(
                    grad_fn, w0, lr, beta, steps, "ascent"
                ),
                "used the damped average v = momentum*v + (1 - momentum)*g; this exercise asks for "
                "v = momentum*v - learning_rate*g": _heavy_ball(
                    grad_fn, w0, lr, beta, steps, "damped"
                ),
                "evaluated the gradient at the look-ahead point w + momentum*v (that is Nesterov's "
                "method, not heavy-ball momentum)": _heavy_ball(
                    grad_fn, w0, lr, beta, steps, "nesterov"
                ),
                "moved w with the old velocity before updating v; update v first, then w = w + v": _late_velocity(
                    grad_fn, w0, lr, beta, steps
                ),
            }
        check(
            "momentum_descent",
            got,
            expected,
            call=shown,
            rtol=1e-9,
            mistakes=mistakes,
            hint="v starts at zero; each step: v = momentum * v - learning_rate * grad_fn(w), then w = w + v",
        )


def _tolerance_cases():
    return [
        (bowl_grad, np.array([-1.5, 1.5]), 0.1, 1e-6, 500),
        (ill_grad, np.array([2.0, 1.0]), 0.07, 1e-4, 1000),
        (bowl_grad, np.array([1.0, -0.5]), 0.1, 1e-8, 100),  # already at the minimum: 0 steps
        (bowl_grad, np.array([-1.5, 1.5]), 1.05, 1e-6, 60),  # diverges: never reached
        (soft_grad, np.array([2.5, 0.4, -1.0]), 0.5, 1e-3, 200),
    ]


@exercise(LESSON, "Steps to tolerance", "steps_to_tolerance")
def check_steps_to_tolerance(steps_to_tolerance: Callable, cases=None) -> None:
    """The first k with ||grad(w_k)|| <= tol (w_0 = w0), or None when k would exceed max_steps."""
    for grad_fn, w0, lr, tol, max_steps in cases or _tolerance_cases():
        shown = describe_call("steps_to_tolerance", grad_fn, w0, lr, tol, max_steps)
        got = call(steps_to_tolerance, grad_fn, w0, lr, tol, max_steps)
        expected = _steps_to_tolerance(grad_fn, w0, lr, tol, max_steps)
        if expected is None:
            if got is None:
                continue
            raise CheckFailure(
                "steps_to_tolerance should return None here.",
                [
                    f"call     : {shown}",
                    (
                        "expected : None (the gradient norm never falls below tol "
                        f"within max_steps = {max_steps} steps)"
                    ),
                    f"got      : {got!r}",
                ],
            )
        if got is None:
            raise CheckFailure(
                "steps_to_tolerance returned None.",
                [
                    f"call     : {shown}",
                    f"expected : {expected}",
                    "the tolerance is reached here; did you forget `return`?",
                ],
            )
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
            raise CheckFailure(
                "steps_to_tolerance must return an int (a number of steps).",
                [
                    f"call : {shown}",
                    f"got  : {type(got).__name__} {got!r}",
                    f"expected : {expected}",
                ],
            )
        if int(got) == expected:
            continue
        details = [f"call     : {shown}", f"expected : {expected}", f"got      : {int(got)}"]
        by_step = _steps_to_tolerance(grad_fn, w0, lr, tol, max_steps, measure="step")
        if int(got) == expected + 1:
            details.append(
                "likely mistake : counted one step too many; test the gradient at w before "
                "taking a step (w0 itself counts as 0 steps)"
            )
        elif int(got) == expected - 1:
            details.append("likely mistake : counted one step too few")
        elif by_step is not None and int(got) == by_step:
            details.append(
                "likely mistake : compared the step length learning_rate*||g|| with tol; "
                "the criterion is the gradient norm ||g|| itself"
            )
        raise CheckFailure("steps_to_tolerance gave a wrong number of steps.", details)


QUIZ_NAMES = (
    "q1_gradient_points_downhill",
    "q2_bigger_rate_always_faster",
    "q3_quadratic_bound",
    "q4_half_rate_one_step",
    "q5_zero_gradient_global_minimum",
)


check_quiz_types = quiz_exercise(LESSON, QUIZ_NAMES, "Quiz (answers are booleans)")
