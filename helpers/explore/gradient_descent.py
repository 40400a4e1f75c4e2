"""Lesson 04's explorer: gradient descent on a quadratic loss for a learning rate you choose."""

from __future__ import annotations

import math
import warnings

import numpy as np
from matplotlib.figure import Figure

from ..descent import gradient_descent
from .shell import BLACK, BLUE, ORANGE, VERMILLION, Explorer, add_legend, slider

__all__ = ["learning_rate"]


_LOSSES = {
    "round": ("(w₁ − 1)² + (w₂ + 0.5)²", 1.0),
    "narrow": ("(w₁ − 1)² + 10·(w₂ + 0.5)²", 10.0),
}


def _quadratic(c: float):
    def loss(w):
        w = np.asarray(w, dtype=float)
        return float((w[0] - 1.0) ** 2 + c * (w[1] + 0.5) ** 2)

    def grad(w):
        w = np.asarray(w, dtype=float)
        return np.array([2.0 * (w[0] - 1.0), 2.0 * c * (w[1] + 0.5)])

    return loss, grad


def _descent(kind: str, lr: float, start: tuple[float, float], steps: int):
    loss, grad = _quadratic(_LOSSES[kind][1])
    with warnings.catch_warnings():  # a diverging run is shown on purpose
        warnings.simplefilter("ignore")
        result = gradient_descent(grad, np.array(start, dtype=float), lr, steps, loss_fn=loss)
    return result.path, result.losses


def _verdict(lr: float, kind: str) -> str:
    smooth = 2.0 * _LOSSES[kind][1]  # the largest curvature L
    limit = 2.0 / smooth
    if lr < limit * 0.999:
        word = "converges"
    elif lr <= limit * 1.001:
        word = "oscillates without shrinking"
    else:
        word = "diverges"
    return (
        f"largest curvature L = {smooth:g}, so steps converge only for lr < 2/L = {limit:g}: "
        f"lr = {lr:.3g} {word}"
    )


def _draw_descent(
    ax_path,
    ax_loss,
    kind: str,
    lr: float,
    start: tuple[float, float],
    steps: int,
    legend: bool = True,
):
    formula, c = _LOSSES[kind]
    path, losses = _descent(kind, lr, start, steps)
    ws = np.linspace(-2.5, 3.0, 80)
    W1, W2 = np.meshgrid(ws, ws)
    Z = (W1 - 1.0) ** 2 + c * (W2 + 0.5) ** 2
    ax_path.contourf(W1, W2, Z, levels=np.geomspace(1e-3, Z.max(), 16), cmap="cividis", alpha=0.35)
    ax_path.contour(
        W1, W2, Z, levels=np.geomspace(1e-2, Z.max(), 8), colors="#555555", linewidths=0.5
    )
    finite = np.all(np.isfinite(path), axis=1)
    ax_path.plot(
        path[finite, 0],
        path[finite, 1],
        "-o",
        color=ORANGE,
        ms=3.5,
        lw=1.4,
        mec=BLACK,
        mew=0.4,
        label=f"path, lr = {lr:.3g}",
    )
    ax_path.plot(*path[0], "s", color=BLUE, mec=BLACK, ms=8, zorder=5, label="start")
    ax_path.plot(
        1.0, -0.5, "*", color=VERMILLION, mec=BLACK, ms=13, zorder=5, label="minimum (1, −0.5)"
    )
    ax_path.set_xlim(ws[0], ws[-1])
    ax_path.set_ylim(ws[0], ws[-1])
    ax_path.set_aspect("equal")
    ax_path.set_xlabel("w₁")
    ax_path.set_ylabel("w₂")
    ax_path.set_title(f"L(w) = {formula}", fontsize=9)
    keep = np.isfinite(losses)
    # An exact 0 (lr = 1/curvature lands on the minimum) cannot sit on a log axis: drawn at 1e-16.
    ax_loss.semilogy(
        np.arange(len(losses))[keep],
        np.maximum(losses[keep], 1e-16),
        "-o",
        color=BLUE,
        ms=3,
        lw=1.4,
        label="loss L(w_k)",
    )
    ax_loss.set_xlabel("step k")
    ax_loss.set_ylabel("loss (log scale)")
    ax_loss.set_title(
        f"lr = {lr:.3g}: final loss {losses[keep][-1]:.2e}" if keep.any() else f"lr = {lr:.3g}",
        fontsize=9,
    )
    if legend:
        add_legend(ax_path, loc="upper right")
        add_legend(ax_loss, loc="best")
    return path, losses


