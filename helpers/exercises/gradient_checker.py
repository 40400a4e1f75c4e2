"""Checks for Lesson 06, the mini-project "a gradient checker".

Each ``check_*`` function is the visible test of one exercise (registered for
:func:`helpers.progress`); each ``expect_*`` function compares a student's answer on one given
input with the reference and names the likely mistake. The hidden tests of the lesson call the
``expect_*`` functions with inputs of their own.

The exercises: ``direction_check`` (the references are :func:`helpers.gradcheck.direction_check`
and :func:`helpers.gradcheck.locate`, written out again here from numpy only), ``locate``, the bug
hunt ``buggy_parameters``, ``fixed_backward`` and the challenge ``worst_coordinate``. Expected
values are computed here, never from the student's code. Every formula a student might confuse
with the asked-for one is computed too, so that a wrong value is named: "the direction is not a
unit vector", "used a forward difference", "only the first sample's bias gradient". What values
alone miss is counted: the evaluations of ``f`` (a checker function that counts its calls), the
state of the ``rng`` after the call, the keys and their order, the inputs left unmodified.
"""

from __future__ import annotations

import copy
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


# --------------------------------------------------------------------------- shared pieces


def _rel(a: Any, b: Any) -> float:
    """The normwise relative error of the lesson, 0 when both are zero (textbook formula)."""
    a = _array(a, dtype=_float64)
    b = _array(b, dtype=_float64)
    scale = max(_norm(a), _norm(b))
    return _norm(a - b) / scale if scale else 0.0


class _Counted:
    """``f`` as the student's code receives it: it counts its evaluations.

    The function and the count are private (``calls`` only reads it): the student's code can
    neither evaluate ``f`` behind the counter nor set the count (the batch grader refuses
    private names and undeclared writes on its objects).
    """

    def __init__(self, f: Callable[[np.ndarray], Any]):
        self._f = f
        self._calls = 0
        self.__name__ = getattr(f, "__name__", "f")

    @property
    def calls(self) -> int:
        return self._calls

    def __call__(self, x: Any) -> float:
        self._calls += 1
        return float(self._f(_array(x, dtype=_float64)))


def _call_student(fn: Callable[..., Any], *args: Any, name: str, **kwargs: Any) -> Any:
    """:func:`helpers.checks.call`, with a word on in-place steps that were undone."""
    try:
        return call(fn, *args, name=name, **kwargs)
    except CheckFailure as failure:
        if "modified its input array" not in failure.summary:
            raise
        raise CheckFailure(
            failure.summary,
            list(failure.details)
            + [
                "even a change in the last digit counts: x + h*u - h*u is not always x in "
                "floating point, so step on new arrays (x + h * u) instead of moving x and back"
            ],
        ) from None


def _is_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) and not isinstance(value, bool)


def _require_float(name: str, got: Any, shown: str) -> float:
    """``got`` as a float, or a CheckFailure that says what came back instead."""
    require_returned(name, got, shown)
    if _is_float(got):
        return float(got)
    try:
        arr = _array(got, dtype=_float64)
    except (TypeError, ValueError):
        arr = None
    what = type(got).__name__ if arr is None or arr.ndim == 0 else f"an array of shape {arr.shape}"
    advice = (
        "return the relative error as a float, e.g. float(...)"
        if arr is not None and arr.size == 1
        else "return one relative error (a float), not a vector"
    )
    raise CheckFailure(
        f"{name} must return a float.", [f"call : {shown}", f"got  : {what}", advice]
    )


def _in_the_noise(value: float, expected: float) -> bool:
    """Both values are rounding noise: any value in the noise is right."""
    return expected < _ROUNDING_FLOOR and 0.0 <= value < _ROUNDING_FLOOR


