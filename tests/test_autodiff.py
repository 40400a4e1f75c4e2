"""helpers.autodiff: the reference engine's gradients are right, and its ordering is sound.

Every expected derivative here comes from finite differences (helpers.gradient,
helpers.central_difference) or from helpers.MLP's hand-written backward pass, never from the
engine under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import helpers
from helpers import autodiff as ad
from helpers.gradcheck import PASS_BELOW

# name -> (expression of one or two Values, the point)
OPERATIONS = {
    "add": (lambda x, y: x + y, (0.7, -1.3)),
    "sub": (lambda x, y: x - y, (0.7, -1.3)),
    "mul": (lambda x, y: x * y, (0.7, -1.3)),
    "div": (lambda x, y: x / y, (0.7, -1.3)),
    "number on the left": (lambda x, y: 2 - x + 3 * y + 1 / x - 4 / y + (2 + x), (0.7, -1.3)),
    "number on the right": (lambda x, y: (x - 2) * (y + 3) / 5, (0.7, -1.3)),
    "neg": (lambda x, y: -x * y, (0.7, -1.3)),
    "pow": (lambda x, y: x**3 + (y * y) ** 0.5 + x**-2, (0.7, -1.3)),
    "exp": (lambda x, y: (x * y).exp(), (0.7, -1.3)),
    "log": (lambda x, y: (x * x + y * y).log(), (0.7, -1.3)),
    "tanh": (lambda x, y: (x - y).tanh(), (0.7, -1.3)),
    "sigmoid": (lambda x, y: (x * y).sigmoid(), (0.7, -1.3)),
    "relu": (lambda x, y: (x + y).relu() + (x - y).relu(), (0.7, -1.3)),
}


def numeric_gradient(f, point):
    return helpers.gradient(lambda p: f(*map(ad.Value, p)).data, np.array(point, dtype=float))


def test_a_leaf_holds_a_float_a_zero_grad_and_no_inputs():
    v = ad.Value(3)
    assert isinstance(v.data, float) and v.data == 3.0
    assert v.grad == 0.0 and v.inputs == ()


def test_a_value_refuses_what_is_not_a_real_number():
    with pytest.raises(TypeError, match="real number"):
        ad.Value("3")


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_operation_has_the_gradient_of_finite_differences(name):
    f, point = OPERATIONS[name]
    exact = ad.engine_gradient(f, point)
    assert helpers.relative_error(exact, numeric_gradient(f, point)) < PASS_BELOW


def test_gradients_add_where_a_value_is_used_twice():
    x = ad.Value(1.5)
    (x * x).backward()
    assert x.grad == 3.0


def test_backward_seeds_the_root_with_one():
    root = ad.Value(2.0) * 3
    root.backward()
    assert root.grad == 1.0


def test_a_second_backward_accumulates_instead_of_repeating():
    x = ad.Value(0.5)
    y = (x * x).tanh()
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad > 2 * first  # the intermediate grads grew too: not a clean doubling


def _shared_graph():
    x, w = ad.Value(0.3), ad.Value(-1.2)
    a = x * w
    return (a.tanh() + a * x) * a.exp(), (x, w, a)


def test_topological_order_lists_every_node_once_after_its_inputs():
    root, _ = _shared_graph()
    order = ad.topological_order(root)
    assert len({id(n) for n in order}) == len(order)
    position = {id(n): k for k, n in enumerate(order)}
    assert all(position[id(i)] < position[id(n)] for n in order for i in n.inputs)
    assert order[-1] is root


def test_topological_order_reaches_every_node():
    root, (x, w, a) = _shared_graph()
    ids = {id(n) for n in ad.topological_order(root)}
    assert {id(x), id(w), id(a)} <= ids


def test_topological_order_handles_chains_deeper_than_the_recursion_limit():
    node = ad.Value(0.1)
    for _ in range(5000):
        node = node * 1.0001
    assert len(ad.topological_order(node)) == 10001  # 5000 products, their constants, the leaf


@pytest.mark.parametrize("seed", range(10))
def test_random_expressions_pass_the_gradient_checker(seed):
    rng = np.random.default_rng(seed)
    expression = ad.random_expression(rng, n_inputs=3, n_steps=6)
    point = rng.uniform(-1.5, 1.5, size=3)
    result = helpers.gradient_check(
        lambda p: expression(*map(ad.Value, p)).data,
        lambda p: np.array(ad.engine_gradient(expression, p)),
        point,
    )
    assert result.verdict == "pass", (expression.text, result.relative_error)


def test_random_expressions_are_determined_by_the_generator_state():
    first = ad.random_expression(np.random.default_rng(4), 3, 8)
    second = ad.random_expression(np.random.default_rng(4), 3, 8)
    assert first.text == second.text
    assert (
        first(*map(ad.Value, (0.1, 0.2, 0.3))).data == second(*map(ad.Value, (0.1, 0.2, 0.3))).data
    )


def test_a_random_expression_needs_one_node_per_input():
    with pytest.raises(TypeError, match="takes 3 inputs"):
        ad.random_expression(np.random.default_rng(0), 3, 4)(ad.Value(1.0))


def test_a_dual_number_carries_the_exact_derivative():
    d = (ad.Dual(0.8, 1.0) * ad.Dual(0.8, 1.0)).tanh()
    assert d.value == math.tanh(0.8 * 0.8)
    assert helpers.relative_error(d.derivative, (1 - math.tanh(0.8 * 0.8) ** 2) * 1.6) < 1e-15


@pytest.mark.parametrize("seed", range(5))
def test_forward_mode_and_reverse_mode_agree(seed):
    rng = np.random.default_rng(100 + seed)
    expression = ad.random_expression(rng, n_inputs=4, n_steps=8)
    point = rng.uniform(-1.0, 1.0, size=4)
    forward = ad.forward_gradient(expression, point)
    reverse = ad.engine_gradient(expression, point)
    assert helpers.relative_error(forward, reverse) < 1e-12


def test_a_2_4_1_network_built_from_values_has_the_gradients_of_hand_written_backprop():
    X, y = helpers.xor_data()
    net = helpers.MLP((2, 4, 1), seed=3)
    p = {k: [[ad.Value(float(v)) for v in row] for row in a] for k, a in net.params.items()}
    total = 0.0
    for xi, yi in zip(X, y):
        hidden = [
            sum((p["W1"][i][j] * xi[i] for i in range(2)), p["b1"][0][j]).sigmoid()
            for j in range(4)
        ]
        out = sum((p["W2"][j][0] * hidden[j] for j in range(4)), p["b2"][0][0]).sigmoid()
        total = (out - yi[0]) ** 2 + total
    loss = total / 4
    loss.backward()
    assert helpers.relative_error(loss.data, net.loss(X, y)) < 1e-14
    for k, by_hand in net.backward(X, y).items():
        grads = np.array([[v.grad for v in row] for row in p[k]])
        assert helpers.relative_error(grads, by_hand) < 1e-12, k
