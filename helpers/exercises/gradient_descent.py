"""Checks for Lesson 04: gradient descent, momentum, Adam and mini-batch SGD.

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
    RAISED,
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


def _steps_to_tolerance(
    grad_fn, w0, learning_rate, tol, max_steps, measure="gradient", strict=False
):
    w = np.array(w0, dtype=float)
    for k in range(max_steps + 1):
        g = grad_fn(w)
        size = float(np.sqrt(np.sum(g * g)))
        if measure == "step":
            size *= learning_rate
        elif measure == "square":
            size *= size
        if size < tol or (size == tol and not strict):
            return k
        if k < max_steps:
            w = w - learning_rate * g
    return None


# --------------------------------------------------------------------------- shared pieces


def _given(w0: Any) -> np.ndarray:
    """``w0`` as the array the student's function receives: a list becomes an array, and an
    integer array stays an integer array (the exercises say that ``w0`` may hold integers)."""
    arr = np.array(w0)
    return arr if np.issubdtype(arr.dtype, np.integer) else arr.astype(float)


_INTEGER_W0 = (
    "w0 holds integers here (the exercise allows it): start from a float copy, "
    "w = np.array(w0, dtype=float); an integer array cannot hold the fractional updates"
)


def _call(name: str, fn: Callable, args: tuple, w0: np.ndarray, **kwargs: Any) -> Any:
    """``call(fn, *args)``; a crash on an integer ``w0`` is told where to look."""
    try:
        return call(fn, *args, name=name, **kwargs)
    except CheckFailure as failure:
        if failure.cause == RAISED and np.issubdtype(w0.dtype, np.integer):
            raise CheckFailure(
                failure.summary,
                [*failure.details, f"likely mistake : {_INTEGER_W0}"],
                cause=failure.cause,
                error=failure.error,
            ) from None
        raise


def _as_path(name: str, got: Any, shown: str, w0: np.ndarray | None = None) -> np.ndarray:
    """The returned path, required to be a NumPy array of floats (as the exercises say)."""
    require_returned(name, got, shown)
    if not isinstance(got, np.ndarray):
        raise CheckFailure(
            f"{name} must return a NumPy array.",
            [
                f"call : {shown}",
                f"got  : {type(got).__name__}",
                "return np.array(path) (or np.vstack(path)): one row per iterate",
            ],
        )
    if not np.issubdtype(got.dtype, np.floating):
        details = [f"call      : {shown}", f"got dtype : {got.dtype}"]
        if np.issubdtype(got.dtype, np.integer):
            details.append(
                "likely mistake : the path is stored as integers, so every step was rounded "
                "to a whole number"
                + (
                    f"; {_INTEGER_W0}"
                    if w0 is not None and np.issubdtype(w0.dtype, np.integer)
                    else ""
                )
            )
        else:
            details.append("return a float array: one row per iterate")
        raise CheckFailure(f"{name} must return an array of floats.", details)
    return got


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


def _check_path_start(
    name: str, got: np.ndarray, expected: np.ndarray, w0: np.ndarray, shown: str
) -> None:
    """Before the values: a path whose rows all alias the last iterate, or that skips w0."""
    steps = expected.shape[0] - 1
    last = expected[-1]
    moved = steps > 0 and not np.allclose(expected[:-1], last, rtol=1e-9, atol=1e-12)
    if moved and np.allclose(got[1:], last, rtol=1e-9) and not np.allclose(got[1:], expected[1:]):
        first = "every row" if np.allclose(got[0], last, rtol=1e-9) else "every row after w0"
        raise CheckFailure(
            f"{name}: {first} of the path is the final point.",
            [
                f"call           : {shown}",
                f"expected       : {steps + 1} different rows, from w0 = {w0} to {last}",
                f"got            : {first} equal to {got[-1]}",
                "likely mistake : the path holds the same array several times: you appended w "
                "and then changed that very array in place (w -= ..., w += ...). Append a copy "
                "(path.append(w.copy())), or make a new array each step (w = w - ...)",
            ],
        )
    if not np.allclose(got[0], w0.astype(float), rtol=1e-12, atol=0):
        raise CheckFailure(
            f"{name}: the path does not start with w0.",
            [
                f"call      : {shown}",
                f"w0        : {w0}",
                f"got[0]    : {got[0]}",
                "the first row must be w0 itself (as floats), before any step",
            ],
        )


# --------------------------------------------------------------------------- gradient_descent


def expect_gradient_descent(
    gradient_descent: Callable, grad_fn: Callable, w0: Any, learning_rate: float, num_steps: int
) -> None:
    """Require the whole path of ``num_steps`` steps of w <- w - lr * grad_fn(w), w0 first.

    ``w0`` is passed as given (an integer array stays one); the path must be a float array.
    """
    w0 = _given(w0)
    lr, steps = learning_rate, num_steps
    shown = describe_call("gradient_descent", grad_fn, w0, lr, steps)
    got = _as_path(
        "gradient_descent",
        _call("gradient_descent", gradient_descent, (grad_fn, w0, lr, steps), w0),
        shown,
        w0,
    )
    expected = _descend(grad_fn, w0, lr, steps)
    _check_path_shape("gradient_descent", got, expected, shown)
    _check_path_start("gradient_descent", got, expected, w0, shown)
    with quiet():
        mistakes = {
            "added the gradient instead of subtracting it (w + lr * g climbs uphill)": _descend(
                grad_fn, w0, lr, steps, sign=+1.0
            ),
            "the rows after the first are all w0: w is never updated": np.tile(
                w0.astype(float), (steps + 1, 1)
            ),
            "the learning rate is not applied (w - g)": _descend(grad_fn, w0, 1.0, steps),
        }
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
    expect_gradient_descent(gradient_descent, bowl_grad, np.array([3, -2]), 0.3, 5)  # integers


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
            "the order is a permutation of range(n), but not the one rng.permutation(n) draws "
            "from the generator passed in (np.random, a new generator or rng.choice each give "
            "another order)"
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
    rng = np.random.default_rng(seed)
    got = call(minibatch_indices, n, batch_size, rng, name="minibatch_indices")
    got = _as_batches(got, shown)
    reference = np.random.default_rng(seed)
    expected = _batches(n, batch_size, reference)
    if len(got) == len(expected) and all(np.array_equal(a, b) for a, b in zip(got, expected)):
        state, after_one = rng.bit_generator.state, reference.bit_generator.state
        if state != after_one and state == np.random.default_rng(seed).bit_generator.state:
            raise CheckFailure(
                "minibatch_indices did not draw from the generator it was given.",
                [
                    f"call : {shown}",
                    "the batches are right here, but rng was not used: the order must come "
                    "from rng.permutation(n) on the generator passed in (another generator "
                    "with the same seed gives this order once, but never the next epoch's)",
                ],
            )
        if state != after_one:
            raise CheckFailure(
                "minibatch_indices drew more from rng than one permutation.",
                [
                    f"call : {shown}",
                    "the batches are right, but the generator is not where one call of "
                    "rng.permutation(n) leaves it: the next epoch would get another shuffle "
                    "than sgd expects. Draw from rng exactly once per epoch",
                ],
            )
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
    """Heavy-ball momentum: v <- momentum * v - lr * grad(w); w <- w + v; v starts at 0.

    ``w0`` is passed as given (an integer array stays one); the path must be a float array.
    """
    w0 = _given(w0)
    lr, beta, steps = learning_rate, momentum, num_steps
    shown = describe_call("momentum_descent", grad_fn, w0, lr, beta, steps)
    got = _as_path(
        "momentum_descent",
        _call("momentum_descent", momentum_descent, (grad_fn, w0, lr, beta, steps), w0),
        shown,
        w0,
    )
    expected = _heavy_ball(grad_fn, w0, lr, beta, steps)
    _check_path_shape("momentum_descent", got, expected, shown)
    _check_path_start("momentum_descent", got, expected, w0, shown)
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
            "the rows after the first are all w0: w is never updated": np.tile(
                w0.astype(float), (steps + 1, 1)
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
    expect_momentum_descent(momentum_descent, ill_grad, np.array([1, -1]), 0.02, 0.8, 6)  # ints


# --------------------------------------------------------------------------- steps_to_tolerance


def _steps_variants(grad_fn, w0, learning_rate, tol, max_steps) -> dict[str, int | None]:
    """What typical wrong criteria return, named by the mistake (for the message only)."""
    with quiet():
        return {
            "compared the step length learning_rate*||g|| with tol; the criterion is the "
            "gradient norm ||g|| itself": _steps_to_tolerance(
                grad_fn, w0, learning_rate, tol, max_steps, measure="step"
            ),
            "compared the squared norm ||g||^2 with tol; the criterion is ||g|| <= tol": (
                _steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps, measure="square")
            ),
            "used < where the criterion is ||g|| <= tol (here the norm equals tol exactly)": (
                _steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps, strict=True)
            ),
        }


def expect_steps_to_tolerance(
    steps_to_tolerance: Callable,
    grad_fn: Callable,
    w0: Any,
    learning_rate: float,
    tol: float,
    max_steps: int,
) -> None:
    """The first k with ||grad(w_k)|| <= tol (w_0 = w0), or None when k would exceed max_steps.

    ``w0`` is passed as given (an integer array stays one). The answer must be an integer
    (a Python int or a NumPy integer, not a bool or a float), or None.
    """
    w0 = _given(w0)
    shown = describe_call("steps_to_tolerance", grad_fn, w0, learning_rate, tol, max_steps)
    args = (grad_fn, w0, learning_rate, tol, max_steps)
    got = _call("steps_to_tolerance", steps_to_tolerance, args, w0)
    expected = _steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps)
    variants = _steps_variants(grad_fn, w0, learning_rate, tol, max_steps)
    if expected is None:
        if got is None:
            return
        raise CheckFailure(
            "steps_to_tolerance should return None here.",
            [
                f"call     : {shown}",
                "expected : None (the gradient norm does not fall to tol or below "
                f"within max_steps = {max_steps} steps)",
                f"got      : {got!r}",
            ]
            + (
                ["likely mistake : returned max_steps; return None when the tolerance is not met"]
                if got == max_steps
                else []
            )
            + [f"likely mistake : {text}" for text, value in variants.items() if value == got][:1],
        )
    if got is None:
        details = [
            f"call     : {shown}",
            f"expected : {expected} (the gradient norm first falls to tol or below after "
            f"{expected} steps, within max_steps = {max_steps})",
            "got      : None",
        ]
        if expected == max_steps:
            details.append(
                "likely mistake : the point w_k after exactly max_steps steps was not tested: "
                "k = 0, 1, ..., max_steps are all allowed (max_steps + 1 gradient checks)"
            )
        else:
            details += [f"likely mistake : {text}" for text, v in variants.items() if v is None][:1]
            details.append("(a function without `return k` returns None too)")
        raise CheckFailure("steps_to_tolerance returned None, but the tolerance is met.", details)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        raise CheckFailure(
            "steps_to_tolerance must return an integer (a number of steps) or None.",
            [f"call : {shown}", f"got  : {type(got).__name__} {got!r}", f"expected : {expected}"],
        )
    if int(got) == expected:
        return
    details = [f"call     : {shown}", f"expected : {expected}", f"got      : {int(got)}"]
    named = [text for text, value in variants.items() if value is not None and value == int(got)]
    if named:
        details.append(f"likely mistake : {named[0]}")
    elif int(got) == expected + 1:
        details.append(
            "likely mistake : counted one step too many; test the gradient at w before "
            "taking a step (w0 itself counts as 0 steps)"
        )
    elif int(got) == expected - 1:
        details.append("likely mistake : counted one step too few")
    raise CheckFailure("steps_to_tolerance gave a wrong number of steps.", details)


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
    # reached after exactly max_steps steps (the answer), and one step too late (None)
    k = _steps_to_tolerance(ill_grad, GOAL_START, 0.05, 1e-3, 10_000)
    expect_steps_to_tolerance(steps_to_tolerance, ill_grad, [2.0, 1.0], 0.05, 1e-3, k)
    expect_steps_to_tolerance(steps_to_tolerance, ill_grad, [2.0, 1.0], 0.05, 1e-3, k - 1)
    # the gradient norm equals tol exactly at w0: ||(1, 0)|| = 1 <= 1 counts
    expect_steps_to_tolerance(steps_to_tolerance, bowl_grad, [1.5, -0.5], 0.1, 1.0, 10)
    # integers: gradient descent from an integer w0 still moves by fractions
    expect_steps_to_tolerance(steps_to_tolerance, bowl_grad, np.array([3, -2]), 0.2, 1e-6, 100)


# --------------------------------------------------------------------------- adam

_TINY_CENTRE = np.array([3.0, -1.0, 0.5])


def tiny_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of 1e-9 * ||w - c||^2 / 2: gradients of size 1e-9, comparable to eps, where
    Adam's first steps with and without the bias correction differ about eight-fold."""
    return 1e-9 * (np.asarray(w, dtype=float) - _TINY_CENTRE)