def _both_zero_failure(name: str, shown: str, value: float) -> CheckFailure:
    return CheckFailure(
        f"{name} returned {value} where both derivatives are zero.",
        [
            f"call           : {shown}",
            "expected       : 0.0",
            f"got            : {value}",
            "likely mistake : 0 / 0 - the relative error of two zeros is 0 (helpers'"
            " relative_error returns it)",
        ],
    )


def _judge_relative_error(name: str, value: float, values: dict, shown: str, hint: str) -> None:
    """``value`` against the reference ``values[""]``; the other entries of ``values`` are the
    typical mistakes' results, named when ``value`` matches one of them."""
    values = dict(values)
    expected = values.pop("")
    if expected == 0.0 and not math.isfinite(value):
        raise _both_zero_failure(name, shown, value)
    if _in_the_noise(value, expected):
        return
    mistakes = {
        k: w
        for k, w in values.items()
        if math.isfinite(w) and abs(w - expected) > 1e-4 * max(abs(expected), _ROUNDING_FLOOR)
    }
    check(
        name,
        value,
        expected,
        call=shown,
        rtol=1e-6,
        atol=_ROUNDING_FLOOR,
        mistakes=mistakes,
        hint=hint,
    )


def _fmt_name(fn: Any) -> str:
    return getattr(fn, "__name__", "f")


def _fmt_point(x: np.ndarray) -> str:
    return np.array2string(x, precision=4, separator=", ", threshold=12, edgeitems=3)


# --------------------------------------------------------------------------- direction_check


def _unit(v: np.ndarray) -> np.ndarray:
    return v / _norm(v)


def _direction_values(f, grad_f, x: np.ndarray, seed: int, step: float) -> dict[str, float]:
    """The asked-for relative error (key "") and what typical mistakes return instead."""
    v = np.random.default_rng(seed).standard_normal(x.shape)
    g = _array(grad_f(x.copy()), dtype=_float64)
    f0 = float(f(x.copy()))

    def along(u, h=step, scheme="central"):
        up, down = float(f(x + h * u)), float(f(x - h * u))
        if scheme == "forward":
            return (up - f0) / h
        if scheme == "backward":
            return (f0 - down) / h
        return (up - down) / (2 * h)

    u = _unit(v)
    slope, numeric = float(g @ u), along(u)
    values = {
        "": _rel(slope, numeric),
        "the direction is not a unit vector: divide v by its norm ||v|| (np.linalg.norm(v))": (
            _rel(float(g @ v), along(v))
        ),
        "divided v by ||v||**2: a unit vector is v / ||v||": _rel(
            float(g @ (v / _norm(v) ** 2)), along(v / _norm(v) ** 2)
        ),
        "divided v by the sum of |v_i|: a unit vector is v / ||v|| (the Euclidean norm)": _rel(
            float(g @ (v / float(np.add.reduce(np.abs(v))))),
            along(v / float(np.add.reduce(np.abs(v)))),
        ),
        "used a forward difference (f(x + h u) - f(x)) / h: use (f(x + h u) - f(x - h u)) / (2h)": (
            _rel(slope, along(u, scheme="forward"))
        ),
        "used a backward difference (f(x) - f(x - h u)) / h: use (f(x + h u) - f(x - h u))"
        " / (2h)": _rel(slope, along(u, scheme="backward")),
        "divided by h instead of 2h in the central difference": _rel(slope, 2 * numeric),
        "this is the absolute error |a - b|: divide by max(|a|, |b|) (relative_error)": abs(
            slope - numeric
        ),
    }
    uniform = "drew v uniformly (rng.random or rng.uniform): use rng.standard_normal(x.shape)"
    for k, draw in enumerate(("random", "uniform")):
        generator = np.random.default_rng(seed)
        w = _unit(
            generator.random(x.shape) if draw == "random" else generator.uniform(-1, 1, x.shape)
        )
        values[uniform + " " * k] = _rel(float(g @ w), along(w))
    if step != 1e-5:
        values["ignored the h that was passed and used 1e-5: use the argument h"] = _rel(
            slope, along(u, h=1e-5)
        )
    return values


