"""Checks for Lesson 08: handwritten digits (softmax, cross-entropy, a dense layer, training).

Each ``check_*`` function is the visible test of one exercise (registered for
:func:`helpers.progress`); each ``expect_*`` function runs a student's function on one given
input through :func:`helpers.checks.call` (array inputs are passed as copies and compared
afterwards, so a function that changes its input is caught) and compares with the reference in
:mod:`helpers.digits`, naming the likely mistake when the wrong value matches one. The wrong
variants are written out here. Hidden tests call the ``expect_*`` functions with inputs of
their own.

Tolerances keep every right way of computing a formula: a relative 1e-9, and for the
cross-entropy also an absolute floor of 1e-12 times the largest logit (two stable formulas
differ by up to about 2e-14 times it: at logits of 1e4 that is 1e-10 of a small loss).
``train_digits`` is graded on behaviour (accuracy on the lesson's test split, a falling loss,
exact shapes); its training runs are seeded, so every verdict is the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import digits as ref
from ..checks import CheckFailure, call, check, exercise, quiet, quiz_exercise, require_returned
from ..stochastic import minibatch_indices

LESSON = "08_digits"
RTOL = 1e-9

# Exercise 08.4: the accuracy the default run must reach on the lesson's test split (the
# reference reaches 97.2-98.3 % over 20 seeds; 0.95 leaves room for any right loop).
TRAIN_ACCURACY = 0.95


def _show(a: Any) -> str:
    arr = np.asarray(a)
    with np.printoptions(precision=4, suppress=True, linewidth=88, threshold=40, edgeitems=3):
        text = np.array2string(arr, separator=", ")
    return text.replace("\n", "\n                 ")


def _shape_of(x: Any) -> str:
    return f"an array of shape {np.shape(x)}" if hasattr(x, "shape") else type(x).__name__


def _numeric(name: str, got: Any, shown: str, what: str) -> np.ndarray:
    """``got`` as a float array, or a CheckFailure saying that it is not numeric."""
    if got is None:
        raise CheckFailure(
            f"{name}: {what} is None.",
            [f"call : {shown}", "did you forget `return`? (printing a value does not return it)"],
        )
    try:
        with quiet():
            return np.array(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"{name}: {what} must be a numeric array.",
            [f"call : {shown}", f"got  : {type(got).__name__}"],
        ) from None


def _matches(got: np.ndarray, value: Any) -> bool:
    """Whether ``got`` equals a (possibly non-finite) wrong variant: same shape, same nans/infs."""
    with quiet():
        v = np.asarray(value, dtype=np.float64)
    if v.shape != got.shape:
        return False
    with quiet():
        return bool(np.allclose(got, v, rtol=1e-6, atol=1e-12, equal_nan=True))


def _call(fn: Callable, *args: Any, name: str, **kwargs: Any) -> Any:
    """:func:`helpers.checks.call`, with a hint when numpy could not broadcast two shapes."""
    try:
        return call(fn, *args, name=name, **kwargs)
    except CheckFailure as failure:
        if failure.error == "ValueError" and "broadcast" in str(failure):
            raise CheckFailure(
                failure.summary,
                list(failure.details)
                + [
                    "hint    : a sum or maximum over axis=1 without keepdims=True has shape (m,), "
                    "which does not broadcast against (m, k): keep the axis (keepdims=True)"
                ],
                cause=failure.cause,
                error=failure.error,
            ) from None
        raise


def _pair(name: str, got: Any, shown: str, what: str, size: int) -> tuple:
    if not isinstance(got, (tuple, list)) or len(got) != size:
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        raise CheckFailure(
            f"{name} must return the tuple {what}.",
            [f"call : {shown}", f"got  : {type(got).__name__}{length}", f"return {what}"],
        )
    return tuple(got)


# --------------------------------------------------------------------------- softmax


def _softmax_variants(Z: np.ndarray) -> dict[str, np.ndarray]:
    with quiet():
        E = np.exp(Z)
        shifted = np.exp(Z - Z.max(axis=1, keepdims=True))
        variants = {
            "normalised over the columns (axis=0): each ROW of Z is one example, its k "
            "probabilities sum to 1 (axis=1, keepdims=True)": E / E.sum(axis=0, keepdims=True),
            "divided by the column sums (axis=0): each ROW of Z is one example, its k "
            "probabilities sum to 1 (axis=1, keepdims=True)": shifted
            / shifted.sum(axis=0, keepdims=True),
            "divided by the sum of the whole matrix: divide each row by its own sum "
            "(axis=1, keepdims=True)": E / E.sum(),
            "returned exp(Z) without dividing by the row sums": E,
            "divided by the row maximum instead of the row sum": shifted
            / shifted.max(axis=1, keepdims=True),
            "returned the log-probabilities Z - logsumexp(Z), not the probabilities": np.log(
                shifted / shifted.sum(axis=1, keepdims=True)
            ),
            "this is the softmax of -Z: the largest logit must get the largest probability": (
                np.exp(-Z + Z.min(axis=1, keepdims=True))
                / np.exp(-Z + Z.min(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
            ),
        }
        if Z.shape[0] == Z.shape[1]:
            variants[
                "the row sums were taken without keepdims=True: an (m,) vector broadcasts "
                "along the rows, so column j was divided by the sum of row j"
            ] = shifted / shifted.sum(axis=1)
            variants[
                "the row maxima were taken without keepdims=True: an (m,) vector broadcasts "
                "along the rows, so column j lost the maximum of row j"
            ] = np.exp(Z - Z.max(axis=1)) / np.exp(Z - Z.max(axis=1)).sum(axis=1, keepdims=True)
    return variants


def _overflow_variants(Z: np.ndarray) -> dict[str, np.ndarray]:
    """The non-finite results of the unstable formulas."""
    with quiet():
        E = np.exp(Z)
        G = np.exp(Z - Z.max())
        return {
            "no max subtraction: exp of a logit above about 709 overflows to inf (and inf/inf "
            "is nan). Subtract each row's maximum first: the softmax does not change": E
            / E.sum(axis=1, keepdims=True),
            "subtracted one maximum for the whole matrix: a row whose logits are all far below "
            "it underflows to 0/0 = nan. Subtract each row's own maximum "
            "(Z.max(axis=1, keepdims=True))": G / G.sum(axis=1, keepdims=True),
        }


def expect_softmax(softmax: Callable, Z: Any) -> None:
    """``softmax(Z)`` must be the row-wise softmax of ``Z``, shape (m, k), finite."""
    Z = np.array(Z)
    Zf = Z.astype(np.float64)
    shown = f"softmax(Z) with Z = {_show(Z)}"
    got = require_returned("softmax", _call(softmax, Z, name="softmax"), shown)
    g = _numeric("softmax", got, shown, "the result")
    expected = ref.softmax(Zf)
    if g.shape != expected.shape:
        details = [
            f"call           : {shown}",
            f"expected shape : {expected.shape} (one row of k probabilities per row of Z)",
            f"got shape      : {g.shape}",
        ]
        if g.shape == (Z.shape[0],) or g.shape == (Z.shape[0], 1):
            details.append("hint           : return every probability, not one number per row")
        raise CheckFailure("softmax returned the wrong shape.", details)
    if not np.all(np.isfinite(g)):
        details = [f"call           : {shown}", f"got            : {_show(g)}"]
        diagnosis = next(
            (d for d, v in _overflow_variants(Zf).items() if _matches(g, v)),
            "a value is nan or inf: subtract each row's maximum before np.exp "
            "(Z.max(axis=1, keepdims=True)); then the largest exponent is 0 and nothing overflows",
        )
        details.append(f"likely mistake : {diagnosis}")
        raise CheckFailure("softmax returned a value that is not finite.", details)
    check(
        "softmax",
        g,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=_softmax_variants(Zf),
        hint="per row: exp(Z[i] - max(Z[i])) divided by its sum; each row sums to 1",
    )


def _random_logits(seed: int, m: int, k: int, scale: float) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, scale, (m, k))


SOFTMAX_LARGE = np.array([[1000.0, 999.0, 990.0, -5.0], [-1000.0, -1001.0, -998.0, -1010.0]])


@exercise(LESSON, "Exercise 08.1 · Stable softmax", "softmax")
def check_softmax(softmax: Callable) -> None:
    """Visible test of ``softmax(Z)``: small, square, integer and large logits."""
    expect_softmax(softmax, np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]]))
    expect_softmax(softmax, _random_logits(80, 4, 10, 2.0))
    expect_softmax(softmax, _random_logits(81, 3, 3, 1.0))
    expect_softmax(softmax, np.array([[1, 2, 3, 4], [0, 0, 0, 0]]))
    expect_softmax(softmax, SOFTMAX_LARGE)


# --------------------------------------------------------------------------- cross-entropy


def _loss_floor(Z: np.ndarray) -> float:
    """Two right stable cross-entropies differ by up to ~2e-14 max|Z|: a floor 50 times that."""
    return 1e-12 * max(1.0, float(np.max(np.abs(Z))))


def _ce_loss_variants(Z: np.ndarray, y: np.ndarray) -> dict[str, float]:
    m, k = Z.shape
    with quiet():
        log_p = ref.log_softmax(Z)
        rows = np.arange(m)
        per_example = -log_p[rows, y]
        loss = float(per_example.mean())
        P = np.exp(log_p)
        return {
            "summed over the examples: the loss is the MEAN over the m rows": m * loss,
            "divided by m * k: the mean is over the m examples only (each contributes one "
            "-log P[i, y_i])": loss / k,
            "the minus sign is missing: log P is negative, the loss is positive": -loss,
            "used log base 10: the cross-entropy uses the natural log, np.log": loss / math.log(10),
            "averaged -log P over every class, not only the right one: take column y_i of "
            "row i": float(-log_p.mean()),
            "took -log of the mean probability of the right classes; the loss is the mean of "
            "the -log's": float(-np.log(P[rows, y].mean())),
            "the loss of the first example only: average over all m rows": float(per_example[0]),
            "returned 1 - P[i, y_i] (averaged), not -log P[i, y_i]": float((1 - P[rows, y]).mean()),
        }


def _ce_grad_variants(Z: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    m, k = Z.shape
    with quiet():
        P = ref.softmax(Z)
        Y = ref.one_hot(y, k)
        return {
            "dZ not divided by m: the loss is a mean over the m examples, so dZ = (P - Y) / m": P
            - Y,
            "divided by m twice": (P - Y) / (m * m),
            "divided by k, the number of classes: divide by m, the number of examples": (P - Y) / k,
            "the sign is flipped: dZ = (P - Y) / m, positive for the wrong classes": (Y - P) / m,
            "forgot to subtract the one-hot Y: dZ = (P - Y) / m": P / m,
            "used Z where P = softmax(Z) belongs: dZ = (P - Y) / m": (Z - Y) / m,
            "kept the softmax's Jacobian diagonal P (1 - P): with the cross-entropy it "
            "cancels, dZ = (P - Y) / m": (P - Y) * P * (1 - P) / m,
        }


def expect_softmax_cross_entropy(softmax_cross_entropy: Callable, Z: Any, y: Any) -> None:
    """``softmax_cross_entropy(Z, y)`` must return (mean cross-entropy, (P - Y) / m), stably."""
    Z = np.array(Z, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    m, k = Z.shape
    shown = f"softmax_cross_entropy(Z, y) with Z = {_show(Z)}, y = {y.tolist()}"
    got = _call(softmax_cross_entropy, Z, y, name="softmax_cross_entropy")
    got = require_returned("softmax_cross_entropy", got, shown, hint="return the tuple (loss, dZ)")
    loss, dZ = _pair("softmax_cross_entropy", got, shown, "(loss, dZ)", 2)
    expected_loss, expected_dZ = ref.softmax_cross_entropy(Z, y)
    if np.ndim(loss) != 0 or isinstance(loss, (bool, np.bool_)):
        detail = [f"call : {shown}", f"got  : {_shape_of(loss)} as the loss"]
        if np.shape(loss) in ((m,), (m, 1)):
            detail.append("this looks like the m per-example losses: return their mean, a float")
        raise CheckFailure("softmax_cross_entropy: the loss must be one number.", detail)
    loss_value = _numeric("softmax_cross_entropy", loss, shown, "the loss")
    dZ_value = _numeric("softmax_cross_entropy", dZ, shown, "dZ")
    if not np.isfinite(loss_value):
        grad_ok = dZ_value.shape == expected_dZ.shape and np.all(np.isfinite(dZ_value))
        why = (
            "took the log of softmax(Z)[i, y_i]: where the right class's logit is far below its "
            "row's maximum that probability underflows to 0 and log(0) = -inf. Compute "
            "log P = (Z - max) - log(sum(exp(Z - max))) (log-sum-exp) instead"
            if grad_ok
            else "exp overflowed: subtract each row's maximum before np.exp (log-sum-exp)"
        )
        raise CheckFailure(
            "softmax_cross_entropy returned a loss that is not finite.",
            [
                f"call           : {shown}",
                f"got loss       : {float(loss_value)!r}",
                f"expected       : {expected_loss!r}",
                f"likely mistake : {why}",
            ],
        )
    check(
        "softmax_cross_entropy: the loss",
        float(loss_value),
        expected_loss,
        call=shown,
        rtol=RTOL,
        atol=_loss_floor(Z),
        mistakes=_ce_loss_variants(Z, y),
        hint="the mean over the rows of -log P[i, y_i], with log P = Z - logsumexp(Z) per row",
    )
    if dZ_value.shape != expected_dZ.shape:
        detail = [
            f"call           : {shown}",
            f"expected shape : {expected_dZ.shape} (the shape of Z)",
            f"got shape      : {dZ_value.shape}",
        ]
        if dZ_value.shape == (k, m):
            detail.append("hint           : dZ is transposed: it has one row per example, like Z")
        raise CheckFailure("softmax_cross_entropy: dZ has the wrong shape.", detail)
    if not np.all(np.isfinite(dZ_value)):
        raise CheckFailure(
            "softmax_cross_entropy: dZ holds a value that is not finite.",
            [
                f"call           : {shown}",
                "likely mistake : exp overflowed: subtract each row's maximum before np.exp",
            ],
        )
    check(
        "softmax_cross_entropy: dZ",
        dZ_value,
        expected_dZ,
        call=shown,
        rtol=RTOL,
        atol=1e-15 / m,
        mistakes=_ce_grad_variants(Z, y),
        hint="dL/dZ = (P - Y) / m with P = softmax(Z) and Y the one-hot matrix of y",
    )


# Large logits: row 0's right class (2) is 1000 below its maximum, so -log P[0, 2] is about
# 1000 while softmax(Z)[0, 2] underflows to 0; row 1 would overflow exp without the shift.
CE_LARGE = (
    np.array([[1000.0, 0.0, -1000.0, 500.0], [1000.0, 1000.0, 999.0, -3.0]]),
    np.array([2, 1]),
)


@exercise(LESSON, "Exercise 08.2 · Softmax cross-entropy", "softmax_cross_entropy")
def check_softmax_cross_entropy(softmax_cross_entropy: Callable) -> None:
    """Visible test of ``softmax_cross_entropy(Z, y)``: small, random and large logits."""
    expect_softmax_cross_entropy(
        softmax_cross_entropy, np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), np.array([0, 2])
    )
    expect_softmax_cross_entropy(
        softmax_cross_entropy, _random_logits(82, 5, 10, 2.0), np.array([3, 0, 9, 3, 7])
    )
    expect_softmax_cross_entropy(softmax_cross_entropy, *CE_LARGE)


# --------------------------------------------------------------------------- dense layer


def dense_case(seed: int, m: int, n: int, k: int, scale: float = 1.0):
    """``(X, W, dZ)`` of shapes (m, n), (n, k), (m, k), normal with standard deviation ``scale``."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0.0, scale, (m, n)),
        rng.normal(0.0, scale, (n, k)),
        rng.normal(0.0, scale, (m, k)),
    )


