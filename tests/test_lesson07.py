"""The Lesson 07 checkers (helpers.exercises.autodiff): right engines pass, mistakes are named.

The engines here are written out in the test, one class per variant (``engine(...)``), the way
students write them: right ones built differently (recursive or iterative ordering, subtraction
via addition, division via a power), and wrong ones with one typical mistake each. These run in
process; tests/test_lessons.py runs the fixture answers through real nbgrader.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import helpers
from helpers import autodiff as ad
from helpers.checks import CheckFailure
from helpers.exercises import autodiff as ex

# Local derivatives of the one-input operations; a mistake replaces one of them.
RIGHT_LOCAL = {
    "exp": lambda a, out: out,
    "log": lambda a, out: 1 / a,
    "tanh": lambda a, out: 1 - out * out,
    "sigmoid": lambda a, out: out * (1 - out),
    "relu": lambda a, out: 1.0 if a > 0 else 0.0,
}
FUNCTIONS = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "sigmoid": lambda a: 1 / (1 + math.exp(-a)),
    "relu": lambda a: max(a, 0.0),
}


def recursive_order(root):
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for inp in node.inputs:
                visit(inp)
            order.append(node)

    visit(root)
    return order


def revisiting_order(root):
    order = []
    for inp in root.inputs:
        order += revisiting_order(inp)
    return order + [root]


def engine(
    order=recursive_order,
    sub_via_add=False,
    div_via_pow=False,
    overwrite=False,
    seed=True,
    local=None,
    mul_local=None,
    rsub_swapped=False,
    forwards=False,
    zero=0.0,
    log=None,
):
    """A student-style Value class; each keyword is one way of writing it (or one mistake)."""
    local = {**RIGHT_LOCAL, **(local or {})}

    class Value:
        def __init__(self, data, inputs=(), grads=()):
            self.data, self.grad = float(data), zero
            self.inputs, self.grads = tuple(inputs), tuple(grads)
            if log is not None:
                log.append(("Value", self.data))

        @staticmethod
        def lift(other):
            return other if isinstance(other, Value) else Value(other)

        def __add__(self, other):
            other = Value.lift(other)
            return Value(self.data + other.data, (self, other), (1.0, 1.0))

        def __mul__(self, other):
            other = Value.lift(other)
            grads = (mul_local or (lambda a, b: (b, a)))(self.data, other.data)
            return Value(self.data * other.data, (self, other), grads)

        def __pow__(self, k):
            return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

        def __neg__(self):
            return self * -1 if sub_via_add else Value(-self.data, (self,), (-1.0,))

        def __sub__(self, other):
            other = Value.lift(other)
            if sub_via_add:
                return self + (-other)
            return Value(self.data - other.data, (self, other), (1.0, -1.0))

        def __truediv__(self, other):
            other = Value.lift(other)
            if div_via_pow:
                return self * other**-1
            q = self.data / other.data
            return Value(q, (self, other), (1 / other.data, -q / other.data))

        def __radd__(self, other):
            return self + other

        def __rmul__(self, other):
            return self * other

        def __rsub__(self, other):
            return self - other if rsub_swapped else Value(other) - self

        def __rtruediv__(self, other):
            return Value(other) / self

        def _unary(self, name):
            out = FUNCTIONS[name](self.data)
            return Value(out, (self,), (local[name](self.data, out),))

        def exp(self):
            return self._unary("exp")

        def log(self):
            return self._unary("log")

        def tanh(self):
            return self._unary("tanh")

        def sigmoid(self):
            return self._unary("sigmoid")

        def relu(self):
            return self._unary("relu")

        def backward(self):
            if seed:
                self.grad = 1.0
            for node in order(self) if forwards else reversed(order(self)):
                for inp, g in zip(node.inputs, node.grads):
                    inp.grad = g * node.grad if overwrite else inp.grad + g * node.grad

    return Value


def failure(check, *args) -> str:
    with pytest.raises(CheckFailure) as info:
        check(*args)
    return str(info.value)


# --------------------------------------------------------------------------- right engines pass


def test_the_reference_engine_passes_every_check(monkeypatch):
    # As a student's own class: the course's reference handed in as the answer is refused.
    monkeypatch.setattr(ad.Value, "__module__", "__main__")
    ex.check_topological_order(lambda root: ad.topological_order(root))
    ex.check_Value(ad.Value)
    ex.check_autodiff_gradient(lambda f, p: ad.engine_gradient(f, p))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"sub_via_add": True},
        {"div_via_pow": True},
        {"sub_via_add": True, "div_via_pow": True},
        {"order": ad.topological_order},
        {"zero": 0},
    ],
    ids=["direct rules", "sub via add", "div via pow", "both", "iterative order", "grad int 0"],
)
def test_every_correct_way_of_writing_the_engine_passes(options):
    ex.check_Value(engine(**options))


def test_the_hidden_tests_inputs_pass_a_right_engine():
    Value = engine(sub_via_add=True)
    for seed in (11, 12, 13, 14):
        ex.expect_Value_random_expression(Value, seed, n_inputs=4)
    for fork, point in zip(ex.FORKS, ((-0.8, 0.4), (1.3, -0.2), (-0.5, 1.1), (0.3, 0.7))):
        ex.expect_Value_fork(Value, fork, *point)


def test_the_reference_order_passes_the_hidden_graphs_too():
    for graph in ex.MORE_GRAPHS:
        ex.expect_topological_order(ad.topological_order, graph)


def test_a_recursive_order_meets_the_recursion_limit_and_the_message_says_why():
    message = failure(ex.check_topological_order, recursive_order)
    assert "deeper than Python's recursion limit" in message
    assert "chain of 1500 nodes" in message and "own stack" in message
    assert "must not be visited again" not in message  # no blame for a correct search


def test_an_endless_recursion_on_a_shallow_graph_is_told_apart():
    def endless(root):
        def visit(node):
            visit(node)  # the bug: never moves on to an input

        visit(root)

    message = failure(ex.expect_topological_order, endless, "diamond")
    assert "called itself without end" in message and "visit(inp), not visit(node)" in message


def test_the_visible_deep_chain_is_deeper_than_the_recursion_limit():
    import sys

    assert ex._depth(ex._graph("deep chain")) > sys.getrecursionlimit()
    assert ex._depth(ex._graph("very deep chain")) == 5000


# --------------------------------------------------------------------------- engine mistakes


def test_overwriting_at_a_fork_is_caught_and_named():
    assert "overwritten (=) where a node is used twice" in failure(
        ex.check_Value, engine(overwrite=True)
    )


def test_visiting_a_shared_node_twice_is_caught_and_named():
    assert "visited twice" in failure(ex.check_Value, engine(order=revisiting_order))


def test_a_sweep_that_walks_the_order_forwards_is_named():
    message = failure(ex.check_Value, engine(forwards=True))
    assert "walks the order forwards" in message and "reversed(" in message


def test_a_missing_seed_is_caught_and_named():
    message = failure(ex.check_Value, engine(seed=False))
    assert "out.grad must be 1" in message and "self.grad = 1.0" in message


@pytest.mark.parametrize(
    "name, wrong, diagnosis",
    [
        ("exp", lambda a, out: a, "d exp(x)/dx is exp(x), not x"),
        ("log", lambda a, out: math.log(a), "d log(x)/dx is 1/x"),
        ("tanh", lambda a, out: 1 - a * a, "square the output, not the input"),
        ("sigmoid", lambda a, out: out, "not sigma(x)"),
        ("relu", lambda a, out: 1.0, "0 where x < 0"),
    ],
)
def test_a_wrong_local_derivative_of_a_function_is_named(name, wrong, diagnosis):
    assert diagnosis in failure(ex.check_Value, engine(local={name: wrong}))


def test_a_swapped_product_rule_is_named():
    message = failure(ex.check_Value, engine(mul_local=lambda a, b: (a, b)))
    assert "(x * y).backward()" in message and "swapped" in message


def test_a_number_on_the_left_of_minus_is_checked():
    assert "swapped" in failure(ex.check_Value, engine(rsub_swapped=True))


@pytest.mark.parametrize("operation, a, b", ex.OPERATION_CASES)
def test_each_operation_can_be_checked_on_its_own(operation, a, b):
    ex.expect_Value_operation(engine(div_via_pow=True), operation, a, b)


def test_a_wrong_rule_for_a_product_shows_in_a_division_built_from_it():
    message = failure(
        ex.expect_Value_operation,
        engine(div_via_pow=True, mul_local=lambda a, b: (a, b)),
        "x / y",
        1.5,
        -0.75,
    )
    assert "(x / y).backward()" in message


def test_an_unwritten_engine_is_reported_as_not_written():
    class Value:
        def __init__(self, data):
            raise NotImplementedError

    assert "not written yet" in failure(ex.check_Value, Value)


def test_data_must_be_stored_as_a_float():
    class IntValue(engine()):
        def __init__(self, data, inputs=(), grads=()):
            super().__init__(data, inputs, grads)
            self.data = data

    assert "must be a float" in failure(ex.check_Value, IntValue)


# --------------------------------------------------------------------------- topological order


def test_a_topological_order_without_visited_set_is_named():
    assert "more than once" in failure(ex.check_topological_order, revisiting_order)


def test_a_reversed_order_is_named():
    assert "reversed" in failure(ex.check_topological_order, lambda r: recursive_order(r)[::-1])


def test_leaving_out_the_leaves_is_named():
    def no_leaves(root):
        return [n for n in recursive_order(root) if n.inputs]

    assert "leaves out" in failure(ex.check_topological_order, no_leaves)


def test_a_generator_is_not_a_list():
    assert "must return a list" in failure(
        ex.check_topological_order, lambda r: iter(recursive_order(r))
    )


# --------------------------------------------------------------------------- the other exercises


def test_autodiff_gradient_names_returning_the_data():
    Value = engine()

    def data_not_grad(f, point):
        xs = [Value(p) for p in point]
        f(*xs).backward()
        return [x.data for x in xs]

    assert "data, not their grads" in failure(ex.check_autodiff_gradient, data_not_grad)


def test_zero_grad_passes_when_every_node_is_reset_and_names_resetting_only_the_root():
    def right(root):
        for node in ad.topological_order(root):
            node.grad = 0.0

    def integer_zero(root):
        for node in ad.topological_order(root):
            node.grad = 0

    def root_only(root):
        root.grad = 0.0

    ex.check_zero_grad(right)
    ex.check_zero_grad(integer_zero)  # the text shows 0.0; the integer 0 is as good
    for graph in ("ladder", "same input twice", "long chain"):
        ex.expect_zero_grad(integer_zero, graph)
    assert "only the root was reset" in failure(ex.check_zero_grad, root_only)


def test_zero_grad_returns_nothing_and_touches_nothing_else():
    def returning(root):
        nodes = ad.topological_order(root)
        for node in nodes:
            node.grad = 0.0
        return nodes

    def data_too(root):
        for node in ad.topological_order(root):
            node.grad = node.data = 0.0

    def cut(root):
        for node in ad.topological_order(root):
            node.grad, node.inputs = 0.0, ()

    assert "must return nothing" in failure(ex.check_zero_grad, returning)
    assert "changed more than grad" in failure(ex.check_zero_grad, data_too)
    assert "changed more than grad" in failure(ex.check_zero_grad, cut)


def test_a_new_value_may_start_at_the_integer_zero_but_not_at_none():
    ex.expect_Value_leaf(engine(zero=0), 2.5)
    assert "grad 0.0" in failure(ex.expect_Value_leaf, engine(zero=None), 2.5)


def test_the_quiz_check_wants_five_booleans():
    ex.check_quiz(True, False, False, False, False)
    assert "must be True or False" in failure(ex.check_quiz, None, False, False, False, False)


# --------------------------------------------------------------------------- determinism (issue 12)


def test_the_checks_make_the_same_interactions_on_every_run():
    """A recorder in the kernel and a replay outside it need one fixed sequence of calls."""
    logs = []
    for _ in range(2):
        log = []
        ex.check_Value(engine(log=log))
        logs.append(log)
    assert logs[0] and logs[0] == logs[1]


# --------------------------------------------------------------------------- arrays


def test_the_array_references_pass_their_checks_and_hidden_inputs():
    def matmul_vjp(A, B, G):  # as a student would hand it in (the reference itself is refused)
        return ad.matmul_vjp(A, B, G)

    def unbroadcast(grad, shape):
        return ad.unbroadcast(grad, shape)

    ex.check_matmul_vjp(matmul_vjp)
    ex.check_unbroadcast(unbroadcast)
    rng = np.random.default_rng(77)
    for m, n, p in ((1, 5, 3), (6, 2, 1), (4, 4, 4), (32, 7, 5)):
        A, B, G = rng.normal(size=(m, n)), rng.normal(size=(n, p)), rng.normal(size=(m, p))
        ex.expect_matmul_vjp(matmul_vjp, A, B, G)
    g = rng.normal(size=(2, 3, 4))
    for shape in ((4,), (1, 4), (3, 1), (2, 1, 4), (1, 1, 1), (), (2, 3, 4), (1, 3, 1)):
        ex.expect_unbroadcast(unbroadcast, g, shape)


def test_matmul_vjp_agrees_with_finite_differences():
    rng = np.random.default_rng(3)
    A, B, G = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    dA, dB = ad.matmul_vjp(A, B, G)
    numeric_A = helpers.gradient(lambda a: float(np.sum(G * (a.reshape(3, 4) @ B))), A.ravel())
    numeric_B = helpers.gradient(lambda b: float(np.sum(G * (A @ b.reshape(4, 2)))), B.ravel())
    assert helpers.relative_error(dA.ravel(), numeric_A) < 1e-9
    assert helpers.relative_error(dB.ravel(), numeric_B) < 1e-9


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda A, B, G: (B @ G.T, A.T @ G), "transposed"),
        (lambda A, B, G: (A.T @ G, G @ B.T), "wrong order"),
        (lambda A, B, G: [G @ B.T, A.T @ G], "must return a tuple"),
        (lambda A, B, G: (G @ B.T, G.T @ A), "transposed: dB"),
        (lambda A, B, G: (G @ B, A.T @ G), "mind the shapes"),
    ],
    ids=["dA transposed", "swapped", "list", "dB transposed", "no transpose"],
)
def test_matmul_vjp_mistakes_are_named(answer, words):
    assert words in failure(ex.check_matmul_vjp, answer)


def test_matmul_vjp_that_modifies_g_is_caught():
    def scaling(A, B, G):
        G *= 1.0 + 1e-9
        return G @ B.T, A.T @ G

    assert "modified its input" in failure(ex.check_matmul_vjp, scaling)


def _no_keepdims(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis)
    return grad


def _mean(grad, shape):
    return ad.unbroadcast(grad, shape) * np.prod(shape) / grad.size if shape else grad.mean()


@pytest.mark.parametrize(
    "answer, words",
    [
        (_no_keepdims, "without keepdims"),
        (_mean, "averaged"),
        (lambda grad, shape: grad.sum(), "summed every axis"),
    ],
    ids=["no keepdims", "mean", "everything"],
)
def test_unbroadcast_mistakes_are_named(answer, words):
    assert words in failure(ex.check_unbroadcast, answer)


def test_unbroadcast_accepts_a_numpy_scalar_an_array_and_a_float_for_shape_nothing():
    grad = np.arange(6.0).reshape(2, 3)
    for returned in (np.float64(15.0), np.array(15.0), 15.0):
        ex.expect_unbroadcast(lambda g, s, r=returned: r, grad, ())


def test_the_engine_guard_runs_only_an_engine_that_passes():
    class Unwritten:
        def __init__(self, data):
            raise NotImplementedError

    assert ex.engine_ready(engine())
    assert not ex.engine_ready(Unwritten)
    assert not ex.engine_ready(engine(overwrite=True))
