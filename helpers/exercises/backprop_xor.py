"""Checks of Lesson 05 (backpropagation on XOR, and the cross-entropy loss).

The network is the lesson's 2-4-1 sigmoid MLP with parameters in a dict ``{"W1": (2, 4),
"b1": (1, 4), "W2": (4, 1), "b2": (1, 1)}``, inputs ``X`` of shape (m, 2), targets ``y`` of
shape (m, 1) and the loss ``mean((a2 - y)**2)``. The references below are written out here on
purpose (a check must not depend on the code it judges), together with the usual wrong
variants so that a failing check can name the likely mistake. The sigmoid and the XOR data
are :mod:`helpers.mlp`'s.

Per exercise, ``expect_<name>(student_fn, *inputs)`` checks one input (the hidden tests call
these with inputs of their own) and ``check_<name>(student_fn)``, the visible test, makes a few
``expect_`` calls. Each check deep-copies the parameter and cache dicts it passes and compares
them afterwards: a function that changes its inputs in place is caught.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import (
    RAISED,
    CheckFailure,
    call,
    check,
    exercise,
    quiet,
    quiz_exercise,
    require_returned,
)
from ..mlp import sigmoid as _sigmoid
from ..mlp import xor_data
from .evidence import distinct, dtype_of, low_precision, require_array

LESSON = "05_backprop_xor"

SHAPES = {"W1": (2, 4), "b1": (1, 4), "W2": (4, 1), "b2": (1, 1)}
CACHE_KEYS = ("X", "z1", "a1", "z2", "a2")

# The training exercise: this start, rate and budget converge with a wide margin (the reference
# puts all four points on the right side of 0.5 long before the last epoch).
TRAIN_SEED = 7
TRAIN_LEARNING_RATE = 2.0
TRAIN_EPOCHS = 1500


def initial_params(seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """A fresh parameter dict, entries uniform in [-scale, scale] (numpy's default_rng(seed))."""
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-scale, scale, size=s) for k, s in SHAPES.items()}


# --------------------------------------------------------------------------- references


def _forward(params, X, hidden_act=True, out_act=True, biases=True):
    z1 = X @ params["W1"] + (params["b1"] if biases else 0.0)
    a1 = _sigmoid(z1) if hidden_act else z1
    z2 = a1 @ params["W2"] + (params["b2"] if biases else 0.0)
    a2 = _sigmoid(z2) if out_act else z2
    return a2, {"X": X, "z1": z1, "a1": a1, "z2": z2, "a2": a2}


def _backward(params, cache, y, mistake=None):
    """Gradients of mean((a2 - y)^2); ``mistake`` names a typical wrong variant."""
    X, z1, a1, z2, a2 = (cache[k] for k in CACHE_KEYS)
    m = X.shape[0]
    scale = {"no_two": 1.0, "no_mean": 2.0, "no_two_no_mean": 1.0}.get(mistake, 2.0)
    divide = 1.0 if mistake in ("no_mean", "no_two_no_mean") else float(m)
    residual = (y - a2) if mistake == "sign" else (a2 - y)
    dL_da2 = scale * residual / divide
    if mistake == "bce_delta":
        dL_da2, out_prime = (a2 - y) / m, 1.0  # d2 = (a2 - y) / m: the cross-entropy delta
    elif mistake == "out_sigma_not_prime":
        out_prime = a2
    elif mistake == "out_prime_of_z":
        out_prime = z2 * (1 - z2)
    elif mistake == "no_out_prime":
        out_prime = 1.0
    else:
        out_prime = a2 * (1 - a2)
    d2 = dL_da2 * out_prime
    da1 = d2 @ params["W2"].T
    if mistake == "hidden_sigma_not_prime":
        hid_prime = a1
    elif mistake == "hidden_prime_of_z":
        hid_prime = z1 * (1 - z1)
    elif mistake == "no_hidden_prime":
        hid_prime = 1.0
    else:
        hid_prime = a1 * (1 - a1)
    d1 = da1 * hid_prime
    if mistake == "one_sample_bias":
        db1, db2 = d1[:1], d2[:1]
    elif mistake == "mean_bias":
        db1, db2 = d1.mean(axis=0, keepdims=True), d2.mean(axis=0, keepdims=True)
    else:
        db1, db2 = d1.sum(axis=0, keepdims=True), d2.sum(axis=0, keepdims=True)
    return {"W1": X.T @ d1, "b1": db1, "W2": a1.T @ d2, "b2": db2}


