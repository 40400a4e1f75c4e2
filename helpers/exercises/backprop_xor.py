"""Visible checks of Lesson 05 (backpropagation on XOR).

The network is the lesson's 2-4-1 sigmoid MLP with parameters in a dict ``{"W1": (2, 4),
"b1": (1, 4), "W2": (4, 1), "b2": (1, 1)}``, inputs ``X`` of shape (m, 2), targets ``y`` of
shape (m, 1) and the loss ``mean((a2 - y)**2)``. The references below are written out here on
purpose (a check must not depend on the code it judges), together with the usual wrong
variants so that a failing check can name the likely mistake.

Each check deep-copies the parameter and cache dicts it passes and compares them afterwards:
a function that changes its inputs in place is caught.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import CheckFailure, call, check, exercise, quiet, quiz_exercise

LESSON = "05_backprop_xor"

SHAPES = {"W1": (2, 4), "b1": (1, 4), "W2": (4, 1), "b2": (1, 1)}
CACHE_KEYS = ("X", "z1", "a1", "z2", "a2")

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])

# The training exercise: this start, rate and budget converge with a wide margin (the reference
# puts all four points on the right side of 0.5 long before the last epoch).
TRAIN_SEED = 7
TRAIN_LEARNING_RATE = 2.0
TRAIN_EPOCHS = 1500


def initial_params(seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """A fresh parameter dict with entries uniform in [-scale, scale] (numpy's default_rng(seed))."""
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-scale, scale, size=s) for k, s in SHAPES.items()}


# --------------------------------------------------------------------------- references


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


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
    if mistake == "out_sigma_not_prime":
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
    "no_mean": "gradient not averaged over the batch: divide by m = X.shape[0] (the loss is a mean)",
    "no_two_no_mean": "dropped the 2 and the 1/m of the MSE derivative: it is 2 (a2 - y) / m",
    "sign": "the sign is flipped: the derivative of (a2 - y)^2 is 2 (a2 - y), not 2 (y - a2)",
    "out_sigma_not_prime": "used sigma(z2) = a2 where sigma'(z2) = a2 (1 - a2) belongs (output layer)",
    "hidden_sigma_not_prime": "used sigma(z1) = a1 where sigma'(z1) = a1 (1 - a1) belongs (hidden layer)",
    "out_prime_of_z": "computed z2 (1 - z2); the sigmoid's derivative is a2 (1 - a2), with a2 = sigma(z2)",
    "hidden_prime_of_z": "computed z1 (1 - z1); the sigmoid's derivative is a1 (1 - a1), with a1 = sigma(z1)",
    "no_out_prime": "left out sigma'(z2) = a2 (1 - a2) at the output",
    "no_hidden_prime": "left out sigma'(z1) = a1 (1 - a1) in the hidden layer",
    "one_sample_bias": "the bias gradient uses one sample only; sum the deltas over all rows",
    "mean_bias": "averaged the deltas for the bias a second time; the 1/m is already in dL/da2, so sum over rows",
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


def _call_with_dicts(fn: Callable, *args: Any, name: str) -> Any:
    """Call ``fn`` with deep copies of its dict and array arguments; fail if any was changed."""
    originals = [copy.deepcopy(a) if isinstance(a, (dict, np.ndarray)) else a for a in args]
    passed = [copy.deepcopy(a) if isinstance(a, (dict, np.ndarray)) else a for a in args]
    with quiet():
        result = call(fn, *passed, name=name)
    for i, (before, after) in enumerate(zip(originals, passed)):
        if isinstance(before, dict):
            for k, v in before.items():
                if k not in after or not np.array_equal(
                    np.asarray(v), np.asarray(after[k]), equal_nan=True
                ):
                    raise CheckFailure(
                        f"{name} modified its input dict (argument {i + 1}, entry {k!r}).",
                        [
                            "likely mistake : modified params in place (for example params['W1'] -= ...);",
                            "                 build new arrays: new = {k: params[k] - lr * grads[k] for k in params}",
                        ],
                    )
    return result


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
        mistakes = {desc: var[k] for desc, var in variants.items()}
        check(
            f"{name}: gradient {k!r}", got[k], expected[k], call=shown, rtol=rtol, mistakes=mistakes
        )


# --------------------------------------------------------------------------- exercises


