"""Lesson 02's explorer: a small computation graph, its forward values and backward products."""

from __future__ import annotations

from matplotlib.figure import Figure

from ..differentiate import central_difference
from ..mlp import sigmoid
from . import shipped
from .shell import BLACK, BLUE, VERMILLION, Explorer, add_legend, slider

__all__ = ["chain_rule_graph"]


def _chain_values(x: float, w1: float, w2: float, y: float) -> dict[str, float]:
    z1 = w1 * x
    a1 = float(sigmoid(z1))
    pred = w2 * a1
    loss = (pred - y) ** 2
    local = {
        "dz1/dx": w1,
        "dz1/dw1": x,
        "da1/dz1": a1 * (1 - a1),
        "dpred/da1": w2,
        "dpred/dw2": a1,
        "dL/dpred": 2 * (pred - y),
    }
    back = {"L": 1.0, "pred": local["dL/dpred"]}
    back["a1"] = back["pred"] * local["dpred/da1"]
    back["w2"] = back["pred"] * local["dpred/dw2"]
    back["z1"] = back["a1"] * local["da1/dz1"]
    back["w1"] = back["z1"] * local["dz1/dw1"]
    back["x"] = back["z1"] * local["dz1/dx"]
    return {"z1": z1, "a1": a1, "pred": pred, "L": loss, "local": local, "back": back}


def _chain_loss(x: float, w1: float, w2: float, y: float) -> float:
    return float((w2 * float(sigmoid(w1 * x)) - y) ** 2)


def _draw_chain(ax, x: float, w1: float, w2: float, y: float) -> dict:
    v = _chain_values(x, w1, w2, y)
    nodes = _draw_nodes(ax, v, x, w1, w2, y)
    _draw_local_derivatives(ax, nodes, v["local"])
    _draw_backward_products(ax, nodes, v["back"])
    from matplotlib.patches import Patch

    key = [
        Patch(fc="white", ec=BLACK, label="node: forward value"),
        Patch(fc=BLUE, ec=BLUE, label="edge: local derivative"),
        Patch(fc=VERMILLION, ec=VERMILLION, label="∂L/∂node: backward product"),
    ]
    add_legend(ax, handles=key, loc="lower center", ncol=3)
    ax.set_xlim(-1.1, 10.7)
    ax.set_ylim(-2.55, 2.0)
    ax.set_axis_off()
    return v


def _draw_nodes(ax, v: dict, x: float, w1: float, w2: float, y: float) -> dict:
    """The boxes with the forward values; returns ``{node: (x, y, text)}`` for the arrows."""
    nodes = {
        "x": (0.0, 0.0, f"x\n= {x:.3g}"),
        "z1": (2.4, 0.0, f"z₁ = w₁·x\n= {v['z1']:.4g}"),
        "a1": (4.8, 0.0, f"a₁ = σ(z₁)\n= {v['a1']:.4g}"),
        "pred": (7.2, 0.0, f"ŷ = w₂·a₁\n= {v['pred']:.4g}"),
        "L": (9.6, 0.0, f"L = (ŷ − y)²\n= {v['L']:.4g}"),
        "w1": (2.4, 1.55, f"w₁ = {w1:.3g}"),
        "w2": (7.2, 1.55, f"w₂ = {w2:.3g}"),
        "y": (9.6, 1.55, f"y = {y:.3g}"),
    }
    for key, (px, py, text) in nodes.items():
        param = key in ("w1", "w2", "y")
        ax.text(
            px,
            py,
            text,
            ha="center",
            va="center",
            fontsize=9,
            bbox={
                "boxstyle": "round,pad=0.35",
                "fc": "#eef5fb" if param else "white",
                "ec": BLUE if param else BLACK,
            },
        )
    return nodes


def _draw_local_derivatives(ax, nodes: dict, local: dict) -> None:
    """The arrows of the forward pass, each labelled with its local derivative (blue)."""
    edges = [
        ("x", "z1", f"∂z₁/∂x = w₁\n= {local['dz1/dx']:.3g}"),
        ("z1", "a1", f"∂a₁/∂z₁ = σ(1−σ)\n= {local['da1/dz1']:.3g}"),
        ("a1", "pred", f"∂ŷ/∂a₁ = w₂\n= {local['dpred/da1']:.3g}"),
        ("pred", "L", f"∂L/∂ŷ = 2(ŷ−y)\n= {local['dL/dpred']:.3g}"),
    ]
    for a, b, text in edges:
        (xa, ya, _), (xb, yb, _) = nodes[a], nodes[b]
        ax.annotate(
            "",
            (xb - 0.78, yb),
            (xa + 0.78, ya),
            arrowprops={"arrowstyle": "-|>", "color": BLACK, "lw": 1.4},
        )
        ax.text((xa + xb) / 2, 0.42, text, ha="center", va="bottom", fontsize=7.5, color=BLUE)
    for a, b, text in [
        ("w1", "z1", f"∂z₁/∂w₁ = x = {local['dz1/dw1']:.3g}"),
        ("w2", "pred", f"∂ŷ/∂w₂ = a₁ = {local['dpred/dw2']:.3g}"),
        ("y", "L", ""),
    ]:
        (xa, ya, _), (xb, yb, _) = nodes[a], nodes[b]
        ax.annotate(
            "",
            (xb, yb + 0.42),
            (xa, ya - 0.25),
            arrowprops={"arrowstyle": "-|>", "color": BLUE, "lw": 1.2},
        )
        if text:
            ax.text(xa + 0.12, 0.95, text, ha="left", va="center", fontsize=7.5, color=BLUE)