def expect_dense_backward(dense_backward: Callable, X: Any, W: Any, dZ: Any) -> None:
    """``dense_backward(X, W, dZ)`` must return (dZ W^T, X^T dZ, dZ summed over rows, (1, k))."""
    X, W, dZ = (np.array(a, dtype=np.float64) for a in (X, W, dZ))
    (m, n), k = X.shape, W.shape[1]
    shown = (
        f"dense_backward(X, W, dZ) with X of shape {X.shape}, W of shape {W.shape}, "
        f"dZ of shape {dZ.shape}"
    )
    got = _call(dense_backward, X, W, dZ, name="dense_backward")
    got = require_returned("dense_backward", got, shown, hint="return the tuple (dX, dW, db)")
    dX, dW, db = _pair("dense_backward", got, shown, "(dX, dW, db)", 3)
    dX, dW, db = (_numeric("dense_backward", v, shown, w) for v, w in zip((dX, dW, db), "XWb"))
    eX, eW, eb = ref.dense_backward(X, W, dZ)
    shape_hints = {
        "dX": {(n, m): "dX is transposed: it has the shape of X, (m, n) = dZ @ W.T"},
        "dW": {(k, n): "dW is transposed: the gradient of W has the shape of W, (n, k) = X.T @ dZ"},
        "db": {
            (k,): "db has lost its row axis: dZ.sum(axis=0, keepdims=True) keeps the shape "
            "(1, k) of b",
            (m,): "db is summed over the wrong axis: b is added to every ROW, so sum over the "
            "rows, axis=0 (keepdims=True)",
            (m, 1): "db is summed over the wrong axis: b is added to every ROW, so sum over "
            "the rows, axis=0 (keepdims=True)",
            (): "db is summed over every entry: sum over the rows only, one entry per column",
        },
    }
    for label, g, e in (("dX", dX, eX), ("dW", dW, eW), ("db", db, eb)):
        if g.shape != e.shape:
            hint = shape_hints[label].get(
                g.shape, f"{label} has the shape of what it is the gradient of"
            )
            raise CheckFailure(
                f"dense_backward: {label} has the wrong shape.",
                [
                    f"call           : {shown}",
                    f"expected shape : {e.shape}",
                    f"got shape      : {g.shape}",
                    f"hint           : {hint}",
                ],
            )
    with quiet():
        mistakes = {
            "dX": {
                "dX = dZ @ W without the transpose: it is dZ @ W.T": dZ @ W if n == k else None,
                "divided dX by m: the 1/m of a mean loss is already inside dZ": eX / m,
                "the sign is flipped": -eX,
            },
            "dW": {
                "dW is transposed (dZ.T @ X): dW = X.T @ dZ": (dZ.T @ X) if n == k else None,
                "divided dW by m: the 1/m of a mean loss is already inside dZ": eW / m,
                "the sign is flipped": -eW,
            },
            "db": {
                "averaged db over the rows: the 1/m is already inside dZ, so SUM over the rows": (
                    eb / m
                ),
                "db from the first row only: sum dZ over all rows": dZ[:1],
                "db summed over axis=1 and kept as a row: sum over the rows, axis=0": (
                    dZ.sum(axis=1, keepdims=True).T if m == k else None
                ),
            },
        }
    for label, g, e in (("dX", dX, eX), ("dW", dW, eW), ("db", db, eb)):
        check(
            f"dense_backward: {label}",
            g,
            e,
            call=shown,
            rtol=RTOL,
            mistakes={d: v for d, v in mistakes[label].items() if v is not None},
            hint={
                "dX": "dX = dZ @ W.T: each input feeds every output through W",
                "dW": "dW = X.T @ dZ: W[p, j] meets X[i, p] in every row i",
                "db": "db = dZ.sum(axis=0, keepdims=True): b is added to every row",
            }[label],
        )


