"""helpers.show: a figure with alternative text, drawn once when it already has a layout."""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.image import imread

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.figures import figure_bundle

ALT = "A straight line rising from left to right."


def _png_size(bundle) -> tuple[int, int]:
    data, _ = bundle
    image = imread(io.BytesIO(base64.b64decode(data["image/png"])), format="png")
    return image.shape[1], image.shape[0]


def _figure(layout: str | None):
    fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x")
    if layout == "tight_layout":
        fig.tight_layout()
    elif layout == "constrained":
        fig.set_layout_engine("constrained")
    return fig


@pytest.mark.parametrize("layout", ["tight_layout", "constrained"])
def test_a_laid_out_figure_is_drawn_at_its_own_size(layout):
    fig = _figure(layout)
    try:
        assert _png_size(figure_bundle(fig, ALT)) == (200, 150)
    finally:
        plt.close(fig)


def test_a_figure_without_a_layout_is_cropped_to_what_it_draws():
    fig = _figure(None)
    try:
        assert _png_size(figure_bundle(fig, ALT)) != (200, 150)
    finally:
        plt.close(fig)


def test_the_alternative_text_is_in_the_img_tag_and_the_png_metadata():
    fig = _figure("tight_layout")
    try:
        data, metadata = figure_bundle(fig, ALT)
    finally:
        plt.close(fig)
    assert f'alt="{ALT}"' in data["text/html"]
    assert metadata == {"image/png": {"alt": ALT}}


def test_alternative_text_that_says_nothing_is_refused():
    fig = _figure("tight_layout")
    try:
        with pytest.raises(ValueError, match="does not say what the figure shows"):
            figure_bundle(fig, "Figure")
    finally:
        plt.close(fig)