@exercise(LESSON, "Sigmoid", "sigmoid")
def check_sigmoid(sigmoid: Callable) -> None:
    """``sigmoid(z) = 1 / (1 + exp(-z))`` elementwise, same shape as z."""
    got = _call_with_dicts(sigmoid, 0.0, name="sigmoid")
    check("sigmoid", got, 0.5, call="sigmoid(0.0)", rtol=1e-12)
    for z in (
        np.array([-30.0, -4.0, -0.7, 0.0, 0.3, 2.5, 30.0]),
        np.array([[-1.5, 0.2], [3.0, -8.0]]),
    ):
        shown = f"sigmoid({_show(z)})"
        got = _call_with_dicts(sigmoid, z, name="sigmoid")
        expected = _sigmoid(z)
        check(
            "sigmoid",
            got,
            expected,
            call=shown,
            rtol=1e-9,
            mistakes={
                "sign of the exponent: 1 / (1 + exp(z)) is sigma(-z)": _sigmoid(-z),
                "returned the derivative sigma(z) (1 - sigma(z)), not sigma(z)": expected
                * (1 - expected),
                "returned tanh(z); the sigmoid is 1 / (1 + exp(-z))": np.tanh(z),
                "returned exp(-z) / (1 + exp(-z)), which is 1 - sigma(z)": 1 - expected,
            },
            hint="sigmoid(z) = 1 / (1 + np.exp(-z)), elementwise",
        )


def _forward_case(seed: int, m: int):
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(0.0, 1.0, size=s) for k, s in SHAPES.items()}
    X = rng.uniform(-1.5, 1.5, size=(m, 2))
    return params, X


@exercise(LESSON, "Forward pass", "forward")
def check_forward(forward: Callable) -> None:
    """``forward(params, X)`` returns ``(a2, cache)`` with cache["X"], ["z1"], ["a1"], ["z2"], ["a2"]."""
    for seed, m in ((11, 5), (12, 3)):
        params, X = _forward_case(seed, m)
        shown = f"forward({_describe_params(params)}, X of shape {X.shape}) with params from seed {seed}"
        got = _call_with_dicts(forward, params, X, name="forward")
        if not isinstance(got, tuple) or len(got) != 2:
            raise CheckFailure(
                "forward must return a pair (a2, cache).",
                [
                    f"got {type(got).__name__}"
                    + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""),
                    "end with: return a2, cache",
                ],
            )
        a2, cache = got
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
            hint="z1 = X @ W1 + b1, a1 = sigma(z1), z2 = a1 @ W2 + b2, a2 = sigma(z2)",
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


def _backward_case(seed: int, m: int):
    params, X = _forward_case(seed, m)
    rng = np.random.default_rng(seed + 100)
    y = rng.integers(0, 2, size=(m, 1)).astype(float)
    _, cache = _forward(params, X)
    return params, cache, y


@exercise(LESSON, "Backward pass", "backward")
def check_backward(backward: Callable) -> None:
    """``backward(params, cache, y)`` returns the gradients of mean((a2 - y)^2) for every parameter."""
    for seed, m in ((21, 5), (22, 7)):
        params, cache, y = _backward_case(seed, m)
        shown = (
            f"backward(params, cache, y) for the forward pass of X of shape {cache['X'].shape} "
            f"(params from seed {seed}), y = {y.ravel()}"
        )
        got = _call_with_dicts(backward, params, cache, y, name="backward")
        got = _need_dict("backward", got, SHAPES, "the gradients")
        expected = _backward(params, cache, y)
        variants = {
            desc: _backward(params, cache, y, key) for key, desc in BACKWARD_MISTAKES.items()
        }
        _check_grads("backward", got, expected, variants, shown, rtol=1e-7)


def _check_train_result(name, got, params, X, y, lr, epochs, shown):
    if not isinstance(got, tuple) or len(got) != 2:
        raise CheckFailure(
            f"{name} must return a pair (params, losses).", [f"got {type(got).__name__}"]
        )
    new_params, losses = got
    new_params = _need_dict(name, new_params, SHAPES, "the trained params")
    for k, s in SHAPES.items():
        if np.shape(new_params[k]) != s:
            raise CheckFailure(
                f"{name}: trained params[{k!r}] has shape {np.shape(new_params[k])}, not {s}."
            )
    try:
        losses = np.array(losses, dtype=float).ravel()
    except (TypeError, ValueError):
        raise CheckFailure(f"{name}: losses must be a list or array of numbers.") from None
    if losses.size != epochs:
        raise CheckFailure(
            f"{name}: losses has {losses.size} entries, expected one per epoch ({epochs}).",
            [f"call : {shown}"],
        )
    a2 = _forward({k: np.asarray(v, dtype=float) for k, v in new_params.items()}, X)[0]
    wrong = np.flatnonzero((a2 > 0.5) != (y > 0.5))
    initial = float(np.mean((_forward(params, X)[0] - y) ** 2))
    if wrong.size:
        details = [
            f"call            : {shown}",
            f"outputs         : {_show(a2.ravel())}",
            f"targets         : {y.ravel()}",
            f"wrong side of 0.5 at rows {wrong.tolist()}",
            f"loss            : {initial:.4g} at the start, {float(np.mean((a2 - y) ** 2)):.4g} at the end",
        ]
        if all(np.array_equal(np.asarray(new_params[k], dtype=float), params[k]) for k in SHAPES):
            details.append("likely mistake : the params never change; update them every epoch")
        elif float(np.mean((a2 - y) ** 2)) > initial:
            details.append(
                "likely mistake : the loss grew; subtract learning_rate * gradient, do not add it"
            )
        raise CheckFailure(f"{name} did not learn XOR.", details)
    return new_params, losses, initial


