"""A reference reverse-mode automatic differentiation engine on scalars, and dual numbers.

:class:`Value` is the engine Lesson 07 asks students to write, in the same shape: a node holds
its number ``data``, its gradient ``grad`` and the ``inputs`` it was computed from. Every
operation also stores its *local* derivatives (the partial derivative of the result with
respect to each input, evaluated at the forward values), so the backward pass is one loop:

    for node in reversed(topological_order(root)):
        for inp, local in zip(node.inputs, node.local_grads):
            inp.grad += local * node.grad

The ``+=`` is the multivariable chain rule: a node used by several others (a fork) receives a
contribution along each use. :class:`Dual` is forward mode: one pass carries one directional
derivative, so a full gradient of n inputs costs n passes.

On arrays, each operation's backward rule is a vector-Jacobian product that never forms the
Jacobian: :func:`matmul_vjp` for a matrix product and :func:`unbroadcast` for everything numpy
broadcasts (a bias added to every row). Lesson 07's array engine is built from them.

The lessons' demonstrations use these, never a student's unfinished class; the checkers of
:mod:`helpers.exercises.autodiff` use them for the expected gradients.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "Dual",
    "RandomExpression",
    "Value",
    "engine_gradient",
    "forward_gradient",
    "matmul_vjp",
    "random_expression",
    "topological_order",
    "unbroadcast",
]


def _number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class Value:
    """A scalar node of a computation graph.

    Parameters
    ----------
    data : float
        The node's value.
    inputs : tuple of Value, optional
        The nodes it was computed from (empty for a leaf made from a number).
    local_grads : tuple of float, optional
        The partial derivative of this node with respect to each input, same length.
    op : str, optional
        A label for drawings (``"+"``, ``"exp"``, ...); empty for a leaf.
    label : str, optional
        A name for drawings (``"x"``, ``"w1"``).

    Attributes
    ----------
    data : float
    grad : float
        dL/d(this node) after ``L.backward()``; 0.0 when created.
    inputs, local_grads, op, label : as above.

    Examples
    --------
    >>> x = Value(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad
    8.0
    """

    __slots__ = ("data", "grad", "inputs", "local_grads", "op", "label")

    def __init__(self, data, inputs=(), local_grads=(), op="", label=""):
        if not _number(data):
            raise TypeError(f"Value needs a real number; got {type(data).__name__}: {data!r}")
        if len(inputs) != len(local_grads):
            raise ValueError("Value: inputs and local_grads must have the same length")
        self.data = float(data)
        self.grad = 0.0
        self.inputs = tuple(inputs)
        self.local_grads = tuple(float(g) for g in local_grads)
        self.op = op
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # -- operations: each returns a new node with its local derivatives ------------------

    @staticmethod
    def _lift(other) -> Value:
        if isinstance(other, Value):
            return other
        if _number(other):
            return Value(other)
        raise TypeError(f"cannot combine a Value with {type(other).__name__}")

    def __add__(self, other):
        other = self._lift(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = self._lift(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,), "neg")

    def __sub__(self, other):
        other = self._lift(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other):
        other = self._lift(other)
        q = self.data / other.data
        return Value(q, (self, other), (1.0 / other.data, -q / other.data), "/")

    def __pow__(self, k):
        if not _number(k):
            raise TypeError("Value ** k needs a number k (a constant exponent)")
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),), f"**{k:g}")

    def __radd__(self, other):
        return self._lift(other) + self

    def __rmul__(self, other):
        return self._lift(other) * self

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def log(self):
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        s = _sigmoid(self.data)
        return Value(s, (self,), (s * (1.0 - s),), "σ")

    def relu(self):
        positive = self.data > 0
        return Value(self.data if positive else 0.0, (self,), (1.0 if positive else 0.0,), "relu")

    # -- the backward pass ---------------------------------------------------------------

    def backward(self) -> None:
        """Set ``grad`` of every node of this graph to d(self)/d(node).

        Seeds this node's grad with 1 and sweeps the graph in reverse topological order,
        adding each node's contribution to its inputs' grads. Grads accumulate: call it on a
        fresh graph (or zero the grads first) as PyTorch does.
        """
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            for inp, local in zip(node.inputs, node.local_grads):
                inp.grad += local * node.grad


def _sigmoid(z: float) -> float:
    # The two forms avoid overflow of exp on either side.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def topological_order(root) -> list:
    """Every node of ``root``'s graph, each after all the nodes it was computed from.

    Depth-first through ``inputs``, iteratively (no recursion limit on long chains), each node
    once however many nodes use it. ``root`` is last. Works for any object with an ``inputs``
    attribute.

    Parameters
    ----------
    root : Value

    Returns
    -------
    list
        The nodes, leaves first.
    """
    order, seen = [], {id(root)}
    stack = [(root, iter(root.inputs))]
    while stack:
        node, pending = stack[-1]
        for child in pending:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def engine_gradient(f: Callable[..., Value], x: Sequence[float]) -> list[float]:
    """The gradient of ``f`` at ``x`` by one reverse sweep of :class:`Value`.

    Parameters
    ----------
    f : callable
        ``f(*values) -> Value``, taking one :class:`Value` per coordinate.
    x : sequence of float

    Returns
    -------
    list of float
        ``[df/dx_0, df/dx_1, ...]``.
    """
    leaves = [Value(float(xi)) for xi in x]
    f(*leaves).backward()
    return [leaf.grad for leaf in leaves]


class Dual:
    """A dual number ``value + derivative·ε`` with ``ε² = 0``: forward-mode differentiation.

    Computing ``f(Dual(x, 1.0))`` gives ``f(x)`` and ``f'(x)`` in one pass: each operation
    applies its derivative rule to the ``derivative`` part as it goes.

    Examples
    --------
    >>> y = Dual(2.0, 1.0) * Dual(2.0, 1.0) + 3
    >>> y.value, y.derivative
    (7.0, 4.0)
    """

    __slots__ = ("value", "derivative")

    def __init__(self, value, derivative=0.0):
        self.value = float(value)
        self.derivative = float(derivative)

    def __repr__(self) -> str:
        return f"Dual({self.value:.6g}, {self.derivative:.6g})"

    @staticmethod
    def _lift(other) -> Dual:
        return other if isinstance(other, Dual) else Dual(other, 0.0)

    def __add__(self, other):
        other = self._lift(other)
        return Dual(self.value + other.value, self.derivative + other.derivative)

    __radd__ = __add__

    def __mul__(self, other):
        other = self._lift(other)
        return Dual(
            self.value * other.value,
            self.derivative * other.value + self.value * other.derivative,
        )

    __rmul__ = __mul__

    def __neg__(self):
        return Dual(-self.value, -self.derivative)

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) - self

    def __truediv__(self, other):
        other = self._lift(other)
        q = self.value / other.value
        return Dual(q, (self.derivative - q * other.derivative) / other.value)

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __pow__(self, k):
        return Dual(self.value**k, k * self.value ** (k - 1) * self.derivative)

    def exp(self):
        e = math.exp(self.value)
        return Dual(e, e * self.derivative)

    def log(self):
        return Dual(math.log(self.value), self.derivative / self.value)

    def tanh(self):
        t = math.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.derivative)

    def sigmoid(self):
        s = _sigmoid(self.value)
        return Dual(s, s * (1.0 - s) * self.derivative)

    def relu(self):
        return Dual(max(self.value, 0.0), self.derivative if self.value > 0 else 0.0)


def forward_gradient(f: Callable[..., Dual], x: Sequence[float]) -> list[float]:
    """The gradient of ``f`` at ``x`` by forward mode: one pass of :class:`Dual` per input.

    Pass i seeds coordinate i with derivative 1 and the others with 0, and reads
    ``df/dx_i``; so n inputs cost n evaluations of ``f`` (reverse mode: one).
    """
    x = [float(xi) for xi in x]
    return [
        f(*(Dual(xj, 1.0 if j == i else 0.0) for j, xj in enumerate(x))).derivative
        for i in range(len(x))
    ]


# --------------------------------------------------------------------------- arrays


def matmul_vjp(A, B, G) -> tuple[np.ndarray, np.ndarray]:
    r"""The backward rule of a matrix product: the input gradients of :math:`C = AB`.

    For a scalar loss :math:`L` with upstream gradient :math:`G = \partial L / \partial C`,

    .. math::

        \frac{\partial L}{\partial A} = G B^\top, \qquad
        \frac{\partial L}{\partial B} = A^\top G,

    the vector-Jacobian products of the product, computed without its Jacobian (which has
    :math:`mp \times (mn + np)` entries). Lesson 05's :math:`\partial L/\partial W_1 =
    X^\top \Delta_1` is the second one.

    Parameters
    ----------
    A : ndarray, shape (m, n)
    B : ndarray, shape (n, p)
    G : ndarray, shape (m, p)
        The gradient of the loss with respect to ``C = A @ B``.

    Returns
    -------
    tuple of ndarray
        ``(G @ B.T, A.T @ G)``, of shapes (m, n) and (n, p); the inputs are not modified.

    Examples
    --------
    >>> import numpy as np
    >>> dA, dB = matmul_vjp(np.ones((2, 3)), np.ones((3, 4)), np.ones((2, 4)))
    >>> dA.shape, dB.shape
    ((2, 3), (3, 4))
    """
    A, B, G = np.asarray(A), np.asarray(B), np.asarray(G)
    return G @ B.T, A.T @ G


def unbroadcast(grad, shape) -> np.ndarray:
    """The gradient of an array that numpy broadcast from ``shape`` up to ``grad.shape``.

    Broadcasting copies an array along new leading axes and along its axes of length 1 (a
    bias of shape (1, k) added to every row of an (m, k) batch). Each copy passes its gradient
    back to the one original entry, so the copies' gradients add up: sum ``grad`` over the
    leading axes broadcasting added, and over every axis where ``shape`` has 1 and ``grad``
    does not (keeping that axis). Lesson 05's bias gradient, the sum of the deltas over the
    batch, is this rule.

    Parameters
    ----------
    grad : ndarray
        The gradient of the broadcast array, of shape ``grad.shape``.
    shape : tuple of int
        The shape before broadcasting; numpy must be able to broadcast it to ``grad.shape``.

    Returns
    -------
    ndarray
        Of shape exactly ``shape`` (a NumPy scalar when ``shape`` is ``()``, ``grad`` itself
        when nothing was broadcast); ``grad`` is not modified.

    Raises
    ------
    ValueError
        If ``shape`` does not broadcast to ``grad.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.arange(12.0).reshape(4, 3)
    >>> unbroadcast(g, (1, 3))
    array([[18., 22., 26.]])
    >>> unbroadcast(g, (3,))
    array([18., 22., 26.])
    >>> float(unbroadcast(g, ()))
    66.0
    """
    grad = np.asarray(grad)
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0 or any(n not in (1, m) for n, m in zip(shape, grad.shape[lead:])):
        raise ValueError(f"shape {shape} does not broadcast to the gradient's {grad.shape}")
    stretched = (lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=(*range(lead), *stretched)).reshape(shape)


# --------------------------------------------------------------------------- random expressions

# Each step applies one operation to nodes already built (so later steps reuse earlier nodes:
# forks appear by themselves). Arguments are kept in the operations' domains: log and ** 0.5
# of u*u + 1 > 0, division by u*u + 0.5 > 0, exp of a tanh.
_STEPS = (
    ("{0} + {1}", lambda a, b: a + b),
    ("{0} - {1}", lambda a, b: a - b),
    ("{0} * {1}", lambda a, b: a * b),
    ("{0} / ({1} * {1} + 0.5)", lambda a, b: a / (b * b + 0.5)),
    ("-{0}", lambda a, b: -a),
    ("{0} ** 2", lambda a, b: a**2),
    ("({0} * {0} + 1) ** 0.5", lambda a, b: (a * a + 1) ** 0.5),
    ("({0} * {0} + 1).log()", lambda a, b: (a * a + 1).log()),
    ("{0}.tanh().exp()", lambda a, b: a.tanh().exp()),
    ("{0}.tanh()", lambda a, b: a.tanh()),
    ("{0}.sigmoid()", lambda a, b: a.sigmoid()),
    ("{0}.relu()", lambda a, b: a.relu()),
    ("2 - {0}", lambda a, b: 2 - a),
    ("3 * {0}", lambda a, b: 3 * a),
    ("{0} / 2", lambda a, b: a / 2),
    ("1 / ({0} * {0} + 1)", lambda a, b: 1 / (a * a + 1)),
)


class RandomExpression:
    """A random scalar expression of ``n_inputs`` Values, replayable on any Value-like class.

    Built by :func:`random_expression`. Calling it with one node per input applies the same
    operations in the same order (only ``+ - * / ** -`` and ``exp log tanh sigmoid relu``), so
    it runs on :class:`Value`, on a student's engine, or on :class:`Dual`.

    Attributes
    ----------
    n_inputs : int
    text : str
        The expression written out, inputs named ``x0, x1, ...``.
    """

    def __init__(self, n_inputs: int, steps: list[tuple[int, int, int]]):
        self.n_inputs = n_inputs
        self._steps = tuple(steps)
        names = [f"x{i}" for i in range(n_inputs)]
        for kind, i, j in self._steps:
            names.append("(" + _STEPS[kind][0].format(names[i], names[j]) + ")")
        self.text = names[-1]

    def __call__(self, *inputs):
        if len(inputs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(inputs)}")
        nodes = list(inputs)
        for kind, i, j in self._steps:
            nodes.append(_STEPS[kind][1](nodes[i], nodes[j]))
        return nodes[-1]

    def __repr__(self) -> str:
        return f"RandomExpression({self.text})"


def random_expression(rng, n_inputs: int = 3, n_steps: int = 6) -> RandomExpression:
    """A :class:`RandomExpression` drawn with ``rng`` (a ``numpy.random.Generator``).

    Each step picks an operation and one or two earlier nodes, preferring recent ones so the
    result depends on most of what was built; the same ``rng`` state gives the same expression.
    """
    steps = []
    for k in range(n_steps):
        size = n_inputs + k
        i = size - 1 if k and rng.random() < 0.6 else int(rng.integers(size))
        steps.append((int(rng.integers(len(_STEPS))), i, int(rng.integers(size))))
    return RandomExpression(n_inputs, steps)
