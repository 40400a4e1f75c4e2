"""Lesson 08's explorer: one test digit, the network's ten probabilities and its hidden layer.

The network is the lesson's: :func:`helpers.digits.fit` with its defaults (64-32-10, tanh,
softmax, mini-batch SGD, seed 0) on the lesson's split, its parameters kept after every epoch.
It is trained once per process (about 0.2 s), on the first redraw that needs it.
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import digits
from . import shipped
from .shell import BLUE, GREY, ORANGE, SKY, VERMILLION, Explorer, add_legend, slider

__all__ = ["digit_probabilities"]

EPOCHS = 30


@functools.lru_cache(maxsize=1)
def _trained() -> tuple[digits.DigitsSplit, list[dict[str, np.ndarray]]]:
    """The lesson's split and the network before training and after each of its 30 epochs."""
    data = digits.split()
    run = digits.fit(data.X_train, data.y_train, epochs=EPOCHS, keep=True)
    return data, run.snapshots


def _state(index: int, epochs: int) -> dict:
    """What the pictures show for test image ``index`` after ``epochs`` epochs."""
    data, snapshots = _trained()
    params = snapshots[int(epochs)]
    x = data.X_test[int(index) : int(index) + 1]
    _, cache = digits.forward(params, x)
    probabilities = digits.softmax(cache["Z2"])[0]
    return {
        "image": x[0].reshape(8, 8),
        "label": int(data.y_test[int(index)]),
        "p": probabilities,
        "hidden": cache["A1"][0],
        "guess": int(np.argmax(probabilities)),
    }


def first_mistake(epochs: int = EPOCHS) -> int:
    """The index of the first test image the trained network gets wrong."""
    data, snapshots = _trained()
    wrong = np.flatnonzero(digits.predict(snapshots[int(epochs)], data.X_test) != data.y_test)
    return int(wrong[0]) if wrong.size else 0


def _draw_row(axes, index: int, epochs: int) -> str:
    ax_img, ax_p, ax_h = axes
    s = _state(index, epochs)
    label, guess, p = s["label"], s["guess"], s["p"]
    ax_img.imshow(s["image"], cmap="gray_r", vmin=0.0, vmax=1.0)
    ax_img.set_axis_off()
    verdict = "right" if guess == label else "WRONG"
    ax_img.set_title(f"test image {index}: a {label}\nguess {guess} ({verdict})", fontsize=9)
    colours = [ORANGE if j == label else (VERMILLION if j == guess else SKY) for j in range(10)]
    ax_p.bar(range(10), p, color=colours, edgecolor="black", linewidth=0.5)
    ax_p.axhline(0.1, color=GREY, ls=":", lw=1)
    ax_p.set_ylim(0.0, 1.05)
    ax_p.set_xticks(range(10))
    ax_p.set_xlabel("digit")
    ax_p.set_ylabel("probability")
    ax_p.set_title(f"after {epochs} epochs: P(label) = {p[label]:.3f}", fontsize=9)
    key = [
        Patch(fc=ORANGE, ec="black", lw=0.5, label="the right digit"),
        Patch(fc=VERMILLION, ec="black", lw=0.5, label="a wrong guess"),
        Patch(fc=SKY, ec="black", lw=0.5, label="the other digits"),
        Line2D([], [], color=GREY, ls=":", label="1/10: chance"),
    ]
    add_legend(ax_p, handles=key, loc="upper right")
    hidden = s["hidden"]
    ax_h.bar(range(len(hidden)), hidden, color=BLUE)
    ax_h.axhline(0.0, color="black", lw=0.8)
    ax_h.set_ylim(-1.05, 1.05)
    ax_h.set_xlabel("hidden unit")
    ax_h.set_ylabel("tanh activation A1")
    ax_h.set_title(f"the {len(hidden)} hidden activations the output layer reads", fontsize=9)
    ranked = np.argsort(p)[::-1][:3]
    top = ", ".join(f"{int(j)}: {p[j]:.3f}" for j in ranked)
    return (
        f"test image {index} shows a {label}; after {epochs} epochs the network guesses {guess} "
        f"({verdict.lower()}); most probable: {top}; loss -log P(label) = {-np.log(p[label]):.3f}"
    )


def digit_probabilities(index: int = 0, epochs: int = EPOCHS, static: bool = False):
    """A test digit, the trained network's ten probabilities and its 32 hidden activations.

    Parameters
    ----------
    index : which of the 360 test images of :func:`helpers.digits.split` (slider).
    epochs : the network after this many of its 30 epochs (slider; 0 is the untrained network,
        whose probabilities are all near 1/10).
    static : return the fallback grid as a Figure: test image ``index`` before training and
        after it, and the first test image the trained network gets wrong.
    """

    def draw(fig: Figure, index: int, epochs: int) -> str:
        text = _draw_row(fig.subplots(1, 3, width_ratios=(0.8, 1.3, 1.6)), index, epochs)
        fig.suptitle("What the digit network sees and says", fontweight="bold")
        return text

    def grid() -> Figure:
        fig = Figure(figsize=(12, 9), layout="constrained")
        rows = fig.subplots(3, 3, width_ratios=(0.8, 1.3, 1.6))
        settings = ((int(index), 0), (int(index), EPOCHS), (first_mistake(), EPOCHS))
        for axes, (i, e) in zip(rows, settings):
            _draw_row(axes, i, e)
        fig.suptitle(
            "A test digit before and after training, and the first digit the network gets wrong",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    controls = {
        "index": slider("int", "test image", int(index), min=0, max=digits.N_TEST - 1),
        "epochs": slider("int", "epochs trained", int(epochs), min=0, max=EPOCHS),
    }
    return Explorer(
        "digit_probabilities",
        controls,
        draw,
        grid,
        size=(11, 3.6),
        picture_key=shipped.key("digit_probabilities", index=index, epochs=epochs),
        alt=(
            "A handwritten test digit, the network's ten probabilities for it as bars with the "
            "right digit marked, and the 32 hidden tanh activations as bars."
        ),
    )