BACKWARD_MISTAKES = {
    "no_two": "dropped the 2 from the MSE derivative: d/da2 mean((a2 - y)^2) = 2 (a2 - y) / m",
    "no_mean": "gradient not averaged over the batch: divide by m = X.shape[0] (a mean loss)",
    "no_two_no_mean": "dropped the 2 and the 1/m of the MSE derivative: it is 2 (a2 - y) / m",
    "sign": "the sign is flipped: the derivative of (a2 - y)^2 is 2 (a2 - y), not 2 (y - a2)",
    "out_sigma_not_prime": "used sigma(z2) = a2 where sigma'(z2) = a2 (1 - a2) belongs (output)",
    "hidden_sigma_not_prime": "used sigma(z1) = a1 where sigma'(z1) = a1 (1 - a1) belongs (hidden)",
    "out_prime_of_z": "computed z2 (1 - z2); sigma'(z2) is a2 (1 - a2), with a2 = sigma(z2)",
    "hidden_prime_of_z": "computed z1 (1 - z1); sigma'(z1) is a1 (1 - a1), with a1 = sigma(z1)",
    "no_out_prime": "left out sigma'(z2) = a2 (1 - a2) at the output",
    "no_hidden_prime": "left out sigma'(z1) = a1 (1 - a1) in the hidden layer",
    "one_sample_bias": "the bias gradient uses one sample only; sum the deltas over all rows",
    "mean_bias": "averaged the bias deltas a second time; the 1/m is already in dL/da2: sum rows",
    "bce_delta": "used the cross-entropy delta (a2 - y) / m of Exercise 05.4: for the mean squared "
    "error the output delta is 2 (a2 - y) / m * a2 (1 - a2), sigma' does not cancel",
}


def _train(params, X, y, lr, epochs, record_after=False, grad_scale=1.0, sign=-1.0):
    p = {k: np.array(v, dtype=float) for k, v in params.items()}
    losses = []
    for _ in range(epochs):
        a2, cache = _forward(p, X)
        if not record_after:
            losses.append(float(np.mean((a2 - y) ** 2)))
        g = _backward(p, cache, y)
        p = {k: p[k] + sign * lr * grad_scale * g[k] for k in p}
        if record_after:
            losses.append(float(np.mean((_forward(p, X)[0] - y) ** 2)))
    return p, np.array(losses)


# --------------------------------------------------------------------------- shared pieces


def _show(a: np.ndarray) -> str:
    with np.printoptions(precision=4, suppress=True, linewidth=90):
        return np.array2string(np.asarray(a), separator=", ").replace("\n", "\n                   ")


def _describe_params(params) -> str:
    return "{" + ", ".join(f'"{k}": array{np.shape(v)}' for k, v in params.items()) + "}"


# What each exercise's arguments are called, for messages about a changed input.
ARGUMENT_NAMES = {
    "forward": ("params", "X"),
    "backward": ("params", "cache", "y"),
    "train": ("params", "X", "y", "learning_rate", "epochs"),
    "predict": ("params", "X"),
}


def _modified(name: str, label: str, k: Any) -> CheckFailure:
    """A changed entry ``k`` of the dict argument ``label``, told in the exercise's words."""
    if label == "params" and name == "train":
        advice = [
            "likely mistake : modified params in place (e.g. params['W1'] -= ...);",
            "                 build new arrays for the new parameters instead",
        ]
    elif label == "params":
        advice = [
            f"likely mistake : {name} only reads the parameters: compute new arrays from "
            f"params[{k!r}] instead of assigning into it",
        ]
    else:
        advice = [
            f"{label}[{k!r}] changed during the call: compute new arrays "
            f"(d = a2 - y) instead of changing {label}'s arrays (a2 -= y)",
        ]
    return CheckFailure(
        f"{name} modified its input {label} (entry {k!r}).",
        ["it must leave the dicts it is given unchanged"] + advice,
    )


def _call_with_dicts(fn: Callable, *args: Any, name: str) -> Any:
    """Call ``fn`` with deep copies of its dict and array arguments; fail if any was changed."""
    originals = [copy.deepcopy(a) if isinstance(a, (dict, np.ndarray)) else a for a in args]
    passed = [copy.deepcopy(a) if isinstance(a, (dict, np.ndarray)) else a for a in args]
    labels = ARGUMENT_NAMES.get(name, ())
    with quiet():
        try:
            result = call(fn, *passed, name=name)
        except CheckFailure as failure:
            if failure.cause == RAISED:
                raise _crash(name, failure, labels, args) from None
            # helpers.checks.call compares the dicts first: say it with the argument's name.
            found = re.search(r"argument (\d+), entry '([^']*)'", failure.summary)
            if found and "modified its input" in failure.summary:
                i = int(found.group(1)) - 1
                label = labels[i] if i < len(labels) else f"argument {i + 1}"
                raise _modified(name, label, found.group(2)) from None
            raise
    for i, (before, after) in enumerate(zip(originals, passed)):
        if isinstance(before, dict):
            for k, v in before.items():
                if k not in after or not np.array_equal(
                    np.asarray(v), np.asarray(after[k]), equal_nan=True
                ):
                    label = labels[i] if i < len(labels) else f"argument {i + 1}"
                    raise _modified(name, label, k)
    return result