class _SeededRng(np.random.Generator):
    """``np.random.default_rng(seed)``, shown as that call in messages (not by its address)."""

    def __init__(self, seed: int):
        super().__init__(np.random.PCG64(seed))
        self.seed = seed

    def __repr__(self) -> str:
        return f"np.random.default_rng({self.seed})"


def _rng_problem(rng: np.random.Generator, seed: int, shape: tuple) -> str | None:
    """What the student's code did to ``rng``, when it is not one standard_normal(shape) draw."""
    state = rng.bit_generator.state
    reference = np.random.default_rng(seed)
    untouched = reference.bit_generator.state
    reference.standard_normal(shape)
    if state == reference.bit_generator.state:
        return None
    if state == untouched:
        return (
            "rng was not used: draw the direction from the rng you are given, "
            "v = rng.standard_normal(x.shape) (not np.random, not a new generator)"
        )
    reference.standard_normal(shape)
    if state == reference.bit_generator.state:
        return "rng drew twice: draw v once, v = rng.standard_normal(x.shape), and reuse it"
    return (
        "rng was used for something else than one rng.standard_normal(x.shape) draw "
        "(another distribution, another size, or more draws)"
    )


def expect_direction_check(
    direction_check: Callable[..., Any],
    f: Callable[[np.ndarray], Any],
    grad_f: Callable[[np.ndarray], Any],
    x: Any,
    seed: int,
    h: float | None = None,
) -> None:
    """Require ``direction_check(f, grad_f, x, rng, [h])`` with ``rng = default_rng(seed)``.

    The value is the relative error between ``grad_f(x) @ u`` and the central difference of
    ``f`` along ``u = v / ||v||``, ``v = rng.standard_normal(x.shape)``; ``h=None`` calls the
    student's function without ``h`` (its default, 1e-5, is used). Also required: a float,
    exactly two evaluations of ``f``, ``rng`` advanced by exactly that one draw, ``x``
    unmodified (:func:`helpers.checks.call`).
    """
    x = _array(x, dtype=_float64)
    step = 1e-5 if h is None else h
    kwargs = {} if h is None else {"h": h}
    label = "direction_check"
    rng = _SeededRng(seed)
    counted = _Counted(f)
    shown = (
        f"direction_check({_fmt_name(f)}, {_fmt_name(grad_f)}, x, np.random.default_rng({seed})"
        f"{', h=' + repr(h) if kwargs else ''}) with x = {_fmt_point(x)}"
    )
    got = _call_student(direction_check, counted, grad_f, x, rng, name=label, **kwargs)
    value = _require_float(label, got, shown)
    problem = _rng_problem(rng, seed, x.shape)
    if problem:
        raise CheckFailure(
            f"{label} did not draw its direction as asked.",
            [f"call           : {shown}", f"likely mistake : {problem}"],
        )
    if counted.calls != 2:
        if counted.calls >= 2 * x.size:
            why = (
                "this is a whole central-difference gradient (2n evaluations): the point of the"
                " check is two evaluations along u, f(x + h u) and f(x - h u)"
            )
        elif counted.calls == 3:
            why = (
                "an extra evaluation, probably f(x): the central difference needs "
                "f(x + h u) and f(x - h u) only"
            )
        else:
            why = "evaluate f(x + h u) and f(x - h u) once each, whatever the size of x"
        raise CheckFailure(
            f"{label} evaluated f {counted.calls} times; the check uses exactly 2.",
            [f"call           : {shown}", f"likely mistake : {why}"],
        )
    _judge_relative_error(
        label,
        value,
        _direction_values(f, grad_f, x, seed, step),
        shown,
        hint=f"u = v / ||v|| with v = rng.standard_normal(x.shape); compare grad_f(x) @ u with "
        f"(f(x + h u) - f(x - h u)) / (2h), h = {step:g}, by the relative error",
    )


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