ADAM_DEFAULTS = {
    "learning_rate": 0.01,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "num_steps": 100,
}


def _adam(grad_fn, w0, learning_rate, beta1, beta2, eps, num_steps, variant="right"):
    """Adam as the exercise asks (``"right"``) or with one typical mistake."""
    if variant == "betas_swapped":
        beta1, beta2 = beta2, beta1
    w = np.array(w0, dtype=float)
    m, v = np.zeros_like(w), np.zeros_like(w)
    path = [w.copy()]
    for t in range(1, num_steps + 1):
        g = np.asarray(grad_fn(w), dtype=float)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        c1 = 1 - beta1 ** (t + 1 if variant == "t_shift" else t)
        c2 = 1 - beta2 ** (t + 1 if variant == "t_shift" else t)
        m_hat = m if variant in ("no_correction", "only_v") else m / c1
        v_hat = v if variant in ("no_correction", "only_m") else v / c2
        if variant == "eps_inside":
            step = m_hat / np.sqrt(v_hat + eps)
        elif variant == "no_sqrt":
            step = m_hat / (v_hat + eps)
        elif (
            variant == "paper_eps"
        ):  # the paper's faster form, eps added to sqrt(v), not sqrt(v_hat)
            step = (np.sqrt(c2) / c1) * m / (np.sqrt(v) + eps)
        else:
            step = m_hat / (np.sqrt(v_hat) + eps)
        w = w + learning_rate * step if variant == "ascent" else w - learning_rate * step
        path.append(w.copy())
    return np.array(path)


