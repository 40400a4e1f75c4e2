"""Lesson 04's explorers: gradient descent for a learning rate you choose, and mini-batch SGD."""

from __future__ import annotations

import math
import warnings
from functools import partial

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from ..descent import gradient_descent
from ..stochastic import line_data, mean_squared_error, mean_squared_error_grad, sgd
from . import shipped
from .shell import BLACK, BLUE, ORANGE, VERMILLION, Explorer, add_legend, slider

__all__ = ["learning_rate", "minibatch_sgd"]


# name: (formula, the curvatures along w1 and w2). "round" is the lesson's bowl; "narrow" is the
# ill-conditioned quadratic of its Section 3, (w1^2 + 10 w2^2)/2, moved to the same minimum.
_LOSSES = {
    "round": ("(w₁ − 1)² + (w₂ + 0.5)²", (2.0, 2.0)),
    "narrow": ("½(w₁ − 1)² + 5·(w₂ + 0.5)²", (1.0, 10.0)),
}
_MINIMUM = np.array([1.0, -0.5])


def _quadratic(curvatures: tuple[float, float]):
    lam = np.array(curvatures, dtype=float)

    def loss(w):
        e = np.asarray(w, dtype=float) - _MINIMUM
        return float(0.5 * lam @ (e * e))

    def grad(w):
        return lam * (np.asarray(w, dtype=float) - _MINIMUM)

    return loss, grad


def _descent(kind: str, lr: float, start: tuple[float, float], steps: int):
    loss, grad = _quadratic(_LOSSES[kind][1])
    with warnings.catch_warnings():  # a diverging run is shown on purpose
        warnings.simplefilter("ignore")
        result = gradient_descent(grad, np.array(start, dtype=float), lr, steps, loss_fn=loss)
    return result.path, result.losses


