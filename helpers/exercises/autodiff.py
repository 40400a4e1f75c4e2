"""Visible checks of Lesson 07 (automatic differentiation).

The student writes ``topological_order(root)``, a scalar reverse-mode engine ``class Value``
(``data``, ``grad``, ``inputs``; ``+ - * / **``, unary ``-``, ``exp log tanh sigmoid relu``;
``backward()``), ``autodiff_gradient(f, point)`` with that engine and ``zero_grad(root)``.

The checks touch student objects only by constructing Values, applying operators and methods,
calling ``backward()`` and reading ``data``, ``grad`` and ``inputs`` - a fixed, seeded sequence
of interactions, the same on every run (so a grader can record it in the kernel and replay the
verdict outside it). Expected numbers are textbook derivatives written out here, or come from
the reference engine :mod:`helpers.autodiff`; the typical wrong engines (overwriting ``=`` at
a fork, a node visited twice, no seed of 1) are run on reference nodes to name the mistake.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autodiff as ref
from ..checks import (
    CheckFailure,
    call,
    check,
    exercise,
    quiet,
    quiz_exercise,
    require_returned,
)

LESSON = "07_autodiff"

_float = float
_isinstance = isinstance
_id = id

# From this depth on, a RecursionError is the interpreter's limit (about 1,000 frames, some
# of them taken by the notebook and the checker), not an endless recursion.
_DEEP = 500


# --------------------------------------------------------------------------- calling student code


def _attempt(what: str, action: Callable[[], Any], depth: int | None = None) -> Any:
    """Run one interaction with the student's code; crashes become a readable CheckFailure.

    ``depth`` is the number of nodes on the longest path of the graph the code walks, when
    known: a RecursionError on a deep graph is Python's recursion limit, not a wrong answer's
    endless loop, and the message says so.
    """
    try:
        with quiet():
            return action()
    except NotImplementedError:
        raise CheckFailure(
            f"{what} is not written yet.",
            ["replace `raise NotImplementedError()` in the answer cell with your code; run it"],
        ) from None
    except CheckFailure:
        raise
    except RecursionError:
        if depth is not None and depth >= _DEEP:
            raise CheckFailure(
                f"{what} went deeper than Python's recursion limit (RecursionError).",
                [
                    f"the graph is a chain of {depth} nodes, and a recursive depth-first search "
                    "needs one nested call per node; Python stops at about 1,000",
                    "hint : keep your own stack instead of recursing - a list of (node, "
                    "iterator over its inputs) pairs: look at the top pair, push its next "
                    "unvisited input, or pop it and append the node once all inputs are done "
                    "(Section 4)",
                ],
            ) from None
        endless = [f"the graph is only {depth} nodes deep"] if depth is not None else []
        raise CheckFailure(
            f"{what} called itself without end (RecursionError).",
            endless
            + [
                "each recursive call must move on to an input (visit(inp), not visit(node)), "
                "and a node already in the order is not visited again"
            ],
        ) from None
    except Exception as exc:  # noqa: BLE001 - any crash of student code is the finding
        raise CheckFailure(f"{what} raised {type(exc).__name__}.", [f"message : {exc}"]) from None


def _is_zero(value: Any) -> bool:
    """A grad reset to zero: 0.0, or the integer 0 (which ``+=`` turns into a float)."""
    return _isinstance(value, numbers.Real) and not _isinstance(value, bool) and value == 0


def _number(name: str, value: Any, call: str) -> float:
    if value is None or _isinstance(value, bool):
        raise CheckFailure(f"{name} is {value!r}, not a number.", [f"call : {call}"])
    try:
        return _float(value)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"{name} is a {type(value).__name__}, not a number.",
            [f"call : {call}", "store plain floats in data and grad (float(...))"],
        ) from None


def _reachable(root: Any, what: str) -> list[Any]:
    """Every object reached from ``root`` through ``inputs`` (the checker's own traversal)."""
    seen, stack, found = {_id(root)}, [root], []
    while stack:
        node = stack.pop()
        found.append(node)
        if _isinstance(node, Node):  # the checker's own node: nothing to guard
            inputs = node.inputs
        else:
            inputs = _attempt(f"reading {what}.inputs", lambda node=node: tuple(node.inputs))
        for child in inputs:
            if _id(child) not in seen:
                seen.add(_id(child))
                stack.append(child)
    return found


# --------------------------------------------------------------------------- topological_order


class Node:
    """A bare graph node for the ordering checks: a name and the ``inputs`` it came from."""

    def __init__(self, name: str, *inputs: Node):
        self.name = name
        self.inputs = tuple(inputs)
        self.data = 0.0
        self.grad = 0.0

    def __repr__(self) -> str:
        return self.name


def _graph(kind: str) -> Node:
    """A named test graph (see GRAPHS); its root."""
    if kind == "leaf":
        return Node("x")
    if kind == "chain":
        x = Node("x")
        return Node("c", Node("b", Node("a", x)))
    if kind == "same input twice":
        x = Node("x")
        return Node("y", x, x)
    if kind == "diamond":
        x = Node("x")
        return Node("out", Node("a", x), Node("b", x))
    if kind == "shared intermediate":
        x, w = Node("x"), Node("w")
        a = Node("a", x, w)
        return Node("out", Node("b", a), Node("c", a, Node("d", a, x)))
    if kind == "ladder":  # every node uses the two before it: many shared paths
        a, b = Node("x0"), Node("x1")
        for i in range(2, 20):
            a, b = b, Node(f"x{i}", b, a)
        return b
    if kind in _CHAINS:
        node = Node("x0")
        for i in range(1, _CHAINS[kind]):
            node = Node(f"x{i}", node)
        return node
    raise ValueError(f"unknown graph {kind!r}")


# Chains of these many nodes: deeper than Python's recursion limit from "deep chain" on.
_CHAINS = {"long chain": 200, "deep chain": 1_500, "very deep chain": 5_000}

GRAPHS = (
    "leaf",
    "chain",
    "same input twice",
    "diamond",
    "shared intermediate",
    "long chain",
    "deep chain",
)
# Graphs only the hidden tests use.
MORE_GRAPHS = ("ladder", "very deep chain")


def _depth(root: Node) -> int:
    """The number of nodes on the longest path from a leaf to ``root``."""
    longest: dict[int, int] = {}
    for node in ref.topological_order(root):
        longest[_id(node)] = 1 + max((longest[_id(i)] for i in node.inputs), default=0)
    return longest[_id(root)]


def _describe_graph(root: Node) -> str:
    size = len(_reachable(root, "node"))
    if size > 12 and _depth(root) == size:
        return f"{root.name} <- ... <- x0, a chain of {size} nodes, each using the one before it"
    if size > 12:
        return f"{root.name} of {size} nodes x0, x1, ... each using the one or two before it"
    lines, done = [], set()
    for node in ref.topological_order(root):
        if node.inputs and node.name not in done:
            done.add(node.name)
            lines.append(f"{node.name} <- {', '.join(n.name for n in node.inputs)}")
    return "; ".join(lines) or f"a single leaf {root.name}"


def expect_topological_order(topological_order: Callable, graph: str) -> None:
    """``topological_order(root)`` on the test graph ``graph`` (one of :data:`GRAPHS`)."""
    root = _graph(graph)
    shown = f"topological_order(root) for the graph {_describe_graph(root)} (root {root.name})"
    got = _attempt("topological_order", lambda: topological_order(root), _depth(root))
    require_returned("topological_order", got, shown, "return the list of nodes")
    if not _isinstance(got, (list, tuple)):
        raise CheckFailure(
            "topological_order must return a list.",
            [f"call : {shown}", f"got  : {type(got).__name__}"],
        )
    nodes = _reachable(root, "node")
    ids = [_id(n) for n in got]
    known = {_id(n) for n in nodes}
    names = [getattr(n, "name", repr(n)) for n in got]
    details = [f"call           : {shown}", f"got            : {names}"]
    if any(i not in known for i in ids):
        raise CheckFailure(
            "topological_order returned objects that are not nodes of the graph.",
            details + ["hint           : return the nodes themselves, not their data or names"],
        )
    if len(set(ids)) < len(ids):
        raise CheckFailure(
            "topological_order lists a node more than once.",
            details
            + ["likely mistake : a node used twice is visited twice; remember visited nodes"],
        )
    listed = set(ids)
    missing = [n.name for n in nodes if _id(n) not in listed]
    if missing:
        raise CheckFailure(
            "topological_order leaves out nodes of the graph.",
            details + [f"missing        : {missing}", "hint           : follow every input"],
        )
    position = {i: k for k, i in enumerate(ids)}
    late = [n.name for n in nodes for c in n.inputs if position[_id(c)] > position[_id(n)]]
    if late:
        mistake = (
            "the order is reversed: leaves first, the root last"
            if ids[0] == _id(root) and len(ids) > 1
            else "append a node after all of its inputs (after the recursive calls)"
        )
        raise CheckFailure(
            "topological_order puts a node before a node it was computed from.",
            details + [f"too early      : {sorted(set(late))}", f"likely mistake : {mistake}"],
        )


@exercise(LESSON, "Exercise 07.1 · Topological order", "topological_order")
def check_topological_order(topological_order: Callable) -> None:
    """Every node once, each after its inputs, on a leaf, a chain, forks and a long chain."""
    for graph in GRAPHS:
        expect_topological_order(topological_order, graph)


# --------------------------------------------------------------------------- Value: one operation


def _sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _op(build, value, grads, mistakes=None):
    return {"build": build, "value": value, "grads": grads, "mistakes": mistakes or (lambda *a: {})}


# name -> how to build it from x (and y), its value, its gradient (d/dx, d/dy) and typical
# wrong gradients. "c" is the Python number on the other side.
OPERATIONS = {
    "x + y": _op(lambda x, y: x + y, lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "x - y": _op(
        lambda x, y: x - y,
        lambda a, b: a - b,
        lambda a, b: (1.0, -1.0),
        lambda a, b: {"the derivative of x - y with respect to y is -1, not 1": (1.0, 1.0)},
    ),
    "x * y": _op(
        lambda x, y: x * y,
        lambda a, b: a * b,
        lambda a, b: (b, a),
        lambda a, b: {
            "swapped: d(x*y)/dx is y (the other factor), not x": (a, b),
            "used the derivative of a sum (1, 1) for a product": (1.0, 1.0),
        },
    ),
    "x / y": _op(
        lambda x, y: x / y,
        lambda a, b: a / b,
        lambda a, b: (1 / b, -a / b**2),
        lambda a, b: {
            "the sign of d(x/y)/dy: it is -x/y**2": (1 / b, a / b**2),
            "d(x/y)/dy is -x/y**2 (y squared)": (1 / b, -a / b),
            "d(x/y)/dy is -x/y**2 (x in the numerator)": (1 / b, -1 / b**2),
        },
    ),
    "x + c": _op(lambda x, c: x + c, lambda a, c: a + c, lambda a, c: (1.0,)),
    "c + x": _op(lambda x, c: c + x, lambda a, c: c + a, lambda a, c: (1.0,)),
    "x - c": _op(lambda x, c: x - c, lambda a, c: a - c, lambda a, c: (1.0,)),
    "c - x": _op(
        lambda x, c: c - x,
        lambda a, c: c - a,
        lambda a, c: (-1.0,),
        lambda a, c: {"c - x computed as x - c (__rsub__ swaps the operands)": (1.0,)},
    ),
    "x * c": _op(lambda x, c: x * c, lambda a, c: a * c, lambda a, c: (c,)),
    "c * x": _op(lambda x, c: c * x, lambda a, c: c * a, lambda a, c: (c,)),
    "x / c": _op(lambda x, c: x / c, lambda a, c: a / c, lambda a, c: (1 / c,)),
    "c / x": _op(
        lambda x, c: c / x,
        lambda a, c: c / a,
        lambda a, c: (-c / a**2,),
        lambda a, c: {"c / x computed as x / c (__rtruediv__ swaps the operands)": (1 / c,)},
    ),
    "-x": _op(
        lambda x, _: -x,
        lambda a, _: -a,
        lambda a, _: (-1.0,),
        lambda a, _: {"the derivative of -x is -1": (1.0,)},
    ),
    "x ** k": _op(
        lambda x, k: x**k,
        lambda a, k: a**k,
        lambda a, k: (k * a ** (k - 1),),
        lambda a, k: {
            "the power rule is k * x**(k - 1): the factor k is missing": (a ** (k - 1),),
            "the power rule is k * x**(k - 1), not k * x**k": (k * a**k,),
        },
    ),
    "x.exp()": _op(
        lambda x, _: x.exp(),
        lambda a, _: math.exp(a),
        lambda a, _: (math.exp(a),),
        lambda a, _: {"d exp(x)/dx is exp(x), not x": (a,), "d exp(x)/dx is exp(x), not 1": (1.0,)},
    ),
    "x.log()": _op(
        lambda x, _: x.log(),
        lambda a, _: math.log(a),
        lambda a, _: (1 / a,),
        lambda a, _: {"d log(x)/dx is 1/x, not log(x)": (math.log(a),)},
    ),
    "x.tanh()": _op(
        lambda x, _: x.tanh(),
        lambda a, _: math.tanh(a),
        lambda a, _: (1 - math.tanh(a) ** 2,),
        lambda a, _: {
            "d tanh(x)/dx is 1 - tanh(x)**2: square the output, not the input x": (1 - a**2,),
            "d tanh(x)/dx is 1 - tanh(x)**2, not tanh(x)": (math.tanh(a),),
            "d tanh(x)/dx is 1 - tanh(x)**2, not 1 - tanh(x)": (1 - math.tanh(a),),
        },
    ),
    "x.sigmoid()": _op(
        lambda x, _: x.sigmoid(),
        lambda a, _: _sig(a),
        lambda a, _: (_sig(a) * (1 - _sig(a)),),
        lambda a, _: {
            "d sigma(x)/dx is sigma(x) (1 - sigma(x)), not sigma(x)": (_sig(a),),
            "d sigma(x)/dx is s (1 - s) with s = sigma(x), not x (1 - x)": (a * (1 - a),),
        },
    ),
    "x.relu()": _op(
        lambda x, _: x.relu(),
        lambda a, _: max(a, 0.0),
        lambda a, _: (1.0 if a > 0 else 0.0,),
        lambda a, _: {
            "relu's derivative is 1 where x > 0 and 0 where x < 0": (1.0 if a <= 0 else 0.0,),
            "relu's derivative is 1 or 0, not x": (a,),
        },
    ),
}

# The cases the visible check runs: (operation, x, y or the number c or the exponent k).
OPERATION_CASES = (
    ("x + y", 1.5, -0.75),
    ("x * y", 1.5, -0.75),
    ("-x", 0.8, None),
    ("x ** k", 1.3, 3),
    ("x ** k", 2.0, -1),
    ("x ** k", 1.7, 0.5),
    ("x - y", 1.5, -0.75),
    ("x / y", 1.5, -0.75),
    ("x + c", 0.8, 3.0),
    ("c + x", 0.8, 3.0),
    ("x - c", 0.8, 3.0),
    ("c - x", 0.8, 3.0),
    ("x * c", 0.8, 3.0),
    ("c * x", 0.8, 3.0),
    ("x / c", 0.8, 4.0),
    ("c / x", 0.8, 4.0),
    ("c * x", 0.8, 2),  # a Python int on the left
    ("c - x", 0.8, 1),
    ("x + c", 0.8, 1),
    ("x.exp()", 0.7, None),
    ("x.log()", 1.9, None),
    ("x.tanh()", 0.6, None),
    ("x.sigmoid()", -0.4, None),
    ("x.relu()", 1.5, None),
    ("x.relu()", -0.7, None),
)

_TWO_VALUES = ("x + y", "x - y", "x * y", "x / y")


def _show_case(name: str, a: float, b) -> str:
    text = name.replace("c", repr(b)).replace("k", repr(b)) if b is not None else name
    where = f"x = Value({a!r})" + (f", y = Value({b!r})" if name in _TWO_VALUES else "")
    return f"{where}; out = {text}; out.backward()"


def expect_Value_leaf(Value: type, number: float) -> None:
    """``Value(number)``: ``data == float(number)``, ``grad == 0.0``, ``inputs == ()``."""
    shown = f"v = Value({number!r})"
    v = _attempt("Value(...)", lambda: Value(number))
    data = _attempt("reading v.data", lambda: v.data)
    if not _isinstance(data, float):
        raise CheckFailure(
            "Value(...).data must be a float.",
            [f"call : {shown}", f"got  : {type(data).__name__} {data!r}", "store float(data)"],
        )
    check("Value(...).data", data, _float(number), call=shown, rtol=0.0)
    grad = _attempt("reading v.grad", lambda: v.grad)
    if not _is_zero(grad):
        raise CheckFailure(
            "a new Value must have grad 0.0 (zero).",
            [f"call : {shown}", f"got  : grad = {grad!r}", "start every grad at 0.0"],
        )
    inputs = _attempt("reading v.inputs", lambda: v.inputs)
    if not _isinstance(inputs, tuple) or inputs:
        raise CheckFailure(
            "a Value made from a number must have inputs == () (an empty tuple).",
            [f"call : {shown}", f"got  : inputs = {inputs!r}"],
        )


def expect_Value_operation(Value: type, operation: str, a: float, b=None) -> None:
    """One operation of :data:`OPERATIONS` on ``x = Value(a)`` (and ``y = Value(b)``).

    Checks the result's ``data``, that its graph reaches ``x`` (and ``y``) through ``inputs``,
    and after ``backward()`` that ``out.grad == 1`` and the leaves' grads are the derivatives.
    """
    spec = OPERATIONS[operation]
    two = operation in _TWO_VALUES
    shown = _show_case(operation, a, b)
    x = _attempt("Value(...)", lambda: Value(a))
    y = _attempt("Value(...)", lambda: Value(b)) if two else b
    out = _attempt(f"Value: {operation}", lambda: spec["build"](x, y))
    if not _isinstance(out, Value):
        raise CheckFailure(
            f"Value: {operation} must return a new Value.",
            [f"call : {shown}", f"got  : {type(out).__name__} {out!r}"],
        )
    value = spec["value"](a, b)
    wrong_value = {}
    if operation in ("c - x", "c / x"):
        wrong_value[f"{operation} computed with the operands swapped"] = spec["value"](b, a)
    data = _number("out.data", _attempt("reading out.data", lambda: out.data), shown)
    check(f"Value: ({operation}).data", data, value, call=shown, rtol=1e-12, mistakes=wrong_value)
    leaves = (x, y) if two else (x,)
    reached = {_id(n) for n in _reachable(out, "out")}
    for name, leaf in zip("xy", leaves):
        if _id(leaf) not in reached:
            raise CheckFailure(
                f"Value: the result of {operation} does not lead back to {name} through inputs.",
                [f"call : {shown}", "store the Values a result was computed from in inputs"],
            )
    _attempt("out.backward()", out.backward)
    seed = _number("out.grad", _attempt("reading out.grad", lambda: out.grad), shown)
    if seed != 1.0:
        raise CheckFailure(
            "after out.backward(), out.grad must be 1.",
            [f"call : {shown}", f"got  : out.grad = {seed!r}", _NO_SEED],
        )
    grads = [
        _number(f"{n}.grad", _attempt("reading grad", lambda v=v: v.grad), shown)
        for n, v in zip("xy", leaves)
    ]
    label = "Value: (x.grad, y.grad)" if two else "Value: x.grad"
    with _sweep_diagnosis(Value):
        check(
            f"{label} after ({operation}).backward()",
            np.array(grads),
            np.array(spec["grads"](a, b)),
            call=shown,
            rtol=1e-9,
            mistakes={k: np.array(v) for k, v in spec["mistakes"](a, b).items()},
            hint=f"check the local derivative of {operation}",
        )


_FORWARDS = (
    "likely mistake : the sweep walks the order forwards: in ((z * 3) * 2).backward(), z.grad "
    "stayed 0 because z * 3 passed its grad on before it had received any; walk "
    "reversed(topological_order(self))"
)


@contextlib.contextmanager
def _sweep_diagnosis(Value: type):
    """Re-raise a failed gradient check with the sweep's order named, when a probe shows it.

    The probe is ``((z * 3) * 2).backward()``: a sweep in the right order gives ``z.grad = 6``;
    one that walks the topological order forwards, leaves first, lets ``z * 3`` pass on its
    grad while it is still 0, so ``z.grad`` stays 0 though the seed is 1. Only run after a
    failure, and only named when no other mistake was.
    """
    try:
        yield
    except CheckFailure as failure:
        if any(line.startswith("likely mistake") for line in failure.details):
            raise
        try:
            z = Value(0.5)
            w = (z * 3.0) * 2.0
            with quiet():
                w.backward()
            forwards = _float(w.grad) == 1.0 and _float(z.grad) == 0.0
        except Exception:  # noqa: BLE001 - the probe only adds a diagnosis when it can
            forwards = False
        if not forwards:
            raise
        details = [line for line in failure.details if not line.startswith("hint")]
        raise CheckFailure(failure.summary, details + [_FORWARDS]) from None


_NO_SEED = "likely mistake : backward() must start with self.grad = 1.0 (dL/dL = 1)"


# --------------------------------------------------------------------------- Value: whole graphs


def _fork_product(x, y):  # x used twice by one node
    return x * x + y


def _fork_diamond(x, y):  # x feeds two nodes that meet again
    return (x * y) * (x + 2)


def _fork_shared(x, y):  # an intermediate node used by three others
    a = (x * y).tanh()
    return a * 3 + a.exp() * (a - x)


def _fork_deep(x, y):  # a fork over a long stretch
    h = x
    for _ in range(5):
        h = (h * y).sigmoid() + h
    return h * x


FORKS = {
    "x * x + y": _fork_product,
    "(x * y) * (x + 2)": _fork_diamond,
    "a * 3 + a.exp() * (a - x) with a = (x * y).tanh()": _fork_shared,
    "h * x, where h = x and then 5 times h = (h * y).sigmoid() + h": _fork_deep,
}


def _mistaken_backward(root: ref.Value, mistake: str) -> None:
    """A typical wrong backward pass, run on reference nodes to recognise it."""
    if mistake == "revisit":
        order: list[ref.Value] = []

        def visit(node):
            for child in node.inputs:
                visit(child)
            order.append(node)

        visit(root)
    else:
        order = ref.topological_order(root)
    root.grad = 0.0 if mistake == "no seed" else 1.0
    for node in order if mistake == "forwards" else reversed(order):
        for inp, local in zip(node.inputs, node.local_grads):
            if mistake == "overwrite":
                inp.grad = local * node.grad
            else:
                inp.grad += local * node.grad


ENGINE_MISTAKES = {
    "overwrite": "a gradient is overwritten (=) where a node is used twice: add with +=",
    "revisit": "a shared node is visited twice in the backward pass: order each node once",
    "no seed": "backward() must start with self.grad = 1.0 (dL/dL = 1)",
    "forwards": "the sweep walks the order forwards, leaves first: walk it in "
    "reverse (reversed(order)), so a node's grad is complete before it is passed on",
}


def _reference_grads(f: Callable, point, mistake: str | None = None) -> np.ndarray:
    leaves = [ref.Value(p) for p in point]
    root = f(*leaves)
    if mistake is None:
        root.backward()
    else:
        _mistaken_backward(root, mistake)
    return np.array([leaf.grad for leaf in leaves])


def _student_grads(Value: type, f: Callable, point, shown: str) -> tuple[np.ndarray, float]:
    leaves = [_attempt("Value(...)", lambda p=p: Value(p)) for p in point]
    root = _attempt("Value: building the expression", lambda: f(*leaves))
    if not _isinstance(root, Value):
        raise CheckFailure(
            "Value: an expression of Values must give a Value.",
            [f"call : {shown}", f"got  : {type(root).__name__}"],
        )
    _attempt("backward()", root.backward)
    data = _number("out.data", _attempt("reading data", lambda: root.data), shown)
    grads = [_number("grad", _attempt("reading grad", lambda v=v: v.grad), shown) for v in leaves]
    return np.array(grads), data


def _expect_graph(Value: type, f: Callable, point, text: str) -> None:
    names = [f"x{i}" for i in range(len(point))] if len(point) != 2 else ["x", "y"]
    where = ", ".join(f"{n} = Value({p!r})" for n, p in zip(names, point))
    shown = f"{where}; out = {text}; out.backward()"
    got, data = _student_grads(Value, f, point, shown)
    expected_data = f(*[ref.Value(p) for p in point]).data
    check("Value: out.data", data, expected_data, call=shown, rtol=1e-12)
    mistakes = {desc: _reference_grads(f, point, key) for key, desc in ENGINE_MISTAKES.items()}
    with _sweep_diagnosis(Value):
        check(
            f"Value: the leaves' grads ({', '.join(n + '.grad' for n in names)})",
            got,
            _reference_grads(f, point),
            call=shown,
            rtol=1e-9,
            mistakes=mistakes,
            hint="compare each node's local derivative, and add (+=) at every use of a node",
        )


def expect_Value_fork(Value: type, fork: str, x: float, y: float) -> None:
    """The graph ``fork`` of :data:`FORKS` at ``(x, y)``: values and both leaves' grads."""
    _expect_graph(Value, FORKS[fork], (x, y), fork)


def expect_Value_random_expression(Value: type, seed: int, n_inputs: int = 3) -> None:
    """A random expression (``helpers.autodiff.random_expression``, seeded) at a seeded point."""
    rng = np.random.default_rng(seed)
    expression = ref.random_expression(rng, n_inputs, n_steps=8)
    point = [round(float(p), 3) for p in rng.uniform(-1.5, 1.5, n_inputs)]
    _expect_graph(Value, expression, point, expression.text)


@exercise(LESSON, "Exercise 07.2 · The Value engine", "Value")
def check_Value(Value: type) -> None:
    """Leaves, every operation on its own, graphs with forks, and random expressions."""
    for number in (2.5, 3, -1):
        expect_Value_leaf(Value, number)
    for operation, a, b in OPERATION_CASES:
        expect_Value_operation(Value, operation, a, b)
    for fork, (x, y) in zip(FORKS, ((1.5, -0.5), (0.7, 1.2), (0.4, 0.9), (0.8, -0.6))):
        expect_Value_fork(Value, fork, x, y)
    for seed in (1, 2, 3):
        expect_Value_random_expression(Value, seed)


# --------------------------------------------------------------------------- autodiff_gradient


def _gradient_case_sum(x, y, z):
    return (x * y + z).tanh() * x + z**2


def _gradient_case_neuron(w, b, x):
    return ((w * x + b).sigmoid() - 1) ** 2


def _gradient_case_log(a, b, c):
    return (a * a + b * b + 1).log() / (c.exp() + 1)


GRADIENT_CASES = {
    "(x * y + z).tanh() * x + z ** 2": (_gradient_case_sum, (0.5, -1.2, 0.3)),
    "((w * x + b).sigmoid() - 1) ** 2": (_gradient_case_neuron, (0.8, -0.2, 1.5)),
    "(a * a + b * b + 1).log() / (c.exp() + 1)": (_gradient_case_log, (1.1, -0.4, 0.25)),
}


def expect_autodiff_gradient(autodiff_gradient: Callable, case: str, point=None) -> None:
    """``autodiff_gradient(f, point)`` for the function ``case`` of :data:`GRADIENT_CASES`.

    ``point`` defaults to the case's own point.
    """
    f, default = GRADIENT_CASES[case]
    point = tuple(_float(p) for p in (default if point is None else point))
    shown = f"autodiff_gradient(f, {list(point)}) with f = lambda ...: {case}"
    got = _attempt("autodiff_gradient", lambda: autodiff_gradient(f, list(point)))
    require_returned("autodiff_gradient", got, shown, "return the list of the leaves' grads")
    try:
        values = [_float(g) for g in got]
    except (TypeError, ValueError):
        raise CheckFailure(
            "autodiff_gradient must return a list of numbers (one grad per coordinate).",
            [f"call : {shown}", f"got  : {got!r}"],
        ) from None
    expected = _reference_grads(f, point)
    check(
        "autodiff_gradient",
        np.array(values),
        expected,
        call=shown,
        rtol=1e-9,
        mistakes={
            "returned the inputs' data, not their grads": np.array(point, dtype=float),
            "returned the grads before calling backward()": np.zeros(len(point)),
        },
        hint="one Value per coordinate, f(*values).backward(), then read each value's grad",
    )


@exercise(LESSON, "Exercise 07.3 · A gradient from your engine", "autodiff_gradient")
def check_autodiff_gradient(autodiff_gradient: Callable) -> None:
    """The gradient of three functions of three inputs, forks included."""
    for case in GRADIENT_CASES:
        expect_autodiff_gradient(autodiff_gradient, case)


# --------------------------------------------------------------------------- zero_grad (challenge)


def expect_zero_grad(zero_grad: Callable, graph: str) -> None:
    """``zero_grad(root)`` sets ``grad`` to zero on every node of the graph and returns None.

    ``data`` and ``inputs`` stay as they were; the integer 0 is accepted as well as 0.0.
    """
    root = _graph(graph)
    nodes = _reachable(root, "node")
    inputs = [n.inputs for n in nodes]
    for k, node in enumerate(nodes):
        node.data, node.grad = 0.5 * k + 1.0, 2.0 * k - 3.5
    shown = f"zero_grad(root) for the graph {_describe_graph(root)}, every grad non-zero"
    got = _attempt("zero_grad", lambda: zero_grad(root), _depth(root))
    left = [n.name for n in nodes if not _is_zero(n.grad)]
    if left:
        hint = (
            "only the root was reset: visit every node (your topological_order gives them all)"
            if len(left) == len(nodes) - 1 and _is_zero(root.grad)
            else "set node.grad = 0.0 on every node reached through inputs"
        )
        raise CheckFailure(
            "zero_grad left grads that are not 0.0.",
            [f"call : {shown}", f"nodes whose grad is not 0.0 : {left}", f"hint : {hint}"],
        )
    changed = [n.name for k, n in enumerate(nodes) if n.data != 0.5 * k + 1.0]
    changed += [
        n.name
        for n, before in zip(nodes, inputs)
        if [_id(i) for i in n.inputs] != [_id(i) for i in before]
    ]
    if changed:
        raise CheckFailure(
            "zero_grad changed more than grad.",
            [f"call : {shown}", f"changed : {changed}", "reset grad only; leave data and inputs"],
        )
    if got is not None:
        raise CheckFailure(
            "zero_grad must return nothing (None).",
            [f"call : {shown}", f"got  : {type(got).__name__}", "drop the return statement"],
        )


@exercise(LESSON, "Challenge 07 · Zero the gradients", "zero_grad")
def check_zero_grad(zero_grad: Callable) -> None:
    """Every grad of a leaf, a chain, a diamond and a graph with a shared node back to 0.0."""
    for graph in ("leaf", "chain", "diamond", "shared intermediate"):
        expect_zero_grad(zero_grad, graph)


# --------------------------------------------------------------------------- arrays: matmul_vjp


def _arrays_from(what: str, got: Any, count: int, shown: str, names: str) -> tuple:
    """``got`` as a tuple of ``count`` float arrays, or a CheckFailure saying what it is."""
    require_returned(what, got, shown, f"return the tuple {names}")
    if not _isinstance(got, tuple):
        raise CheckFailure(
            f"{what} must return a tuple {names}.",
            [f"call : {shown}", f"got  : {type(got).__name__}", f"return {names[1:-1]}"],
        )
    if len(got) != count:
        raise CheckFailure(
            f"{what} must return a tuple of {count} arrays {names}.",
            [f"call : {shown}", f"got  : a tuple of {len(got)}"],
        )
    return got


def expect_matmul_vjp(matmul_vjp: Callable, A: Any, B: Any, G: Any) -> None:
    """``matmul_vjp(A, B, G)`` = ``(G @ B.T, A.T @ G)``, exact shapes, inputs unmodified."""
    A, B, G = (np.array(a, dtype=float) for a in (A, B, G))
    shown = (
        f"matmul_vjp(A, B, G) with A of shape {A.shape}, B of shape {B.shape}, G of shape {G.shape}"
    )
    try:
        got = call(matmul_vjp, A, B, G, name="matmul_vjp")
    except CheckFailure as failure:
        if failure.error != "ValueError":
            raise
        raise CheckFailure(
            failure.summary,
            [
                f"call    : {shown}",
                *failure.details[1:],
                "hint    : mind the shapes: G is (m, p), so G @ B.T is (m, n) like A, and "
                "A.T @ G is (n, p) like B",
            ],
            cause=failure.cause,
            error=failure.error,
        ) from None
    dA, dB = _arrays_from("matmul_vjp", got, 2, shown, "(dA, dB)")
    expected = ref.matmul_vjp(A, B, G)
    swapped = _shape(dA) == expected[1].shape and _shape(dB) == expected[0].shape
    if swapped and expected[0].shape != expected[1].shape:
        raise CheckFailure(
            "matmul_vjp returned the two gradients in the wrong order.",
            [
                f"call           : {shown}",
                f"got shapes     : {_shape(dA)}, {_shape(dB)}",
                f"expected shapes: {expected[0].shape} (dA, like A), {expected[1].shape} (dB)",
                "likely mistake : return (dA, dB): the gradient of A first",
            ],
        )
    for name, value, want, mistakes in (
        ("dA", dA, expected[0], _matmul_mistakes(A, B, G, "dA")),
        ("dB", dB, expected[1], _matmul_mistakes(A, B, G, "dB")),
    ):
        if _shape(value) != want.shape:
            named = [m for m, w in mistakes.items() if w.shape == _shape(value)]
            raise CheckFailure(
                f"matmul_vjp's {name} has the wrong shape.",
                [
                    f"call           : {shown}",
                    f"expected shape : {want.shape} (the shape of {'A' if name == 'dA' else 'B'})",
                    f"got shape      : {_shape(value)}",
                ]
                + ([f"likely mistake : {named[0]}"] if named else []),
            )
        check(
            f"matmul_vjp's {name}",
            value,
            want,
            call=shown,
            rtol=1e-10,
            atol=1e-12 * (1 + _norm(want)),
            mistakes=mistakes,
            hint="dA = G @ B.T and dB = A.T @ G: each has the shape of the input it belongs to",
        )


def _shape(value: Any) -> tuple:
    return tuple(np.shape(value))


def _norm(value: Any) -> float:
    v = np.asarray(value, dtype=float).ravel()
    return float(math.sqrt(float(v @ v))) if v.size else 0.0


def _matmul_mistakes(A, B, G, which: str) -> dict[str, np.ndarray]:
    """Typical wrong formulas for dA or dB, where their shapes allow them."""
    candidates = {
        "dA": {
            "transposed: dA = G @ B.T has A's shape (m, n); B @ G.T is its transpose": (
                lambda: B @ G.T
            ),
            "dA is G @ B.T: B must be transposed (G @ B)": lambda: G @ B,
            "swapped the two rules: dA = G @ B.T, dB = A.T @ G": lambda: A.T @ G,
            "dA is G @ B.T, not G.T @ B": lambda: G.T @ B,
        },
        "dB": {
            "transposed: dB = A.T @ G has B's shape (n, p); G.T @ A is its transpose": (
                lambda: G.T @ A
            ),
            "dB is A.T @ G: A must be transposed (A @ G)": lambda: A @ G,
            "swapped the two rules: dA = G @ B.T, dB = A.T @ G": lambda: G @ B.T,
            "dB is A.T @ G, not A @ G.T": lambda: A @ G.T,
        },
    }[which]
    out = {}
    for name, build in candidates.items():
        try:
            out[name] = build()
        except ValueError:  # the shapes do not allow this mistake
            continue
    return out


def _random(shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).round(3)


@exercise(LESSON, "Exercise 07.4 · The backward rule of a matrix product", "matmul_vjp")
def check_matmul_vjp(matmul_vjp: Callable) -> None:
    """A (3, 4) @ (4, 2) product, where every shape differs, and square ones, where they agree."""
    expect_matmul_vjp(matmul_vjp, _random((3, 4), 1), _random((4, 2), 2), _random((3, 2), 3))
    expect_matmul_vjp(matmul_vjp, _random((3, 3), 4), _random((3, 3), 5), _random((3, 3), 6))


# --------------------------------------------------------------------------- arrays: unbroadcast


def _unbroadcast_mistakes(grad: np.ndarray, shape: tuple) -> dict[str, Any]:
    """What typical wrong answers return, by value (their shapes may differ from ``shape``)."""
    lead = grad.ndim - len(shape)
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    summed = grad.sum(axis=tuple(range(lead))) if lead else grad
    out: dict[str, Any] = {}
    if ones:
        out["summed an axis without keepdims=True: where shape has 1 the axis stays, length 1"] = (
            summed.sum(axis=ones)
        )
    axes = tuple(range(lead)) + tuple(lead + i for i in ones)
    if axes:
        out[
            "averaged: a broadcast array's gradient is the sum of its copies' gradients, not "
            "their mean"
        ] = ref.unbroadcast(grad, shape) / math.prod(grad.shape[a] for a in axes)
    if lead and len(shape) and grad.ndim > 1:
        out[
            "summed the last axes: broadcasting adds the new axes in front, so sum the leading ones"
        ] = grad.sum(axis=tuple(range(len(shape), grad.ndim)))
    out["summed every axis: keep the axes that shape keeps"] = grad.sum()
    return out


def expect_unbroadcast(unbroadcast: Callable, grad: Any, shape: tuple) -> None:
    """``unbroadcast(grad, shape)``: the sums of :func:`helpers.autodiff.unbroadcast`, shape exact.

    An array or a NumPy scalar is accepted for ``shape == ()``; ``grad`` must not be modified.
    """
    grad = np.array(grad, dtype=float)
    shape = tuple(shape)
    shown = f"unbroadcast(grad, {shape}) with grad of shape {grad.shape}"
    got = call(unbroadcast, grad, shape, name="unbroadcast")
    require_returned("unbroadcast", got, shown, "return the summed gradient")
    expected = ref.unbroadcast(grad, shape)
    mistakes = _unbroadcast_mistakes(grad, shape)
    if _shape(got) != shape:
        named = [
            m
            for m, w in mistakes.items()
            if _shape(w) == _shape(got) and np.allclose(got, w, rtol=1e-9, atol=1e-12)
        ]
        raise CheckFailure(
            "unbroadcast returned the wrong shape.",
            [
                f"call           : {shown}",
                f"expected shape : {shape}",
                f"got shape      : {_shape(got)}",
            ]
            + (
                [f"likely mistake : {named[0]}"]
                if named
                else [
                    "hint           : sum the leading axes broadcasting added, then every axis "
                    "where shape has 1 and grad does not, with keepdims=True"
                ]
            ),
        )
    check(
        "unbroadcast",
        got,
        expected,
        call=shown,
        rtol=1e-12,
        atol=1e-12 * (1 + _norm(expected)),
        mistakes={k: v for k, v in mistakes.items() if _shape(v) == shape},
        hint="each entry of the result is the sum of the gradients of all its broadcast copies",
    )


@exercise(LESSON, "Exercise 07.5 · Undo broadcasting", "unbroadcast")
def check_unbroadcast(unbroadcast: Callable) -> None:
    """A bias row, a 1-D bias, a scalar, a column and nothing to undo."""
    grad = _random((4, 3), 7)
    for shape in ((1, 3), (3,), (), (4, 1), (4, 3)):
        expect_unbroadcast(unbroadcast, grad, shape)
    expect_unbroadcast(unbroadcast, _random((2, 3, 4), 8), (3, 1))


# --------------------------------------------------------------------------- your engine, on XOR


def engine_ready(Value: type) -> bool:
    """Whether ``Value`` passes its visible check now (the lesson's "your engine trains XOR"
    cell runs the student's engine only then, so the notebook runs top to bottom before the
    exercise is done)."""
    try:
        check_Value(Value)
    except CheckFailure:
        return False
    return True


# --------------------------------------------------------------------------- quiz

QUIZ = (
    "q1_reverse_cost_independent_of_inputs",
    "q2_one_dual_pass_gives_full_gradient",
    "q3_fork_keeps_last_contribution",
    "q4_autodiff_has_truncation_error",
    "q5_second_backward_is_harmless",
)
check_quiz = quiz_exercise(LESSON, QUIZ, "Quiz 07")