def _crash(name: str, failure: CheckFailure, labels: tuple, args: tuple) -> CheckFailure:
    """The crash of a student's function, told with shapes instead of the arrays' values."""
    message = next((d for d in failure.details if d.startswith("message")), "")
    shapes = ", ".join(
        f"{label} of shape {np.shape(a)}"
        for label, a in zip(labels, args)
        if isinstance(a, np.ndarray)
    )
    details = [f"call    : {name}(...) with {shapes}" if shapes else f"call    : {name}(...)"]
    details += [message] if message else []
    if failure.error == "ValueError" and "matmul" in message:
        details.append(
            "hint    : shapes do not fit a product: W1 has shape (n_in, n_hidden) = (2, 4) and "
            "W2 (n_hidden, 1) = (4, 1), one row of X per example: Z = X W + b, no transpose"
        )
    return CheckFailure(failure.summary, details, cause=RAISED, error=failure.error)


def _pair_of(name: str, got: Any, what: str) -> tuple:
    """``got`` as a pair (a tuple or a list of two), or a CheckFailure saying what came back."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailure(
            f"{name} must return a pair {what}.",
            [
                f"got {type(got).__name__}"
                + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""),
                f"end with `return {what[1:-1]}`",
            ],
        )
    return got[0], got[1]


def _need_dict(name: str, got: Any, keys, what: str) -> dict:
    if not isinstance(got, dict):
        raise CheckFailure(f"{name} must return {what} as a dict.", [f"got {type(got).__name__}"])
    missing = [k for k in keys if k not in got]
    if missing:
        raise CheckFailure(
            f"{name}: {what} lacks {', '.join(map(repr, missing))}.",
            [f"keys present: {sorted(got)}", f"required: {list(keys)}"],
        )
    return got


def _check_grads(
    name: str, got: dict, expected: dict, variants: dict, shown: str, rtol: float
) -> None:
    extra = sorted(set(got) - set(expected))
    if extra:
        raise CheckFailure(
            f"{name} returned extra keys {extra}.",
            ["return exactly the keys of params: 'W1', 'b1', 'W2', 'b2'"],
        )
    for k in SHAPES:
        g = np.asarray(got[k], dtype=float) if got[k] is not None else None
        if g is not None and g.shape != expected[k].shape:
            hint = (
                "keep the row dimension: .sum(axis=0, keepdims=True)"
                if k.startswith("b") and g.size == expected[k].size
                else "the gradient of a parameter has the parameter's shape"
            )
            raise CheckFailure(
                f"{name}: the gradient {k!r} has the wrong shape.",
                [
                    f"call           : {shown}",
                    f"expected shape : {expected[k].shape}",
                    f"got shape      : {g.shape}",
                    f"hint           : {hint}",
                ],
            )
        mistakes = distinct({desc: var[k] for desc, var in variants.items()}, expected[k], rtol, g)
        check(
            f"{name}: gradient {k!r}", got[k], expected[k], call=shown, rtol=rtol, mistakes=mistakes
        )


# --------------------------------------------------------------------------- exercises


def _titled(k: str, title: str) -> str:
    return f"Exercise 05.{k} · {title}"


def expect_sigmoid(sigmoid: Callable, z: Any) -> None:
    """``sigmoid(z)`` must be ``1 / (1 + exp(-z))`` elementwise, with the shape of ``z``."""
    shown = f"sigmoid({_show(z)})"
    try:
        got = _call_with_dicts(sigmoid, z, name="sigmoid")
    except CheckFailure as failure:
        if failure.error != "TypeError":
            raise
        raise CheckFailure(
            failure.summary,
            list(failure.details)
            + ["likely mistake : math.exp takes one number; np.exp works on whole arrays"],
        ) from None
    got = require_returned("sigmoid", got, shown)
    expected = _sigmoid(z)
    check(
        "sigmoid",
        got,
        expected,
        call=shown,
        rtol=1e-9,
        mistakes={
            "sign of the exponent: 1 / (1 + exp(z)) is sigma(-z)": _sigmoid(-np.asarray(z)),
            "returned the derivative sigma(z) (1 - sigma(z)), not sigma(z)": expected
            * (1 - expected),
            "returned tanh(z); the sigmoid is 1 / (1 + exp(-z))": np.tanh(z),
            "returned exp(-z) / (1 + exp(-z)), which is 1 - sigma(z)": 1 - expected,
        },
        hint=low_precision(got)
        or "the sigmoid squashes any real number into (0, 1); sigma(0) = 1/2",
    )


@exercise(LESSON, _titled("1", "Sigmoid"), "sigmoid")
def check_sigmoid(sigmoid: Callable) -> None:
    """Visible test of ``sigmoid(z)``: a number, a vector and a matrix."""
    expect_sigmoid(sigmoid, 0.0)
    expect_sigmoid(sigmoid, np.array([-30.0, -4.0, -0.7, 0.0, 0.3, 2.5, 30.0]))
    expect_sigmoid(sigmoid, np.array([[-1.5, 0.2], [3.0, -8.0]]))


def _forward_case(seed: int, m: int):
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(0.0, 1.0, size=s) for k, s in SHAPES.items()}
    X = rng.uniform(-1.5, 1.5, size=(m, 2))
    return params, X


def expect_forward(forward: Callable, params: dict, X: Any) -> None:
    """``forward(params, X)`` must return ``(a2, cache)`` with the five values of the pass."""
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    X = np.array(X, dtype=float)
    shown = f"forward({_describe_params(params)}, X of shape {X.shape})"
    got = require_returned("forward", _call_with_dicts(forward, params, X, name="forward"), shown)
    a2, cache = _pair_of("forward", got, "(a2, cache)")
    if isinstance(a2, dict) and not isinstance(cache, dict):
        raise CheckFailure(
            "forward returned (cache, a2): the order is (a2, cache).",
            [f"call : {shown}", "end with `return a2, cache`"],
        )
    expected, ref_cache = _forward(params, X)
    check(
        "forward: a2",
        a2,
        expected,
        call=shown,
        rtol=1e-9,
        mistakes={
            "forgot the sigmoid on the output layer (a2 = sigma(z2))": _forward(
                params, X, out_act=False
            )[0],
            "forgot the sigmoid on the hidden layer (a1 = sigma(z1))": _forward(
                params, X, hidden_act=False
            )[0],
            "left out the biases b1 and b2": _forward(params, X, biases=False)[0],
        },
        hint="two layers, each an affine map (rows: X W + b) followed by the sigmoid",
    )
    cache = _need_dict("forward", cache, CACHE_KEYS, "the cache")
    for k in CACHE_KEYS:
        check(
            f"forward: cache[{k!r}]",
            cache[k],
            ref_cache[k],
            call=shown,
            rtol=1e-9,
            hint=f"cache[{k!r}] must hold {k} of this forward pass",
        )


@exercise(LESSON, _titled("2", "Forward pass"), "forward")
def check_forward(forward: Callable) -> None:
    """Visible test of ``forward(params, X)``: two random networks and batches."""
    for seed, m in ((11, 5), (12, 3)):
        expect_forward(forward, *_forward_case(seed, m))


# --------------------------------------------------------------------------- cross-entropy


def _bce(a, y):
    return float(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))


def _bce_case(seed: int, m: int):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.05, 0.95, size=(m, 1))
    y = rng.integers(0, 2, size=(m, 1)).astype(float)
    y[0, 0], y[1, 0] = 0.0, 1.0  # both classes present, so every neighbouring formula differs
    return a, y


def expect_bce_loss(bce_loss: Callable, a: Any, y: Any) -> None:
    """``bce_loss(a, y)`` must be ``-mean(y log a + (1 - y) log(1 - a))``, one float."""
    a, y = np.array(a, dtype=float), np.array(y, dtype=float)
    m = a.shape[0]
    shown = f"bce_loss(a, y) with a = {_show(a.ravel())}, y = {y.ravel()} (shape {a.shape})"
    got = require_returned("bce_loss", _call_with_dicts(bce_loss, a, y, name="bce_loss"), shown)
    # An array of any shape - even 0-d, holding one number - is not the number the text asks for.
    # The message names the size, not the shape: batch grading's record stores a 0-d array with
    # shape (1,), and the verdict and its words must be the same there.
    if isinstance(got, np.ndarray) or np.ndim(got) != 0:
        count = int(np.size(got))
        raise CheckFailure(
            "bce_loss must return one number, not an array.",
            [
                f"call : {shown}",
                f"got  : {type(got).__name__} holding {count} value{'s' if count != 1 else ''}",
                "the loss is the mean over the m examples of the per-example losses; return it "
                "as a number (float(...) of it)",
            ],
        )
    with quiet():
        mistakes = {
            "summed over the examples: the loss is the mean, divide by m": m * _bce(a, y),
            "the minus sign is missing: log a and log(1 - a) are negative, the loss is not": -_bce(
                a, y
            ),
            "swapped y and 1 - y: y goes with log a, (1 - y) with log(1 - a)": _bce(a, 1 - y),
            "wrote 1 - log(a) where log(1 - a) belongs": float(
                -np.mean(y * np.log(a) + (1 - y) * (1 - np.log(a)))
            ),
            "left out the (1 - y) log(1 - a) term: the examples with y = 0 cost nothing": float(
                -np.mean(y * np.log(a))
            ),
            "used log base 10: the cross-entropy uses the natural log, np.log": _bce(a, y)
            / np.log(10),
        }
    check(
        "bce_loss",
        got,
        _bce(a, y),
        call=shown,
        rtol=1e-9,
        mistakes=mistakes,
        hint="per example -(y log a + (1 - y) log(1 - a)), then the mean over the examples",
    )


@exercise(LESSON, _titled("3", "Binary cross-entropy"), "bce_loss")
def check_bce_loss(bce_loss: Callable) -> None:
    """Visible test of ``bce_loss(a, y)``: two batches of outputs and 0/1 targets."""
    for seed, m in ((41, 5), (42, 8)):
        expect_bce_loss(bce_loss, *_bce_case(seed, m))


def expect_bce_delta(bce_delta: Callable, a: Any, y: Any) -> None:
    """``bce_delta(a, y)`` must be dL/dz2 = (a - y) / m, with the shape of ``a``."""
    a, y = np.array(a, dtype=float), np.array(y, dtype=float)
    m = a.shape[0]
    shown = f"bce_delta(a, y) with a = {_show(a.ravel())}, y = {y.ravel()} (shape {a.shape})"
    got = require_returned("bce_delta", _call_with_dicts(bce_delta, a, y, name="bce_delta"), shown)
    expected = (a - y) / m
    if np.shape(got) != a.shape:
        raise CheckFailure(
            "bce_delta returned the wrong shape.",
            [
                f"call           : {shown}",
                f"expected shape : {a.shape} (one delta per example, like a)",
                f"got shape      : {np.shape(got)}",
            ],
        )
    check(
        "bce_delta",
        got,
        expected,
        call=shown,
        rtol=1e-9,
        mistakes={
            "not divided by m: the loss is a mean over the m examples": a - y,
            "kept sigma'(z2) = a (1 - a): with cross-entropy it cancels": expected * a * (1 - a),
            "the sign is flipped: dL/dz2 is positive where a is above y": -expected,
            "this is the mean-squared-error delta 2 (a - y) a (1 - a) / m": 2
            * expected
            * a
            * (1 - a),
            "this is dL/da = (a - y) / (m a (1 - a)), before the chain rule through the sigmoid": (
                expected / (a * (1 - a))
            ),
            "divided by m twice": expected / m,
        },
        hint="chain rule: dL/da times da/dz2 = a (1 - a); see what cancels",
    )


@exercise(LESSON, _titled("4", "Cross-entropy output delta"), "bce_delta")
def check_bce_delta(bce_delta: Callable) -> None:
    """Visible test of ``bce_delta(a, y)``: two batches of outputs and 0/1 targets."""
    for seed, m in ((43, 5), (44, 7)):
        expect_bce_delta(bce_delta, *_bce_case(seed, m))


# --------------------------------------------------------------------------- backward and training


def _cache_of(params, X):
    return _forward(params, X)[1]


def expect_backward(backward: Callable, params: dict, X: Any, y: Any) -> None:
    """``backward(params, cache, y)`` for the forward pass of ``X`` must return every gradient."""
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    X, y = np.array(X, dtype=float), np.array(y, dtype=float)
    cache = _cache_of(params, X)
    shown = (
        f"backward(params, cache, y) for the forward pass of X of shape {X.shape}, y = {y.ravel()}"
    )
    got = _call_with_dicts(backward, params, cache, y, name="backward")
    got = _need_dict("backward", require_returned("backward", got, shown), SHAPES, "the gradients")
    expected = _backward(params, cache, y)
    variants = {desc: _backward(params, cache, y, key) for key, desc in BACKWARD_MISTAKES.items()}
    _check_grads("backward", got, expected, variants, shown, rtol=1e-7)


def _backward_case(seed: int, m: int):
    params, X = _forward_case(seed, m)
    rng = np.random.default_rng(seed + 100)
    y = rng.integers(0, 2, size=(m, 1)).astype(float)
    return params, X, y


@exercise(LESSON, _titled("5", "Backward pass"), "backward")
def check_backward(backward: Callable) -> None:
    """Visible test of ``backward(params, cache, y)``: two random networks and batches."""
    for seed, m in ((21, 5), (22, 7)):
        expect_backward(backward, *_backward_case(seed, m))


def _as_params(value: Any) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=float) for k, v in value.items()}


def _steps(params, X, y, lr, n, stale=False, sign=-1.0) -> dict[str, np.ndarray]:
    """The params after ``n`` reference updates; ``stale`` reuses the gradient of the start."""
    p = _as_params(params)
    first = _backward(p, _cache_of(p, X), y)
    for _ in range(n):
        g = first if stale else _backward(p, _cache_of(p, X), y)
        p = {k: p[k] + sign * lr * g[k] for k in p}
    return p


def _same_params(a: dict, b: dict, rtol: float = 1e-9, keys: Any = tuple(SHAPES)) -> bool:
    return all(
        np.shape(a[k]) == np.shape(b[k])
        and np.linalg.norm(np.asarray(a[k], dtype=float) - b[k])
        <= rtol * max(1.0, np.linalg.norm(b[k]))
        for k in keys
    )


def _train_diagnosis(train: Callable, params: dict, X, y, lr, losses: np.ndarray) -> list[str]:
    """What the evidence says about a ``train`` that did not learn XOR (possibly nothing).

    The student's ``train`` is run again for one and for two epochs and compared with the
    reference updates: what a message claims is then what those short runs showed.
    """
    if losses.size > 1 and np.all(losses == losses[0]):
        return [
            "likely mistake : every recorded loss is the same number: run the forward pass "
            "again in every epoch, with the current params, and record its loss"
        ]
    try:
        runs = []
        for n in (1, 2):
            out = _call_with_dicts(train, params, X, y, lr, n, name="train")
            trained, _ = _pair_of("train", out, "(params, losses)")
            runs.append(_as_params(_need_dict("train", trained, SHAPES, "the trained params")))
    except CheckFailure:
        return []
    one, two = runs
    if _same_params(one, _steps(params, X, y, lr, 1, sign=1.0)):
        return [
            "likely mistake : after one epoch your params are params + learning_rate * gradient: "
            "a descent step subtracts the gradient"
        ]
    reference = _steps(params, X, y, lr, 1)
    if not _same_params(one, reference):
        still = [k for k in SHAPES if np.array_equal(one[k], params[k])]
        if still and all(
            _same_params({k: one[k]}, {k: reference[k]}, keys=(k,))
            for k in SHAPES
            if k not in still
        ):
            return [
                f"likely mistake : after one epoch {', '.join(still)} "
                f"{'is' if len(still) == 1 else 'are'} unchanged and the other parameters are "
                "right: update every parameter, the biases too"
            ]
        return [
            "after one epoch your params are not params - learning_rate * gradient (the "
            "gradient of mean((a2 - y)**2) at the params given): check the update line"
        ]
    if _same_params(two, _steps(params, X, y, lr, 2, stale=True)):
        return [
            "likely mistake : the second epoch reused the first epoch's gradient: run forward "
            "and backward again in every epoch, with the current params"
        ]
    if not _same_params(two, _steps(params, X, y, lr, 2)):
        return [
            "the first epoch's update is right but the second is not: every epoch needs a new "
            "forward and backward pass with the params of that epoch"
        ]
    return []


def _check_train_result(train, got, params, X, y, lr, epochs, shown):
    new_params, losses = _pair_of("train", got, "(params, losses)")
    new_params = _need_dict("train", new_params, SHAPES, "the trained params")
    for k, s in SHAPES.items():
        if np.shape(new_params[k]) != s:
            raise CheckFailure(
                f"train: trained params[{k!r}] has shape {np.shape(new_params[k])}, not {s}."
            )
    try:
        losses = np.array(losses, dtype=float).ravel()
    except (TypeError, ValueError):
        raise CheckFailure("train: losses must be a list or array of numbers.") from None
    if losses.size != epochs:
        raise CheckFailure(
            f"train: losses has {losses.size} entries, expected one per epoch ({epochs}).",
            [f"call : {shown}"],
        )
    a2 = _forward(_as_params(new_params), X)[0]
    wrong = np.flatnonzero((a2 > 0.5) != (y > 0.5))
    initial = float(np.mean((_forward(params, X)[0] - y) ** 2))
    if wrong.size:
        details = [
            f"call            : {shown}",
            f"outputs         : {_show(a2.ravel())}",
            f"targets         : {y.ravel()}",
            f"wrong side of 0.5 at rows {wrong.tolist()}",
            f"loss            : {initial:.4g} at the start, "
            f"{float(np.mean((a2 - y) ** 2)):.4g} at the end",
        ]
        if all(np.array_equal(np.asarray(new_params[k], dtype=float), params[k]) for k in SHAPES):
            details.append("likely mistake : the params never change; update them every epoch")
        else:
            details += _train_diagnosis(train, params, X, y, lr, losses)
        raise CheckFailure("train did not learn XOR.", details)
    return new_params, losses, initial


def expect_train(train: Callable, params: dict, X: Any, y: Any, learning_rate, epochs) -> None:
    """``train(params, X, y, learning_rate, epochs)`` must learn XOR and record losses[0] first."""
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    X, y = np.array(X, dtype=float), np.array(y, dtype=float)
    shown = f"train(params, X_xor, y_xor, {learning_rate}, {epochs})"
    got = _call_with_dicts(train, params, X, y, learning_rate, epochs, name="train")
    got = require_returned("train", got, shown)
    _, losses, initial = _check_train_result(train, got, params, X, y, learning_rate, epochs, shown)
    _, after = _train(params, X, y, learning_rate, 1, record_after=True)
    m = X.shape[0]
    check(
        "train: losses[0]",
        losses[0],
        initial,
        call=shown,
        rtol=1e-9,
        mistakes=distinct(
            {
                "recorded the loss after the update; losses[k] is the loss before update k": after[
                    0
                ],
                "recorded the sum of the squared errors; the loss is their mean": m * initial,
            },
            initial,
            1e-9,
            losses[0],
        ),
        hint="losses[0] is the loss mean((a2 - y)**2) of the params you were given",
    )


@exercise(LESSON, _titled("6", "Training loop"), "train")
def check_train(train: Callable) -> None:
    """Visible test of ``train``: it learns XOR from a fixed start, and records every loss."""
    X, y = xor_data()
    expect_train(train, initial_params(TRAIN_SEED), X, y, TRAIN_LEARNING_RATE, TRAIN_EPOCHS)
    expect_train_curve(train, initial_params(3), X, y, 0.7, 25)


def expect_train_curve(train: Callable, params: dict, X: Any, y: Any, learning_rate, epochs):
    """The whole loss curve of ``train(params, X, y, learning_rate, epochs)`` is the reference's."""
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    X, y = np.array(X, dtype=float), np.array(y, dtype=float)
    lr = learning_rate
    shown = f"train(params, X_xor, y_xor, {lr}, {epochs})"
    got = require_returned(
        "train", _call_with_dicts(train, params, X, y, lr, epochs, name="train"), shown
    )
    _, got_losses = _pair_of("train", got, "(params, losses)")
    try:
        losses = np.array(got_losses, dtype=float).ravel()
    except (TypeError, ValueError):
        raise CheckFailure("train: losses must be a list or array of numbers.") from None
    _, expected = _train(params, X, y, lr, epochs)
    if losses.shape != expected.shape:
        raise CheckFailure(f"train: losses has {losses.size} entries, expected {epochs}.")
    m = X.shape[0]
    with quiet():
        mistakes = {
            "recorded the loss after each update instead of before it": _train(
                params, X, y, lr, epochs, record_after=True
            )[1],
            "the gradient is not averaged over the batch (steps m times too large)": _train(
                params, X, y, lr, epochs, grad_scale=float(m)
            )[1],
            "the 2 of the MSE derivative is missing (steps half as large)": _train(
                params, X, y, lr, epochs, grad_scale=0.5
            )[1],
            "added the gradient instead of subtracting it": _train(
                params, X, y, lr, epochs, sign=1.0
            )[1],
            "recorded the sum of the squared errors; the loss is their mean": m * expected,
        }
    hint = f"losses[k] is mean((a2 - y)**2) before update k, with the learning_rate {lr} given"
    off = np.linalg.norm(losses - expected) > 1e-6 * np.linalg.norm(expected)
    kept = distinct(mistakes, expected, 1e-6, losses)
    if off and not any(
        np.linalg.norm(losses - v) <= 1e-4 * np.linalg.norm(v) for v in kept.values()
    ):
        # No listed mistake fits: what one- and two-epoch runs of the answer show, if anything.
        found = _train_diagnosis(train, params, X, y, lr, losses)
        if found:
            hint = found[0].removeprefix("likely mistake : ")
    check(
        "train: losses",
        losses,
        expected,
        call=shown,
        rtol=1e-6,
        mistakes=kept,
        hint=hint,
    )


