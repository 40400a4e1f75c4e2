"""The Lesson 07 checkers (helpers.exercises.autodiff): right engines pass, mistakes are named.

The engines here are written out in the test, one class per variant (``engine(...)``), the way
students write them: right ones built differently (recursive or iterative ordering, subtraction
via addition, division via a power), and wrong ones with one typical mistake each. These run in
process; tests/test_lessons.py runs the fixture answers through real nbgrader.
"""

from __future__ import annotations

import math

import pytest

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
    log=None,
):
    """A student-style Value class; each keyword is one way of writing it (or one mistake)."""
    local = {**RIGHT_LOCAL, **(local or {})}

    class Value:
        def __init__(self, data, inputs=(), grads=()):
            self.data, self.grad = float(data), 0.0
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
            for node in reversed(order(self)):
                for inp, g in zip(node.inputs, node.grads):
                    inp.grad = g * node.grad if overwrite else inp.grad + g * node.grad

    return Value


def failure(check, *args) -> str:
    with pytest.raises(CheckFailure) as info:
        check(*args)
    return str(info.value)


# --------------------------------------------------------------------------- right engines pass


def test_the_reference_engine_passes_every_check():
    ex.check_topological_order(ad.topological_order)
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
    ],
    ids=["direct rules", "sub via add", "div via pow", "both", "iterative order"],
)
def test_every_correct_way_of_writing_the_engine_passes(options):
    ex.check_Value(engine(**options))


def test_the_hidden_tests_inputs_pass_a_right_engine():
    Value = engine(sub_via_add=True)
    for seed in (11, 12, 13, 14):
        ex.expect_Value_random_expression(Value, seed, n_inputs=4)
    for fork, point in zip(ex.FORKS, ((-0.8, 0.4), (1.3, -0.2), (-0.5, 1.1), (0.3, 0.7))):
        ex.expect_Value_fork(Value, fork, *point)


def test_a_recursive_topological_order_passes_including_the_long_chain():
    ex.check_topological_order(recursive_order)
    for graph in ex.MORE_GRAPHS:
        ex.expect_topological_order(recursive_order, graph)


# --------------------------------------------------------------------------- engine mistakes


def test_overwriting_at_a_fork_is_caught_and_named():
    assert "overwritten (=) where a node is used twice" in failure(
        ex.check_Value, engine(overwrite=True)
    )


def test_visiting_a_shared_node_twice_is_caught_and_named():
    assert "visited twice" in failure(ex.check_Value, engine(order=revisiting_order))


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
        for node in recursive_order(root):
            node.grad = 0.0

    def root_only(root):
        root.grad = 0.0

    ex.check_zero_grad(right)
    assert "only the root was reset" in failure(ex.check_zero_grad, root_only)


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
