"""Visible checks of Lesson 02 (the chain rule).

Each checker calls the student's answer on inputs chosen so that the typical wrong formulas
land far from the right one, and names the likely mistake when a wrong value matches one.
Symbolic answers are compared by equivalence (``sympy.simplify(got - expected) == 0``, then
numerically at a few points), never by their string: ``4*x*cos(2*x**2)`` and
``2*x*2*cos(2*x**2)`` are the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..checks import (
    CheckFailure,
    call,
    check,
    check_expression,
    describe_call,
    exercise,
    quiz_exercise,
)

LESSON = "02_chain_rule"

# Bound at import time, before student code can rebind them (see helpers.checks).
_exp = np.exp
_asarray = np.asarray
_array = np.array
_isinstance = isinstance


def _sigmoid(z: Any) -> Any:
    """The logistic function 1 / (1 + e^-z), written so that no |z| overflows."""
    z = _asarray(z, dtype=float)
    ez = _exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


def _x():
    import sympy

    return sympy.Symbol("x")


@exercise(LESSON, "Chain rule in SymPy: d/dx sin(2x^2)", "derivative_sin_2x2")
def check_derivative_sin_2x2(derivative_sin_2x2: Any) -> None:
    """d/dx sin(2x^2) = cos(2x^2) * 4x."""
    import sympy

    x = _x()
    check_expression(
        "derivative_sin_2x2",
        derivative_sin_2x2,
        4 * x * sympy.cos(2 * x**2),
        [x],
        mistakes={
            "forgot the inner derivative: d/dx (2x^2) = 4x multiplies cos(2x^2)": sympy.cos(
                2 * x**2
            ),
            "inner derivative 2x is that of x^2, not of 2x^2 (it is 4x)": 2
            * x
            * sympy.cos(2 * x**2),
            "outer derivative of sin is cos, not sin": 4 * x * sympy.sin(2 * x**2),
            "outer derivative of sin is +cos, not -cos": -4 * x * sympy.cos(2 * x**2),
            "differentiated the inside and then took cos of that: cos(4x) is not the chain rule": sympy.cos(
                4 * x
            ),
            "this is sin(2x^2) itself, not its derivative": sympy.sin(2 * x**2),
        },
    )


@exercise(LESSON, "Quotient rule as a chain rule: d/dx sin(x)/(1+x^2)", "derivative_quotient")
def check_derivative_quotient(derivative_quotient: Any) -> None:
    """d/dx [sin(x) (1+x^2)^-1] = cos(x)/(1+x^2) - 2x sin(x)/(1+x^2)^2."""
    import sympy

    x = _x()
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
            "the chain rule on (1+x^2)^-1 gives -(1+x^2)^-2 * 2x: the factor 2x is missing": sympy.cos(
                x
            )
            / v
            - u / v**2,
            "only the first term: the derivative of 1/(1+x^2) is missing": sympy.cos(x) / v,
        },
    )


# --------------------------------------------------------------------------- sigmoid derivative


def _with_array_hint(failure: CheckFailure) -> CheckFailure:
    if "TypeError" in failure.summary:
        return CheckFailure(
            failure.summary,
            list(failure.details)
            + ["likely mistake : math.exp takes one number; np.exp works on whole arrays"],
        )
    return failure


@exercise(LESSON, "Sigmoid derivative", "sigmoid_derivative")
def check_sigmoid_derivative(
    sigmoid_derivative: Callable[..., Any],
    points: Sequence[float] = (1.5, -2.0, 0.0),
    array: Sequence[float] = (-4.0, -1.0, 0.0, 0.5, 3.0),
) -> None:
    """sigma'(z) = sigma(z) (1 - sigma(z)), for single numbers and element-wise on arrays."""
    for z in list(points) + [_array(array, dtype=float)]:
        try:
            got = call(sigmoid_derivative, z)
        except CheckFailure as failure:
            raise _with_array_hint(failure) from None
        s = _sigmoid(z)
        zz = _asarray(z, dtype=float)
        check(
            "sigmoid_derivative",
            got,
            s * (1 - s),
            call=describe_call("sigmoid_derivative", z),
            rtol=1e-9,
            mistakes={
                "this is sigma(z), not its derivative sigma(z) * (1 - sigma(z))": s,
                "applied s * (1 - s) to z itself: use s = sigma(z) first": zz * (1 - zz),
                "1 - sigma(z)^2 is the pattern of tanh' (1 - tanh^2), not of sigma'": 1 - s**2,
                "e^-z / (1 + e^-z) = 1 - sigma(z): the denominator (1 + e^-z) must be squared": 1
                - s,
                "the sign is flipped: sigma'(z) is never negative": -s * (1 - s),
                "sigma(z) * (1 + sigma(z)): the factor is (1 - sigma(z))": s * (1 + s),
            },
            hint="sigma'(z) = sigma(z) * (1 - sigma(z)); it peaks at 0.25 when z = 0",
        )