@exercise(LESSON, "Exercise 08.3 · A dense layer's backward pass", "dense_backward")
def check_dense_backward(dense_backward: Callable) -> None:
    """Visible test of ``dense_backward(X, W, dZ)``: three shapes, one of them square."""
    expect_dense_backward(dense_backward, *dense_case(83, 5, 3, 4))
    expect_dense_backward(dense_backward, *dense_case(84, 4, 6, 2))
    expect_dense_backward(dense_backward, *dense_case(85, 3, 3, 3))


# --------------------------------------------------------------------------- training


SHAPES_OF = {
    "W1": lambda n, h: (n, h),
    "b1": lambda n, h: (1, h),
    "W2": lambda n, h: (h, ref.N_CLASSES),
    "b2": lambda n, h: (1, ref.N_CLASSES),
}


def _variant_losses(X, y, kwargs, variant: str) -> list[float]:
    """The losses of a typical wrong training loop that draws from the rng as the text says."""
    hidden, lr = kwargs["hidden"], kwargs["lr"]
    rng = np.random.default_rng(kwargs["seed"])
    params = ref.init_params(X.shape[1], hidden, rng)
    if variant == "zero":
        params = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    with quiet():
        for _ in range(kwargs["epochs"]):
            batch = []
            if variant == "full_batch":
                batches = [np.arange(X.shape[0])]
            else:
                batches = minibatch_indices(X.shape[0], kwargs["batch_size"], rng)
            for idx in batches:
                loss, grads = ref.loss_and_grads(params, X[idx], y[idx])
                scale = {"added": -1.0, "no_mean": float(len(idx))}.get(variant, 1.0)
                params = {k: params[k] - lr * scale * grads[k] for k in params}
                batch.append(loss)
            losses.append(float(np.mean(batch)))
    return losses