_ADAM_MISTAKES = {
    "no_correction": "no bias correction: m_t and v_t start at 0, so without dividing by "
    "1 - beta1**t and 1 - beta2**t the first steps are far too small (here the gradients are "
    "tiny, and the difference is large)",
    "only_m": "only m_t is bias-corrected: v_hat = v_t / (1 - beta2**t) is missing",
    "only_v": "only v_t is bias-corrected: m_hat = m_t / (1 - beta1**t) is missing",
    "t_shift": "the bias correction uses the wrong power: at the first step t = 1, so "
    "m_hat = m_1 / (1 - beta1)",
    "eps_inside": "eps is inside the square root: the update is m_hat / (sqrt(v_hat) + eps)",
    "paper_eps": "eps is added to sqrt(v_t) and the correction folded into the rate (the "
    "Adam paper's faster form): this exercise adds eps to sqrt(v_hat)",
    "no_sqrt": "the square root of v_hat is missing: divide by sqrt(v_hat) + eps",
    "betas_swapped": "beta1 and beta2 are swapped: beta1 (0.9) averages the gradients, beta2 "
    "(0.999) their squares",
    "ascent": "added the step instead of subtracting it",
}


def _counted(grad_fn: Callable) -> tuple[Callable, list[int]]:
    """``grad_fn`` that also counts its calls (the student's code calls this one)."""
    calls: list[int] = []

    def counted(w):
        calls.append(1)
        return grad_fn(w)

    counted.__name__ = getattr(grad_fn, "__name__", "grad_fn")
    return counted, calls


