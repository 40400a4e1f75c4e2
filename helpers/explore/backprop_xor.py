"""Lesson 05's explorer: a sigmoid network learning XOR, its decision boundary and loss curve."""

from __future__ import annotations

from functools import partial

import numpy as np
from matplotlib.figure import Figure

from ..mlp import MLP, xor_data
from . import shipped
from .shell import BLACK, BLUE, GREY, SKY, VERMILLION, Explorer, add_legend, slider

__all__ = ["xor_training"]


class _Trainer:
    """Trains one network incrementally, so "train 100 more" costs 100 epochs, not all of them."""

    def __init__(self):
        self.key = None
        self.model = None
        self.history: list[float] = []

    def at(self, seed: int, hidden: int, lr: float, epochs: int):
        X, y = xor_data()
        key = (seed, hidden, lr)
        if key != self.key or epochs < len(self.history):
            self.key, self.model, self.history = key, MLP(sizes=(2, hidden, 1), seed=seed), []
        more = epochs - len(self.history)
        if more > 0:
            self.history.extend(self.model.train(X, y, lr, more).tolist())
        return self.model, np.asarray(self.history), X, y


def _draw_boundary(ax, model, X: np.ndarray, y: np.ndarray, title: str):
    grid = np.linspace(-0.5, 1.5, 61)
    G1, G2 = np.meshgrid(grid, grid)
    out = model.forward(np.column_stack([G1.ravel(), G2.ravel()])).reshape(G1.shape)
    filled = ax.contourf(G1, G2, out, levels=np.linspace(0, 1, 11), cmap="PuOr_r", alpha=0.75)
    ax.contour(G1, G2, out, levels=[0.5], colors=BLACK, linewidths=2)
    labels = y.ravel()
    ax.scatter(
        X[labels == 0, 0],
        X[labels == 0, 1],
        marker="o",
        s=110,
        c=SKY,
        edgecolors=BLACK,
        zorder=5,
        label="XOR = 0",
    )
    ax.scatter(
        X[labels == 1, 0],
        X[labels == 1, 1],
        marker="^",
        s=130,
        c=VERMILLION,
        edgecolors=BLACK,
        zorder=5,
        label="XOR = 1",
    )
    ax.plot([], [], color=BLACK, lw=2, label="boundary: output 0.5")
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title, fontsize=9)
    return filled


def _draw_live(
    fig: Figure, trainer: _Trainer, seed: int, hidden: int, lr: float, epochs: int
) -> str:
    """The live picture: the boundary and loss after ``epochs``, trained by ``trainer``."""
    model, history, X, y = trainer.at(seed, hidden, lr, epochs)
    ax_b, ax_l = fig.subplots(1, 2, width_ratios=(1, 1.3))
    filled = _draw_boundary(ax_b, model, X, y, f"2-{hidden}-1 network after {epochs} epochs")
    fig.colorbar(filled, ax=ax_b, label="network output", shrink=0.8, pad=0.02)
    fig.get_layout_engine().set(wspace=0.12)
    if len(history):
        ax_l.semilogy(
            np.arange(1, len(history) + 1), history, color=BLUE, lw=1.8, label="training loss"
        )
    # The points' legend sits with the loss: inside the boundary panel it would hide a corner.
    add_legend(
        ax_l,
        handles=ax_b.get_legend_handles_labels()[0] + ax_l.get_legend_handles_labels()[0],
        loc="upper right",
    )
    ax_l.set_xlim(0, max(epochs, 100))
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("loss (log scale)")
    ax_l.set_title(f"seed {seed}, lr = {lr:.3g}", fontsize=9)
    fig.suptitle("Backpropagation learning XOR", fontweight="bold")
    out = model.forward(X).ravel()
    solved = bool(np.all((out > 0.5) == (y.ravel() > 0.5)))
    loss_text = f"loss {history[-1]:.4g}" if len(history) else "untrained"
    return (
        f"epochs {epochs}: {loss_text}; outputs for (0,0), (0,1), (1,0), (1,1): "
        + ", ".join(f"{o:.3f}" for o in out)
        + ("  → XOR solved" if solved else "  → not solved yet")
    )