_TRAIN_VARIANTS = {
    "zero": "the weights started at zero: every hidden unit then gets the same (zero) gradient "
    "and symmetry is never broken; draw W1 and W2 from rng.normal as the text says",
    "added": "added the gradient: a descent step is params - lr * gradient",
    "no_mean": "the steps are batch_size times too large: dZ must be divided by the batch's m "
    "(the loss is a mean)",
    "full_batch": "one step per epoch on all m images: mini-batch SGD takes a step per batch, "
    "ceil(m / batch_size) of them per epoch (minibatch_indices(m, batch_size, rng))",
}


def _as_params(got: Any, n: int, hidden: int, shown: str) -> dict[str, np.ndarray]:
    if not isinstance(got, dict):
        raise CheckFailure(
            "train_digits: params must be a dict.",
            [f"call : {shown}", f"got  : {type(got).__name__}", 'keys "W1", "b1", "W2", "b2"'],
        )
    missing = [k for k in ref.PARAMETER_NAMES if k not in got]
    if missing:
        raise CheckFailure(
            f"train_digits: params lacks {', '.join(map(repr, missing))}.",
            [f"call : {shown}", f"keys : {[k for k in got]}", 'keys "W1", "b1", "W2", "b2"'],
        )
    out = {}
    for key in ref.PARAMETER_NAMES:
        value = _numeric("train_digits", got[key], shown, f'params["{key}"]')
        wanted = SHAPES_OF[key](n, hidden)
        if value.shape != wanted:
            hint = (
                "b1 and b2 are rows, (1, hidden) and (1, 10), added to every row of a batch"
                if key.startswith("b")
                else f"an {n}-{hidden}-10 network: W1 is (n, hidden) with n = X.shape[1], W2 is "
                "(hidden, 10)"
            )
            raise CheckFailure(
                f'train_digits: params["{key}"] has the wrong shape.',
                [
                    f"call           : {shown}",
                    f"expected shape : {wanted}",
                    f"got shape      : {value.shape}",
                    f"hint           : {hint}",
                ],
            )
        if not np.all(np.isfinite(value)):
            raise CheckFailure(
                f'train_digits: params["{key}"] holds nan or inf.',
                [f"call : {shown}", "the training diverged: check the sign and size of the steps"],
            )
        out[key] = value
    return out