def _draw_backward_products(ax, nodes: dict, back: dict) -> None:
    """∂L/∂node under every node and beside the weights (vermillion)."""
    for key in ("x", "z1", "a1", "pred", "L"):
        px, _, _ = nodes[key]
        ax.text(
            px,
            -0.62,
            f"∂L/∂{_pretty(key)}\n= {back[key]:.4g}",
            ha="center",
            va="top",
            fontsize=8.5,
            color=VERMILLION,
            fontweight="bold",
        )
    ax.annotate(
        "",
        (0.0, -1.42),
        (9.6, -1.42),
        arrowprops={"arrowstyle": "-|>", "color": VERMILLION, "lw": 1.2, "ls": "--"},
    )
    ax.text(
        4.8,
        -1.5,
        "backward pass: multiply the local derivatives from L back to each node",
        ha="center",
        va="top",
        fontsize=8,
        color=VERMILLION,
    )
    for key in ("w1", "w2"):
        px, py, _ = nodes[key]
        ax.text(
            px - 0.72,
            py,
            f"∂L/∂{_pretty(key)} = {back[key]:.4g}",
            ha="right",
            va="center",
            fontsize=8.5,
            color=VERMILLION,
            fontweight="bold",
        )


def _pretty(key: str) -> str:
    return {"x": "x", "z1": "z₁", "a1": "a₁", "pred": "ŷ", "L": "L", "w1": "w₁", "w2": "w₂"}[key]


def chain_rule_graph(
    x: float = 2.0, w1: float = 0.5, w2: float = 0.8, y_true: float = 1.0, static: bool = False
):
    """The computation graph x → z₁ = w₁x → a₁ = σ(z₁) → ŷ = w₂a₁ → L = (ŷ − y)², both passes.

    Forward values sit in the nodes, local derivatives on the edges (blue), and the backward
    products ∂L/∂node under the nodes (vermillion). The readout checks ∂L/∂w₁ and ∂L/∂w₂ against
    ``helpers.central_difference`` of the loss.

    Parameters
    ----------
    x, w1, w2 : the input and the two weights (sliders).
    y_true : the target.
    static : return the fallback grid (w₁ = 0.5, 1.5, 3: the sigmoid saturating and ∂L/∂w₁
        vanishing) as a Figure.
    """
    y = float(y_true)

    def draw(fig: Figure, x: float, w1: float, w2: float) -> str:
        ax = fig.subplots()
        v = _draw_chain(ax, x, w1, w2, y)
        fig.suptitle(
            "Chain rule on a computation graph: forward values, local derivatives, "
            "backward products",
            fontweight="bold",
            fontsize=11,
        )
        back = v["back"]
        num_w1 = float(central_difference(lambda t: _chain_loss(x, t, w2, y), w1))
        num_w2 = float(central_difference(lambda t: _chain_loss(x, w1, t, y), w2))
        rel = [
            abs(a - b) / max(abs(a), abs(b), 1e-300) if (a or b) else 0.0
            for a, b in ((back["w1"], num_w1), (back["w2"], num_w2))
        ]
        return (
            f"∂L/∂w₁ = ∂L/∂ŷ · ∂ŷ/∂a₁ · ∂a₁/∂z₁ · ∂z₁/∂w₁ = {back['w1']:.8g}   "
            f"(central difference {num_w1:.8g}, relative error {rel[0]:.1e})\n"
            f"∂L/∂w₂ = ∂L/∂ŷ · ∂ŷ/∂w₂ = {back['w2']:.8g}   "
            f"(central difference {num_w2:.8g}, relative error {rel[1]:.1e})"
        )

    def grid() -> Figure:
        fig = Figure(figsize=(10, 11.5), layout="constrained")
        for ax, w1_ in zip(fig.subplots(3, 1), (0.5, 1.5, 3.0)):
            v = _draw_chain(ax, float(x), w1_, float(w2), y)
            ax.set_title(
                f"w₁ = {w1_:g}: z₁ = {v['z1']:.3g}, σ'(z₁) = {v['local']['da1/dz1']:.3g}, "
                f"∂L/∂w₁ = {v['back']['w1']:.3g}",
                fontsize=10,
            )
        fig.suptitle(
            "Chain rule graph at three values of w₁: as σ saturates, ∂L/∂w₁ vanishes",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    controls = {
        "x": slider("float", "input x", float(x), min=-3, max=3, step=0.1),
        "w1": slider("float", "weight w₁", float(w1), min=-3, max=3, step=0.1),
        "w2": slider("float", "weight w₂", float(w2), min=-3, max=3, step=0.1),
    }
    picture = shipped.key("chain_rule_graph", x=x, w1=w1, w2=w2, y_true=y_true)
    return Explorer(
        "chain_rule_graph",
        controls,
        draw,
        grid,
        size=(10, 4.4),
        picture_key=picture,
        alt=(
            "The computation graph x, z1 = w1 x, a1 = sigmoid(z1), y-hat = w2 a1, L = (y-hat "
            "- y) squared, with the forward values in the boxes, each arrow's local "
            "derivative, and the backward products dL/d(node) under the nodes."
        ),
        grid_alt=(
            "The computation graph with its forward values, local derivatives and backward "
            "products, drawn for three values of w1: the larger w1, the more the sigmoid "
            "saturates and the smaller dL/dw1."
        ),
    )