def _grid(seed: int, hidden: int, lr: float) -> Figure:
    """The static fallback: the boundary at four moments of training and the loss curve."""
    fig = Figure(figsize=(13, 6.8), layout="constrained")
    spec = fig.add_gridspec(2, 4, height_ratios=(1.25, 1))
    local = _Trainer()
    marks = (0, 300, 1000, 5000)
    for i, epochs in enumerate(marks):
        model, history, X, y = local.at(int(seed), int(hidden), float(lr), epochs)
        loss_text = f", loss {history[-1]:.3g}" if len(history) else ""
        ax_b = fig.add_subplot(spec[0, i])
        _draw_boundary(ax_b, model, X, y, f"after {epochs} epochs{loss_text}")
    ax = fig.add_subplot(spec[1, :])
    ax.semilogy(np.arange(1, len(history) + 1), history, color=BLUE, lw=1.8, label="training loss")
    for epochs in marks[1:]:
        ax.axvline(epochs, color=GREY, ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (log scale)")
    ax.set_title(f"2-{hidden}-1 sigmoid network, seed {seed}, lr = {lr:g}", fontsize=9)
    add_legend(
        ax,
        handles=ax_b.get_legend_handles_labels()[0] + ax.get_legend_handles_labels()[0],
        loc="upper right",
    )
    fig.suptitle(
        "Backpropagation learning XOR: the decision boundary as training goes on",
        fontweight="bold",
    )
    return fig


def _controls(seed: int, hidden: int, lr: float) -> dict:
    return {
        "seed": slider("int", "seed", int(seed), min=0, max=20, step=1),
        "hidden": slider("int", "hidden units", int(hidden), min=2, max=8, step=1),
        "lr": slider(
            "log",
            "learning rate",
            float(lr),
            base=10,
            min=-2,
            max=1,
            step=0.1,
            readout_format=".2f",
        ),
        "epochs": slider("int", "epochs", 1000, min=0, max=10000, step=100),
    }


def xor_training(seed: int = 0, hidden: int = 4, lr: float = 0.5, static: bool = False):
    """A 2-hidden-1 sigmoid MLP (``helpers.MLP``) learning XOR: decision boundary and loss curve.

    Parameters
    ----------
    seed : the initialisation seed of ``helpers.MLP``.
    hidden : the number of hidden units (2 gets stuck for some seeds; 4 solves XOR reliably).
    lr : the learning rate of full-batch gradient descent.
    static : return the fallback grid (the boundary after 0, 300, 1000 and 5000 epochs, and the
        loss curve) as a Figure.

    The epochs slider trains from the seed's initialisation; "train 100 more" continues training.
    """
    if static:
        return _grid(seed, hidden, lr)
    import ipywidgets as widgets

    controls = _controls(seed, hidden, lr)
    more = widgets.Button(description="train 100 more", button_style="info", icon="play")

    def train_more(_button) -> None:
        epochs = controls["epochs"]
        epochs.max = max(epochs.max, epochs.value + 100)
        epochs.value += 100

    more.on_click(train_more)
    draw = partial(_draw_live, trainer=_Trainer())
    grid = partial(_grid, seed, hidden, lr)
    picture = shipped.key("xor_training", seed=seed, hidden=hidden, lr=lr)
    explorer = Explorer(
        "xor_training",
        controls,
        draw,
        grid,
        size=(10.5, 4.6),
        extra=(more,),
        picture_key=picture,
        alt=(
            "Left: the four XOR points and the decision boundary the sigmoid network has "
            "learned. Right: the training loss against epochs."
        ),
        grid_alt=(
            "The decision boundary of the sigmoid network learning XOR after 0, 300, 1000 and "
            "5000 epochs, above the training loss against epochs on a log scale."
        ),
    )
    explorer.train_more = more  # the button, for tests and for callers who want to click it
    return explorer