def _as_losses(got: Any, epochs: int, steps: int, shown: str) -> np.ndarray:
    if isinstance(got, (str, bytes, dict)) or not hasattr(got, "__len__"):
        raise CheckFailure(
            "train_digits: losses must be a list of floats, one per epoch.",
            [f"call : {shown}", f"got  : {type(got).__name__}"],
        )
    values = _numeric("train_digits", got, shown, "losses")
    if values.ndim != 1 or values.size != epochs:
        detail = [f"call : {shown}", f"got  : {_shape_of(values)}; expected {epochs} numbers"]
        if values.size == epochs * steps:
            detail.append(
                "likely mistake : one loss per mini-batch step; record one per epoch, the plain "
                "mean of that epoch's mini-batch losses"
            )
        raise CheckFailure("train_digits: losses must hold one number per epoch.", detail)
    if not np.all(np.isfinite(values)):
        raise CheckFailure(
            "train_digits: a loss is nan or inf.",
            [
                f"call   : {shown}",
                f"losses : {_show(values)}",
                "the training diverged, or the loss is not computed stably (Exercise 08.2)",
            ],
        )
    return values


def expect_train_digits(
    train_digits: Callable,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    min_accuracy: float | None = TRAIN_ACCURACY,
    **kwargs: Any,
) -> None:
    """``train_digits(X, y, **kwargs)`` must train: shapes, a falling loss, test accuracy.

    ``min_accuracy`` is required on ``(X_test, y_test)`` with the returned parameters (None:
    not checked, e.g. for one epoch). ``kwargs`` are passed on as keywords; the defaults of the
    exercise fill in the rest for the checks.
    """
    X, X_test = np.array(X, dtype=np.float64), np.array(X_test, dtype=np.float64)
    y, y_test = np.array(y, dtype=np.int64), np.array(y_test, dtype=np.int64)
    settings = {"hidden": 32, "lr": 0.1, "epochs": 30, "batch_size": 32, "seed": 0, **kwargs}
    n, hidden, epochs = X.shape[1], settings["hidden"], settings["epochs"]
    steps = math.ceil(X.shape[0] / settings["batch_size"])
    arguments = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    shown = f"train_digits(X, y{arguments}) with X of shape {X.shape}"
    got = call(train_digits, X, y, name="train_digits", **kwargs)
    got = require_returned("train_digits", got, shown, hint="return the tuple (params, losses)")
    params, losses = _pair("train_digits", got, shown, "(params, losses)", 2)
    params = _as_params(params, n, hidden, shown)
    losses = _as_losses(losses, epochs, steps, shown)
    with quiet():
        score = ref.accuracy(params, X_test, y_test)
    falling = epochs < 2 or losses[-1] < losses[0]
    good = min_accuracy is None or score >= min_accuracy
    if falling and good:
        _check_recorded_losses(params, losses, X, y, settings, shown)
        return
    details = [
        f"call           : {shown}",
        f"losses         : {_show(losses)}",
        f"test accuracy  : {score:.4f}"
        + ("" if min_accuracy is None else f" (at least {min_accuracy:.2f} required)"),
    ]
    diagnosis = _train_diagnosis(params, losses, X, y, settings, hidden)
    if diagnosis:
        details.append(f"likely mistake : {diagnosis}")
    else:
        details.append(
            "hint           : per mini-batch: forward, softmax_cross_entropy, dense_backward "
            "twice (with dA1 * (1 - A1**2) between), then params - lr * grads"
        )
    summary = (
        "train_digits: the loss of the last epoch is not below the first."
        if not falling
        else "train_digits: the trained network is not accurate enough on the test split."
    )
    raise CheckFailure(summary, details)


