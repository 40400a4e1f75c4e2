"""Checks for Lesson 04: gradient descent, momentum and mini-batch SGD.

Each ``check_*`` function is the visible test of one exercise (registered for
:func:`helpers.progress`); each ``expect_*`` function runs a student's function on one given
input through :func:`helpers.checks.call` (inputs are passed as copies and compared
afterwards) and compares with a reference computed here, naming the likely mistake. Hidden
tests call the ``expect_*`` functions with inputs of their own.

The references, right and wrong, are written out in this module on purpose: a check must not
depend on the code it is meant to judge, nor on the lesson's demonstrations. The inputs are
chosen so that the usual wrong versions land far outside the tolerance.
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
    require_returned,
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
    """L(w) = (w1^2 + 25 w2^2) / 2: Hessian diag(1, 25), so 2/lambda_max = 2/25 = 0.08."""
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
    require_returned(name, got, shown)
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


# --------------------------------------------------------------------------- gradient_descent


def expect_gradient_descent(
    gradient_descent: Callable, grad_fn: Callable, w0: Any, learning_rate: float, num_steps: int
) -> None:
    """Require the whole path of ``num_steps`` steps of w <- w - lr * grad_fn(w), w0 first."""
    w0 = np.array(w0, dtype=float)
    lr, steps = learning_rate, num_steps
    shown = describe_call("gradient_descent", grad_fn, w0, lr, steps)
    got = _as_path(
        "gradient_descent",
        call(gradient_descent, grad_fn, w0, lr, steps, name="gradient_descent"),
        shown,
    )
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
            "the rows after the first are all w0: w is never updated": np.tile(w0, (steps + 1, 1)),
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
        hint="each row comes from the one before it by one step against the gradient",
    )


@exercise(LESSON, "Exercise 04.1 · Gradient descent", "gradient_descent")
def check_gradient_descent(gradient_descent: Callable) -> None:
    """Visible test of ``gradient_descent(grad_fn, w0, learning_rate, num_steps)``."""
    expect_gradient_descent(gradient_descent, bowl_grad, [-1.5, 1.5], 0.1, 30)
    expect_gradient_descent(gradient_descent, ill_grad, [2.0, 1.0], 0.05, 12)
    expect_gradient_descent(gradient_descent, soft_grad, [2.5, 0.4, -1.0], 0.7, 6)


# --------------------------------------------------------------------------- mini-batches

# A small regression problem for the SGD checks: 10 examples, so that batches of 3 or 4 leave
# a shorter last batch, and a learning rate large enough that every wrong order, batch or
# count of steps moves w far outside the tolerance.
SGD_X = np.random.default_rng(2024).normal(size=(10, 2))
SGD_Y = SGD_X @ np.array([1.0, -2.0]) + np.random.default_rng(2025).normal(scale=0.3, size=10)


def mse_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean gradient of (x . w - y)^2 over the rows of X: (2 / m) X^T (X w - y)."""
    w, X, y = np.asarray(w, dtype=float), np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    return 2.0 * X.T @ (X @ w - y) / len(y)


