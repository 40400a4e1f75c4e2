"""Specification of helpers.differentiate: accuracy, evaluation counts and input handling.

Exact derivatives come from SymPy. Points are drawn by hypothesis inside domains where the
function varies on the scale max(1, |x|) that the relative default step assumes (far from
that, e.g. sin(x) at x = 1e3, no fixed relative step can reach the floor) and where the
derivative is bounded away from zero (near a zero any relative error is ill-conditioned).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers
from helpers import (
    backward_difference,
    central_difference,
    default_step,
    differentiate,
    forward_difference,
    gradient,
    hessian,
    jacobian,
    relative_error,
    second_derivative,
)

EPS = np.finfo(np.float64).eps
# Derandomised: a tolerance test must not fail on one CI run and pass on the next.
FAST = settings(max_examples=30, deadline=None, derandomize=True)

t = sp.Symbol("t")


class Scalar:
    """A scalar test function with its exact first and second derivatives (SymPy)."""

    def __init__(self, expr, low, high):
        self.name = str(expr)
        self.low, self.high = low, high
        self.f = sp.lambdify(t, expr, "math")
        self.d1 = sp.lambdify(t, sp.diff(expr, t), "mpmath")
        self.d2 = sp.lambdify(t, sp.diff(expr, t, 2), "mpmath")

    def __repr__(self):
        return self.name


# f' bounded away from zero on the domain.
FIRST = [
    Scalar(sp.exp(t), -5, 5),
    Scalar(sp.log(t), 0.5, 1e4),
    Scalar(sp.sqrt(t), 0.5, 1e4),
    Scalar(sp.atan(t) + 2 * t, -50, 50),
    Scalar(t**3 + t, -100, 100),
    Scalar(1 / (1 + t**2) + t, -30, 30),
    Scalar(sp.exp(t) / sp.sqrt(sp.sin(t) ** 3 + sp.cos(t) ** 3), 1.2, 1.8),
]
# f'' bounded away from zero on the domain.
SECOND = [
    Scalar(sp.exp(t), -5, 5),
    Scalar(sp.log(t), 0.5, 1e3),
    Scalar(sp.sqrt(t), 0.5, 1e4),
    Scalar(sp.cosh(t), -5, 5),
    Scalar(t**4 + t**2 + 1, -10, 10),
]


def rel(approx, exact):
    return abs(approx - float(exact)) / abs(float(exact))


def points(fn):
    return st.floats(fn.low, fn.high, allow_nan=False, allow_infinity=False)


class Counter:
    """Wrap f and count its calls (and the rows it saw, for batched f)."""

    def __init__(self, f):
        self.f, self.calls, self.rows, self.largest, self.largest_bytes = f, 0, 0, 0, 0

    def __call__(self, x):
        self.calls += 1
        rows = x.shape[0] if np.ndim(x) == 2 else 1
        self.rows += rows
        self.largest = max(self.largest, rows)
        self.largest_bytes = max(self.largest_bytes, np.asarray(x).nbytes)
        return self.f(x)


# ---------------------------------------------------------------------------------------
# Vector test functions with exact gradients and Hessians
# ---------------------------------------------------------------------------------------


def _sympy_function(n, kind):
    xs = sp.symbols(f"x0:{n}")
    if kind == "logsumexp":
        expr = sp.log(sum(sp.exp(v) for v in xs))
    elif kind == "quadratic_exp":
        expr = sp.exp(sum(xs) / n) + sum((i + 1) * v**2 for i, v in enumerate(xs))
    elif kind == "softplus_linear":
        expr = sum(sp.log(1 + sp.exp(v)) + (i + 1) * v for i, v in enumerate(xs))
    elif kind == "trig":
        expr = sum(3 * v + sp.sin(v) * sp.cos(w) for v, w in zip(xs, xs[1:] + xs[:1]))
    elif kind == "rosenbrock":
        expr = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    else:  # pragma: no cover
        raise ValueError(kind)
    f = sp.lambdify([xs], expr, "numpy")
    grad = sp.lambdify([xs], [sp.diff(expr, v) for v in xs], "numpy")
    hess = sp.lambdify([xs], sp.hessian(expr, xs), "numpy")
    return (
        lambda v: float(f(v)),
        lambda v: np.array(grad(v), dtype=float),
        lambda v: np.array(hess(v), dtype=float),
    )


_CACHE: dict = {}


def vector_function(n, kind):
    if (n, kind) not in _CACHE:
        _CACHE[n, kind] = _sympy_function(n, kind)
    return _CACHE[n, kind]


def vectors(n, low=-2.0, high=2.0):
    return st.lists(st.floats(low, high), min_size=n, max_size=n).map(np.array)


def logsumexp_rows(X):
    """Row-wise log-sum-exp, vectorised: works on (n,) and on (k, n)."""
    X = np.asarray(X)
    top = X.max(axis=-1, keepdims=True)
    return np.log(np.exp(X - top).sum(axis=-1)) + top[..., 0]


# =======================================================================================
# Default steps
# =======================================================================================


@pytest.mark.parametrize(
    ("scheme", "power"),
    [("forward", 1 / 2), ("backward", 1 / 2), ("central", 1 / 3), ("second", 1 / 4)],
)
def test_default_step_is_eps_power_times_max_one_abs_x(scheme, power):
    assert default_step(0.3, scheme) == pytest.approx(EPS**power)
    assert default_step(-250.0, scheme) == pytest.approx(EPS**power * 250.0)


def test_default_step_is_elementwise_for_arrays():
    steps = default_step(np.array([0.0, -2.0, 1e6]), "central")
    np.testing.assert_allclose(steps, EPS ** (1 / 3) * np.array([1.0, 2.0, 1e6]))


def test_default_step_rejects_unknown_scheme():
    with pytest.raises(ValueError, match="scheme"):
        default_step(1.0, "sideways")


# =======================================================================================
# Scalar derivatives: accuracy against SymPy
# =======================================================================================


@pytest.mark.parametrize("fn", FIRST, ids=repr)
@FAST
@given(data=st.data())
def test_central_difference_is_within_5e_10_of_the_exact_derivative(fn, data):
    x = data.draw(points(fn))
    assert rel(central_difference(fn.f, x), fn.d1(x)) <= 5e-10


@pytest.mark.parametrize("fn", FIRST, ids=repr)
@FAST
@given(data=st.data())
def test_forward_difference_is_within_2e_7_of_the_exact_derivative(fn, data):
    x = data.draw(points(fn))
    assert rel(forward_difference(fn.f, x), fn.d1(x)) <= 2e-7


@pytest.mark.parametrize("fn", FIRST, ids=repr)
@FAST
@given(data=st.data())
def test_backward_difference_is_within_2e_7_of_the_exact_derivative(fn, data):
    x = data.draw(points(fn))
    assert rel(backward_difference(fn.f, x), fn.d1(x)) <= 2e-7


@pytest.mark.parametrize("fn", SECOND, ids=repr)
@FAST
@given(data=st.data())
def test_second_derivative_is_within_5e_7_of_the_exact_second_derivative(fn, data):
    x = data.draw(points(fn))
    assert rel(second_derivative(fn.f, x), fn.d2(x)) <= 5e-7


def test_central_difference_matches_the_reference_value_from_the_notes():
    def f(x):
        return math.exp(x) / math.sqrt(math.sin(x) ** 3 + math.cos(x) ** 3)

    assert rel(central_difference(f, 1.5), 4.053427893898621) <= 5e-10


def test_relative_default_step_stays_accurate_for_log_at_1e8():
    # An absolute h = 1e-5 gives a 1e-2 relative error here (see the notes).
    assert rel(central_difference(math.log, 1e8), 1e-8) <= 5e-10


def test_differences_divide_by_the_step_actually_taken():
    # For f(x) = x the quotient is exactly 1 only if the denominator is the representable
    # step (x + h) - x (or (x + h) - (x - h)), not h itself.
    x, h = 0.1, 1e-3
    assert ((x + h) - x) / h != 1.0  # the rounding the rule is about does happen here
    assert forward_difference(lambda v: v, x, h) == 1.0
    assert backward_difference(lambda v: v, x, h) == 1.0
    assert central_difference(lambda v: v, x, h) == 1.0


def test_second_derivative_is_exact_for_a_quadratic_up_to_rounding():
    assert second_derivative(lambda v: 3.0 * v * v - v, 0.7, h=0.5) == pytest.approx(6.0, 1e-12)


def test_explicit_step_is_used():
    # With a coarse h the truncation error of the forward difference of exp is about h/2.
    assert forward_difference(math.exp, 0.0, h=0.1) == pytest.approx(math.expm1(0.1) / 0.1)


# =======================================================================================
# Scalar derivatives: input handling
# =======================================================================================

SCALAR_RULES = [forward_difference, backward_difference, central_difference, second_derivative]


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_accept_numpy_scalars_zero_d_arrays_and_integers(rule):
    expected = rule(math.exp, 1.0)
    assert rule(math.exp, np.float64(1.0)) == expected
    assert rule(math.exp, np.array(1.0)) == expected
    assert rule(math.exp, 1) == expected
    assert isinstance(rule(math.exp, 1), float)


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_reject_arrays_and_point_to_gradient(rule):
    with pytest.raises(ValueError, match="gradient"):
        rule(np.sin, np.array([1.0, 2.0]))


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_warn_on_float32_input(rule):
    with pytest.warns(UserWarning, match="float32.*1e-4"):
        rule(np.exp, np.float32(0.5))


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_do_not_warn_on_float64_input(rule):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rule(np.exp, 0.5)


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_reject_non_callable_f(rule):
    with pytest.raises(TypeError, match="callable"):
        rule(3.0, 1.0)


@pytest.mark.parametrize("rule", SCALAR_RULES)
@pytest.mark.parametrize("h", [0.0, -1e-3, math.nan, math.inf])
def test_scalar_rules_reject_steps_that_are_not_positive_and_finite(rule, h):
    with pytest.raises(ValueError, match="h must be positive and finite"):
        rule(np.sin, 1.0, h=h)


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_reject_non_numeric_step(rule):
    with pytest.raises(TypeError, match="h must be"):
        rule(np.sin, 1.0, h="small")


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_reject_a_step_too_small_to_move_x(rule):
    with pytest.raises(ValueError, match="too small"):
        rule(np.sin, 1e8, h=1e-12)


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_reject_f_returning_a_vector(rule):
    with pytest.raises(ValueError, match="scalar"):
        rule(lambda v: np.array([v, v]), 1.0)


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_reject_f_returning_a_non_number(rule):
    with pytest.raises(TypeError, match="real number"):
        rule(lambda v: "one", 1.0)


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_name_the_point_where_f_is_not_finite(rule):
    def f(v):
        return 0.0 if v == 1.0 else math.nan

    with pytest.raises(ValueError, match=r"returned nan at x [+-] h = (1\.000|0\.999)"):
        rule(f, 1.0)


@pytest.mark.parametrize("rule", SCALAR_RULES)
def test_scalar_rules_reject_non_finite_x(rule):
    with pytest.raises(ValueError, match="finite"):
        rule(np.sin, math.inf)


def test_scalar_rules_reject_complex_x():
    with pytest.raises(TypeError, match="real"):
        central_difference(np.sin, 1 + 2j)


# =======================================================================================
# Gradient
# =======================================================================================


@pytest.mark.parametrize("kind", ["logsumexp", "softplus_linear", "trig"])
@FAST
@given(data=st.data())
def test_central_gradient_is_within_5e_10_of_the_exact_gradient(kind, data):
    n = data.draw(st.integers(1, 8), label="n")
    x = data.draw(vectors(n), label="x")
    f, grad, _ = vector_function(n, kind)
    assert relative_error(gradient(f, x), grad(x)) <= 5e-10


@pytest.mark.parametrize("kind", ["logsumexp", "softplus_linear", "trig"])
@FAST
@given(data=st.data())
def test_forward_gradient_is_within_2e_7_of_the_exact_gradient(kind, data):
    n = data.draw(st.integers(1, 8), label="n")
    x = data.draw(vectors(n), label="x")
    f, grad, _ = vector_function(n, kind)
    assert relative_error(gradient(f, x, method="forward"), grad(x)) <= 2e-7


def test_gradient_returns_float64_of_shape_n():
    g = gradient(lambda v: float(np.sum(v**2)), [1, 2, 3])
    assert g.dtype == np.float64
    assert g.shape == (3,)


@pytest.mark.parametrize("n", [1, 3, 7])
def test_central_gradient_costs_exactly_2n_evaluations(n):
    f = Counter(lambda v: float(np.sum(np.sin(v))))
    gradient(f, np.linspace(0.1, 1.0, n))
    assert f.calls == 2 * n


@pytest.mark.parametrize("n", [1, 3, 7])
def test_forward_gradient_costs_exactly_n_plus_1_evaluations(n):
    f = Counter(lambda v: float(np.sum(np.sin(v))))
    gradient(f, np.linspace(0.1, 1.0, n), method="forward")
    assert f.calls == n + 1


def test_gradient_uses_a_relative_step_per_coordinate():
    seen = []
    gradient(lambda v: seen.append(v.copy()) or 0.0, np.array([0.5, -300.0]))
    moves = np.abs(np.array(seen) - np.array([0.5, -300.0])).max(axis=0)
    np.testing.assert_allclose(moves, default_step(np.array([0.5, -300.0]), "central"), 1e-9)


def test_gradient_accepts_a_step_per_coordinate():
    g = gradient(lambda v: float(v[0] ** 2 + v[1] ** 2), [1.0, 1.0], h=[1e-3, 1e-2])
    np.testing.assert_allclose(g, [2.0, 2.0], rtol=1e-12)


def test_gradient_rejects_a_step_array_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        gradient(lambda v: float(v.sum()), [1.0, 2.0], h=[1e-3, 1e-3, 1e-3])


@pytest.mark.parametrize("h", [0.0, -1.0, math.nan, [1e-3, -1e-3]])
def test_gradient_rejects_steps_that_are_not_positive_and_finite(h):
    with pytest.raises(ValueError, match="h must be positive and finite"):
        gradient(lambda v: float(v.sum()), [1.0, 2.0], h=h)


@pytest.mark.parametrize("x", [np.ones((2, 2)), 3.0])
def test_gradient_rejects_x_that_is_not_1d_and_names_its_shape(x):
    with pytest.raises(ValueError, match=rf"shape {re_shape(np.shape(x))}"):
        gradient(lambda v: float(np.sum(v)), x)


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_gradient_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        gradient(lambda v: float(v.sum()), [1.0], method="backwards")


def test_gradient_rejects_non_callable_f():
    with pytest.raises(TypeError, match="callable"):
        gradient([1.0, 2.0], [1.0, 2.0])


def test_gradient_rejects_f_returning_a_vector():
    with pytest.raises(ValueError, match=r"scalar.*shape \(2,\)"):
        gradient(lambda v: v**2, [1.0, 2.0])


def test_gradient_names_the_coordinate_where_f_is_not_finite():
    def f(v):
        return v[0] + (math.nan if v[1] < 2.0 else v[1])  # nan just left of x[1] = 2

    with pytest.raises(ValueError, match=r"returned nan at .*coordinate 1 moved by -h"):
        gradient(f, [1.0, 2.0])


def test_gradient_warns_on_float32_input():
    with pytest.warns(UserWarning, match="float32.*1e-4"):
        gradient(lambda v: float(np.sum(v**2)), np.ones(3, dtype=np.float32))


def test_gradient_warns_when_f_computes_in_float32():
    with pytest.warns(UserWarning, match="float32"):
        gradient(lambda v: np.float32(np.sum(v**2)), np.ones(3))


def test_gradient_of_integer_input_equals_gradient_of_float_input():
    f = vector_function(3, "trig")[0]
    np.testing.assert_array_equal(gradient(f, np.array([1, -2, 3])), gradient(f, [1.0, -2.0, 3.0]))


# =======================================================================================
# Batched gradient
# =======================================================================================


@pytest.mark.parametrize("method", ["central", "forward"])
@FAST
@given(x=st.integers(1, 40).flatmap(vectors))
def test_batched_gradient_equals_unbatched_gradient(method, x):
    batched = gradient(logsumexp_rows, x, method=method, batched=True)
    looped = gradient(lambda v: float(logsumexp_rows(v)), x, method=method)
    # Both evaluate f at the same points; only the order of summation inside f may differ.
    assert relative_error(batched, looped) <= 1e-9


@pytest.mark.parametrize("method", ["central", "forward"])
def test_batched_gradient_is_bitwise_equal_for_rowwise_identical_arithmetic(method):
    def f(v):
        v = np.asarray(v)
        return np.sin(v[..., 0]) * v[..., 1] + np.exp(v[..., 2])

    x = np.array([0.3, -1.2, 0.7])
    np.testing.assert_array_equal(
        gradient(f, x, method=method, batched=True), gradient(f, x, method=method)
    )


def test_batched_gradient_is_within_5e_10_of_the_exact_gradient():
    _, grad, _ = vector_function(6, "logsumexp")
    x = np.linspace(-1.5, 2.0, 6)
    assert relative_error(gradient(logsumexp_rows, x, batched=True), grad(x)) <= 5e-10


def test_batched_central_gradient_needs_one_call_while_2n_rows_fit_in_the_chunk():
    n = 90  # 2n rows of 8n bytes: 129,600 bytes, within the 128 KiB chunk
    f = Counter(logsumexp_rows)
    gradient(f, np.linspace(-1, 1, n), batched=True)
    assert f.calls == 1
    assert f.rows == 2 * n


def test_batched_forward_gradient_evaluates_n_plus_1_points():
    f = Counter(logsumexp_rows)
    gradient(f, np.linspace(-1, 1, 50), method="forward", batched=True)
    assert f.rows == 51


def test_chunk_rows_are_as_many_rows_as_fit_in_128_kib():
    for n, itemsize in [(1, 8), (10, 8), (100, 8), (1000, 8), (1000, 4), (3000, 8), (16384, 8)]:
        rows = differentiate._chunk_rows(n, itemsize)
        assert rows * n * itemsize <= 2**17 < (rows + 1) * n * itemsize, (n, itemsize)
    assert differentiate._chunk_rows(1000) == 16  # the default itemsize is float64's


def test_chunk_rows_send_a_row_larger_than_the_chunk_alone():
    assert differentiate._chunk_rows(16385) == 1
    assert differentiate._chunk_rows(10**7) == 1


@pytest.mark.parametrize("method", ["central", "forward"])
@pytest.mark.parametrize("n", [91, 100, 1000, 3000])
def test_batched_gradient_never_passes_f_more_than_the_chunk_bytes(method, n):
    f = Counter(logsumexp_rows)
    gradient(f, np.linspace(-1, 1, n), method=method, batched=True)
    total = 2 * n if method == "central" else n + 1
    assert f.rows == total  # every perturbed point exactly once
    assert f.largest_bytes <= 2**17
    assert f.calls == math.ceil(total / differentiate._chunk_rows(n))  # and no more calls


def test_batched_gradient_above_16384_coordinates_passes_one_row_per_call():
    n = 16385  # one row of 131,080 bytes: over the 128 KiB chunk on its own
    f = Counter(lambda X: 0.5 * np.sum(X * X, axis=-1))
    gradient(f, np.zeros(n), batched=True)
    assert (f.calls, f.largest) == (2 * n, 1)


@pytest.mark.parametrize("method", ["central", "forward"])
@pytest.mark.parametrize("n", [200, 1000])
def test_chunked_gradient_is_bitwise_equal_to_one_call_of_f(method, n, monkeypatch):
    def f(X):  # rowwise arithmetic: a row's value does not depend on the rows beside it
        return np.sum(np.sin(X) * X, axis=-1)

    x = np.random.default_rng(n).uniform(-2.0, 2.0, n)
    in_chunks, at_once = Counter(f), Counter(f)
    chunked = gradient(in_chunks, x, method=method, batched=True)
    monkeypatch.setattr(differentiate, "_CHUNK_BYTES", 2**62)
    whole = gradient(at_once, x, method=method, batched=True)
    assert in_chunks.calls > 1 and at_once.calls == 1
    np.testing.assert_array_equal(chunked, whole)


def test_batched_gradient_rejects_f_that_does_not_return_one_value_per_row():
    with pytest.raises(ValueError, match=r"shape \(k,\).*returned shape \(6, 1\)"):
        gradient(lambda X: np.sum(X, axis=1, keepdims=True), np.ones(3), batched=True)


def test_batched_gradient_explains_a_scalar_return_as_not_vectorised():
    with pytest.raises(ValueError, match="not vectorised"):
        gradient(lambda X: float(np.sum(X)), np.ones(3), batched=True)


def test_batched_gradient_names_the_coordinate_where_f_is_not_finite():
    def f(X):
        return X[:, 0] + np.where(X[:, 2] < 2.0, np.nan, X[:, 2])  # nan left of x[2] = 2

    with pytest.raises(ValueError, match=r"returned nan at .*coordinate 2 set to"):
        gradient(f, np.array([1.0, 5.0, 2.0]), batched=True)


def test_batched_flag_must_be_a_boolean():
    with pytest.raises(TypeError, match="batched"):
        gradient(logsumexp_rows, np.ones(2), batched="yes")


# =======================================================================================
# Jacobian
# =======================================================================================


def _vector_field():
    xs = sp.symbols("x0:3")
    exprs = [xs[0] * xs[1] ** 2, sp.sin(xs[2]) + xs[0], sp.exp(xs[0] - xs[2]), xs[1] / 3 + 1]
    F = sp.lambdify([xs], exprs, "numpy")
    J = sp.lambdify([xs], sp.Matrix(exprs).jacobian(xs), "numpy")
    return (lambda v: np.array(F(v), dtype=float)), (lambda v: np.array(J(v), dtype=float))


@FAST
@given(x=vectors(3))
def test_jacobian_is_within_5e_10_of_the_exact_jacobian(x):
    F, J = _vector_field()
    approx = jacobian(F, x)
    assert approx.shape == (4, 3)
    assert relative_error(approx, J(x)) <= 5e-10


@pytest.mark.parametrize("m", [1, 5, 40])
def test_jacobian_costs_exactly_2n_evaluations_whatever_m(m):
    weights = np.arange(1.0, m + 1)
    F = Counter(lambda v: weights * np.sum(np.sin(v)))
    J = jacobian(F, np.linspace(0, 1, 4))
    assert J.shape == (m, 4)
    assert F.calls == 2 * 4


def test_jacobian_of_a_scalar_function_is_one_row():
    J = jacobian(lambda v: float(v @ v), [1.0, 2.0])
    np.testing.assert_allclose(J, [[2.0, 4.0]], rtol=1e-9)


def test_jacobian_rejects_matrix_valued_F():
    with pytest.raises(ValueError, match=r"1-D.*shape \(2, 2\)"):
        jacobian(lambda v: np.outer(v, v), [1.0, 2.0])


def test_jacobian_rejects_F_whose_output_size_changes():
    with pytest.raises(ValueError, match="must not depend on x"):
        jacobian(lambda v: np.ones(2 if v[0] > 1 else 3), [1.0, 2.0])


def test_jacobian_rejects_non_callable_F():
    with pytest.raises(TypeError, match="callable"):
        jacobian(None, [1.0])


def test_jacobian_rejects_non_finite_F():
    with pytest.raises(ValueError, match="non-finite"):
        jacobian(lambda v: np.where(v < 0.0, np.nan, v), [1.0, 0.0])


# =======================================================================================
# Hessian
# =======================================================================================


@pytest.mark.parametrize("kind", ["logsumexp", "quadratic_exp", "trig", "rosenbrock"])
@settings(max_examples=15, deadline=None, derandomize=True)
@given(data=st.data())
def test_hessian_is_within_1e_6_of_the_exact_hessian(kind, data):
    n = data.draw(st.integers(2, 5), label="n")
    x = data.draw(vectors(n), label="x")
    f, _, hess = vector_function(n, kind)
    assert relative_error(hessian(f, x), hess(x)) <= 1e-6


@settings(max_examples=15, deadline=None, derandomize=True)
@given(x=st.integers(1, 6).flatmap(vectors))
def test_hessian_is_exactly_symmetric(x):
    H = hessian(lambda v: float(np.exp(v[0]) * np.sum(np.sin(v) * v**2)), x)
    np.testing.assert_array_equal(H, H.T)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_hessian_costs_at_most_2n_squared_plus_1_evaluations(n):
    f = Counter(lambda v: float(np.sum(np.cos(v)) * np.sum(v)))
    H = hessian(f, np.linspace(0.2, 1.0, n))
    assert H.shape == (n, n)
    assert f.calls <= 2 * n * n + 1


def test_hessian_default_step_is_eps_quarter_times_max_one_abs_x_per_coordinate():
    x = np.array([0.25, -40.0, 3.0])
    seen = []
    hessian(lambda v: seen.append(v.copy()) or 0.0, x)
    moves = np.abs(np.array(seen) - x).max(axis=0)
    np.testing.assert_allclose(moves, EPS**0.25 * np.maximum(1.0, np.abs(x)), rtol=1e-9)


def test_hessian_is_exact_for_a_quadratic_form_up_to_rounding():
    A = np.array([[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [-2.0, 0.5, 5.0]])
    H = hessian(lambda v: 0.5 * float(v @ A @ v), [0.3, -0.7, 1.1], h=0.1)
    np.testing.assert_allclose(H, A, rtol=0, atol=1e-12)


def test_hessian_rejects_f_returning_a_vector():
    with pytest.raises(ValueError, match="scalar"):
        hessian(lambda v: v, [1.0, 2.0])


def test_hessian_rejects_x_that_is_not_1d():
    with pytest.raises(ValueError, match=r"shape \(2, 1\)"):
        hessian(lambda v: float(v.sum()), np.ones((2, 1)))


# =======================================================================================
# No mutation, copies, float64
# =======================================================================================


def _mutating_sum(v):
    """A careless f that modifies its argument in place."""
    v += 1.0
    return float(np.sum(v**2))


@pytest.mark.parametrize(
    "call",
    [
        lambda f, x: gradient(f, x),
        lambda f, x: gradient(f, x, method="forward"),
        lambda f, x: hessian(f, x),
        lambda f, x: jacobian(lambda v: np.atleast_1d(f(v)), x),
        lambda f, x: helpers.gradient_check(f, lambda v: 2 * v, x),
    ],
    ids=["gradient", "forward", "hessian", "jacobian", "gradient_check"],
)
def test_caller_x_is_never_modified_even_by_a_mutating_f(call):
    x = np.array([1.0, -2.0, 0.5])
    before = x.copy()
    call(_mutating_sum, x)
    np.testing.assert_array_equal(x, before)


def test_batched_caller_x_is_never_modified_even_by_a_mutating_f():
    def f(X):
        X += 1.0
        return np.sum(X**2, axis=1)

    x = np.array([1.0, -2.0, 0.5])
    before = x.copy()
    gradient(f, x, batched=True)
    np.testing.assert_array_equal(x, before)


def test_a_mutating_f_does_not_corrupt_the_result():
    # Each evaluation gets a fresh point, so the in-place += in f shifts every point by the
    # same 1.0: the gradient of sum((v + 1)**2) is 2 (x + 1).
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(gradient(_mutating_sum, x), 2 * (x + 1), rtol=1e-9)


@pytest.mark.parametrize("function", [gradient, hessian])
def test_integer_input_is_upcast_before_perturbing(function):
    # Perturbing an int array in place would truncate x + h back to x and give zeros.
    seen = []

    def f(v):
        seen.append(v.dtype)
        return float(np.sum(v**3))

    result = function(f, np.array([1, 2]))
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(result, function(f, np.array([1.0, 2.0])))
    assert np.linalg.norm(result) > 1.0


def test_docstring_examples_run():
    import doctest

    import helpers.differentiate

    outcome = doctest.testmod(helpers.differentiate)
    assert outcome.attempted > 0
    assert outcome.failed == 0
