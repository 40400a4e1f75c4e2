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
Typical mistakes are computed the way a student's stable code would compute them, and one that
is not finite, or too close to the right value, is never named (:func:`_distinct`).
``train_digits`` is graded on its behaviour (accuracy on the lesson's test split, a falling
loss, exact shapes, inputs unmodified) and on the loop its text prescribes: with the same seed
its parameters and losses must be those of the text's loop (:data:`RECIPE_RTOL`); a deviation
is named when a short run of the student's function matches one simulated here
(:data:`_RECIPE_VARIANTS`). Every run is seeded, so every verdict is the same on every run.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .. import digits as ref
from ..checks import (
    NOT_WRITTEN,
    CheckFailure,
    call,
    check,
    check_quiz_answers,
    exercise,
    quiet,
    require_returned,
    trusted_relative_error,
)
from ..stochastic import minibatch_indices

LESSON = "08_digits"
RTOL = 1e-9

# Exercise 08.4: the accuracy the default run must reach on the lesson's test split (the
# reference reaches 97.2-98.3 % over 20 seeds; 0.95 leaves room for any right loop).
TRAIN_ACCURACY = 0.95


def _show(a: Any, threshold: int = 40) -> str:
    arr = np.asarray(a)
    with np.printoptions(
        precision=4, suppress=True, linewidth=88, threshold=threshold, edgeitems=3
    ):
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


def _call(fn: Callable, *args: Any, name: str, arg_names: tuple = (), **kwargs: Any) -> Any:
    """:func:`helpers.checks.call`, with a hint when numpy could not broadcast two shapes, and
    the name of the argument that was changed in place (``arg_names``: the names of ``args``)."""
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
        if arg_names and failure.summary == f"{name} modified its input array.":
            changed = _changed_arguments(fn, args, arg_names, kwargs)
            if changed:
                which = " and ".join(changed)
                raise CheckFailure(
                    f"{name} modified its input {which}.",
                    list(failure.details[:-1])
                    + [
                        f"changed : {which} (the caller's array{'s' if len(changed) > 1 else ''})",
                        f"work on new arrays: `{changed[0]} = {changed[0]} - ...` makes one; "
                        f"`{changed[0]} -= ...`, `{changed[0]} /= ...` or "
                        f"`{changed[0]}[...] = ...` change the caller's array",
                    ],
                ) from None
        raise


def _changed_arguments(fn: Callable, args: tuple, names: tuple, kwargs: dict) -> list[str]:
    """Which of the array ``args`` a second call of ``fn`` changes in place (their ``names``).

    Run only after :func:`helpers.checks.call` found that some input changed, to say which.
    """
    given = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    with quiet():
        try:
            fn(*given, **kwargs)
        except Exception:  # noqa: BLE001 - the first call's verdict stands
            return []
    return [
        label
        for label, before, after in zip(names, args, given)
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True)
    ]


def _distinct(variants: dict[str, Any], expected: Any, gap: float = 1e-6) -> dict[str, Any]:
    """The typical mistakes worth naming: finite, of the expected shape, and far from it.

    A variant that is not finite can never be the wrong finite answer a check compares it
    with, and one within ``gap`` of the expected value would be named for a wrong answer
    that merely rounds differently.
    """
    expected = np.asarray(expected, dtype=np.float64)
    kept = {}
    for description, value in variants.items():
        if value is None:
            continue
        with quiet():
            v = np.asarray(value, dtype=np.float64)
        if v.shape != expected.shape or not np.all(np.isfinite(v)):
            continue
        if trusted_relative_error(v, expected) > gap:
            kept[description] = v
    return kept