def _train_diagnosis(params, losses, X, y, settings, hidden) -> str | None:
    W1, W2 = params["W1"], params["W2"]
    if not np.any(W1) and not np.any(W2):
        return _TRAIN_VARIANTS["zero"]
    if hidden > 1 and np.allclose(W1, W1[:, :1], rtol=0, atol=1e-12):
        return (
            "every hidden unit has the same weights: a start where all hidden units are equal "
            "(zeros or one constant) is never broken; draw W1 and W2 from rng.normal"
        )
    for variant, description in _TRAIN_VARIANTS.items():
        reference = _variant_losses(X, y, settings, variant)
        # A diverging run is chaotic: rounding differences grow from step to step, so only its
        # first epoch is compared (each variant's first loss is far from the others').
        if np.allclose(losses[:1], reference[:1], rtol=1e-4) and np.allclose(
            losses[:2], reference[:2], rtol=1e-2
        ):
            return description
    if len(losses) > 1 and losses[-1] > losses[0]:
        return (
            "the loss grew: a descent step is params - lr * grads, with the gradients of the "
            "MEAN loss over the batch (steps that are too large make it grow too)"
        )
    return None


def _check_recorded_losses(params, losses, X, y, settings, shown) -> None:
    """When the params are the text's exactly, the losses must be the text's too."""
    with quiet():
        run = ref.fit(X, y, **settings)
    same = all(
        np.allclose(params[k], run.params[k], rtol=1e-7, atol=1e-10) for k in ref.PARAMETER_NAMES
    )
    if not same or np.allclose(losses, run.losses, rtol=1e-7, atol=1e-12):
        return
    raise CheckFailure(
        "train_digits: the losses are not the plain means of each epoch's mini-batch losses.",
        [
            f"call           : {shown}",
            f"expected       : {_show(np.array(run.losses))}",
            f"got            : {_show(losses)}",
            "hint           : your params are right; record, per epoch, the mean of the losses "
            "softmax_cross_entropy gave for that epoch's batches (before each step)",
        ],
    )