# --------------------------------------------------------------------------- mini network


def _network_parts(x: float, w1: float, w2: float, y_true: float) -> dict[str, float]:
    z1 = w1 * x
    a1 = float(_sigmoid(z1))
    pred = w2 * a1
    dL_dpred = 2.0 * (pred - y_true)
    da1_dz1 = a1 * (1.0 - a1)
    return {
        "z1": z1,
        "a1": a1,
        "pred": pred,
        "dL_dpred": dL_dpred,
        "da1_dz1": da1_dz1,
        "dw1": dL_dpred * w2 * da1_dz1 * x,
        "dw2": dL_dpred * a1,
    }


def mini_network_reference(x: float, w1: float, w2: float, y_true: float) -> tuple[float, float]:
    """(dL/dw1, dL/dw2) for L = (w2 * sigma(w1 * x) - y_true)^2, by the chain rule."""
    p = _network_parts(x, w1, w2, y_true)
    return p["dw1"], p["dw2"]


def _as_pair(name: str, got: Any, shown: str) -> np.ndarray:
    if got is None:
        raise CheckFailure(
            f"{name} returned None.", [f"call : {shown}", "end with `return dL_dw1, dL_dw2`"]
        )
    if _isinstance(got, dict) or _isinstance(got, (str, bytes)):
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
            [
                f"call      : {shown}",
                f"got shape : {pair.shape}",
                "return the tuple (dL_dw1, dL_dw2)",
            ],
        )
    return pair


@exercise(LESSON, "Gradients of the mini network", "mini_network_gradients")
def check_mini_network_gradients(
    mini_network_gradients: Callable[..., Any],
    cases: Sequence[tuple[float, float, float, float]] = (
        (1.5, 0.8, -1.3, 0.5),
        (-0.6, 2.0, 0.7, -0.2),
    ),
) -> None:
    """Both gradients of L = (w2 sigma(w1 x) - y)^2, in the order (dL/dw1, dL/dw2)."""
    for x, w1, w2, y in cases:
        shown = describe_call("mini_network_gradients", x, w1, w2, y)
        got = _as_pair("mini_network_gradients", call(mini_network_gradients, x, w1, w2, y), shown)
        p = _network_parts(x, w1, w2, y)
        dw1, dw2 = p["dw1"], p["dw2"]
        check(
            "mini_network_gradients",
            got,
            _array([dw1, dw2]),
            call=shown,
            rtol=1e-9,
            mistakes={
                "returned (dL/dw2, dL/dw1): the order is (dL/dw1, dL/dw2)": [dw2, dw1],
                "forgot the factor x from dz1/dw1 in dL/dw1": [dw1 / x, dw2],
                "forgot the factor w2 from dpred/da1 on the way back to w1": [dw1 / w2, dw2],
                "used sigma(z1) where sigma'(z1) = sigma(z1)(1 - sigma(z1)) belongs in dL/dw1": [
                    p["dL_dpred"] * w2 * p["a1"] * x,
                    dw2,
                ],
                "forgot the factor 2 from d(pred - y)^2 / dpred": [dw1 / 2, dw2 / 2],
                "the sign is flipped: dL/dpred = 2 (pred - y_true), not 2 (y_true - pred)": [
                    -dw1,
                    -dw2,
                ],
                "used z1 = w1 x where a1 = sigma(z1) belongs in dL/dw2": [
                    dw1,
                    p["dL_dpred"] * p["z1"],
                ],
            },
            hint="multiply the local derivatives along the path: dL/dpred, dpred/da1 = w2, "
            "da1/dz1 = sigma'(z1), dz1/dw1 = x",
        )