def _dtype_hint(got: Any, what: str) -> str | None:
    """A hint when ``got`` is an array of integers or of a float narrower than float64."""
    dtype = getattr(got, "dtype", None)
    if not isinstance(dtype, np.dtype):
        return None
    if dtype.kind in "iub":
        return (
            f"{what} has the integer dtype {dtype}: probabilities need floats (np.zeros_like "
            "or np.empty_like of an integer Z is an integer array; use dtype=float)"
        )
    if dtype.kind == "f" and dtype.itemsize < 8:
        return (
            f"{what} is {dtype}, which keeps about {7 if dtype.itemsize == 4 else 3} digits: "
            "compute in float64 (np.asarray(Z, dtype=float))"
        )
    return None


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
    """Typical wrong softmaxes of ``Z``, each computed as a stable student's would be.

    A mistake that is a formula of its own (normalised over the columns, by the whole
    matrix, ...) is computed with the shift that keeps that formula finite, so that it matches
    the student's value on large logits too; a mistake that cannot be computed finitely (exp
    without a shift) is left out by :func:`_distinct` - a non-finite answer is diagnosed by
    :func:`_overflow_variants` before any comparison.
    """
    with quiet():
        shifted = np.exp(Z - Z.max(axis=1, keepdims=True))
        by_column = np.exp(Z - Z.max(axis=0, keepdims=True))
        overall = np.exp(Z - Z.max())
        E = np.exp(Z)
        P = shifted / shifted.sum(axis=1, keepdims=True)
        variants = {
            "normalised over the columns (axis=0): each ROW of Z is one example, its k "
            "probabilities sum to 1 (axis=1, keepdims=True)": by_column
            / by_column.sum(axis=0, keepdims=True),
            "divided by the column sums (axis=0): each ROW of Z is one example, its k "
            "probabilities sum to 1 (axis=1, keepdims=True)": shifted
            / shifted.sum(axis=0, keepdims=True),
            "divided by the sum of the whole matrix: divide each row by its own sum "
            "(axis=1, keepdims=True)": overall / overall.sum(),
            "returned exp(Z) without dividing by the row sums": E,
            "returned exp(Z - max) without dividing by the row sums": shifted,
            "divided by the row maximum instead of the row sum": shifted
            / shifted.max(axis=1, keepdims=True),
            "returned the log-probabilities Z - logsumexp(Z), not the probabilities": np.log(P),
            "this is the softmax of -Z: the largest logit must get the largest probability": (
                np.exp(-Z + Z.min(axis=1, keepdims=True))
                / np.exp(-Z + Z.min(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
            ),
            "no max subtraction: exp overflowed (inf / inf = nan) or underflowed (0 / 0 = nan) "
            "and np.nan_to_num hid the nan; a row of probabilities must sum to 1. Subtract "
            "each row's maximum before np.exp instead": np.nan_to_num(
                E / E.sum(axis=1, keepdims=True)
            ),
        }
        clipped_seen: list[np.ndarray] = []
        for c in (709.0, 700.0, 500.0, 100.0, 30.0):
            clipped = np.clip(Z, -c, c)
            Ec = np.exp(clipped - clipped.max(axis=1, keepdims=True))
            value = Ec / Ec.sum(axis=1, keepdims=True)
            if any(np.array_equal(value, seen) for seen in clipped_seen):
                continue  # a smaller bound with the same effect: the largest one is named
            clipped_seen.append(value)
            variants[
                f"clipped the logits (np.clip(Z, -{c:g}, {c:g}) gives exactly your values): a "
                "row with logits beyond the bound changes its softmax. Subtract each row's "
                "maximum instead - the softmax does not change, and nothing overflows"
            ] = value
        if Z.shape[0] == Z.shape[1]:
            variants[
                "the row sums were taken without keepdims=True: an (m,) vector broadcasts "
                "along the rows, so column j was divided by the sum of row j"
            ] = shifted / shifted.sum(axis=1)
            variants[
                "the row maxima were taken without keepdims=True: an (m,) vector broadcasts "
                "along the rows, so column j lost the maximum of row j"
            ] = np.exp(Z - Z.max(axis=1)) / np.exp(Z - Z.max(axis=1)).sum(axis=1, keepdims=True)
    return _distinct(variants, P)


def _softmax32(Z: np.ndarray) -> np.ndarray:
    """The stable softmax computed in float32, returned as float64."""
    with quiet():
        Z32 = Z.astype(np.float32)
        E32 = np.exp(Z32 - Z32.max(axis=1, keepdims=True))
        return (E32 / E32.sum(axis=1, keepdims=True)).astype(np.float64)


def _float32_hint(got: np.ndarray, in_float32: np.ndarray) -> str | None:
    """A hint when ``got`` is wrong in the way float32 arithmetic is: within float32's
    rounding of the float32 computation, beyond float64's of the right value."""
    if got.shape != in_float32.shape or trusted_relative_error(got, in_float32) > 1e-6:
        return None
    return (
        "your values agree with the softmax computed in float32 (about 7 digits), not with "
        "float64's: compute in float64 throughout (np.asarray(Z, dtype=float))"
    )


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
    got = _call(softmax, Z, name="softmax", arg_names=("Z",))
    got = require_returned("softmax", got, shown)
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
    hint = _dtype_hint(got, "your result") or _float32_hint(g, _softmax32(Zf))
    if hint is None:
        with quiet():
            sums = g.sum(axis=1)
        hint = "per row: exp(Z[i] - max(Z[i])) divided by its sum; each row sums to 1"
        if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-6):
            hint += f" (the rows of yours sum to {_show(sums)})"
    check(
        "softmax",
        g,
        expected,
        call=shown,
        rtol=RTOL,
        mistakes=_softmax_variants(Zf),
        hint=hint,
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
        variants = {
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
        for eps in (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-16):
            capped = f"-log({eps:g}) = {-math.log(eps):.1f}"
            variants[
                f"added {eps:g} inside the log (log(P + {eps:g})): that caps each row's loss at "
                f"{capped}, far below the true loss where P[i, y_i] underflows. Compute "
                "log P by log-sum-exp: (Z - max) - log(sum(exp(Z - max)))"
            ] = float(-np.log(P[rows, y] + eps).mean())
            variants[
                f"clipped P at {eps:g} before the log (np.clip or np.maximum): that caps each "
                f"row's loss at {capped}. Compute log P by log-sum-exp instead"
            ] = float(-np.log(np.maximum(P[rows, y], eps)).mean())
    return _distinct(variants, loss)


def _ce_unstable_losses(Z: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The losses of the unstable ways of computing the cross-entropy (inf or nan where they
    fail), to name the one that explains a non-finite loss."""
    m = Z.shape[0]
    rows = np.arange(m)
    with quiet():
        P = ref.softmax(Z)
        E = np.exp(Z)
        naive = E / E.sum(axis=1, keepdims=True)
        G = np.exp(Z - Z.max())
        losses = {
            "the log-sum-exp without the max shift: log(sum(exp(Z))) overflows to inf once a "
            "logit passes about 709. Subtract each row's maximum INSIDE the log-sum-exp: "
            "log(sum(exp(Z))) = c + log(sum(exp(Z - c))) with c the row's maximum": float(
                (np.log(E.sum(axis=1)) - Z[rows, y]).mean()
            ),
            "took the log of softmax(Z)[i, y_i]: where the right class's logit is far below its "
            "row's maximum that probability underflows to 0 and log(0) = -inf. Compute "
            "log P = (Z - max) - log(sum(exp(Z - max))) (log-sum-exp) instead": float(
                -np.log(P[rows, y]).mean()
            ),
            "the softmax without the max shift, then its log: exp overflows (inf / inf = nan). "
            "Compute log P by log-sum-exp, (Z - max) - log(sum(exp(Z - max))), row by row": float(
                -np.log(naive[rows, y]).mean()
            ),
            "subtracted one maximum for the whole matrix: a row far below it underflows "
            "(log(0) = -inf). Subtract each row's own maximum inside the log-sum-exp": float(
                (np.log(G.sum(axis=1)) + Z.max() - Z[rows, y]).mean()
            ),
        }
    # Where nothing overflows the naive softmax is the stable one: the same mistake as the log
    # of the softmax, which then names it alone.
    log_of_p, naive_log = list(losses.values())[1:3]
    if _same_non_finite(log_of_p, naive_log) or log_of_p == naive_log:
        del losses[list(losses)[2]]
    return losses


def _same_non_finite(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (math.isinf(a) and a == b)


def _ce_grad_variants(Z: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    m, k = Z.shape
    with quiet():
        P = ref.softmax(Z)
        Y = ref.one_hot(y, k)
        return _distinct(
            {
                "dZ not divided by m: the loss is a mean over the m examples, so "
                "dZ = (P - Y) / m": P - Y,
                "divided by m twice": (P - Y) / (m * m),
                "divided by k, the number of classes: divide by m, the number of examples": (P - Y)
                / k,
                "the sign is flipped: dZ = (P - Y) / m, positive for the wrong classes": (Y - P)
                / m,
                "forgot to subtract the one-hot Y: dZ = (P - Y) / m": P / m,
                "used Z where P = softmax(Z) belongs: dZ = (P - Y) / m": (Z - Y) / m,
                "kept the softmax's Jacobian diagonal P (1 - P): with the cross-entropy it "
                "cancels, dZ = (P - Y) / m": (P - Y) * P * (1 - P) / m,
            },
            (P - Y) / m,
        )


def expect_softmax_cross_entropy(softmax_cross_entropy: Callable, Z: Any, y: Any) -> None:
    """``softmax_cross_entropy(Z, y)`` must return (mean cross-entropy, (P - Y) / m), stably."""
    Z = np.array(Z, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    m, k = Z.shape
    shown = f"softmax_cross_entropy(Z, y) with Z = {_show(Z)}, y = {y.tolist()}"
    got = _call(softmax_cross_entropy, Z, y, name="softmax_cross_entropy", arg_names=("Z", "y"))
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
        got_loss = float(loss_value)
        causes = [d for d, v in _ce_unstable_losses(Z, y).items() if _same_non_finite(got_loss, v)]
        if len(causes) == 1:
            why = [f"likely mistake : {causes[0]}"]
        elif causes:
            why = ["likely mistake : one of these (on these logits both give the same value):"]
            why += [f"  - {c}" for c in causes]
        else:
            why = [
                "hint           : compute log P[i, y_i] by log-sum-exp, subtracting each row's "
                "maximum first: (Z - max) - log(sum(exp(Z - max)))"
            ]
        raise CheckFailure(
            "softmax_cross_entropy returned a loss that is not finite.",
            [
                f"call           : {shown}",
                f"got loss       : {got_loss!r}",
                f"expected       : {expected_loss!r}",
                *why,
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
        hint=_dtype_hint(loss, "your loss")
        or "the mean over the rows of -log P[i, y_i], with log P = Z - logsumexp(Z) per row",
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
        hint=_dtype_hint(dZ, "your dZ")
        or "dL/dZ = (P - Y) / m with P = softmax(Z) and Y the one-hot matrix of y",
    )


# Large logits that overflow exp without a shift, while every right class keeps a probability
# far from 0: a log-sum-exp without the max shift fails here, the log of a stable softmax not.
CE_OVERFLOW = (
    np.array([[1000.0, 999.0, 990.0], [998.0, 1000.0, 1000.0]]),
    np.array([1, 0]),
)
# Logits that never overflow, while the right class of row 0 is 805 below its row's maximum:
# its probability underflows to 0, so the log of the softmax fails here, a log-sum-exp without
# the max shift not.
CE_UNDERFLOW = (
    np.array([[5.0, -800.0, 0.0], [-1.5, 2.5, 1.0]]),
    np.array([1, 2]),
)
# Both: row 0's right class (2) is 2000 below its maximum, so -log P[0, 2] is about 2000 while
# softmax(Z)[0, 2] underflows to 0; row 1 would overflow exp without the shift.
CE_LARGE = (
    np.array([[1000.0, 0.0, -1000.0, 500.0], [1000.0, 1000.0, 999.0, -3.0]]),
    np.array([2, 1]),
)


@exercise(LESSON, "Exercise 08.3 · Softmax cross-entropy", "softmax_cross_entropy")
def check_softmax_cross_entropy(softmax_cross_entropy: Callable) -> None:
    """Visible test of ``softmax_cross_entropy(Z, y)``: small, random and large logits (where
    exp overflows, where a probability underflows, and both)."""
    expect_softmax_cross_entropy(
        softmax_cross_entropy, np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), np.array([0, 2])
    )
    expect_softmax_cross_entropy(
        softmax_cross_entropy, _random_logits(82, 5, 10, 2.0), np.array([3, 0, 9, 3, 7])
    )
    expect_softmax_cross_entropy(softmax_cross_entropy, *CE_OVERFLOW)
    expect_softmax_cross_entropy(softmax_cross_entropy, *CE_UNDERFLOW)
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
    got = _call(dense_backward, X, W, dZ, name="dense_backward", arg_names=("X", "W", "dZ"))
    got = require_returned("dense_backward", got, shown, hint="return the tuple (dX, dW, db)")
    dX, dW, db = _pair("dense_backward", got, shown, "(dX, dW, db)", 3)
    dX, dW, db = (
        _numeric("dense_backward", v, shown, w) for v, w in zip((dX, dW, db), ("dX", "dW", "db"))
    )
    eX, eW, eb = ref.dense_backward(X, W, dZ)
    _check_gradient_order((dX, dW, db), (eX, eW, eb), shown)
    _require_dense_shapes((dX, dW, db), (eX, eW, eb), (m, n, k), shown)
    mistakes = _dense_mistakes(X, W, dZ, (eX, eW, eb))
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
                "dW": "dW = X.T @ dZ: W[q, j] meets X[i, q] in every row i",
                "db": "db = dZ.sum(axis=0, keepdims=True): b is added to every row",
            }[label],
        )


def _require_dense_shapes(got: tuple, expected: tuple, sizes: tuple, shown: str) -> None:
    """A CheckFailure naming the first of (dX, dW, db) whose shape is wrong, with what its
    shape suggests; ``sizes`` is (m, n, k)."""
    m, n, k = sizes
    dX, dW, db = got
    eX, eW, eb = expected
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


def _dense_mistakes(X: np.ndarray, W: np.ndarray, dZ: np.ndarray, expected: tuple) -> dict:
    """Each gradient's typical wrong values (None where a mistake cannot show at these shapes)."""
    (m, n), k = X.shape, W.shape[1]
    eX, eW, eb = expected
    with quiet():
        return {
            "dX": {
                "dX = dZ @ W without the transpose: it is dZ @ W.T": dZ @ W if n == k else None,
                "divided dX by m: the 1/m of a mean loss is already inside dZ": eX / m,
                "the sign is flipped": -eX,
                "this is dW = X.T @ dZ: the tuple is (dX, dW, db), in that order": (
                    eW if eW.shape == eX.shape else None
                ),
            },
            "dW": {
                "dW is transposed (dZ.T @ X): dW = X.T @ dZ": (dZ.T @ X) if n == k else None,
                "divided dW by m: the 1/m of a mean loss is already inside dZ": eW / m,
                "the sign is flipped": -eW,
                "this is dX = dZ @ W.T: the tuple is (dX, dW, db), in that order": (
                    eX if eX.shape == eW.shape else None
                ),
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


def _check_gradient_order(got: tuple, expected: tuple, shown: str) -> None:
    """A CheckFailure when the three gradients came back in another order than (dX, dW, db).

    Said only when the evidence shows it: the shapes of what came back are not those of
    (dX, dW, db) but are those of the three in another order (named exactly when the values
    match too). Where dX and dW have one shape, the value checks name a swap instead.
    """
    if [g.shape for g in got] == [e.shape for e in expected]:
        return
    fits = [
        order
        for order in itertools.permutations(range(3))
        if all(got[i].shape == expected[j].shape for i, j in enumerate(order))
    ]
    if not fits:
        return
    exact = [
        order
        for order in fits
        if all(trusted_relative_error(got[i], expected[j]) <= 1e-6 for i, j in enumerate(order))
    ]
    order = (exact or fits)[0]
    returned = ", ".join(("dX", "dW", "db")[j] for j in order)
    what = f"this is ({returned})" if exact else f"the shapes are those of ({returned})"
    raise CheckFailure(
        "dense_backward returned the three gradients in another order.",
        [
            f"call           : {shown}",
            f"got shapes     : {', '.join(str(g.shape) for g in got)}",
            f"expected shapes: {', '.join(str(e.shape) for e in expected)} for (dX, dW, db)",
            f"likely mistake : {what}; return the tuple (dX, dW, db), in that order",
        ],
    )


@exercise(LESSON, "Exercise 08.2 · A dense layer's backward pass", "dense_backward")
def check_dense_backward(dense_backward: Callable) -> None:
    """Visible test of ``dense_backward(X, W, dZ)``: three shapes, one of them square."""
    expect_dense_backward(dense_backward, *dense_case(83, 5, 3, 4))
    expect_dense_backward(dense_backward, *dense_case(84, 4, 6, 2))
    expect_dense_backward(dense_backward, *dense_case(85, 3, 3, 3))


def gradients_ready(softmax_cross_entropy: Callable, dense_backward: Callable) -> bool:
    """Whether both pass their visible checks now: the lesson's cell "Section 4's checks on
    your functions" runs the student's code only then, so the notebook runs top to bottom
    before the exercises are done."""
    try:
        check_softmax_cross_entropy(softmax_cross_entropy)
        check_dense_backward(dense_backward)
    except CheckFailure:
        return False
    return True


# --------------------------------------------------------------------------- training

# Exercise 08.4 prescribes its loop exactly (the order of the draws, one step per batch, the loss
# recorded), so with the same seed a right answer ends on the reference's parameters: loops
# written in float64 agree with it to about 1e-15 after 30 epochs (rounding does not grow in
# this training), loops in float32 to about 1e-6. RECIPE_RTOL accepts both; every deviation
# the text rules out (another order of draws, no shuffling, another scale, ...) moves the
# parameters by 10 % or more. LOSSES_RTOL is tighter: a mean weighted by the batch sizes
# differs from the plain mean by about 4e-4.
RECIPE_RTOL = 1e-5
LOSSES_RTOL = 1e-6
DEFAULTS = {"hidden": 32, "lr": 0.1, "epochs": 30, "batch_size": 32, "seed": 0}

SHAPES_OF = {
    "W1": lambda n, h: (n, h),
    "b1": lambda n, h: (1, h),
    "W2": lambda n, h: (h, ref.N_CLASSES),
    "b2": lambda n, h: (1, ref.N_CLASSES),
}

# Deviations from the text, each simulated with the same seed (see _simulate); the first whose
# parameters match the student's short run is named.
_RECIPE_VARIANTS = {
    "zero": "the weights started at zero: every hidden unit then gets the same (zero) gradient "
    "and symmetry is never broken; draw W1 and W2 from rng.normal as the text says",
    "added": "added the gradient: a descent step is params - lr * gradient",
    "no_mean": "the steps are batch_size times too large: dZ must be divided by the batch's m "
    "(the loss is a mean)",
    "full_batch": "one step per epoch on all m images: mini-batch SGD takes a step per batch, "
    "ceil(m / batch_size) of them per epoch (minibatch_indices(m, batch_size, rng))",
    "std_1": "the weights start with standard deviation 1: the logits start large, so the "
    "first loss is far above log 10 = 2.30, the loss at chance (Section 4), and the tanh "
    "units saturate. Draw W1 with standard deviation 1/sqrt(n) and W2 with 1/sqrt(hidden)",
    "std_1_over_n": "the weights start with standard deviation 1/n (and 1/hidden): the text "
    "asks for 1/sqrt(n) for W1 and 1/sqrt(hidden) for W2 (np.sqrt)",
    "w2_first": "W2 was drawn before W1: draw W1 first, then W2, then each epoch's batches",
    "batches_first": "every epoch's batches were drawn before the weights: draw W1, then W2, "
    "then, at the start of each epoch, that epoch's batches",
    "in_order": "the batches are not shuffled (consecutive rows): each epoch takes its batches "
    "from minibatch_indices(m, batch_size, rng), a new random order every epoch",
    "drop_last": "the last, smaller batch of each epoch was left out: minibatch_indices(m, "
    "batch_size, rng) gives ceil(m / batch_size) batches and every one takes a step",
    "fresh_rng": "the batches come from a new generator every epoch (the same order each "
    "time): create rng = np.random.default_rng(seed) once, draw the weights and then every "
    "epoch's batches from it",
    "legacy": "the draws come from NumPy's legacy global generator (np.random.seed, "
    "np.random.normal, np.random.permutation): draw from rng = np.random.default_rng(seed)",
}

# Ways of recording the losses other than the text's, when the parameters are right.
_RECORD_VARIANTS = {
    "last": "recorded the loss of the epoch's last batch only: record the plain mean of all "
    "of that epoch's mini-batch losses",
    "first": "recorded the loss of the epoch's first batch only: record the plain mean of all "
    "of that epoch's mini-batch losses",
    "weighted": "weighted each batch's loss by its size (a mean over the examples): the text "
    "asks for the plain mean of the batch losses, each batch counting once",
    "sum": "recorded the sum of the epoch's batch losses: record their plain mean",
    "after_step": "recorded each batch's loss after its step: record the loss "
    "softmax_cross_entropy gives before the step, the one the step's gradient comes from",
    "full_data": "recorded the loss on the whole training set after the epoch: record the "
    "plain mean of the losses of that epoch's mini-batches",
}


_NOT_REPRODUCIBLE = (
    "two calls with the same seed gave different parameters: every draw must come from "
    "rng = np.random.default_rng(seed) (not np.random.default_rng() without the seed, nor "
    "np.random.permutation, np.random.shuffle or np.random.normal)"
)


class _Run(NamedTuple):
    params: dict
    losses: np.ndarray
    records: dict


def _simulate(
    X: np.ndarray, y: np.ndarray, settings: dict, variant: str = "", record: bool = False
) -> _Run:
    """Exercise 08.4's loop with ``settings``, or one deviation from it (``variant``).

    With ``variant=""`` the same arithmetic as :func:`helpers.digits.fit`, so the same numbers;
    with ``record`` it also records the losses the ways of :data:`_RECORD_VARIANTS`.
    """
    hidden, lr, epochs = settings["hidden"], settings["lr"], settings["epochs"]
    size, seed = settings["batch_size"], settings["seed"]
    m, n = X.shape
    rng = np.random.default_rng(seed)
    legacy = np.random.RandomState(seed) if variant == "legacy" else None
    draw = legacy.normal if legacy is not None else rng.normal
    early = []
    if variant == "batches_first":
        early = [minibatch_indices(m, size, rng) for _ in range(epochs)]
    scales = {"std_1": (1.0, 1.0), "std_1_over_n": (1.0 / n, 1.0 / hidden)}.get(
        variant, (1.0 / math.sqrt(n), 1.0 / math.sqrt(hidden))
    )
    if variant == "w2_first":
        W2 = draw(0.0, scales[1], (hidden, ref.N_CLASSES))
        W1 = draw(0.0, scales[0], (n, hidden))
    else:
        W1 = draw(0.0, scales[0], (n, hidden))
        W2 = draw(0.0, scales[1], (hidden, ref.N_CLASSES))
    if variant == "zero":
        W1, W2 = np.zeros_like(W1), np.zeros_like(W2)
    params = {"W1": W1, "b1": np.zeros((1, hidden)), "W2": W2, "b2": np.zeros((1, ref.N_CLASSES))}
    records = {key: [] for key in ("plain", *_RECORD_VARIANTS)}
    keep = record and variant == ""
    with quiet():
        for epoch in range(epochs):
            if variant == "batches_first":
                batches = early[epoch]
            elif variant == "in_order":
                batches = [np.arange(s, min(s + size, m)) for s in range(0, m, size)]
            elif variant == "full_batch":
                batches = [np.arange(m)]
            elif variant == "fresh_rng":
                batches = minibatch_indices(m, size, np.random.default_rng(seed))
            elif variant == "legacy":
                order = legacy.permutation(m)
                batches = [order[s : s + size] for s in range(0, m, size)]
            else:
                batches = minibatch_indices(m, size, rng)
            if variant == "drop_last" and len(batches) > 1 and len(batches[-1]) < size:
                batches = batches[:-1]
            losses, sizes, after = [], [], []
            for idx in batches:
                weights = [params[k] for k in ref.PARAMETER_NAMES]
                loss, grads = ref._loss_and_grads(*weights, X[idx], y[idx])
                if variant == "added":
                    params = {k: params[k] + lr * grads[k] for k in ref.PARAMETER_NAMES}
                elif variant == "no_mean":
                    params = {k: params[k] - lr * len(idx) * grads[k] for k in ref.PARAMETER_NAMES}
                else:
                    params = {k: params[k] - lr * grads[k] for k in ref.PARAMETER_NAMES}
                losses.append(loss)
                sizes.append(len(idx))
                if keep:
                    after.append(ref.loss(params, X[idx], y[idx]))
            records["plain"].append(float(np.mean(losses)))
            if keep:
                records["last"].append(losses[-1])
                records["first"].append(losses[0])
                records["weighted"].append(float(np.dot(losses, sizes) / sum(sizes)))
                records["sum"].append(float(np.sum(losses)))
                records["after_step"].append(float(np.mean(after)))
                records["full_data"].append(ref.loss(params, X, y))
    return _Run(params, np.array(records["plain"]), records)


_REFERENCE_RUNS: dict[tuple, _Run] = {}


def _reference(X: np.ndarray, y: np.ndarray, settings: dict) -> _Run:
    """The text's run for ``settings`` on ``(X, y)``, computed once per process.

    The visible check runs in its test cell and again in ``progress()``: the second time the
    reference is not trained again. The key is the checker's own copies of the data (a digest
    of their bytes) and the settings.
    """
    digest = hashlib.blake2b(X.tobytes() + y.tobytes(), digest_size=16).hexdigest()
    key = (digest, X.shape, tuple(sorted(settings.items())))
    if key not in _REFERENCE_RUNS:
        if len(_REFERENCE_RUNS) >= 8:
            _REFERENCE_RUNS.pop(next(iter(_REFERENCE_RUNS)))
        _REFERENCE_RUNS[key] = _simulate(X, y, settings)
    return _REFERENCE_RUNS[key]


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
            default = SHAPES_OF[key](n, DEFAULTS["hidden"])
            if hidden != DEFAULTS["hidden"] and value.shape == default:
                hint = (
                    f"this is the shape for hidden={DEFAULTS['hidden']}, the default: the call "
                    f"passed hidden={hidden} - use the argument, not a fixed number"
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
        elif epochs != DEFAULTS["epochs"] and values.shape == (DEFAULTS["epochs"],):
            detail.append(
                f"likely mistake : {DEFAULTS['epochs']} epochs, the default: the call passed "
                f"epochs={epochs} - use the argument, not a fixed number"
            )
        raise CheckFailure("train_digits: losses must hold one number per epoch.", detail)
    if not np.all(np.isfinite(values)):
        raise CheckFailure(
            "train_digits: a loss is nan or inf.",
            [
                f"call   : {shown}",
                f"losses : {_show(values)}",
                "the training diverged, or the loss is not computed stably (Exercise 08.3)",
            ],
        )
    return values


def _same_params(a: dict, b: dict, rtol: float = RECIPE_RTOL) -> bool:
    return all(trusted_relative_error(a[k], b[k]) <= rtol for k in ref.PARAMETER_NAMES)


def _same_losses(a: Any, b: Any, rtol: float = LOSSES_RTOL) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and trusted_relative_error(a, b) <= rtol


def _result(
    train_digits: Callable, X: np.ndarray, y: np.ndarray, kwargs: dict, settings: dict
) -> tuple[dict, np.ndarray, str]:
    """Call ``train_digits(X, y, **kwargs)`` and check the form of what it returns."""
    n, hidden, epochs = X.shape[1], settings["hidden"], settings["epochs"]
    steps = math.ceil(X.shape[0] / settings["batch_size"])
    arguments = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    shown = f"train_digits(X, y{arguments}) with X of shape {X.shape}"
    got = _call(train_digits, X, y, name="train_digits", arg_names=("X", "y"), **kwargs)
    got = require_returned("train_digits", got, shown, hint="return the tuple (params, losses)")
    params, losses = _pair("train_digits", got, shown, "(params, losses)", 2)
    return _as_params(params, n, hidden, shown), _as_losses(losses, epochs, steps, shown), shown


def expect_train_digits(
    train_digits: Callable,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    min_accuracy: float | None = TRAIN_ACCURACY,
    **kwargs: Any,
) -> None:
    """``train_digits(X, y, **kwargs)`` must train as the text says, and train well.

    Its parameters and losses must be those of the text's loop with the same settings (to
    :data:`RECIPE_RTOL` and :data:`LOSSES_RTOL`), its shapes exact, its inputs unmodified, its
    last loss below its first, and its accuracy on ``(X_test, y_test)`` at least
    ``min_accuracy`` (None: not checked, e.g. for one epoch). ``kwargs`` are passed on as
    keywords; the defaults of the exercise fill in the rest.
    """
    X, X_test = np.array(X, dtype=np.float64), np.array(X_test, dtype=np.float64)
    y, y_test = np.array(y, dtype=np.int64), np.array(y_test, dtype=np.int64)
    settings = {**DEFAULTS, **kwargs}
    params, losses, shown = _result(train_digits, X, y, kwargs, settings)
    reference = _reference(X, y, settings)
    with quiet():
        score = ref.accuracy(params, X_test, y_test)
    falling = settings["epochs"] < 2 or losses[-1] < losses[0]
    good = min_accuracy is None or score >= min_accuracy
    if _same_params(params, reference.params):
        if not _same_losses(losses, reference.losses):
            _raise_losses_failure(losses, X, y, settings, shown)
        if falling and good:
            return
    diagnosis = _train_diagnosis(train_digits, params, losses, X, y, kwargs, settings)
    details = [f"call           : {shown}"]
    if diagnosis == _NOT_REPRODUCIBLE:
        # Its numbers change from run to run: the message names none of them, so that it is
        # the same wherever the verdict is reached (the notebook, the grader's replay).
        raise CheckFailure(
            "train_digits gives different results for the same seed.",
            details + [f"likely mistake : {diagnosis}"],
        )
    if falling and good:
        summary = "train_digits does not follow the loop the exercise prescribes."
        errors = ", ".join(
            f"{k} {trusted_relative_error(params[k], reference.params[k]):.1e}"
            for k in ref.PARAMETER_NAMES
        )
        details += [
            f"params         : relative error to the text's loop with the same seed: {errors} "
            f"(allowed {RECIPE_RTOL:.0e})",
            f"losses expected: {_show(reference.losses, threshold=8)}",
            f"losses got     : {_show(losses, threshold=8)}",
        ]
    else:
        summary = (
            "train_digits: the loss of the last epoch is not below the first."
            if not falling
            else "train_digits: the trained network is not accurate enough on the test split."
        )
        details += [
            f"losses         : {_show(losses)}",
            f"test accuracy  : {score:.4f}"
            + ("" if min_accuracy is None else f" (at least {min_accuracy:.2f} required)"),
        ]
    if diagnosis:
        details.append(f"likely mistake : {diagnosis}")
    else:
        details.append(
            "hint           : with the same seed the parameters must be the text's: rng = "
            "np.random.default_rng(seed) draws W1, then W2, then each epoch's batches "
            "(minibatch_indices(m, batch_size, rng)); per batch: forward, "
            "softmax_cross_entropy, dense_backward twice (with dA1 * (1 - A1**2) between), "
            "then params - lr * grads"
        )
    raise CheckFailure(summary, details)


def _raise_losses_failure(losses, X, y, settings, shown) -> None:
    """The parameters are the text's but the losses are not: say how they were recorded."""
    records = _simulate(X, y, settings, record=True).records
    diagnosis = next(
        (d for key, d in _RECORD_VARIANTS.items() if _same_losses(losses, records[key], 1e-6)),
        None,
    )
    details = [
        f"call           : {shown}",
        f"expected       : {_show(np.array(records['plain']))}",
        f"got            : {_show(losses)}",
    ]
    details.append(
        f"likely mistake : {diagnosis}"
        if diagnosis
        else "hint           : your params are right; record, per epoch, the mean of the "
        "losses softmax_cross_entropy gave for that epoch's batches (before each step)"
    )
    raise CheckFailure(
        "train_digits: the losses are not the plain means of each epoch's mini-batch losses.",
        details,
    )


def _train_diagnosis(train_digits, params, losses, X, y, kwargs, settings) -> str | None:
    """What the evidence shows went wrong, or None.

    First what the returned parameters show at once (all zero, equal hidden units); then a
    short run of the student's function (two epochs, twice: is it reproducible?) compared with
    the text's loop and with each deviation of :data:`_RECIPE_VARIANTS` and each ignored
    keyword, all with the same seed; last what the losses show (a first epoch above the loss
    at chance, a loss that grew).
    """
    W1, W2 = params["W1"], params["W2"]
    hidden = settings["hidden"]
    if not np.any(W1) and not np.any(W2):
        return _RECIPE_VARIANTS["zero"]
    if hidden > 1 and np.allclose(W1, W1[:, :1], rtol=0, atol=1e-12):
        return (
            "every hidden unit has the same weights: a start where all hidden units are equal "
            "(zeros or one constant) is never broken; draw W1 and W2 from rng.normal"
        )
    found = _short_run_diagnosis(train_digits, X, y, kwargs, settings)
    if found:
        return found
    if losses.size and losses[0] > math.log(ref.N_CLASSES) + 0.05:
        return (
            f"the first epoch's mean loss, {losses[0]:.2f}, is above log 10 = 2.30, the loss of "
            "a network that guesses (Section 4's loss at chance): the network starts far from "
            "chance or the first steps make it worse - check the scale of the starting weights "
            "(1/sqrt(n) and 1/sqrt(hidden)) and the size and sign of the steps"
        )
    if len(losses) > 1 and losses[-1] > losses[0]:
        return (
            "the loss grew: a descent step is params - lr * grads, with the gradients of the "
            "MEAN loss over the batch (steps that are too large make it grow too)"
        )
    return None


def _short_run_diagnosis(train_digits, X, y, kwargs, settings) -> str | None:
    epochs = min(2, settings["epochs"])
    if epochs == 0:
        return None
    short_kwargs = {**kwargs, "epochs": epochs}
    short = {**settings, "epochs": epochs}
    first_params, first_losses, _ = _result(train_digits, X, y, short_kwargs, short)
    again_params, again_losses, _ = _result(train_digits, X, y, short_kwargs, short)
    if not (
        _same_params(first_params, again_params, 1e-12)
        and _same_losses(first_losses, again_losses, 1e-12)
    ):
        return _NOT_REPRODUCIBLE
    text = _simulate(X, y, short, record=True)
    if _same_params(first_params, text.params):
        if not _same_losses(first_losses, text.losses):
            return next(
                (
                    d
                    for key, d in _RECORD_VARIANTS.items()
                    if _same_losses(first_losses, text.records[key])
                ),
                "the parameters are right, the losses recorded are not: record the plain mean "
                "of each epoch's mini-batch losses",
            )
        return (
            f"the first {epochs} epochs follow the text, a later epoch does not: the same "
            "learning rate and the same generator for every epoch, one epoch after the other"
        )
    candidates = [(short, key, d) for key, d in _RECIPE_VARIANTS.items()]
    for key in ("lr", "batch_size", "seed"):
        if key in kwargs and kwargs[key] != DEFAULTS[key]:
            candidates.append(
                (
                    {**short, key: DEFAULTS[key]},
                    "",
                    f"{key} is not used: the call passed {key}={kwargs[key]!r} and your "
                    f"function behaves as with {key}={DEFAULTS[key]!r}, the default",
                )
            )
    for variant_settings, key, description in candidates:
        run = _simulate(X, y, variant_settings, key)
        if _same_params(first_params, run.params) or (
            np.allclose(first_losses[:1], run.losses[:1], rtol=1e-4)
            and np.allclose(first_losses, run.losses, rtol=1e-2)
        ):
            return description
    return None


def lesson_split() -> ref.DigitsSplit:
    """The lesson's split (:func:`helpers.digits.split`), for the tests."""
    return ref.split()


def narrow_split() -> ref.DigitsSplit:
    """The lesson's split with the first and last pixel column of every image left out (n = 48)."""
    data = ref.split()
    keep = np.arange(64).reshape(8, 8)[:, 1:7].ravel()
    return ref.DigitsSplit(data.X_train[:, keep], data.y_train, data.X_test[:, keep], data.y_test)


# The visible check's second call: every keyword changed, two epochs (about 60 steps).
SHORT_SETTINGS = {"hidden": 8, "lr": 0.2, "epochs": 2, "batch_size": 50, "seed": 4}


@exercise(LESSON, "Exercise 08.4 · Train the digit classifier", "train_digits")
def check_train_digits(train_digits: Callable) -> None:
    """Visible test of ``train_digits``: the defaults on the lesson's split reach 95 % and follow
    the text's loop; a short run with every keyword changed follows it too."""
    data = lesson_split()
    expect_train_digits(train_digits, *data)
    expect_train_digits(train_digits, *data, min_accuracy=None, **SHORT_SETTINGS)


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


@exercise(LESSON, "Quiz 08", *QUIZ, form_only=True)
def check_quiz(*answers: Any) -> None:
    """Visible quiz check: each answer is True or False (the values are marked on submission).

    While every answer is still None the quiz is "not started" (as an exercise whose answer
    cell still raises NotImplementedError), not failing.
    """
    if len(answers) == len(QUIZ) and all(answer is None for answer in answers):
        raise CheckFailure(
            "Quiz 08 is not answered yet.",
            ["replace each None with True or False, delete the `raise` line, run the cell"],
            cause=NOT_WRITTEN,
        )
    check_quiz_answers(QUIZ, answers)