def lesson_split() -> ref.DigitsSplit:
    """The lesson's split (:func:`helpers.digits.split`), for the tests."""
    return ref.split()


def narrow_split() -> ref.DigitsSplit:
    """The lesson's split with the first and last pixel column of every image left out (n = 48)."""
    data = ref.split()
    keep = np.arange(64).reshape(8, 8)[:, 1:7].ravel()
    return ref.DigitsSplit(data.X_train[:, keep], data.y_train, data.X_test[:, keep], data.y_test)


@exercise(LESSON, "Exercise 08.4 · Train the digit classifier", "train_digits")
def check_train_digits(train_digits: Callable) -> None:
    """Visible test of ``train_digits``: the defaults on the lesson's split reach 95 %."""
    data = lesson_split()
    expect_train_digits(train_digits, *data)


# --------------------------------------------------------------------------- challenge


def challenge_case(seed: int, n: int, hidden: int, m: int, trained: bool = False):
    """``(params, X, y)`` for Challenge 08: a seeded n-hidden-10 network and m inputs."""
    rng = np.random.default_rng(seed)
    params = ref.init_params(n, hidden, rng)
    params["b1"] = rng.normal(0.0, 0.3, (1, hidden))
    params["b2"] = rng.normal(0.0, 0.3, (1, ref.N_CLASSES))
    if trained:
        data = ref.split()
        params = ref.train_digits(data.X_train, data.y_train, hidden=hidden, epochs=5, seed=seed)[0]
        rows = rng.choice(len(data.y_test), size=m, replace=False)
        return params, data.X_test[rows], data.y_test[rows]
    X = rng.uniform(0.0, 1.0, (m, n))
    y = rng.integers(0, ref.N_CLASSES, m)
    return params, X, y