def _verdict(lr: float, kind: str) -> str:
    smooth = max(_LOSSES[kind][1])  # the largest curvature, lambda_max
    limit = 2.0 / smooth
    if lr < limit * 0.999:
        word = "converges"
    elif lr <= limit * 1.001:
        word = "oscillates without shrinking"
    else:
        word = "diverges"
    return (
        f"largest curvature λ_max = {smooth:g}, so steps converge only for "
        f"lr < 2/λ_max = {limit:g}: "
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
    formula, (c1, c2) = _LOSSES[kind]
    path, losses = _descent(kind, lr, start, steps)
    ws = np.linspace(-2.5, 3.0, 80)
    W1, W2 = np.meshgrid(ws, ws)
    Z = 0.5 * (c1 * (W1 - 1.0) ** 2 + c2 * (W2 + 0.5) ** 2)
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


def _draw_live(fig: Figure, loss: str, lr: float, w1: float, w2: float, steps: int) -> str:
    """The path on the contours and the loss per step, for the controls' settings."""
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


def _grid(w0: tuple[float, float]) -> Figure:
    """The static fallback: four learning rates on the round loss, from ``w0``."""
    rates = (0.01, 0.1, 0.9, 1.05)
    # A fixed layout: constrained layout costs half the render time of these eight panels.
    fig = Figure(figsize=(13, 6.6))
    fig.subplots_adjust(left=0.065, right=0.99, bottom=0.08, top=0.9, wspace=0.38, hspace=0.38)
    axes = fig.subplots(2, 4)
    stories = ("too small: crawls", "converges", "zig-zags, converges", "above 2/λ_max: diverges")
    for i, (r, story) in enumerate(zip(rates, stories)):
        _draw_descent(axes[0, i], axes[1, i], "round", r, w0, 30, legend=(i == 0))
        axes[0, i].set_title(f"lr = {r:g}: {story}", fontsize=10)
    fig.suptitle(
        "Gradient descent on (w₁ − 1)² + (w₂ + 0.5)² for four learning rates (2/λ_max = 1)",
        fontweight="bold",
    )
    return fig


def _controls(lr: float, w0: tuple[float, float]) -> dict:
    import ipywidgets as widgets

    return {
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


def learning_rate(lr: float = 0.1, start: tuple[float, float] = (-1.5, 1.5), static: bool = False):
    """Gradient descent on a quadratic loss: the path on the contours and the loss per step.

    ``helpers.gradient_descent`` runs w ← w − lr·∇L(w) on L(w₁, w₂) = (w₁ − 1)² + (w₂ + 0.5)²
    (round: Lesson 04's bowl, curvatures 2 and 2) or ½(w₁ − 1)² + 5(w₂ + 0.5)² (narrow: the
    ill-conditioned quadratic of Lesson 04's Section 3, curvatures 1 and 10, moved to the same
    minimum). With largest curvature λ_max (2 and 10), the steps converge only for
    lr < 2/λ_max (1 and 0.2): the slider reaches beyond.

    Parameters
    ----------
    lr : the learning rate.
    start : the starting point (w₁, w₂).
    static : return the fallback grid (lr = 0.01 crawls, 0.1 converges, 0.9 oscillates, 1.05
        diverges, on the round loss) as a Figure.
    """
    w0 = tuple(float(c) for c in start)
    if static:
        return _grid(w0)
    controls = _controls(lr, w0)
    grid = partial(_grid, w0)
    picture = shipped.key("learning_rate", lr=lr, start=w0)
    return Explorer(
        "learning_rate",
        controls,
        _draw_live,
        grid,
        size=(10.5, 4.8),
        picture_key=picture,
        alt=(
            "Left: the gradient descent path on the contours of a quadratic loss. Right: the "
            "loss per step on a log scale, falling for a small enough learning rate and "
            "growing when it is too large."
        ),
        grid_alt=(
            "Gradient descent on the round bowl for four learning rates, each path on the "
            "contours above its loss per step on a log scale: too small a rate crawls, one "
            "beyond 2/λ_max diverges."
        ),
    )


# --------------------------------------------------------------------------- mini-batch SGD

_SGD_START = (-1.0, -1.0)
# The live explorer's epochs at first: enough for a batch of 10 to settle on its noise floor, so
# that ticking "decay" shows the floor falling (after 10 epochs it has not settled yet).
EPOCHS = 20
_BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200)


def _line_problem():
    X, y = line_data(n=200, seed=0)
    w_hat = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y, w_hat, mean_squared_error(w_hat, X, y)


def _per_epoch(steps: int) -> str:
    return f"{steps} step{'' if steps == 1 else 's'} per epoch"


def _draw_sgd(ax_path, ax_loss, problem, batch_size, lr, epochs, decay, legend=True):
    """One SGD run: its path on the contours of L and its excess loss against epochs."""
    X, y, w_hat, loss_hat = problem
    rate = (lambda k: lr / (1.0 + k / len(X))) if decay else lr
    run = sgd(mean_squared_error_grad, _SGD_START, X, y, rate, batch_size, epochs, seed=0)
    a, b = np.meshgrid(np.linspace(-1.5, 2.0, 60), np.linspace(-1.5, 3.0, 60))
    grid = np.stack([a.ravel(), b.ravel()], axis=1)
    Z = np.mean((grid @ X.T - y) ** 2, axis=1).reshape(a.shape) - loss_hat
    ax_path.contour(
        a, b, Z, levels=np.geomspace(1e-2, Z.max(), 10), colors="#555555", linewidths=0.5
    )
    ax_path.plot(run.path[:, 0], run.path[:, 1], "-", color=ORANGE, lw=0.8, label="SGD path")
    ax_path.plot(*_SGD_START, "s", color=BLUE, mec=BLACK, ms=7, zorder=5, label="start")
    ax_path.plot(*w_hat, "*", color=VERMILLION, mec=BLACK, ms=12, zorder=5, label="least squares")
    ax_path.set_xlabel("w₁ (intercept)")
    ax_path.set_ylabel("w₂ (slope)")
    ax_path.set_title(
        f"batch size {batch_size}, lr = {lr:.3g}" + (", decaying" if decay else ""), fontsize=9
    )
    epoch = np.arange(len(run.path)) / run.steps_per_epoch
    # the loss at every row of the path at once: the mean squared error, vectorised
    excess = np.maximum(np.mean((run.path @ X.T - y) ** 2, axis=1) - loss_hat, 1e-12)
    ax_loss.semilogy(epoch, excess, color=BLUE, lw=0.8, label="L(w) − L(ŵ) after each step")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("excess loss (log scale)")
    ax_loss.set_ylim(1e-6, 20)  # a few decades: dips below are single lucky steps
    ax_loss.yaxis.set_minor_locator(NullLocator())  # minor log ticks: half the drawing time
    ax_loss.set_title(_per_epoch(run.steps_per_epoch), fontsize=9)
    if legend:
        add_legend(ax_path, loc="upper left")
        add_legend(ax_loss, loc="upper right")
    return run, excess


def minibatch_sgd(batch_size: int = 10, lr: float = 0.05, static: bool = False):
    """Mini-batch SGD on a line fit: the path on the contours and the loss against epochs.

    ``helpers.stochastic.sgd`` fits ``w = (intercept, slope)`` to the 200 points of
    ``helpers.stochastic.line_data()`` by mean squared error, from (−1, −1). A small batch
    takes many noisy steps per epoch; the full batch (200) one exact step; a larger lr or a
    smaller batch raises the noise floor, and a decaying lr, lr / (1 + k/200), lowers it.

    Parameters
    ----------
    batch_size : examples per step, one of 1, 2, 5, 10, 20, 50, 100, 200.
    lr : the (initial) learning rate. The epochs slider starts at 20 (:data:`EPOCHS`).
    static : return the fallback grid (batch sizes 1, 10 and 200 at lr = 0.05, 10 epochs) as
        a Figure.
    """
    problem = _line_problem()

    def draw(fig: Figure, batch_size: int, lr: float, epochs: int, decay: bool) -> str:
        ax_path, ax_loss = fig.subplots(1, 2)
        run, excess = _draw_sgd(ax_path, ax_loss, problem, batch_size, lr, epochs, decay)
        fig.suptitle("Mini-batch SGD: more steps per epoch, more noise per step", fontweight="bold")
        last = excess[-run.steps_per_epoch :]
        return (
            f"batch size {batch_size}: {_per_epoch(run.steps_per_epoch)}, "
            f"{len(run.path) - 1} steps in {epochs} epochs; mean excess loss over the last "
            f"epoch {last.mean():.2e}; final w = ({run.w[0]:.4f}, {run.w[1]:.4f})"
        )

    def grid() -> Figure:
        fig = Figure(figsize=(12, 6.6))
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.08, top=0.9, wspace=0.3, hspace=0.4)
        axes = fig.subplots(2, 3)
        for i, size in enumerate((1, 10, 200)):
            _draw_sgd(axes[0, i], axes[1, i], problem, size, 0.05, 10, False, legend=(i == 0))
        fig.suptitle(
            "Mini-batch SGD on a line fit, lr = 0.05, 10 epochs: batch sizes 1, 10, 200",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    import ipywidgets as widgets

    if batch_size not in _BATCH_SIZES:
        raise ValueError(f"batch_size must be one of {_BATCH_SIZES}; got {batch_size!r}")
    controls = {
        "batch_size": widgets.SelectionSlider(
            options=list(_BATCH_SIZES),
            value=batch_size,
            description="batch size",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
        "lr": slider(
            "log",
            "learning rate",
            float(lr),
            base=10,
            min=-3,
            max=math.log10(0.4),
            step=0.05,
            readout_format=".3f",
        ),
        "epochs": slider("int", "epochs", EPOCHS, min=1, max=40, step=1),
        "decay": widgets.Checkbox(value=False, description="decay lr / (1 + k/200)"),
    }
    picture = shipped.key("minibatch_sgd", batch_size=batch_size, lr=lr)
    return Explorer(
        "minibatch_sgd",
        controls,
        draw,
        grid,
        size=(10.5, 4.8),
        picture_key=picture,
        alt=(
            "Left: the mini-batch SGD path on the contours of a line fit's loss, noisier for "
            "smaller batches. Right: the loss against epochs."
        ),
        grid_alt=(
            "Mini-batch SGD on a line fit with batch sizes 1, 10 and 200, each path on the "
            "loss's contours above its excess loss per epoch on a log scale: the smaller the "
            "batch, the more steps per epoch and the noisier the path and the loss."
        ),
    )