def _scaled_wavy_grad_one_wrong(x: np.ndarray) -> np.ndarray:
    return 1e6 * _wavy_grad_one_wrong(x)


def _flat(x: np.ndarray) -> float:
    return 2.5


def _flat_grad(x: np.ndarray) -> np.ndarray:
    return np.zeros_like(x)


_POINT = _array([0.7, -1.2, 2.0, 0.3, -0.4, 1.1])


@exercise(LESSON, "Exercise 06.1 · One random direction", "direction_check")
def check_direction_check(direction_check: Callable[..., Any]) -> None:
    """Visible test of ``direction_check(f, grad_f, x, rng, h=1e-5)``."""
    # A right gradient and a large step: the truncation error shows the step's length, so
    # how u was scaled and which difference was taken.
    expect_direction_check(direction_check, _wavy, _wavy_grad, _POINT, seed=2, h=0.05)
    # A wrong third coordinate, the default step: the error depends on the direction drawn.
    expect_direction_check(direction_check, _wavy, _wavy_grad_one_wrong, _POINT, seed=1)
    # A loss a million times larger: the relative error must not notice.
    expect_direction_check(
        direction_check, _scaled_wavy, _scaled_wavy_grad_one_wrong, _POINT, seed=3
    )
    # Both derivatives zero: the relative error of two zeros is 0.
    expect_direction_check(direction_check, _flat, _flat_grad, _POINT[:4], seed=4)


# --------------------------------------------------------------------------- locate


def _coordinates(idx: Any, n: int) -> np.ndarray:
    return np.arange(n)[idx]


def _describe_groups(groups: dict) -> str:
    parts = []
    for name, idx in groups.items():
        if isinstance(idx, slice):
            text = f"slice({idx.start}, {idx.stop}" + (f", {idx.step})" if idx.step else ")")
        else:
            text = f"np.array({np.asarray(idx).tolist()})"
        parts.append(f"{name!r}: {text}")
    return "{" + ", ".join(parts) + "}"


def _locate_values(f, grad_f, x: np.ndarray, idx: Any, step: float) -> dict[str, float]:
    """The asked-for relative error of one group (key "") and typical mistakes' values."""
    g = _array(grad_f(x.copy()), dtype=_float64)
    coords = _coordinates(idx, x.size)
    d = _differences(lambda z: f(z), x, step)
    central = d["central"][coords]
    analytic = g[coords]
    values = {
        "": _rel(analytic, central),
        "used a forward difference (f(x + h e_i) - f(x)) / h: use (f(x + h e_i) - f(x - h e_i))"
        " / (2h)": _rel(analytic, d["forward"][coords]),
        "divided by h instead of 2h in the central difference": _rel(analytic, 2 * central),
        "this is the absolute error ||a - d||: divide by max(||a||, ||d||) (relative_error)": (
            _norm(analytic - central)
        ),
        "paired the coordinates in another order than the group lists them (sorted?): compare"
        " grad_f(x)[idx] with the differences in the order of idx": _rel(
            analytic, d["central"][np.sort(coords)]
        ),
    }
    if step != 1e-5:
        values["ignored the h that was passed and used 1e-5: use the argument h"] = _rel(
            analytic, _differences(lambda z: f(z), x, 1e-5)["central"][coords]
        )
    return values