def _batches(n: int, batch_size: int, rng: np.random.Generator, variant: str = "right"):
    """One epoch's batches as the exercise asks (``"right"``) or as a typical mistake cuts them."""
    order = np.arange(n) if variant == "no_shuffle" else rng.permutation(n)
    if variant == "count":  # batch_size taken as the number of batches
        return np.array_split(order, batch_size)
    if variant == "balanced":  # ceil(n / B) batches of nearly equal size
        return np.array_split(order, -(-n // batch_size))
    cuts = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if variant == "drop_last" and n % batch_size:
        return cuts[:-1]
    return cuts


_BATCH_MISTAKES = {
    "no_shuffle": "the batches are not shuffled: the order must be rng.permutation(n)",
    "drop_last": "the last, shorter batch is missing: keep the examples left over",
    "count": "made batch_size batches; each batch should hold batch_size examples",
    "balanced": "np.array_split balances the batch sizes; cut the permutation at multiples of "
    "batch_size instead, so only the last batch is shorter",
}


def _batch_mistake(got: list[np.ndarray], n: int, batch_size: int, seed: int) -> str | None:
    for variant, description in _BATCH_MISTAKES.items():
        wrong = _batches(n, batch_size, np.random.default_rng(seed), variant)
        if len(wrong) == len(got) and all(np.array_equal(a, b) for a, b in zip(got, wrong)):
            return description
    flat = np.concatenate(got) if got else np.array([], dtype=int)
    if flat.size == n and np.array_equal(np.sort(flat), np.arange(n)):
        return (
            "the order is a permutation, but not the one drawn from rng: call "
            "rng.permutation(n) on the generator passed in (not np.random or a new generator)"
        )
    if flat.size != n:
        return f"the batches hold {flat.size} indices in all; an epoch uses each of the {n} once"
    return "an epoch must use every example exactly once"


def _as_batches(got: Any, shown: str) -> list[np.ndarray]:
    require_returned("minibatch_indices", got, shown)
    if not isinstance(got, list):
        raise CheckFailure(
            "minibatch_indices must return a list of index arrays.",
            [f"call : {shown}", f"got  : {type(got).__name__}", "collect the batches in a list"],
        )
    batches = []
    for k, batch in enumerate(got):
        arr = np.asarray(batch)
        if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
            raise CheckFailure(
                "each batch must be a 1-D array of integer indices.",
                [f"call : {shown}", f"batch {k} has dtype {arr.dtype} and shape {arr.shape}"],
            )
        batches.append(arr)
    return batches


def expect_minibatch_indices(
    minibatch_indices: Callable, n: int, batch_size: int, seed: int
) -> None:
    """Require ``rng.permutation(n)`` cut into consecutive batches, rng = default_rng(seed)."""
    shown = f"minibatch_indices({n}, {batch_size}, np.random.default_rng({seed}))"
    got = call(
        minibatch_indices, n, batch_size, np.random.default_rng(seed), name="minibatch_indices"
    )
    got = _as_batches(got, shown)
    expected = _batches(n, batch_size, np.random.default_rng(seed))
    if len(got) == len(expected) and all(np.array_equal(a, b) for a, b in zip(got, expected)):
        return
    with np.printoptions(threshold=20):
        details = [
            f"call     : {shown}",
            f"expected : {len(expected)} batches of sizes {[len(b) for b in expected]}",
            f"got      : {len(got)} batches of sizes {[len(b) for b in got]}",
        ]
    mistake = _batch_mistake(got, n, batch_size, seed)
    if mistake:
        details.append(f"likely mistake : {mistake}")
    raise CheckFailure("minibatch_indices gave the wrong batches.", details)


@exercise(LESSON, "Exercise 04.2 · Mini-batches", "minibatch_indices")
def check_minibatch_indices(minibatch_indices: Callable) -> None:
    """Visible test of ``minibatch_indices(n, batch_size, rng)``."""
    expect_minibatch_indices(minibatch_indices, 10, 3, seed=0)
    expect_minibatch_indices(minibatch_indices, 12, 4, seed=1)
    expect_minibatch_indices(minibatch_indices, 5, 1, seed=2)
    expect_minibatch_indices(minibatch_indices, 6, 6, seed=3)


# --------------------------------------------------------------------------- sgd


def _sgd(grad_fn, w0, X, y, lr, batch_size, epochs, seed, variant="right"):
    """Mini-batch SGD as the exercise asks (``"right"``) or with one typical mistake."""
    w = np.array(w0, dtype=float)
    rng = np.random.default_rng(0 if variant == "seed_ignored" else seed)
    cut = {"no_shuffle": "no_shuffle", "drop_last": "drop_last", "count": "count"}
    for _ in range(epochs + {"extra_epoch": 1, "missing_epoch": -1}.get(variant, 0)):
        if variant == "same_order":  # a new generator every epoch: the same shuffle each time
            rng = np.random.default_rng(seed)
        batches = _batches(len(X), batch_size, rng, cut.get(variant, "right"))
        if variant == "first_batch":
            batches = batches[:1]
        for idx in batches:
            Xb, yb = (X, y) if variant == "whole_data" else (X[idx], y[idx])
            g = grad_fn(w, Xb, yb)
            scale = {"sum": len(idx), "mean_again": 1.0 / len(idx), "ascent": -1.0}
            w = w - scale.get(variant, 1.0) * lr * g
    return w


_SGD_MISTAKES = {
    "same_order": "every epoch used the same shuffle: make the generator once, before the "
    "epoch loop, and let each epoch draw a new order from it",
    "no_shuffle": "the examples are not shuffled: each epoch's batches come from "
    "rng.permutation(n)",
    "seed_ignored": "the seed argument is not used: make the generator from seed",
    "drop_last": "the last, shorter batch of each epoch is skipped",
    "count": "made batch_size batches per epoch; each batch should hold batch_size examples",
    "first_batch": "only one step per epoch: take a step for every batch",
    "whole_data": "grad_fn was given the whole data set; give it the batch X[idx], y[idx]",
    "sum": "the step is batch size times too large: grad_fn already returns the mean gradient",
    "mean_again": "divided the gradient by the batch size: grad_fn already returns the mean",
    "ascent": "added the gradient instead of subtracting it",
    "extra_epoch": "one epoch too many",
    "missing_epoch": "one epoch too few",
}


def _as_weights(got: Any, d: int, shown: str) -> np.ndarray:
    require_returned("sgd", got, shown, "did you forget `return w`?")
    if not isinstance(got, np.ndarray):
        raise CheckFailure(
            "sgd must return the final w as a NumPy array.",
            [f"call : {shown}", f"got  : {type(got).__name__}", "return w, a float array"],
        )
    if got.ndim == 2 and got.shape[1:] == (d,):
        raise CheckFailure(
            "sgd returned a path; return only the final w.",
            [f"call : {shown}", f"got shape : {got.shape}", f"expected shape : ({d},)"],
        )
    if not np.issubdtype(got.dtype, np.floating):
        raise CheckFailure(
            "sgd must return a float array.", [f"call : {shown}", f"got dtype : {got.dtype}"]
        )
    return got


def expect_sgd(
    sgd: Callable,
    grad_fn: Callable,
    w0: Any,
    X: Any,
    y: Any,
    lr: float,
    batch_size: int,
    epochs: int,
    seed: int | None = None,
) -> None:
    """Require the final w of mini-batch SGD with one generator default_rng(seed) per run.

    ``seed=None`` calls ``sgd`` without a seed, so that its default (0) is the one used.
    """
    w0, X, y = np.asarray(w0), np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    given = {} if seed is None else {"seed": seed}
    used = 0 if seed is None else seed
    shown = describe_call("sgd", grad_fn, w0, X, y, lr, batch_size, epochs, **given)

    def run():
        got = call(sgd, grad_fn, w0, X, y, lr, batch_size, epochs, name="sgd", **given)
        return _as_weights(got, w0.size, shown)

    got = run()
    expected = _sgd(grad_fn, w0, X, y, lr, batch_size, epochs, used)
    with quiet():
        mistakes = {
            text: _sgd(grad_fn, w0, X, y, lr, batch_size, epochs, used, variant)
            for variant, text in _SGD_MISTAKES.items()
        }
    check(
        "sgd",
        got,
        expected,
        call=shown,
        rtol=1e-10,
        mistakes=mistakes,
        hint="one generator for the whole run; each epoch, one step per batch of "
        "minibatch_indices(len(X), batch_size, rng)",
    )
    if not np.array_equal(run(), got):
        raise CheckFailure(
            "sgd gave a different w when called again with the same seed.",
            [f"call : {shown}", "make the generator from seed, with np.random.default_rng(seed)"],
        )


@exercise(LESSON, "Exercise 04.4 · Mini-batch SGD", "sgd")
def check_sgd(sgd: Callable) -> None:
    """Visible test of ``sgd(grad_fn, w0, X, y, lr, batch_size, epochs, seed=0)``."""
    expect_sgd(sgd, mse_grad, [0.0, 0.0], SGD_X, SGD_Y, 0.1, 3, 3, seed=0)
    expect_sgd(sgd, mse_grad, [0.5, 0.5], SGD_X, SGD_Y, 0.05, 4, 4, seed=7)
    expect_sgd(sgd, mse_grad, [0.0, 1.0], SGD_X, SGD_Y, 0.2, 10, 3)  # full batch, seed 0
    expect_sgd(sgd, mse_grad, np.array([1, -1]), SGD_X, SGD_Y, 0.03, 1, 2, seed=3)  # integers


# --------------------------------------------------------------------------- chosen_learning_rate


def run_goal(learning_rate: float) -> np.ndarray:
    """The losses of GD on the ill-conditioned quadratic from GOAL_START, GOAL_STEPS steps."""
    with quiet():
        path = _descend(ill_grad, GOAL_START, learning_rate, GOAL_STEPS)
        return np.array([ill_loss(w) for w in path])


def _as_rate(value: Any) -> float:
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
    return lr


@exercise(LESSON, "Exercise 04.3 · Pick a learning rate", "chosen_learning_rate")
def check_chosen_learning_rate(chosen_learning_rate: Any) -> None:
    """The goal: loss below 1e-6 after 150 steps on (w1^2 + 25 w2^2)/2 from (2, 1)."""
    lr = _as_rate(chosen_learning_rate)
    final = run_goal(lr)[-1]
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
            "likely mistake : at or above 2/lambda_max = 2/25 = 0.08 the steep direction is "
            "multiplied by a factor of size >= 1 every step, so it never shrinks (above the "
            "bound it grows): GD diverges instead of converging"
        )
    else:
        details.append(
            "likely mistake : too small; the flat direction (curvature 1) shrinks by only "
            "(1 - lr) per step. Take the largest rate that still keeps |1 - 25 lr| comfortably "
            "below 1"
        )
    raise CheckFailure("chosen_learning_rate does not meet the goal.", details)


# --------------------------------------------------------------------------- momentum_descent


def expect_momentum_descent(
    momentum_descent: Callable,
    grad_fn: Callable,
    w0: Any,
    learning_rate: float,
    momentum: float,
    num_steps: int,
) -> None:
    """Heavy-ball momentum: v <- momentum * v - lr * grad(w); w <- w + v; v starts at 0."""
    w0 = np.array(w0, dtype=float)
    lr, beta, steps = learning_rate, momentum, num_steps
    shown = describe_call("momentum_descent", grad_fn, w0, lr, beta, steps)
    got = _as_path(
        "momentum_descent",
        call(momentum_descent, grad_fn, w0, lr, beta, steps, name="momentum_descent"),
        shown,
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
            "v = momentum*v - learning_rate*g": _heavy_ball(grad_fn, w0, lr, beta, steps, "damped"),
            "evaluated the gradient at the look-ahead point w + momentum*v (that is Nesterov's "
            "method, not heavy-ball momentum)": _heavy_ball(
                grad_fn, w0, lr, beta, steps, "nesterov"
            ),
            "moved w with the old velocity before updating v; update v first, then w": (
                _late_velocity(grad_fn, w0, lr, beta, steps)
            ),
        }
    check(
        "momentum_descent",
        got,
        expected,
        call=shown,
        rtol=1e-9,
        mistakes=mistakes,
        hint="v starts at zero; each step updates the velocity first, then moves w by it",
    )


@exercise(LESSON, "Exercise 04.5 · Momentum", "momentum_descent")
def check_momentum_descent(momentum_descent: Callable) -> None:
    """Visible test of ``momentum_descent(grad_fn, w0, learning_rate, momentum, num_steps)``."""
    expect_momentum_descent(momentum_descent, bowl_grad, [-1.5, 1.5], 0.1, 0.9, 25)
    expect_momentum_descent(momentum_descent, ill_grad, [2.0, 1.0], 0.03, 0.6, 15)
    expect_momentum_descent(momentum_descent, soft_grad, [2.5, 0.4, -1.0], 0.5, 0.5, 8)


# --------------------------------------------------------------------------- steps_to_tolerance


def _tolerance_mistake(got: int, expected: int, by_step: int | None) -> list[str]:
    if got == expected + 1:
        return [
            "likely mistake : counted one step too many; test the gradient at w before "
            "taking a step (w0 itself counts as 0 steps)"
        ]
    if got == expected - 1:
        return ["likely mistake : counted one step too few"]
    if by_step is not None and got == by_step:
        return [
            "likely mistake : compared the step length learning_rate*||g|| with tol; "
            "the criterion is the gradient norm ||g|| itself"
        ]
    return []


def expect_steps_to_tolerance(
    steps_to_tolerance: Callable,
    grad_fn: Callable,
    w0: Any,
    learning_rate: float,
    tol: float,
    max_steps: int,
) -> None:
    """The first k with ||grad(w_k)|| <= tol (w_0 = w0), or None when k would exceed max_steps."""
    w0 = np.array(w0, dtype=float)
    shown = describe_call("steps_to_tolerance", grad_fn, w0, learning_rate, tol, max_steps)
    got = call(
        steps_to_tolerance, grad_fn, w0, learning_rate, tol, max_steps, name="steps_to_tolerance"
    )
    expected = _steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps)
    if expected is None:
        if got is None:
            return
        raise CheckFailure(
            "steps_to_tolerance should return None here.",
            [
                f"call     : {shown}",
                "expected : None (the gradient norm never falls below tol "
                f"within max_steps = {max_steps} steps)",
                f"got      : {got!r}",
            ],
        )
    require_returned(
        "steps_to_tolerance", got, shown, "the tolerance is reached here; did you forget `return`?"
    )
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        raise CheckFailure(
            "steps_to_tolerance must return an int (a number of steps).",
            [f"call : {shown}", f"got  : {type(got).__name__} {got!r}", f"expected : {expected}"],
        )
    if int(got) == expected:
        return
    by_step = _steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps, measure="step")
    raise CheckFailure(
        "steps_to_tolerance gave a wrong number of steps.",
        [f"call     : {shown}", f"expected : {expected}", f"got      : {int(got)}"]
        + _tolerance_mistake(int(got), expected, by_step),
    )