def learning_rate(lr: float = 0.1, start: tuple[float, float] = (-1.5, 1.5), static: bool = False):
    """Gradient descent on a quadratic loss: the path on the contours and the loss per step.

    ``helpers.gradient_descent`` runs w ← w − lr·∇L(w) on L(w₁, w₂) = (w₁ − 1)² + (w₂ + 0.5)²
    (round) or (w₁ − 1)² + 10(w₂ + 0.5)² (narrow, ill-conditioned). With largest curvature L
    (2 and 20), the steps converge only for lr < 2/L: the slider reaches beyond that limit.

    Parameters
    ----------
    lr : the learning rate.
    start : the starting point (w₁, w₂).
    static : return the fallback grid (lr = 0.01 crawls, 0.1 converges, 0.9 oscillates, 1.05
        diverges, on the round loss) as a Figure.
    """
    w0 = tuple(float(c) for c in start)

    def draw(fig: Figure, loss: str, lr: float, w1: float, w2: float, steps: int) -> str:
        ax_path, ax_loss = fig.subplots(1, 2)
        path, losses = _draw_descent(ax_path, ax_loss, loss, lr, (w1, w2), steps)
        fig.suptitle(
            "Gradient descent: too small crawls, too large oscillates or diverges",
            fontweight="bold",
        )
        keep = np.isfinite(losses)
        stopped = (
            ""
            if keep.all() and len(losses) == steps + 1
            else f" (stopped after {int(keep.sum()) - 1} steps: values overflowed)"
        )
        w_end, loss_end = path[keep][-1], losses[keep][-1]
        return (
            f"{_verdict(lr, loss)}\nafter {steps} steps: w = ({w_end[0]:.4g}, {w_end[1]:.4g}), "
            f"loss {loss_end:.3e}{stopped}"
        )

    def grid() -> Figure:
        rates = (0.01, 0.1, 0.9, 1.05)
        # A fixed layout: constrained layout costs half the render time of these eight panels.
        fig = Figure(figsize=(13, 6.6))
        fig.subplots_adjust(left=0.065, right=0.99, bottom=0.08, top=0.9, wspace=0.38, hspace=0.38)
        axes = fig.subplots(2, 4)
        stories = ("too small: crawls", "converges", "zig-zags, converges", "above 2/L: diverges")
        for i, (r, story) in enumerate(zip(rates, stories)):
            _draw_descent(axes[0, i], axes[1, i], "round", r, w0, 30, legend=(i == 0))
            axes[0, i].set_title(f"lr = {r:g}: {story}", fontsize=10)
        fig.suptitle(
            "Gradient descent on (w₁ − 1)² + (w₂ + 0.5)² for four learning rates (2/L = 1)",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    import ipywidgets as widgets

    controls = {
        "loss": widgets.Dropdown(
            options=[
                (f"round: {_LOSSES['round'][0]}", "round"),
                (f"narrow: {_LOSSES['narrow'][0]}", "narrow"),
            ],
            value="round",
            description="loss",
            style={"description_width": "initial"},
        ),
        "lr": slider(
            "log",
            "learning rate",
            float(lr),
            base=10,
            min=-3,
            max=math.log10(2.0),
            step=0.05,
            readout_format=".3f",
        ),
        "steps": slider("int", "steps", 30, min=1, max=100, step=1),
        "w1": slider("float", "start w₁", w0[0], min=-2, max=2.5, step=0.1),
        "w2": slider("float", "start w₂", w0[1], min=-2, max=2.5, step=0.1),
    }
    return Explorer("learning_rate", controls, draw, grid, size=(10.5, 4.8))