@exercise(
    LESSON, "Gradients of the mini network by central differences", "numerical_network_gradients"
)
def check_numerical_network_gradients(
    numerical_network_gradients: Callable[..., Any],
    cases: Sequence[tuple[float, float, float, float, float | None]] = (
        (1.5, 0.8, -1.3, 0.5, None),
        (1.5, 0.8, -1.3, 0.5, 1e-2),
    ),
) -> None:
    """Central differences of the loss in w1 and in w2, with the step h given (default 1e-5)."""
    for x, w1, w2, y, h in cases:
        kwargs = {} if h is None else {"h": h}
        step = 1e-5 if h is None else h
        shown = describe_call("numerical_network_gradients", x, w1, w2, y, **kwargs)
        got = _as_pair(
            "numerical_network_gradients",
            call(numerical_network_gradients, x, w1, w2, y, **kwargs),
            shown,
        )

        def loss(a: float, b: float, x: float = x, y: float = y) -> float:
            return (b * float(_sigmoid(a * x)) - y) ** 2

        L0 = loss(w1, w2)
        central = [
            (loss(w1 + step, w2) - loss(w1 - step, w2)) / (2 * step),
            (loss(w1, w2 + step) - loss(w1, w2 - step)) / (2 * step),
        ]
        forward = [(loss(w1 + step, w2) - L0) / step, (loss(w1, w2 + step) - L0) / step]
        exact = list(mini_network_reference(x, w1, w2, y))
        mistakes = {
            "this is a forward difference (f(w + h) - f(w)) / h; use (f(w + h) - f(w - h)) / (2h)": forward,
            "divided by h instead of 2h": [2 * c for c in central],
        }
        if h is not None:
            mistakes["the step h passed in was not used"] = exact
        check(
            "numerical_network_gradients",
            got,
            _array(central),
            call=shown,
            rtol=1e-7,
            mistakes=mistakes,
        )


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


@exercise(LESSON, "Backward pass through a chain of sigmoids", "chain_gradients")
def check_chain_gradients(
    chain_gradients: Callable[..., Any],
    cases: Sequence[tuple[float, Sequence[float]]] = (
        (0.8, (1.5, -2.0, 0.7)),
        (-1.2, (0.9, 2.5, -1.1, 1.8)),
    ),
) -> None:
    """The gradient of the chain's output with respect to every weight, as an array of n."""
    for x, weights in cases:
        w = _array(weights, dtype=float)
        shown = describe_call("chain_gradients", x, w)
        got = call(chain_gradients, x, w)
        parts = _chain_parts(x, w)
        grad = parts["grad"]
        check(
            "chain_gradients",
            got,
            grad,
            call=shown,
            rtol=1e-9,
            mistakes={
                "the order is reversed: entry k belongs to weight w_(k+1), the first layer first": grad[
                    ::-1
                ],
                "forgot the factor a_(k-1) (dz_k/dw_k is the layer's input)": parts["no_input"],
                "forgot the factor w_k when passing the gradient back to a_(k-1)": parts[
                    "no_weight"
                ],
            },
            hint="go backwards: grad_k = upstream * sigma'(z_k) * a_(k-1), then "
            "upstream *= sigma'(z_k) * w_k",
        )


# --------------------------------------------------------------------------- quiz


# The quiz's answer names, in order (the notebook defines them; progress() looks them up).
QUIZ = (
    "q1_derivative_of_sin_x2_is_cos_x2",
    "q2_sigmoid_slope_at_most_a_quarter",
    "q3_backprop_uses_finite_differences",
    "q4_simplify_decides_equivalence",
)


check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz answers are True/False")