@exercise(LESSON, "Training loop", "train")
def check_train(train: Callable) -> None:
    """``train(params, X, y, learning_rate, epochs)`` learns XOR from a fixed start."""
    params = initial_params(TRAIN_SEED)
    X, y = XOR_X.copy(), XOR_Y.copy()
    lr, epochs = TRAIN_LEARNING_RATE, TRAIN_EPOCHS
    shown = f"train(initial_params({TRAIN_SEED}), X_xor, y_xor, {lr}, {epochs})"
    got = _call_with_dicts(train, params, X, y, lr, epochs, name="train")
    _, losses, initial = _check_train_result("train", got, params, X, y, lr, epochs, shown)
    _, after = _train(params, X, y, lr, 1, record_after=True)
    check(
        "train: losses[0]",
        losses[0],
        initial,
        call=shown,
        rtol=1e-9,
        mistakes={
            "recorded the loss after the update; losses[k] is the loss before the k-th update": after[
                0
            ],
        },
        hint="losses[0] is the loss of the params you were given",
    )


def check_train_curve(train: Callable) -> None:
    """Hidden part of the training check: the whole loss curve matches the reference."""
    params = initial_params(TRAIN_SEED + 1)
    X, y = XOR_X.copy(), XOR_Y.copy()
    lr, epochs = 1.5, 400
    shown = f"train(initial_params({TRAIN_SEED + 1}), X_xor, y_xor, {lr}, {epochs})"
    got = _call_with_dicts(train, params, X, y, lr, epochs, name="train")
    if not isinstance(got, tuple) or len(got) != 2:
        raise CheckFailure("train must return a pair (params, losses).")
    losses = np.array(got[1], dtype=float).ravel()
    _, expected = _train(params, X, y, lr, epochs)
    if losses.shape != expected.shape:
        raise CheckFailure(f"train: losses has {losses.size} entries, expected {epochs}.")
    with quiet():
        mistakes = {
            "recorded the loss after each update instead of before it": _train(
                params, X, y, lr, epochs, record_after=True
            )[1],
            "the gradient is not averaged over the batch (steps m times too large)": _train(
                params, X, y, lr, epochs, grad_scale=4.0
            )[1],
            "the 2 of the MSE derivative is missing (steps half as large)": _train(
                params, X, y, lr, epochs, grad_scale=0.5
            )[1],
            "added the gradient instead of subtracting it": _train(
                params, X, y, lr, epochs, sign=1.0
            )[1],
        }
    check("train: losses", losses, expected, call=shown, rtol=1e-6, mistakes=mistakes)


def _predict_case():
    rng = np.random.default_rng(31)
    params = {k: rng.normal(0.0, 1.0, size=s) for k, s in SHAPES.items()}
    X = rng.uniform(-2.0, 2.0, size=(60, 2))
    return params, X


@exercise(LESSON, "Coding challenge: predict", "predict")
def check_predict(predict: Callable) -> None:
    """``predict(params, X)`` returns an (m, 1) array of 0s and 1s: 1 where a2 > 0.5."""
    params, X = _predict_case()
    a2, cache = _forward(params, X)
    expected = (a2 > 0.5).astype(int)
    shown = f"predict({_describe_params(params)}, X of shape {X.shape}) with params from seed 31"
    got = _call_with_dicts(predict, params, X, name="predict")
    check(
        "predict",
        got,
        expected,
        call=shown,
        rtol=0.0,
        atol=1e-12,
        mistakes={
            "returned the probabilities a2 instead of 0/1 labels": a2,
            "thresholded z2 at 0.5; compare a2 (the sigmoid output) with 0.5, or z2 with 0": (
                cache["z2"] > 0.5
            ).astype(int),
            "labels are flipped (1 where a2 < 0.5)": 1 - expected,
        },
        hint="return (a2 > 0.5).astype(int), shape (m, 1)",
    )


QUIZ_NAMES = (
    "q1_xor_linearly_separable",
    "q2_backward_reuses_forward_values",
    "q3_backprop_costs_2n_forward_passes",
    "q4_randn_half_is_xavier",
    "q5_zero_init_is_fine",
)


check_quiz_types = quiz_exercise(LESSON, QUIZ_NAMES, "Quiz (answers are booleans)")