@exercise(LESSON, "Challenge 04 · Steps to a tolerance", "steps_to_tolerance")
def check_steps_to_tolerance(steps_to_tolerance: Callable) -> None:
    """Visible test of ``steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps)``."""
    expect_steps_to_tolerance(steps_to_tolerance, bowl_grad, [-1.5, 1.5], 0.1, 1e-6, 500)
    expect_steps_to_tolerance(steps_to_tolerance, ill_grad, [2.0, 1.0], 0.07, 1e-4, 1000)
    # already at the minimum: 0 steps
    expect_steps_to_tolerance(steps_to_tolerance, bowl_grad, [1.0, -0.5], 0.1, 1e-8, 100)
    # diverges: never reached
    expect_steps_to_tolerance(steps_to_tolerance, bowl_grad, [-1.5, 1.5], 1.05, 1e-6, 60)
    expect_steps_to_tolerance(steps_to_tolerance, soft_grad, [2.5, 0.4, -1.0], 0.5, 1e-3, 200)


# --------------------------------------------------------------------------- quiz


# The quiz's answer names, in order (the notebook defines them; progress() looks them up).
QUIZ = (
    "q1_minibatch_gradient_unbiased",
    "q2_larger_rate_never_slower",
    "q3_step_bound_from_lambda_max",
    "q4_half_rate_solves_the_bowl",
    "q5_flat_point_is_global_minimum",
)

check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 04")
