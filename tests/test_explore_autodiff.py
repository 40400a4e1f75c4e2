"""helpers.explore.backward_pass (Lesson 07): the backward sweep step by step, and its fallback.

Runs without a kernel, like tests/test_explore.py. The sweep's numbers are checked against the
chain rule written out by hand for f = tanh(x*y + y).
"""

from __future__ import annotations

import base64
import math

import matplotlib

matplotlib.use("Agg")

import ipywidgets
import pytest

from helpers import explore
from helpers.explore.autodiff import backward_steps

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def live():
    return explore.backward_pass()


def test_the_explorer_is_exported_by_the_package():
    assert "backward_pass" in explore.__all__


def test_it_builds_a_widget_with_step_and_input_sliders(live):
    assert isinstance(live, explore.Explorer)
    assert isinstance(live.widget, ipywidgets.Box)
    assert set(live.controls) == {"step", "x", "y"}
    assert live.controls["step"].max == 3
    assert live.last_png.startswith(PNG_MAGIC)


def test_moving_the_step_redraws_a_different_picture_and_names_the_node(live):
    before = live.last_png
    live.controls["step"].value = 1
    assert live.last_png != before
    assert "node f passes its grad on" in live.last_text


def test_the_last_step_reports_the_gradient_of_the_chain_rule(live):
    live.controls["step"].value = 3
    t = math.tanh(0.5 * -1.5 + -1.5)
    assert f"{(1 - t * t) * -1.5:.6g}" in live.last_text
    assert f"{(1 - t * t) * (0.5 + 1):.6g}" in live.last_text


def test_the_sweep_ends_with_the_chain_rule_gradients():
    _, steps = backward_steps(0.7, 1.3)
    t = math.tanh(0.7 * 1.3 + 1.3)
    assert steps[-1]["x"] == pytest.approx((1 - t * t) * 1.3, rel=1e-14)
    assert steps[-1]["y"] == pytest.approx((1 - t * t) * 1.7, rel=1e-14)


def test_y_receives_two_contributions_because_it_is_used_twice():
    _, steps = backward_steps(0.5, -1.5)
    changes = sum(a["y"] != b["y"] for a, b in zip(steps, steps[1:]))
    assert changes == 2


def test_step_zero_holds_only_the_seed():
    _, steps = backward_steps(0.5, -1.5)
    assert steps[0] == {"x": 0.0, "y": 0.0, "a": 0.0, "b": 0.0, "f": 1.0}


def test_the_static_grid_shows_the_four_steps_titled():
    fig = explore.backward_pass(static=True)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 4
    assert [t.split(":")[0] for t in titles] == ["step 0", "step 1", "step 2", "step 3"]


def test_the_display_bundle_carries_the_widget_view_and_the_static_picture(live):
    bundle = live._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
    assert "application/vnd.jupyter.widget-view+json" in bundle