def expect_input_gradient(input_gradient: Callable, params: dict, X: Any, y: Any) -> None:
    """``input_gradient(params, X, y)`` must be dL/dX of the mean cross-entropy, shape of X."""
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    X, y = np.array(X, dtype=np.float64), np.array(y, dtype=np.int64)
    m = X.shape[0]
    shown = (
        f"input_gradient(params, X, y) with W1 of shape {params['W1'].shape}, X of shape "
        f"{X.shape}, y = {y.tolist()}"
    )
    before = {k: v.copy() for k, v in params.items()}
    given = {k: v.copy() for k, v in params.items()}
    got = call(input_gradient, given, X, y, name="input_gradient")
    for key in ref.PARAMETER_NAMES:
        if key not in given or not np.array_equal(np.asarray(given[key]), before[key]):
            raise CheckFailure(
                f'input_gradient modified params["{key}"].',
                [f"call : {shown}", "work on copies; the parameters are not yours to change"],
            )
    got = require_returned("input_gradient", got, shown)
    g = _numeric("input_gradient", got, shown, "the result")
    expected = ref.input_gradient(params, X, y)
    hidden = params["W1"].shape[1]
    if g.shape != expected.shape:
        detail = [
            f"call           : {shown}",
            f"expected shape : {expected.shape} (the shape of X)",
            f"got shape      : {g.shape}",
        ]
        if g.shape == (m, hidden):
            detail.append(
                "hint           : this is the gradient for the hidden layer (dA1 or dZ1): carry "
                "it through the first layer, dX = dZ1 @ W1.T"
            )
        raise CheckFailure("input_gradient returned the wrong shape.", detail)
    with quiet():
        Z2, cache = ref.forward(params, X)
        _, dZ2 = ref.softmax_cross_entropy(Z2, y)
        dA1 = dZ2 @ params["W2"].T
        mistakes = {
            "left out the tanh's derivative (1 - A1**2) between the layers": dA1 @ params["W1"].T,
            "used 1 - Z1**2 where the tanh's derivative is 1 - A1**2 = 1 - tanh(Z1)**2": (
                dA1 * (1 - cache["Z1"] ** 2)
            )
            @ params["W1"].T,
            "not divided by m: this is the gradient of the summed loss; the loss is a mean": m
            * expected,
            "the sign is flipped": -expected,
            "used A1 * (1 - A1), the sigmoid's derivative: the hidden layer is a tanh": (
                dA1 * cache["A1"] * (1 - cache["A1"])
            )
            @ params["W1"].T,
        }
    check(
        "input_gradient",
        g,
        expected,
        call=shown,
        rtol=1e-8,
        mistakes=mistakes,
        hint="dZ2 = (P - Y)/m, dA1 = dZ2 @ W2.T, dZ1 = dA1 * (1 - A1**2), dX = dZ1 @ W1.T",
    )


@exercise(LESSON, "Challenge 08 · The gradient with respect to the pixels", "input_gradient")
def check_input_gradient(input_gradient: Callable) -> None:
    """Visible test of ``input_gradient``: a random network, and one trained on the digits."""
    expect_input_gradient(input_gradient, *challenge_case(86, 5, 4, 3))
    expect_input_gradient(input_gradient, *challenge_case(87, 64, 32, 4, trained=True))


QUIZ = (
    "q1_softmax_shift_invariant",
    "q2_initial_loss_near_ln10",
    "q3_accuracy_makes_a_good_loss",
    "q4_db_is_mean_of_dz",
    "q5_tuning_on_test_keeps_it_unbiased",
)

check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 08")