def _locate_count_mistake(calls: int, wanted: int, size: int, n_groups: int) -> str:
    """What ``calls`` evaluations of f, where ``wanted`` were due, say about a locate."""
    if calls in (2 * size, 2 * size + 1) and wanted < 2 * size:
        return (
            "computed the central difference of every coordinate of x: only the "
            "coordinates of the groups are needed (two evaluations each)"
        )
    if calls in (wanted // 2, wanted // 2 + 1, wanted // 2 + n_groups):
        return (
            "one evaluation per coordinate (plus f(x)): that is a forward difference; the "
            "central difference evaluates f(x + h e_i) and f(x - h e_i)"
        )
    if calls == 2 * n_groups:
        return (
            "moved all of a group's coordinates at once: one central difference per "
            "coordinate, e_i one unit vector at a time"
        )
    return "two evaluations of f per coordinate listed in groups, none for the others"


def expect_locate(
    locate: Callable[..., Any],
    f: Callable[[np.ndarray], Any],
    grad_f: Callable[[np.ndarray], Any],
    x: Any,
    groups: dict,
    h: float | None = None,
) -> None:
    """Require ``locate(f, grad_f, x, groups, [h])``: the relative error per named group.

    For each name, ``grad_f(x)[idx]`` against the central differences of ``f`` at those
    coordinates only (two evaluations each, none elsewhere); a dict with the keys of
    ``groups`` in their order; ``x`` and the index arrays unmodified.
    """
    x = _array(x, dtype=_float64)
    step = 1e-5 if h is None else h
    kwargs = {} if h is None else {"h": h}
    label = "locate"
    given = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in groups.items()}
    counted = _Counted(f)
    shown = (
        f"locate({_fmt_name(f)}, {_fmt_name(grad_f)}, x, groups"
        f"{', h=' + repr(h) if kwargs else ''}) with x = {_fmt_point(x)}, groups = "
        f"{_describe_groups(groups)}"
    )
    try:
        got = _call_student(locate, counted, grad_f, x, given, name=label, **kwargs)
    except CheckFailure as failure:
        if failure.cause != RAISED or failure.error not in ("TypeError", "IndexError"):
            raise
        raise CheckFailure(
            failure.summary,
            list(failure.details)
            + [
                "hint    : a group is a slice (which may leave out its start or stop, "
                "slice(10, None)) or an integer index array; np.arange(x.size)[idx] lists its "
                "coordinates either way"
            ],
            cause=failure.cause,
            error=failure.error,
        ) from None
    require_returned(label, got, shown, "return the dict {name: relative error}")
    if not isinstance(got, dict):
        raise CheckFailure(
            f"{label} must return a dict.",
            [f"call : {shown}", f"got  : {type(got).__name__}", "return {name: relative error}"],
        )
    keys = list(got)
    if keys != list(groups):
        if sorted(map(str, keys)) == sorted(map(str, groups)):
            advice = "the same keys in another order: fill the dict in the order of groups"
        else:
            advice = "one entry per name of groups, with the same names"
        raise CheckFailure(
            f"{label} returned other keys than groups has.",
            [
                f"call     : {shown}",
                f"expected : {list(groups)}",
                f"got      : {keys}",
                f"hint     : {advice}",
            ],
        )
    wanted = 2 * sum(_coordinates(idx, x.size).size for idx in groups.values())
    if counted.calls != wanted:
        why = _locate_count_mistake(counted.calls, wanted, x.size, len(groups))
        raise CheckFailure(
            f"{label} evaluated f {counted.calls} times; expected {wanted}.",
            [f"call           : {shown}", f"likely mistake : {why}"],
        )
    for name, idx in groups.items():
        what = f"{label}(...)[{name!r}]"
        _judge_relative_error(
            what,
            _require_float(what, got[name], shown),
            _locate_values(f, grad_f, x, idx, step),
            shown,
            hint=f"for each coordinate i of the group, (f(x + h e_i) - f(x - h e_i)) / (2h) with "
            f"h = {step:g}; then relative_error(grad_f(x)[idx], those differences)",
        )


def _shelf(x: np.ndarray) -> float:
    """A smooth function of the first 10 coordinates; any further coordinate is unused."""
    return _wavy(x[:10])


def _shelf_grad_one_wrong(x: np.ndarray) -> np.ndarray:
    g = np.zeros_like(x)
    g[:10] = _wavy_grad(x[:10])
    g[5] *= 1.05  # a bug in coordinate 5 only
    return g


def _cubic(x: np.ndarray) -> float:
    return float(np.sum(np.exp(0.5 * x) + x**3))