def expect_adam(adam: Callable, grad_fn: Callable, w0: Any, **given: Any) -> None:
    """Require Adam's path from ``w0`` with the keyword arguments ``given`` (defaults otherwise).

    The arguments are passed by keyword, only those given, so a call with none of them checks
    the defaults. ``w0`` is passed as given (an integer array stays one); the path must be a
    float array of shape (num_steps + 1, n), and ``grad_fn`` must be called once per step.
    """
    unknown = set(given) - set(ADAM_DEFAULTS)
    if unknown:
        raise TypeError(f"expect_adam: unknown arguments {sorted(unknown)}")
    w0 = _given(w0)
    settings = {**ADAM_DEFAULTS, **given}
    shown = describe_call("adam", grad_fn, w0, **given)
    counted, calls = _counted(grad_fn)
    got = _as_path("adam", _call("adam", adam, (counted, w0), w0, **given), shown, w0)
    with quiet():
        expected = _adam(grad_fn, w0, **settings)
    _check_path_shape("adam", got, expected, shown)
    _check_path_start("adam", got, expected, w0, shown)
    if got.shape[0] > 1 and not np.all(np.isfinite(got[1])):
        raise CheckFailure(
            "adam returned a first step that is not finite.",
            [
                f"call           : {shown}",
                f"got[1]         : {got[1]}",
                f"expected[1]    : {expected[1]}",
                "likely mistake : the first step must have t = 1: with t = 0 the bias "
                "correction divides by 1 - beta**0 = 0",
            ],
        )
    with quiet():
        mistakes = {
            text: _adam(grad_fn, w0, **settings, variant=variant)
            for variant, text in _ADAM_MISTAKES.items()
        }
        mistakes["the rows after the first are all w0: w is never updated"] = np.tile(
            w0.astype(float), (settings["num_steps"] + 1, 1)
        )
        if "learning_rate" not in given:
            mistakes["the default learning_rate must be 0.01, as in the signature asked for"] = (
                _adam(grad_fn, w0, **{**settings, "learning_rate": 0.001})
            )
    check(
        "adam",
        got,
        expected,
        call=shown,
        rtol=1e-9,
        mistakes=mistakes,
        hint="m and v start at 0 and t at 1; each step: g = grad_fn(w), update m and v, "
        "correct both, then w = w - learning_rate * m_hat / (sqrt(v_hat) + eps)",
    )
    steps = settings["num_steps"]
    if len(calls) != steps:
        raise CheckFailure(
            "adam called grad_fn the wrong number of times.",
            [
                f"call     : {shown}",
                f"expected : {steps} calls (one per step: in training each is a backward pass)",
                f"got      : {len(calls)} calls",
            ]
            + (
                ["likely mistake : the gradient is computed twice per step; compute g once"]
                if len(calls) == 2 * steps and steps
                else []
            )
            + (
                ["likely mistake : an extra gradient after the last step; it is never used"]
                if len(calls) == steps + 1
                else []
            ),
        )


@exercise(LESSON, "Exercise 04.7 · Adam", "adam")
def check_adam(adam: Callable) -> None:
    """Visible test of ``adam(grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999,
    eps=1e-8, num_steps=100)``."""
    expect_adam(adam, bowl_grad, [-1.5, 1.5])  # every default
    expect_adam(adam, ill_grad, [2.0, 1.0], learning_rate=0.1, beta1=0.8, beta2=0.99, num_steps=30)
    # gradients of size 1e-9: the bias correction decides the first steps
    expect_adam(adam, tiny_grad, [0.0, 0.0, 0.0], learning_rate=0.05, num_steps=15)
    expect_adam(adam, tiny_grad, [1.0, 1.0, 1.0], learning_rate=0.02, eps=1e-9, num_steps=8)
    expect_adam(adam, soft_grad, np.array([2, 0, -1]), learning_rate=0.2, num_steps=10)  # ints
    expect_adam(adam, bowl_grad, [0.5, 0.5], num_steps=0)  # only w0


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
