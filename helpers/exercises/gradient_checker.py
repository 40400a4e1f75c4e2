"""Checks for Lesson 06, the mini-project "a gradient checker".

Each ``check_*`` function is the visible test of one exercise (registered for
:func:`helpers.progress`); each ``expect_*`` function compares a student's answer on one given
input with the reference and names the likely mistake. The hidden tests of the lesson call the
``expect_*`` functions with inputs of their own.

The references are computed here, from numpy only (and, for the backward pass, from
:func:`helpers.differentiate.gradient`), never from the student's code. Every formula a student
might confuse with the asked-for one is computed too, so that a wrong value is named: "this is
the absolute error", "used a forward difference", "only the first sample's bias gradient".
"""

from __future__ import annotations

import copy
import math
import warnings
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
    quiz_exercise,
    require_returned,
)
from ..differentiate import gradient as _reference_gradient
from ..gradcheck import FAIL_ABOVE
from ..mlp import sigmoid as _sigmoid
from ..mlp import xor_data
from .textbook import differences as _differences

LESSON = "06_gradient_checker"
PARAMETER_NAMES = ("W1", "b1", "W2", "b2")

_array = np.array
_float64 = np.float64
_sqrt = math.sqrt
_isnan = math.isnan

# Below this a central-difference check of a correct gradient is rounding noise (about 1e-10
# in float64); two right implementations may differ there by more than any rtol.
_ROUNDING_FLOOR = 1e-8


def _norm(v: Any) -> float:
    v = _array(v, dtype=_float64).ravel()
    return _sqrt(float(np.add.reduce(v * v))) if v.size else 0.0


