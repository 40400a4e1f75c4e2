"""Checks for Lesson 02, the chain rule.

Per exercise, ``expect_<name>(student, *inputs)`` checks one input (hidden tests call these
with inputs of their own) and ``check_<name>(student)`` is the visible test, a few ``expect_``
calls registered for :func:`helpers.progress`. Inputs are chosen so that the typical wrong
formulas land far from the right one, and the likely mistake is named when a wrong value
matches one. Symbolic answers are compared by equivalence (:mod:`.symbolic`), never by their
string. Expected values come from the textbook formulas here, never from student code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..checks import (
    CheckFailure,
    call,
    check,
    describe_call,
    exercise,
    quiz_exercise,
    require_returned,
)
from ..mlp import sigmoid as _sigmoid
from .evidence import distinct, low_precision, require_array
from .symbolic import check_expression, symbol_x

LESSON = "02_chain_rule"

# Bound at import time, before student code can rebind them (see helpers.checks).
_asarray = np.asarray
_array = np.array
_isinstance = isinstance
_tanh = math.tanh
_sin = math.sin
_cos = math.cos


# --------------------------------------------------------------------------- symbolic answers


def expect_derivative_exp_sin(derivative_exp_sin: Any) -> None:
    """Require a SymPy expression equivalent to d/dx e^(sin 3x) = 3 cos(3x) e^(sin 3x)."""
    import sympy

    x = symbol_x()
    outer = sympy.exp(sympy.sin(3 * x))
    check_expression(
        "derivative_exp_sin",
        derivative_exp_sin,
        3 * sympy.cos(3 * x) * outer,
        [x],
        mistakes={
            "forgot the innermost factor: d/dx (3x) = 3": sympy.cos(3 * x) * outer,
            "forgot the middle factor: d/dx sin(3x) = 3 cos(3x) multiplies e^(sin 3x)": 3 * outer,
            "this is e^(sin 3x) itself, not its derivative": outer,
            "the outer function e^u keeps its inside: e^(sin 3x), not e^(cos 3x)": 3
            * sympy.cos(3 * x)
            * sympy.exp(sympy.cos(3 * x)),
            "the derivative of sin is +cos": -3 * sympy.cos(3 * x) * outer,
        },
    )


@exercise(LESSON, "Exercise 02.1 · The chain rule in SymPy", "derivative_exp_sin")
def check_derivative_exp_sin(derivative_exp_sin: Any) -> None:
    """Visible test of ``derivative_exp_sin``."""
    expect_derivative_exp_sin(derivative_exp_sin)


def expect_derivative_quotient(derivative_quotient: Any) -> None:
    """Require d/dx [sin(x) (1+x^2)^-1] = cos(x)/(1+x^2) - 2x sin(x)/(1+x^2)^2."""
    import sympy

    x = symbol_x()
    u, v = sympy.sin(x), 1 + x**2
    check_expression(
        "derivative_quotient",
        derivative_quotient,
        sympy.cos(x) / v - 2 * x * u / v**2,
        [x],
        mistakes={
            "divided the derivatives (u'/v'): the quotient rule is (u'v - uv')/v^2": sympy.cos(x)
            / (2 * x),
            "the denominator must be squared: (u'v - uv')/v^2": (sympy.cos(x) * v - 2 * x * u) / v,
            "the numerator's sign is flipped: it is u'v - uv', not uv' - u'v": (
                2 * x * u - sympy.cos(x) * v
            )
            / v**2,
            "the chain rule on (1+x^2)^-1 also needs the inner derivative 2x": sympy.cos(x) / v
            - u / v**2,
            "only the first term: the derivative of 1/(1+x^2) is missing": sympy.cos(x) / v,
        },
    )


@exercise(LESSON, "Exercise 02.3 · The quotient rule as a chain rule", "derivative_quotient")
def check_derivative_quotient(derivative_quotient: Any) -> None:
    """Visible test of ``derivative_quotient``."""
    expect_derivative_quotient(derivative_quotient)


# --------------------------------------------------------------------------- sigmoid derivative


def _with_array_hint(failure: CheckFailure) -> CheckFailure:
    if failure.error == "TypeError":
        return CheckFailure(
            failure.summary,
            list(failure.details)
            + ["likely mistake : math.exp takes one number; np.exp works on whole arrays"],
        )
    return failure


def expect_sigmoid_derivative(sigmoid_derivative: Callable[..., Any], z: Any) -> None:
    """Require ``sigmoid_derivative(z) == sigma(z) (1 - sigma(z))``, element-wise for arrays.

    For an array ``z`` the answer must be a NumPy array of the shape of ``z``; for a number, a
    number (a 0-d array or NumPy scalar is fine).
    """
    z = _array(z, dtype=float) if not _isinstance(z, (int, float)) else z
    shown = describe_call("sigmoid_derivative", z)
    try:
        got = call(sigmoid_derivative, z)
    except CheckFailure as failure:
        raise _with_array_hint(failure) from None
    if _isinstance(z, np.ndarray):
        require_array(
            "sigmoid_derivative",
            got,
            shown,
            f"for an array z of shape {z.shape}, return an array of that shape",
        )
    s = _sigmoid(z)
    zz = _asarray(z, dtype=float)
    check(
        "sigmoid_derivative",
        got,
        s * (1 - s),
        call=shown,
        rtol=1e-9,
        mistakes={
            "this is sigma(z), not its derivative": s,
            "applied s * (1 - s) to z itself: compute s = sigma(z) first": zz * (1 - zz),
            "1 - sigma(z)^2 is the pattern of tanh' (1 - tanh^2), not of sigma'": 1 - s**2,
            "e^-z / (1 + e^-z) = 1 - sigma(z): the denominator must be squared": 1 - s,
            "the sign is flipped: sigma'(z) is never negative": -s * (1 - s),
            "sigma(z) * (1 + sigma(z)): the factor is (1 - sigma(z))": s * (1 + s),
        },
        hint=low_precision(got)
        or "write sigma' in terms of sigma itself; it peaks at 0.25 when z = 0",
    )


@exercise(LESSON, "Exercise 02.2 · The sigmoid's derivative", "sigmoid_derivative")
def check_sigmoid_derivative(sigmoid_derivative: Callable[..., Any]) -> None:
    """Visible test: single numbers and a vector, element-wise.

    The hidden test adds a matrix: it guards against an answer fitted to these vectors (a loop
    over a vector's entries), the course demo's example of a mistake only a hidden check finds.
    """
    for z in (1.5, -2.0, 0.0, [-4.0, -1.0, 0.0, 0.5, 3.0]):
        expect_sigmoid_derivative(sigmoid_derivative, z)


# --------------------------------------------------------------------------- tanh network


def _as_pair(name: str, got: Any, shown: str) -> np.ndarray:
    require_returned(name, got, shown, "end with `return dL_dw1, dL_dw2`")
    if _isinstance(got, (dict, str, bytes)):
        raise CheckFailure(
            f"{name} returned a {type(got).__name__}.",
            [f"call : {shown}", "return the tuple (dL_dw1, dL_dw2)"],
        )
    try:
        pair = _array(got, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"{name} must return two numbers.", [f"call : {shown}", f"got  : {got!r}"[:300]]
        ) from None
    if pair.shape != (2,):
        raise CheckFailure(
            f"{name} must return two numbers (dL/dw1, dL/dw2).",
            [f"call      : {shown}", f"got shape : {pair.shape}"],
        )
    return pair


def _tanh_parts(x: float, w1: float, w2: float, y_true: float) -> dict[str, float]:
    a1 = _tanh(w1 * x)
    dL_dpred = 2.0 * (w2 * a1 - y_true)
    return {
        "z1": w1 * x,
        "a1": a1,
        "s1": float(_sigmoid(w1 * x)),
        "dL_dpred": dL_dpred,
        "dw1": dL_dpred * w2 * (1.0 - a1 * a1) * x,
        "dw2": dL_dpred * a1,
    }


def tanh_network_reference(x: float, w1: float, w2: float, y_true: float) -> tuple[float, float]:
    """(dL/dw1, dL/dw2) for L = (w2 tanh(w1 x) - y_true)^2, by the chain rule."""
    p = _tanh_parts(x, w1, w2, y_true)
    return p["dw1"], p["dw2"]


def expect_tanh_network_gradients(
    tanh_network_gradients: Callable[..., Any], x: float, w1: float, w2: float, y_true: float
) -> None:
    """Require both gradients of L = (w2 tanh(w1 x) - y)^2, in the order (dL/dw1, dL/dw2)."""
    shown = describe_call("tanh_network_gradients", x, w1, w2, y_true)
    got = _as_pair("tanh_network_gradients", call(tanh_network_gradients, x, w1, w2, y_true), shown)
    p = _tanh_parts(x, w1, w2, y_true)
    dw1, dw2 = p["dw1"], p["dw2"]
    expected = _array([dw1, dw2])
    check(
        "tanh_network_gradients",
        got,
        expected,
        call=shown,
        rtol=1e-9,
        mistakes=distinct(
            {
                "returned (dL/dw2, dL/dw1): the order is (dL/dw1, dL/dw2)": [dw2, dw1],
                "forgot the factor x from dz1/dw1 in dL/dw1": [dw1 / x, dw2],
                "forgot the factor w2 on the way back to w1": [dw1 / w2, dw2],
                "used the sigmoid's derivative a(1 - a): tanh' = 1 - tanh^2": [
                    p["dL_dpred"] * w2 * p["a1"] * (1 - p["a1"]) * x,
                    dw2,
                ],
                "used tanh(z1) where tanh'(z1) = 1 - tanh(z1)^2 belongs in dL/dw1": [
                    p["dL_dpred"] * w2 * p["a1"] * x,
                    dw2,
                ],
                "kept the sigmoid's derivative sigma(z1)(1 - sigma(z1)): with tanh in place of "
                "the sigmoid, the local derivative is tanh'(z1) = 1 - tanh(z1)^2": [
                    p["dL_dpred"] * w2 * p["s1"] * (1 - p["s1"]) * x,
                    dw2,
                ],
                "forgot the square: tanh'(z1) = 1 - tanh(z1)^2, not 1 - tanh(z1)": [
                    p["dL_dpred"] * w2 * (1 - p["a1"]) * x,
                    dw2,
                ],
                "took tanh' at x: the unit's input is z1 = w1 x, so use 1 - tanh(w1 x)^2": [
                    p["dL_dpred"] * w2 * (1 - _tanh(x) ** 2) * x,
                    dw2,
                ],
                "forgot the factor 2 from d(pred - y)^2 / dpred": [dw1 / 2, dw2 / 2],
                "the sign is flipped: dL/dpred = 2 (pred - y_true)": [-dw1, -dw2],
            },
            expected,
            1e-9,
            got,
        ),
        hint="multiply the local derivatives along each weight's path back from the loss",
    )


@exercise(LESSON, "Exercise 02.4 · Gradients of a tanh unit", "tanh_network_gradients")
def check_tanh_network_gradients(tanh_network_gradients: Callable[..., Any]) -> None:
    """Visible test of ``tanh_network_gradients(x, w1, w2, y_true)``."""
    expect_tanh_network_gradients(tanh_network_gradients, 1.5, 0.8, -1.3, 0.5)
    expect_tanh_network_gradients(tanh_network_gradients, -0.6, 0.4, 0.7, -0.2)


def expect_numerical_tanh_gradients(
    numerical_tanh_gradients: Callable[..., Any],
    x: float,
    w1: float,
    w2: float,
    y_true: float,
    h: float | None = None,
) -> None:
    """Require central differences of the tanh unit's loss in w1 and in w2 with step h.

    ``h=None`` calls the function without ``h`` so that its default 1e-5 is used.
    """
    kwargs = {} if h is None else {"h": h}
    step = 1e-5 if h is None else h
    shown = describe_call("numerical_tanh_gradients", x, w1, w2, y_true, **kwargs)
    got = _as_pair(
        "numerical_tanh_gradients",
        call(numerical_tanh_gradients, x, w1, w2, y_true, **kwargs),
        shown,
    )

    def loss(a: float, b: float) -> float:
        return (b * _tanh(a * x) - y_true) ** 2

    L0 = loss(w1, w2)
    central = [
        (loss(w1 + step, w2) - loss(w1 - step, w2)) / (2 * step),
        (loss(w1, w2 + step) - loss(w1, w2 - step)) / (2 * step),
    ]
    forward = [(loss(w1 + step, w2) - L0) / step, (loss(w1, w2 + step) - L0) / step]

    def central_with(other: float) -> list[float]:
        return [
            (loss(w1 + other, w2) - loss(w1 - other, w2)) / (2 * other),
            (loss(w1, w2 + other) - loss(w1, w2 - other)) / (2 * other),
        ]

    mistakes = {
        "this is a forward difference; step to both sides of each weight": forward,
        "divided by h instead of 2h": [2 * c for c in central],
    }
    if h is not None:
        mistakes["the step h passed in was not used"] = list(
            tanh_network_reference(x, w1, w2, y_true)
        )
    else:
        for other in (1e-4, 1e-3, 1e-2):
            mistakes[
                f"these are central differences with h = {other:g}: the default step is "
                "h=1e-5, as in the signature"
            ] = central_with(other)
    hint = "nudge one weight at a time by +h and -h, the other held fixed"
    if h is None:
        hint += "; called without h, the step is the default h=1e-5"
    check(
        "numerical_tanh_gradients",
        got,
        _array(central),
        call=shown,
        rtol=1e-7,
        mistakes=distinct(mistakes, _array(central), 1e-7, got),
        hint=hint,
    )


@exercise(LESSON, "Challenge 02 · The tanh unit by central differences", "numerical_tanh_gradients")
def check_numerical_tanh_gradients(numerical_tanh_gradients: Callable[..., Any]) -> None:
    """Visible test of ``numerical_tanh_gradients(x, w1, w2, y_true, h=1e-5)``."""
    expect_numerical_tanh_gradients(numerical_tanh_gradients, 1.5, 0.8, -1.3, 0.5)
    expect_numerical_tanh_gradients(numerical_tanh_gradients, 1.5, 0.8, -1.3, 0.5, 1e-2)
    # A large input bends the loss fast in w1: only the default step 1e-5 gives these to 1e-7.
    expect_numerical_tanh_gradients(numerical_tanh_gradients, 12.0, 0.05, -1.7, 0.4)


# --------------------------------------------------------------------------- a value used twice


def _fork_parts(x: float) -> dict[str, float]:
    u = 3.0 * x - 1.0
    via_square = 2.0 * u * _sin(u)  # df/dp * dp/du with f = p q, p = u^2, q = sin u
    via_sine = u * u * _cos(u)  # df/dq * dq/du
    return {"u": u, "via_square": via_square, "via_sine": via_sine}


def expect_fork_gradient(fork_gradient: Callable[..., Any], x: float) -> None:
    """Require ``fork_gradient(x)`` = df/dx for u = 3x - 1, f = u^2 sin(u): both paths added."""
    shown = describe_call("fork_gradient", x)
    got = require_returned("fork_gradient", call(fork_gradient, x, name="fork_gradient"), shown)
    p = _fork_parts(x)
    a, b = p["via_square"], p["via_sine"]
    check(
        "fork_gradient",
        got,
        3.0 * (a + b),
        call=shown,
        rtol=1e-9,
        mistakes=distinct(
            {
                "only the path through p = u^2: the path through q = sin(u) adds to it": 3.0 * a,
                "only the path through q = sin(u): the path through p = u^2 adds to it": 3.0 * b,
                "forgot du/dx = 3": a + b,
                "multiplied the two paths' contributions: where a value fans out, they add": 3.0
                * a
                * b,
            },
            3.0 * (a + b),
            1e-9,
            got,
        ),
        hint="u feeds two nodes: add the contribution of each path to df/du, then use du/dx",
    )


@exercise(LESSON, "Exercise 02.5 · A value used twice", "fork_gradient")
def check_fork_gradient(fork_gradient: Callable[..., Any]) -> None:
    """Visible test of ``fork_gradient(x)``."""
    expect_fork_gradient(fork_gradient, 0.9)
    expect_fork_gradient(fork_gradient, -0.4)


# --------------------------------------------------------------------------- deep chain


def chain_forward(x: float, weights: Sequence[float]) -> list[float]:
    """Activations a_0 = x, a_k = sigma(w_k a_(k-1)) for k = 1..n."""
    a = [float(x)]
    for w in weights:
        a.append(float(_sigmoid(w * a[-1])))
    return a


def _chain_parts(x: float, weights: Sequence[float]) -> dict[str, np.ndarray]:
    a = chain_forward(x, weights)
    n = len(weights)
    grad = np.zeros(n)
    no_input = np.zeros(n)
    no_weight = np.zeros(n)
    upstream = 1.0  # d a_n / d a_n
    up_nw = 1.0
    for k in range(n, 0, -1):
        local = a[k] * (1.0 - a[k])  # sigma'(z_k) from the stored activation
        grad[k - 1] = upstream * local * a[k - 1]
        no_input[k - 1] = upstream * local
        no_weight[k - 1] = up_nw * a[k] * (1.0 - a[k]) * a[k - 1]
        upstream *= local * weights[k - 1]
        up_nw *= a[k] * (1.0 - a[k])
    return {"grad": grad, "no_input": no_input, "no_weight": no_weight}


def chain_gradients_reference(x: float, weights: Sequence[float]) -> np.ndarray:
    """d a_n / d w_k for the chain a_k = sigma(w_k a_(k-1)), by one backward pass."""
    return _chain_parts(x, weights)["grad"]


def expect_chain_gradients(
    chain_gradients: Callable[..., Any], x: float, weights: Sequence[float]
) -> None:
    """Require d a_n / d w_k for every weight of the chain, as an array of n, first layer first."""
    w = _array(weights, dtype=float)
    shown = describe_call("chain_gradients", x, w)
    got = call(chain_gradients, x, w)
    require_returned("chain_gradients", got, shown)
    require_array("chain_gradients", got, shown, f"return the {w.size} gradients as one array")
    parts = _chain_parts(x, w)
    grad = parts["grad"]
    check(
        "chain_gradients",
        got,
        grad,
        call=shown,
        rtol=1e-9,
        mistakes=distinct(
            {
                "the order is reversed: entry k belongs to weight w_(k+1), the first layer "
                "first": grad[::-1],
                "forgot the factor a_(k-1) (dz_k/dw_k is the layer's input)": parts["no_input"],
                "forgot the factor w_k when passing the gradient back to a_(k-1)": parts[
                    "no_weight"
                ],
            },
            grad,
            1e-9,
            got,
        ),
        hint="go backwards, carrying the upstream gradient d a_n / d a_k from layer to layer",
    )


@exercise(LESSON, "Exercise 02.6 · A backward pass through a chain", "chain_gradients")
def check_chain_gradients(chain_gradients: Callable[..., Any]) -> None:
    """Visible test of ``chain_gradients(x, weights)``."""
    expect_chain_gradients(chain_gradients, 0.8, (1.5, -2.0, 0.7))
    expect_chain_gradients(chain_gradients, -1.2, (0.9, 2.5, -1.1, 1.8))


# --------------------------------------------------------------------------- quiz


# The quiz's answer names, in order (the notebook defines them; progress() looks them up).
QUIZ = (
    "q1_outer_derivative_alone_suffices",
    "q2_sigmoid_slope_peaks_at_zero",
    "q3_fanout_contributions_add",
    "q4_different_text_different_derivative",
)


check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 02")