def _cubic_grad(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.exp(0.5 * x) + 3 * x**2


_SHELF_POINT = _array([0.7, -1.2, 2.0, 0.3, -0.4, 1.1, 0.9, -1.6, 0.5, 1.4, -0.8])


@exercise(LESSON, "Exercise 06.2 · Locate the bug", "locate")
def check_locate(locate: Callable[..., Any]) -> None:
    """Visible test of ``locate(f, grad_f, x, groups, h=1e-5)``."""
    # Slices and an unsorted index array; coordinate 6 is in no group (no evaluation there);
    # the last group's derivatives are both zero.
    groups = {
        "w": slice(0, 4),
        "b": _array([7, 5, 4]),
        "tail": slice(8, 10),
        "unused": slice(10, None),
    }
    expect_locate(locate, _shelf, _shelf_grad_one_wrong, _SHELF_POINT, groups)
    # A right gradient and a large step: the truncation error shows which h was used.
    expect_locate(
        locate,
        _cubic,
        _cubic_grad,
        _array([0.4, -1.1, 0.8, 1.5, -0.3]),
        {"second": slice(2, None), "first": slice(None, 2)},
        h=0.05,
    )


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


def _require_parameter_shape(name: str, value: Any, want: np.ndarray, shown: str) -> None:
    """A gradient with the exact shape of its parameter, or a CheckFailure naming the shape.

    When a bias gradient has the right entries and only lacks axes of length 1 (summed without
    ``keepdims=True``), the message says so; otherwise it gives both shapes.
    """
    what = f'fixed_backward(...)["{name}"]'
    try:
        arr = _array(value, dtype=_float64)
    except (TypeError, ValueError):
        return  # not an array of numbers: check() says what it is
    if arr.shape == want.shape:
        return
    details = [
        f"call           : {shown}",
        f"expected shape : {want.shape} (the shape of params[{name!r}])",
        f"got shape      : {arr.shape}",
    ]
    squeezed = tuple(n for n in want.shape if n != 1)
    if (
        name.startswith("b")
        and arr.size == want.size
        and tuple(n for n in arr.shape if n != 1) == squeezed
        and arr.ndim < want.ndim
        and np.allclose(arr.reshape(want.shape), want, rtol=1e-6, atol=1e-12)
    ):
        details.append(
            "likely mistake : the right numbers, but a summed axis was dropped: sum with "
            "keepdims=True (np.sum(dz, axis=0, keepdims=True)) so the gradient keeps the "
            "shape of its parameter"
        )
    else:
        details.append(
            "hint           : a parameter's gradient has the parameter's shape; a bias "
            "gradient is a sum over the batch axis, kept as a row (keepdims=True)"
        )
    raise CheckFailure(f"{what} has the wrong shape.", details)


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
        _require_parameter_shape(name, got[name], expected[name], shown)
        check(
            f'fixed_backward(...)["{name}"]',
            got[name],
            expected[name],
            call=shown,
            rtol=1e-6,
            mistakes=slips[name],
            hint=f"compare {name} with a gradient check: which line of the backward pass feeds it?",
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


def _backward_with_bugs(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray
) -> dict[str, np.ndarray]:
    """The lesson's ``backward_with_bugs``: W2 divided by m twice, b2 from the first example
    only, W1 without the hidden sigmoid's derivative (b1 is right)."""
    m = X.shape[0]
    a1 = _sigmoid(X @ params["W1"] + params["b1"])
    a2 = _sigmoid(a1 @ params["W2"] + params["b2"])
    dz2 = 2 * (a2 - y) / m * a2 * (1 - a2)
    da1 = dz2 @ params["W2"].T
    dz1 = da1 * a1 * (1 - a1)
    return {
        "W1": X.T @ da1,
        "b1": dz1.sum(axis=0, keepdims=True),
        "W2": a1.T @ dz2 / m,
        "b2": dz2[:1],
    }


def network_problem(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray
) -> tuple[Callable, Callable, np.ndarray, dict[str, slice]]:
    """The bug hunt as a ``locate`` problem: ``(f, grad_f, theta, groups)``.

    ``theta`` is the parameters flattened in the order W1, b1, W2, b2; ``f`` the loss of
    :func:`network_loss` at ``theta``; ``grad_f`` the planted-bug backward pass, flattened;
    ``groups`` each parameter's slice of ``theta``.
    """
    shapes = {name: np.shape(params[name]) for name in PARAMETER_NAMES}
    ends = np.cumsum([math.prod(shapes[name]) for name in PARAMETER_NAMES])
    groups = {
        name: slice(int(end) - math.prod(shapes[name]), int(end))
        for name, end in zip(PARAMETER_NAMES, ends)
    }

    def unflatten(theta: np.ndarray) -> dict[str, np.ndarray]:
        return {name: theta[groups[name]].reshape(shapes[name]) for name in PARAMETER_NAMES}

    def network_loss_of_theta(theta: np.ndarray) -> float:
        return network_loss(unflatten(theta), X, y)

    def backward_with_bugs_of_theta(theta: np.ndarray) -> np.ndarray:
        grads = _backward_with_bugs(unflatten(theta), X, y)
        return np.concatenate([grads[name].ravel() for name in PARAMETER_NAMES])

    theta = np.concatenate(
        [_array(params[name], dtype=_float64).ravel() for name in PARAMETER_NAMES]
    )
    return network_loss_of_theta, backward_with_bugs_of_theta, theta, groups


@exercise(LESSON, "Exercise 06.4 · The fix", "fixed_backward")
def check_fixed_backward(fixed_backward: Callable[..., Any]) -> None:
    """Visible test of ``fixed_backward(params, X, y)``: the lesson's network, XOR and m = 5."""
    params, X, y = lesson_network()
    expect_fixed_backward(fixed_backward, params, X, y)
    # Another batch size: a 1/4 written in place of 1/m shows here, not only when graded.
    rng = np.random.default_rng(66)
    expect_fixed_backward(fixed_backward, params, rng.normal(size=(5, 2)), rng.uniform(size=(5, 1)))


# --------------------------------------------------------------------------- bug hunt


@exercise(LESSON, "Exercise 06.3 · The bug hunt", "buggy_parameters", form_only=True)
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
    worst_coordinate: Callable[..., Any],
    f: Callable[..., Any],
    grad_f: Callable[..., Any],
    x: Any,
    h: float | None = None,
) -> None:
    """Require ``worst_coordinate(f, grad_f, x[, h])`` = argmax_i |grad_f(x)_i - numeric_i|.

    ``numeric`` is the central difference with step ``h``; ``h=None`` calls the student's
    function without ``h`` (its default, 1e-5, is used).
    """
    x = _array(x, dtype=_float64)
    step = 1e-5 if h is None else h
    kwargs = {} if h is None else {"h": h}
    shown = describe_call("worst_coordinate", f, grad_f, x, **kwargs)
    got = call(worst_coordinate, f, grad_f, x, name="worst_coordinate", **kwargs)
    analytic = _array(grad_f(x.copy()), dtype=_float64)
    numeric = _differences(f, x, step)["central"]
    expected = int(np.argmax(np.abs(analytic - numeric)))
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        raise CheckFailure(
            "worst_coordinate must return an integer index.",
            [
                f"call : {shown}",
                f"got  : {type(got).__name__}: {got!r}",
                "return the index i of the coordinate (an integer), not the difference itself",
            ],
        )
    if int(got) == expected:
        return
    # Each typical slip and the index it gives here. An index is thin evidence: a mistake is
    # named only when it is the one slip that gives the index the student returned.
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        per_elem = np.abs(analytic - numeric) / np.where(scale > 0, scale, 1.0)
    largest = {int(np.argmax(np.abs(analytic))), int(np.argmax(np.abs(numeric)))}
    slips = [
        (index, "that is the largest gradient component, not the largest difference")
        for index in sorted(largest)
    ] + [
        (
            int(np.argmax(analytic - numeric)),
            "took the largest signed difference a_i - d_i: use its absolute value",
        ),
        (
            int(np.argmax(numeric - analytic)),
            "took the largest signed difference d_i - a_i: use its absolute value",
        ),
        (
            int(np.argmin(np.abs(analytic - numeric))),
            "that is the coordinate that agrees best (argmin, not argmax)",
        ),
        (
            int(np.argmax(per_elem)),
            "that is the largest elementwise relative difference |a_i - d_i| / max(|a_i|, |d_i|):"
            " the task asks for the absolute difference |a_i - d_i|",
        ),
    ]
    if h is not None and h != 1e-5:
        ignored = _differences(f, x, 1e-5)["central"]
        slips.append(
            (
                int(np.argmax(np.abs(analytic - ignored))),
                f"the differences were not taken with the h passed (h = {h:g}): this index is what"
                " a small step such as 1e-5 gives (helpers.gradient's default step is small too);"
                " use the argument h",
            )
        )
    details = [
        f"call     : {shown}",
        f"expected : {expected}",
        f"got      : {int(got)}",
        f"|a - d|  : {np.abs(analytic - numeric)} (a = grad_f(x), d = central differences)",
    ]
    named = [text for index, text in slips if index == int(got) and index != expected]
    if len(named) == 1:
        details.append(f"likely mistake : {named[0]}")
    elif named:
        details.append(
            "several slips give this index here; compare |a - d| above with what you computed"
        )
    raise CheckFailure("worst_coordinate picked the wrong coordinate.", details)


def _bumpy(x: np.ndarray) -> float:
    return float(np.sum(np.cos(x) + 0.5 * x**3))


def _bumpy_grad_buggy(x: np.ndarray) -> np.ndarray:
    g = -np.sin(x) + 1.5 * x**2
    g[1] -= 0.4  # the largest absolute discrepancy, in a large component
    g[3] *= -1  # a sign error on a tiny component: large relative, small absolute
    g[4] += 0.1  # the largest signed difference a - d: each slip gives its own index here
    return g


def _steps(x: np.ndarray) -> float:
    return float(x[0] ** 2 + x[1] ** 3 + x[2] ** 2)


def _steps_grad_buggy(x: np.ndarray) -> np.ndarray:
    # Coordinate 0 is off by -0.004; x1**3 has a central-difference truncation error of h**2,
    # which is 0.01 at h = 0.1 and 1e-10 at h = 1e-5: the worst coordinate depends on h.
    # The slip is negative and a0 = 3 lies between a1's size and 0.4 of it: at this point
    # a signed difference, an elementwise relative one, the largest component and a step of
    # 1e-5 each give an index of their own.
    return np.array([2 * x[0] - 0.004, 3 * x[1] ** 2, 2 * x[2]])


@exercise(LESSON, "Challenge 06 · Worst coordinate", "worst_coordinate")
def check_worst_coordinate(worst_coordinate: Callable[..., Any]) -> None:
    """Visible test of ``worst_coordinate(f, grad_f, x, h=1e-5)``."""
    expect_worst_coordinate(
        worst_coordinate, _bumpy, _bumpy_grad_buggy, _array([2.0, -1.5, 0.5, 0.01, 1.0])
    )
    expect_worst_coordinate(
        worst_coordinate, _steps, _steps_grad_buggy, _array([1.5, 1.2, -0.7]), h=0.1
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
    "check_direction_check",
    "check_fixed_backward",
    "check_locate",
    "check_quiz",
    "check_worst_coordinate",
    "expect_buggy_parameters",
    "expect_direction_check",
    "expect_fixed_backward",
    "expect_locate",
    "expect_worst_coordinate",
    "lesson_network",
    "network_loss",
    "network_problem",
    "reference_gradients",
]