def _as_scalar(name: str, got: Any, shown: str) -> float:
    """``got`` as a Python float, or a CheckFailure saying it is not a single number."""
    require_returned(name, got, shown)
    try:
        arr = _array(got, dtype=_float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.size != 1:
        what = type(got).__name__ if arr is None else f"an array of shape {arr.shape}"
        raise CheckFailure(
            f"{name} must return one number.",
            [
                f"call : {shown}",
                f"got  : {what}",
                "reduce the two vectors to a single relative error (norms, not elementwise values)",
            ],
        )
    return float(arr.ravel()[0])


# --------------------------------------------------------------------------- relative_error


def _relative_error_variants(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The neighbouring formulas a student might write instead of the asked-for one."""
    d, na, nb = _norm(a - b), _norm(a), _norm(b)
    variants = {
        "this is the absolute error ||a - b||: divide by max(||a||, ||b||)": d,
        "divided by the norm of a only: divide by max(||a||, ||b||)": d / na if na else math.inf,
        "divided by the norm of b only: divide by max(||a||, ||b||)": d / nb if nb else math.inf,
        "divided by ||a|| + ||b||: the lesson's formula divides by max(||a||, ||b||)": (
            d / (na + nb) if na + nb else math.inf
        ),
        "divided by min(||a||, ||b||): use the larger norm": d / min(na, nb)
        if min(na, nb)
        else math.inf,
        "used the largest elementwise difference max|a - b| instead of the norm ||a - b||": (
            float(np.max(np.abs(a - b))) / max(na, nb) if max(na, nb) else math.inf
        ),
        "squared norms: ||a - b|| is the square root of the sum of squares": (
            d * d / max(na, nb) ** 2 if max(na, nb) else math.inf
        ),
    }
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        per_element = np.where(scale > 0, np.abs(a - b) / np.where(scale > 0, scale, 1.0), 0.0)
    variants["took the largest elementwise relative error: use norms of the whole vectors"] = (
        float(np.max(per_element)) if per_element.size else 0.0
    )
    return variants


def expect_relative_error(relative_error: Callable[..., Any], a: Any, b: Any) -> None:
    """Require ``relative_error(a, b)`` = ||a - b|| / max(||a||, ||b||) (0.0 when both are 0)."""
    a = _array(a, dtype=_float64)
    b = _array(b, dtype=_float64)
    shown = describe_call("relative_error", a, b)
    both_zero = _norm(a) == 0.0 and _norm(b) == 0.0
    try:
        got = call(relative_error, a, b, name="relative_error")
    except CheckFailure as failure:
        if both_zero and failure.cause == RAISED:
            raise CheckFailure(
                failure.summary,
                list(failure.details) + ["both vectors are zero here: return 0.0 before dividing"],
            ) from None
        raise
    value = _as_scalar("relative_error", got, shown)
    if both_zero:
        if _isnan(value) or math.isinf(value):
            raise CheckFailure(
                f"relative_error returned {value} when both vectors are zero.",
                [
                    f"call     : {shown}",
                    "expected : 0.0",
                    f"got      : {value}",
                    "likely mistake : 0 / 0 - when both norms are zero, return 0.0",
                ],
            )
        check(
            "relative_error",
            value,
            0.0,
            call=shown,
            atol=1e-300,
            hint="two equal (zero) vectors have relative error 0.0",
        )
        return
    d, na, nb = _norm(a - b), _norm(a), _norm(b)
    expected = d / max(na, nb)
    variants = {
        k: v
        for k, v in _relative_error_variants(a, b).items()
        if math.isfinite(v) and abs(v - expected) > 1e-6 * max(abs(expected), 1e-300)
    }
    check(
        "relative_error",
        value,
        expected,
        call=shown,
        rtol=1e-9,
        mistakes=variants,
        hint="one number for the whole arrays: a norm over all entries, scaled by the larger norm",
    )


@exercise(LESSON, "Exercise 06.1 · Relative error", "relative_error")
def check_relative_error(relative_error: Callable[..., Any]) -> None:
    """Visible test of ``relative_error(a, b)``."""
    a = _array([3.0, -1.0, 2.0])
    b = _array([2.6, -1.5, 2.4])
    expect_relative_error(relative_error, a, b)
    expect_relative_error(relative_error, b, a)  # symmetric: the larger norm, whichever it is
    expect_relative_error(relative_error, 1e6 * a, 1e6 * b)  # scale-free
    expect_relative_error(relative_error, np.zeros(3), np.zeros(3))
    expect_relative_error(relative_error, np.zeros(2), _array([1.0, -2.0]))


# --------------------------------------------------------------------------- gradient_check


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(_norm(a), _norm(b))
    return _norm(a - b) / scale if scale else 0.0


def expect_gradient_check(
    gradient_check: Callable[..., Any],
    f: Callable[[np.ndarray], Any],
    grad_f: Callable[[np.ndarray], Any],
    x: Any,
    h: float | None = None,
) -> None:
    """Require ``gradient_check(f, grad_f, x[, h])`` to return the central-difference error.

    ``h=None`` calls the student's function without ``h``, so its default (1e-5) is used.
    """
    x = np.asarray(x)
    step = 1e-5 if h is None else h
    kwargs = {} if h is None else {"h": h}
    label = "gradient_check"
    shown = describe_call(label, f, grad_f, x, **kwargs)
    got = call(gradient_check, f, grad_f, x, name=label, **kwargs)
    value = _as_scalar(label, got, shown)

    xf = _array(x, dtype=_float64)
    analytic = _array(grad_f(xf.copy()), dtype=_float64).ravel()
    d = _differences(f, xf, step)
    expected = _rel(analytic, d["central"])
    mistakes = _gradient_check_mistakes(f, x, analytic, d, step, h)
    mistakes = {
        k: v
        for k, v in mistakes.items()
        if math.isfinite(v) and abs(v - expected) > 1e-4 * max(abs(expected), 1e-300)
    }
    if expected < _ROUNDING_FLOOR:
        _expect_in_the_noise(label, shown, value, expected, mistakes)
        return
    check(
        label,
        value,
        expected,
        call=shown,
        rtol=1e-6,
        mistakes=mistakes,
        hint=f"move one coordinate at a time by +h and -h (h = {step:g}) on a float copy of x, "
        "then compare the two whole vectors with your relative_error",
    )


def _gradient_check_mistakes(f, x, analytic, d, step, h) -> dict[str, float]:
    """What each typical mistake of a gradient check would return, most specific first."""
    mistakes: dict[str, float] = {}
    if np.issubdtype(x.dtype, np.integer):
        mistakes[
            "x holds integers, so x + h was truncated back to an integer: work on x.astype(float)"
        ] = _rel(analytic, _truncated_central(f, x, step))
    central = d["central"]
    error = _norm(analytic - central)
    mistakes.update(
        {
            "used a forward difference (f(x + h) - f(x)) / h: use (f(x + h) - f(x - h)) / (2h)": (
                _rel(analytic, d["forward"])
            ),
            "used a backward difference (f(x) - f(x - h)) / h: use (f(x + h) - f(x - h)) / (2h)": (
                _rel(analytic, d["backward"])
            ),
            "divided by h instead of 2h in the central difference": _rel(analytic, 2 * central),
            "this is the absolute error ||a - b||: divide by max(||a||, ||b||)": error,
            "divided by the norm of the analytic gradient only: divide by max(||a||, ||b||)": (
                error / _norm(analytic) if _norm(analytic) else math.inf
            ),
            "divided by the norm of the numerical gradient only: divide by max(||a||, ||b||)": (
                error / _norm(central) if _norm(central) else math.inf
            ),
            "checked only one coordinate (x[0]): loop over every coordinate of x": _rel(
                analytic[:1], central[:1]
            ),
        }
    )
    if h is not None and h != 1e-5:
        mistakes["ignored the h that was passed and used 1e-5: use the argument h"] = _rel(
            analytic, _differences(f, _array(x, dtype=_float64), 1e-5)["central"]
        )
    return mistakes


def _truncated_central(f, x: np.ndarray, step: float) -> np.ndarray:
    """The central difference a copy of an integer ``x`` gives: x +- h truncated to integers."""
    truncated = np.zeros(x.size)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            up[i] = x[i] + step
            down[i] = x[i] - step
        truncated[i] = (float(f(up)) - float(f(down))) / (2 * step)
    return truncated


def _expect_in_the_noise(label, shown, value, expected, mistakes) -> None:
    """Both values are rounding noise here: any value in the noise is right."""
    if 0.0 <= value < _ROUNDING_FLOOR:
        return
    details = [
        f"call           : {shown}",
        f"expected       : a value below {_ROUNDING_FLOOR:g} (the reference gives {expected:.2e})",
        f"got            : {value:.6g}",
    ]
    near = [
        k for k, v in mistakes.items() if v > 0 and value > 0 and abs(math.log10(v / value)) < 0.3
    ]
    if near:
        details.append(f"likely mistake : {near[0]}")
    raise CheckFailure(f"{label} gave a wrong value.", details)


def _wavy(x: np.ndarray) -> float:
    return float(np.sum(np.sin(x) * x**2))


def _wavy_grad(x: np.ndarray) -> np.ndarray:
    return 2 * x * np.sin(x) + x**2 * np.cos(x)


def _wavy_grad_one_wrong(x: np.ndarray) -> np.ndarray:
    g = _wavy_grad(x)
    g[2] *= 1.03  # a bug in the third coordinate only
    return g


def _scaled_wavy(x: np.ndarray) -> float:
    return 1e6 * _wavy(x)


def _scaled_wavy_grad(x: np.ndarray) -> np.ndarray:
    return 1e6 * _wavy_grad(x)


@exercise(LESSON, "Exercise 06.2 · The checker", "gradient_check")
def check_gradient_check(gradient_check: Callable[..., Any]) -> None:
    """Visible test of ``gradient_check(f, grad_f, x, h=1e-5)``."""
    x = _array([0.7, -1.2, 2.0, 0.3])
    # A large step makes the truncation error visible: central and forward disagree by 1000x.
    expect_gradient_check(gradient_check, _wavy, _wavy_grad, x, h=1e-2)
    # A wrong third coordinate, with the default step.
    expect_gradient_check(gradient_check, _wavy, _wavy_grad_one_wrong, x)
    # A loss a million times larger: the relative error must not notice.
    expect_gradient_check(gradient_check, _scaled_wavy, _scaled_wavy_grad, x, h=1e-2)


# --------------------------------------------------------------------------- the network


def network_loss(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    """mean((a2 - y)^2) of the 2-4-1 sigmoid network of the lesson (the reference)."""
    a1 = _sigmoid(X @ params["W1"] + params["b1"])
    a2 = _sigmoid(a1 @ params["W2"] + params["b2"])
    return float(np.mean((a2 - y) ** 2))


def reference_gradients(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray
) -> dict[str, np.ndarray]:
    """Central-difference gradients of :func:`network_loss`, parameter by parameter."""
    grads = {}
    for name in PARAMETER_NAMES:
        shape = params[name].shape

        def f(theta, name=name, shape=shape):
            trial = dict(params)
            trial[name] = np.asarray(theta, dtype=_float64).reshape(shape)
            return network_loss(trial, X, y)

        grads[name] = np.asarray(
            _reference_gradient(f, params[name].astype(_float64).ravel())
        ).reshape(shape)
    return grads


def _mistaken_gradients(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Per parameter, ``{mistake: gradient}`` for the planted bugs and common slips."""
    m = X.shape[0]
    z1 = X @ params["W1"] + params["b1"]
    a1 = _sigmoid(z1)
    a2 = _sigmoid(a1 @ params["W2"] + params["b2"])
    dz2 = 2.0 * (a2 - y) / m * a2 * (1 - a2)
    da1 = dz2 @ params["W2"].T
    dz1 = da1 * a1 * (1 - a1)
    right = {
        "W1": X.T @ dz1,
        "b1": dz1.sum(axis=0, keepdims=True),
        "W2": a1.T @ dz2,
        "b2": dz2.sum(axis=0, keepdims=True),
    }
    slips: dict[str, dict[str, np.ndarray]] = {name: {} for name in PARAMETER_NAMES}
    slips["W1"][
        "the hidden layer's sigma' is still missing: use dz1 = da1 * a1 * (1 - a1), not da1"
    ] = X.T @ da1
    slips["b1"]["the hidden layer's sigma' is missing: use dz1 = da1 * a1 * (1 - a1), not da1"] = (
        da1.sum(axis=0, keepdims=True)
    )
    slips["W2"]["divided by m twice: dz2 already holds the 1/m of the mean"] = a1.T @ dz2 / m
    slips["b2"]["took the bias gradient from the first sample only: sum dz2 over the batch"] = dz2[
        :1
    ]
    slips["b1"]["took the bias gradient from the first sample only: sum dz1 over the batch"] = dz1[
        :1
    ]
    for name in PARAMETER_NAMES:
        slips[name]["missing the factor 2 from the derivative of (a2 - y)^2"] = right[name] / 2
        slips[name]["missing the 1/m of the mean over the batch"] = right[name] * m
        slips[name]["has the opposite sign: the derivative of (a2 - y)^2 is 2 (a2 - y)"] = -right[
            name
        ]
    slips["b2"]["averaged dz2 over the batch: it already holds the 1/m, so sum it"] = dz2.mean(
        axis=0, keepdims=True
    )
    slips["b1"]["averaged dz1 over the batch: it already holds the 1/m, so sum it"] = dz1.mean(
        axis=0, keepdims=True
    )
    slips["W2"]["forgot the output layer's sigma' (a2 (1 - a2))"] = a1.T @ (2.0 * (a2 - y) / m)
    return slips


def expect_fixed_backward(
    fixed_backward: Callable[..., Any], params: dict[str, Any], X: Any, y: Any
) -> None:
    """Require ``fixed_backward(params, X, y)`` to return the gradients of mean((a2 - y)^2)."""
    params = {k: _array(v, dtype=_float64) for k, v in params.items()}
    X = _array(X, dtype=_float64)
    y = _array(y, dtype=_float64)
    given = copy.deepcopy(params)
    shown = f"fixed_backward(params, X, y) with X of shape {X.shape}, y of shape {y.shape}"
    got = call(fixed_backward, given, X, y, name="fixed_backward")
    if not isinstance(got, dict):
        raise CheckFailure(
            "fixed_backward must return a dict of gradients.",
            [
                f"call : {shown}",
                f"got  : {type(got).__name__}",
                'return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}',
            ],
        )
    missing = [k for k in PARAMETER_NAMES if k not in got]
    if missing:
        raise CheckFailure(
            "fixed_backward's dict lacks some gradients.",
            [
                f"call    : {shown}",
                f"missing : {', '.join(missing)}",
                f"got keys: {', '.join(map(str, got))}",
                "use the same keys as params: W1, b1, W2, b2",
            ],
        )
    expected = reference_gradients(params, X, y)
    slips = _mistaken_gradients(params, X, y)
    for name in PARAMETER_NAMES:
        check(
            f'fixed_backward(...)["{name}"]',
            got[name],
            expected[name],
            call=shown,
            rtol=1e-6,
            mistakes=slips[name],
            hint=f"compare {name} with a gradient check: which line of the backward pass feeds it?",
        )
    # A backward pass reads its parameters; it must not change them.
    changed = [
        k
        for k in PARAMETER_NAMES
        if not isinstance(given.get(k), np.ndarray) or not np.array_equal(given[k], params[k])
    ]
    if changed:
        raise CheckFailure(
            "fixed_backward modified params.",
            [
                f"changed : {', '.join(changed)}",
                "compute new arrays; do not update params in place",
            ],
        )


def lesson_network(seed: int = 6) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The parameters and XOR data the lesson's bug hunt starts from (the notebook's recipe)."""
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.uniform(-1, 1, (2, 4)),
        "b1": rng.uniform(-1, 1, (1, 4)),
        "W2": rng.uniform(-1, 1, (4, 1)),
        "b2": rng.uniform(-1, 1, (1, 1)),
    }
    X, y = xor_data()
    return params, X, y


@exercise(LESSON, "Exercise 06.4 · The fix", "fixed_backward")
def check_fixed_backward(fixed_backward: Callable[..., Any]) -> None:
    """Visible test of ``fixed_backward(params, X, y)``: the lesson's network and XOR data."""
    params, X, y = lesson_network()
    expect_fixed_backward(fixed_backward, params, X, y)


# --------------------------------------------------------------------------- bug hunt


@exercise(LESSON, "Exercise 06.3 · The bug hunt", "buggy_parameters")
def check_buggy_parameters(buggy_parameters: Any) -> None:
    """Visible test: ``buggy_parameters`` is a set of parameter names (which ones is hidden)."""
    if buggy_parameters is None:
        raise CheckFailure(
            "buggy_parameters is None.", ['set it to a set of names, e.g. {"W1", "b2"}']
        )
    if not isinstance(buggy_parameters, (set, frozenset)):
        raise CheckFailure(
            "buggy_parameters must be a set of strings.",
            [
                f"got {type(buggy_parameters).__name__}: {buggy_parameters!r}",
                'write it with braces, e.g. {"W1", "b2"} (a set: order does not matter)',
            ],
        )
    unknown = sorted(str(n) for n in buggy_parameters if n not in PARAMETER_NAMES)
    if unknown:
        raise CheckFailure(
            "buggy_parameters holds names that are not parameters.",
            [
                f"unknown : {', '.join(unknown)}",
                f"the parameters are {', '.join(PARAMETER_NAMES)} (case matters)",
            ],
        )
    if not buggy_parameters:
        raise CheckFailure(
            "buggy_parameters is empty.", ["the backward pass has three planted bugs"]
        )


def expect_buggy_parameters(buggy_parameters: Any, truth: set[str]) -> None:
    """Hidden test: the set must be exactly ``truth``; the message counts without naming."""
    check_buggy_parameters(buggy_parameters)
    extra = set(buggy_parameters) - truth
    missed = truth - set(buggy_parameters)
    if extra or missed:
        details = []
        if extra:
            details.append(
                f"{len(extra)} of the names you listed has a correct gradient (its check passes)"
            )
        if missed:
            details.append(f"{len(missed)} buggy parameter(s) missing from your set")
        details.append(
            "check each parameter on its own and list those whose relative error fails "
            f"(> {FAIL_ABOVE:g})"
        )
        raise CheckFailure(
            "buggy_parameters is not the set of parameters whose gradients are wrong.", details
        )


# --------------------------------------------------------------------------- worst coordinate


def expect_worst_coordinate(
    worst_coordinate: Callable[..., Any], f: Callable[..., Any], grad_f: Callable[..., Any], x: Any
) -> None:
    """Require ``worst_coordinate(f, grad_f, x)`` = argmax_i |grad_f(x)_i - numeric_i|, h = 1e-5."""
    x = _array(x, dtype=_float64)
    shown = describe_call("worst_coordinate", f, grad_f, x)
    got = call(worst_coordinate, f, grad_f, x, name="worst_coordinate")
    analytic = _array(grad_f(x.copy()), dtype=_float64)
    numeric = _differences(f, x, 1e-5)["central"]
    expected = int(np.argmax(np.abs(analytic - numeric)))
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        raise CheckFailure(
            "worst_coordinate must return an integer index.",
            [
                f"call : {shown}",
                f"got  : {type(got).__name__}: {got!r}",
                "return the index i of the coordinate (a Python int), not the difference itself",
            ],
        )
    if int(got) == expected:
        return
    guesses = {
        int(
            np.argmax(np.abs(analytic))
        ): "that is the largest analytic component, not the largest difference",
        int(
            np.argmax(np.abs(numeric))
        ): "that is the largest numerical component, not the largest difference",
        int(
            np.argmax(analytic - numeric)
        ): "took the largest signed difference: use its absolute value",
        int(
            np.argmin(np.abs(analytic - numeric))
        ): "that is the coordinate that agrees best (argmin, not argmax)",
    }
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        per_elem = np.abs(analytic - numeric) / np.where(scale > 0, scale, 1.0)
    guesses.setdefault(
        int(np.argmax(per_elem)),
        "that is the largest elementwise relative difference: the task asks for the absolute one",
    )
    details = [
        f"call     : {shown}",
        f"expected : {expected}",
        f"got      : {int(got)}",
        f"|analytic - numeric| : {np.abs(analytic - numeric)}",
    ]
    if int(got) in guesses and int(got) != expected:
        details.append(f"likely mistake : {guesses[int(got)]}")
    raise CheckFailure("worst_coordinate picked the wrong coordinate.", details)


def _bumpy(x: np.ndarray) -> float:
    return float(np.sum(np.cos(x) + 0.5 * x**3))


def _bumpy_grad_buggy(x: np.ndarray) -> np.ndarray:
    g = -np.sin(x) + 1.5 * x**2
    g[1] -= 0.4  # the largest absolute discrepancy, in a large component
    g[3] *= -1  # a sign error on a tiny component: large relative, small absolute
    return g


@exercise(LESSON, "Challenge 06 · Worst coordinate", "worst_coordinate")
def check_worst_coordinate(worst_coordinate: Callable[..., Any]) -> None:
    """Visible test of ``worst_coordinate(f, grad_f, x, h=1e-5)``."""
    expect_worst_coordinate(
        worst_coordinate, _bumpy, _bumpy_grad_buggy, _array([2.0, -1.5, 0.5, 0.01, 1.0])
    )


# --------------------------------------------------------------------------- quiz

QUIZ = (
    "q1_absolute_error_is_scale_free",
    "q2_forward_reports_larger_error",
    "q3_one_direction_needs_two_evaluations",
    "q4_kink_failure_proves_a_bug",
    "q5_float32_can_raise_false_alarms",
    "q6_per_parameter_checks_localise_bugs",
)


check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 06")


__all__ = [
    "LESSON",
    "PARAMETER_NAMES",
    "QUIZ",
    "check_buggy_parameters",
    "check_fixed_backward",
    "check_gradient_check",
    "check_quiz",
    "check_relative_error",
    "check_worst_coordinate",
    "expect_buggy_parameters",
    "expect_fixed_backward",
    "expect_gradient_check",
    "expect_relative_error",
    "expect_worst_coordinate",
    "lesson_network",
    "network_loss",
    "reference_gradients",
]