def expect_predict(predict: Callable, params: dict, X: Any) -> None:
    """``predict(params, X)`` must be an integer (m, 1) array of 0s and 1s: 1 where a2 > 0.5."""
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    X = np.array(X, dtype=float)
    a2, cache = _forward(params, X)
    expected = (a2 > 0.5).astype(int)
    shown = f"predict({_describe_params(params)}, X of shape {X.shape})"
    got = require_returned("predict", _call_with_dicts(predict, params, X, name="predict"), shown)
    require_array("predict", got, shown, f"return the labels as an array of shape {expected.shape}")
    kind = dtype_of(got)
    if kind.kind not in "iu" and got.shape == expected.shape:
        raise CheckFailure(
            "predict must return integer labels.",
            [
                f"call : {shown}",
                f"got  : an array of dtype {kind.name}",
                "the labels are the integers 0 and 1: convert with .astype(int)",
            ],
        )
    zeros = np.zeros_like(expected)
    mistakes = {}
    if (a2 == 0.5).any():  # the boundary the exercise names: first, it is the sure evidence
        mistakes["a2 is exactly 0.5 in some rows (z2 = 0): the label is 1 only where a2 > 0.5"] = (
            a2 >= 0.5
        ).astype(int)
    if expected.any():  # some outputs are above 0.5, so all-zero labels are a fact worth saying
        mistakes[
            "every label is 0 although some outputs a2 are above 0.5 (np.argmax over a2's single "
            "column gives 0 in every row): compare a2 with 0.5"
        ] = zeros
    mistakes["returned the probabilities a2 instead of 0/1 labels"] = a2
    z2_half = (cache["z2"] > 0.5).astype(int)
    if z2_half.any():  # otherwise it is the all-zero answer, and says nothing about z2
        mistakes[
            "thresholded z2 at 0.5; compare a2 (the sigmoid output) with 0.5, or z2 with 0"
        ] = z2_half
    mistakes["labels are flipped (1 where a2 < 0.5)"] = 1 - expected
    # A mistake is named only when its labels differ from the right ones and from every
    # mistake listed before it: two causes with the same labels are no evidence for either.
    keep: dict[str, Any] = {}
    for desc, value in mistakes.items():
        seen = [expected] + list(keep.values())
        if not any(np.array_equal(np.asarray(value, dtype=float), other) for other in seen):
            keep[desc] = value
    check(
        "predict",
        got,
        expected,
        call=shown,
        rtol=0.0,
        atol=1e-12,
        mistakes=keep,
        hint="one label per row, in a column like y: compare the network's output with 1/2",
    )


