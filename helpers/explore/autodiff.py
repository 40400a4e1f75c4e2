"""Lesson 07: the backward pass of a small computation graph, one node at a time.

The graph is f = tanh(x·y + y), built with the reference engine :class:`helpers.autodiff.Value`:
y is used twice (by a = x·y and by b = a + y), so its gradient is the sum of two contributions.
Step k shows the grads after the first k nodes of the reverse topological order have passed
their contributions to their inputs.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from ..autodiff import Value, topological_order
from . import shipped
from .shell import BLACK, BLUE, GREY, VERMILLION, Explorer, add_legend, slider

# Where each node sits (x, y in axes units) and its name in the picture.
_LAYOUT = {"x": (0.0, 1.0), "y": (0.0, -1.0), "a": (2.2, 0.6), "b": (4.4, 0.0), "f": (6.6, 0.0)}
_FORMULA = {"a": "a = x·y", "b": "b = a + y", "f": "f = tanh(b)"}


def backward_steps(x: float, y: float) -> tuple[dict[str, Value], list[dict[str, float]]]:
    """The graph of tanh(x·y + y) and the grads after each step of its backward sweep.

    Returns
    -------
    nodes : dict
        ``{"x", "y", "a", "b", "f"}`` -> the reference :class:`~helpers.autodiff.Value`.
    steps : list of dict
        ``steps[k]`` maps each node name to its grad after k nodes have been processed
        (``steps[0]``: only the seed f.grad = 1). The last entry equals ``f.backward()``.
    """
    vx, vy = Value(x, label="x"), Value(y, label="y")
    a = vx * vy
    b = a + vy
    f = b.tanh()
    nodes = {"x": vx, "y": vy, "a": a, "b": b, "f": f}
    names = {id(node): name for name, node in nodes.items()}
    f.grad = 1.0
    steps = [{name: node.grad for name, node in nodes.items()}]
    for node in reversed(topological_order(f)):
        if not node.inputs:
            continue  # a leaf has nothing to pass on
        for inp, local in zip(node.inputs, node.local_grads):
            inp.grad += local * node.grad
        steps.append({name: n.grad for name, n in nodes.items()})
        steps[-1]["_done"] = names[id(node)]
    return nodes, steps


def _processed_order(steps: list[dict]) -> list[str]:
    return [s["_done"] for s in steps[1:]]


def _draw_graph(ax, x: float, y: float, step: int) -> str:
    nodes, steps = backward_steps(x, y)
    step = max(0, min(step, len(steps) - 1))
    grads = steps[step]
    done = _processed_order(steps)[:step]
    current = done[-1] if done else None
    for name, node in nodes.items():
        for inp, local in zip(node.inputs, node.local_grads):
            src = next(k for k, v in nodes.items() if v is inp)
            (x0, y0), (x1, y1) = _LAYOUT[src], _LAYOUT[name]
            active = name == current
            ax.annotate(
                "",
                (x1 - 0.65, y1 + (y0 - y1) * 0.12),
                (x0 + 0.65, y0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": VERMILLION if active else GREY,
                    "lw": 2.2 if active else 1.2,
                },
            )
            ax.text(
                (x0 + x1) / 2,
                (y0 + y1) / 2 + 0.16,
                f"∂{name}/∂{src} = {local:.3g}",
                ha="center",
                fontsize=7,
                color=BLUE,
            )
    for name, node in nodes.items():
        px, py = _LAYOUT[name]
        finished = name in done or (not node.inputs and step == len(steps) - 1)
        edge = VERMILLION if name == current else (BLACK if finished else GREY)
        ax.add_patch(
            FancyBboxPatch(
                (px - 0.65, py - 0.32),
                1.3,
                0.64,
                boxstyle="round,pad=0.04",
                fc="#fdf1e6" if name == current else "white",
                ec=edge,
                lw=2.0 if name == current else 1.2,
            )
        )
        ax.text(px, py + 0.15, _FORMULA.get(name, name), ha="center", fontsize=8.5)
        ax.text(px, py - 0.02, f"data = {node.data:.4g}", ha="center", fontsize=8)
        ax.text(
            px,
            py - 0.19,
            f"grad = {grads[name]:.4g}",
            ha="center",
            fontsize=8.5,
            color=VERMILLION if grads[name] else GREY,
            fontweight="bold",
        )
    from matplotlib.patches import Patch

    key = [
        Patch(fc="white", ec=BLACK, label="node: its data and grad so far"),
        Patch(fc="#fdf1e6", ec=VERMILLION, label="this step: grad passed to the inputs"),
        Patch(fc=BLUE, ec=BLUE, label="edge: local derivative"),
    ]
    add_legend(ax, handles=key, loc="upper right")
    ax.set_xlim(-0.8, 7.4)
    ax.set_ylim(-1.55, 1.55)
    ax.set_axis_off()
    if current is None:
        return "step 0: the seed f.grad = 1; every other grad is still 0"
    node = nodes[current]
    name_of = {id(v): k for k, v in nodes.items()}
    pushed = ", ".join(
        f"{name_of[id(inp)]}.grad += {local:.3g} × {grads[current]:.4g}"
        for inp, local in zip(node.inputs, node.local_grads)
    )
    return f"step {step}: node {current} passes its grad on: {pushed}"


def backward_pass(x: float = 0.5, y: float = -1.5, step: int = 0, static: bool = False):
    """Step through the backward sweep of f = tanh(x·y + y), values and grads on the nodes.

    Parameters
    ----------
    x, y : the inputs (sliders).
    step : how many nodes of the reverse topological order have passed on their grads
        (slider, 0 to 3).
    static : return the fallback grid (steps 0, 1, 2 and 3) as a Figure.
    """
    last = len(backward_steps(x, y)[1]) - 1

    def draw(fig: Figure, step: int, x: float, y: float) -> str:
        text = _draw_graph(fig.subplots(), x, y, step)
        fig.suptitle(
            "Backward pass of f = tanh(x·y + y): y is used twice, so its grad is a sum",
            fontweight="bold",
            fontsize=11,
        )
        nodes, steps = backward_steps(x, y)
        if step >= last:
            text += (
                f"\ndone: ∂f/∂x = {steps[-1]['x']:.6g} = (1 − f²)·y, "
                f"∂f/∂y = {steps[-1]['y']:.6g} = (1 − f²)·(x + 1)"
            )
        return text

    def grid() -> Figure:
        fig = Figure(figsize=(12, 7.6), layout="constrained")
        for k, ax in enumerate(fig.subplots(2, 2).ravel()):
            text = _draw_graph(ax, float(x), float(y), k)
            ax.set_title(text, fontsize=8.5, wrap=True)
        fig.suptitle(
            "The backward sweep node by node: f, then b, then a; y's grad is added to twice",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    controls = {
        "step": slider("int", "backward step", int(step), min=0, max=last),
        "x": slider("float", "input x", float(x), min=-2, max=2, step=0.1),
        "y": slider("float", "input y", float(y), min=-2, max=2, step=0.1),
    }
    picture = shipped.key("backward_pass", x=x, y=y, step=step)
    return Explorer(
        "backward_pass",
        controls,
        draw,
        grid,
        size=(10, 4.6),
        picture_key=picture,
        alt=(
            "The computation graph of f = tanh(x y + y) with each node's value and, step by "
            "step through the backward sweep, the gradients reached so far."
        ),
        grid_alt=(
            "The graph of f = tanh(x y + y) at four moments of the backward sweep, each node "
            "with its value and the gradient it has received so far: y's gradient is added "
            "to twice."
        ),
    )