def _predict_case():
    # Weights of scale 2 spread z2 over about [-3, 1.6]: 12 of the 60 outputs are above 0.5,
    # 7 of them with z2 above 0.5, so labels from a2 > 0.5, from z2 > 0.5 and all zeros differ.
    rng = np.random.default_rng(31)
    params = {k: rng.normal(0.0, 2.0, size=s) for k, s in SHAPES.items()}
    X = rng.uniform(-2.0, 2.0, size=(60, 2))
    return params, X


def _predict_at_half():
    """A network whose output is exactly 0.5 everywhere: W2 = 0 and b2 = 0 make z2 = 0."""
    params, X = _predict_case()
    params["W2"], params["b2"] = np.zeros((4, 1)), np.zeros((1, 1))
    return params, X[:4]


@exercise(LESSON, "Challenge 05 · Predict labels", "predict")
def check_predict(predict: Callable) -> None:
    """Visible test of ``predict(params, X)``: 60 random points, and outputs exactly 0.5."""
    expect_predict(predict, *_predict_case())
    expect_predict(predict, *_predict_at_half())


QUIZ = (
    "q1_xor_linearly_separable",
    "q2_backward_reuses_forward_values",
    "q3_bce_delta_keeps_sigma_prime",
    "q4_randn_half_is_xavier",
    "q5_zero_init_is_fine",
)


check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 05")
