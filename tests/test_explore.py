"""helpers.explore: every explorer builds, redraws on a change, and carries its static fallback.

These run without a kernel (plain Python, ipywidgets' comm-less widgets), so they also run in
the ipywidgets 7.7 environment of the Colab-like test. The live round trip through a kernel
and a browser is tests/test_browser.py; the exported-HTML fallback is the last test here.

About 20-40 s in all: each explorer is drawn a few times (a matplotlib render is 0.1-0.5 s).
"""

from __future__ import annotations

import base64
import gc
import html
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import pytest
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ipywidgets

from helpers import explore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# name -> (a control to change, its new value, panels in the static grid)
EXPLORERS = {
    "secant_to_tangent": ("h", 0.01, 4),
    "step_size_error": ("float32", True, 2),
    "chain_rule_graph": ("w1", 2.0, 3),
    "gradient_field": ("angle", 120.0, 4),
    "learning_rate": ("lr", 1.05, 8),
    "minibatch_sgd": ("batch_size", 50, 6),
    "xor_training": ("epochs", 3000, 5),
    "backward_pass": ("step", 2, 4),
    "digit_probabilities": ("index", 36, 9),
}

every_explorer = pytest.mark.parametrize("name", sorted(EXPLORERS))


@pytest.fixture(scope="module")
def built():
    """One live explorer of each kind, built with the defaults of the contract."""
    return {name: getattr(explore, name)() for name in EXPLORERS}


def drawn_axes(fig: Figure):
    """The plot panels of a figure: no colorbars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


# --------------------------------------------------------------------------- the live widget


@every_explorer
def test_explorer_builds_a_widget_with_controls_and_a_first_picture(built, name):
    ex = built[name]
    assert isinstance(ex, explore.Explorer)
    assert isinstance(ex.widget, ipywidgets.Box)
    assert ex.controls, "an explorer without controls is a picture"
    for control in ex.controls.values():
        assert control in _descendants(ex.widget), (
            f"{name}: control {control.description!r} is not displayed"
        )
    assert ex.output in _descendants(ex.widget)
    assert ex.redraws >= 1
    assert ex.last_png.startswith(PNG_MAGIC)


@every_explorer
def test_changing_a_control_redraws_a_different_picture(built, name):
    ex = built[name]
    control, value, _ = EXPLORERS[name]
    before_png, before_text, before_count = ex.last_png, ex.last_text, ex.redraws
    old = ex.controls[control].value
    ex.controls[control].value = value
    try:
        assert ex.redraws == before_count + 1
        assert ex.last_png != before_png
        assert ex.last_text != before_text
    finally:
        ex.controls[control].value = old


def test_secant_readout_reports_the_forward_difference_error():
    import numpy as np

    ex = explore.secant_to_tangent()
    ex.controls["h"].value = 1e-3
    exact = 2 * np.cos(1.0)
    slope = (np.sin(1.001**2) - np.sin(1.0)) / 1e-3
    assert f"relative error = {abs(slope - exact) / exact:.2e}" in ex.last_text


def test_xor_train_more_button_adds_one_hundred_epochs():
    ex = explore.xor_training()
    start = ex.controls["epochs"].value
    ex.train_more.click()
    assert ex.controls["epochs"].value == start + 100
    assert f"epochs {start + 100}:" in ex.last_text


def test_learning_rate_beyond_two_over_l_is_called_divergent(built):
    ex = built["learning_rate"]
    old = ex.controls["lr"].value
    ex.controls["lr"].value = 1.5
    try:
        assert "diverges" in ex.last_text
    finally:
        ex.controls["lr"].value = old
    assert "converges" in ex.last_text


def _last_epoch_excess(ex) -> float:
    return float(ex.last_text.split("over the last epoch ")[1].split(";")[0])


def test_minibatch_sgd_says_how_many_steps_an_epoch_takes():
    ex = explore.minibatch_sgd(batch_size=20)
    assert "batch size 20: 10 steps per epoch, 100 steps in 10 epochs" in ex.last_text


def test_minibatch_sgd_noise_floor_falls_with_a_larger_batch_and_with_decay():
    ex = explore.minibatch_sgd(batch_size=1, lr=0.05)
    noisy = _last_epoch_excess(ex)
    ex.controls["decay"].value = True
    decayed = _last_epoch_excess(ex)
    ex.controls["decay"].value = False
    ex.controls["batch_size"].value = 10  # 200 steps in 10 epochs: it has reached its floor
    assert decayed < noisy / 10
    assert _last_epoch_excess(ex) < noisy / 5


def test_minibatch_sgd_refuses_a_batch_size_it_cannot_show():
    with pytest.raises(ValueError, match="batch_size must be one of"):
        explore.minibatch_sgd(batch_size=3)


def test_a_function_without_a_derivative_gets_a_reference_slope():
    import numpy as np

    ex = explore.secant_to_tangent(f=np.exp, x0=0.5)
    assert "complex step" in ex.last_text
    assert f"{np.exp(0.5):.10f}" in ex.last_text


def test_a_non_function_is_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="f must be a function"):
        explore.step_size_error(f=3.0)


# --------------------------------------------------------------------------- the static fallback


@every_explorer
def test_static_grid_has_the_documented_panels_titled_and_labelled(name):
    fig = getattr(explore, name)(static=True)
    assert isinstance(fig, Figure)
    panels = drawn_axes(fig)
    assert len(panels) == EXPLORERS[name][2]
    assert fig.get_suptitle(), f"{name}: the static grid has no title"
    for ax in panels:
        if ax.axison:
            assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: a panel lacks axis labels"
        else:  # a drawn graph (chain rule) has no axes, but says what it shows
            assert ax.get_title()
    assert any(ax.get_legend() is not None for ax in panels), f"{name}: no legend anywhere"
    assert plt.get_fignums() == [], "static grids must not be registered with pyplot"


@every_explorer
def test_display_bundle_carries_the_widget_view_and_the_static_png(built, name):
    ex = built[name]
    bundle = ex._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == ex.widget.model_id
    assert view["version_major"] == 2
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
    # nbconvert takes text/html before image/png: there it is the same picture, with alt text.
    assert f'src="data:image/png;base64,{bundle["image/png"]}"' in bundle["text/html"]
    assert f'alt="{html.escape(ex.alt)}' in bundle["text/html"]
    json.dumps(bundle)  # a display bundle must be JSON


@every_explorer
def test_every_explorer_says_what_its_picture_shows(built, name):
    ex = built[name]
    assert "explorer's plot" not in ex.alt, "the default alt text says too little"
    assert len(ex.alt.split()) >= 8


# --------------------------------------------------------------------------- memory


def _live_figures() -> int:
    gc.collect()
    return sum(isinstance(obj, Figure) for obj in gc.get_objects())


def test_redrawing_holds_no_figures(built):
    ex = built["chain_rule_graph"]
    slider = ex.controls["x"]
    slider.value = -2.0
    before = _live_figures()
    for x in range(-1, 3):
        for step in (0.0, 0.5):
            slider.value = x + step
    assert ex.redraws >= 9
    assert _live_figures() <= before
    assert plt.get_fignums() == []


# --------------------------------------------------------------------------- helpers


def _descendants(widget):
    found = [widget]
    for child in getattr(widget, "children", ()):
        found.extend(_descendants(child))
    return found


# --------------------------------------------------------------------------- exported HTML


def test_exported_html_shows_the_static_picture_where_the_widget_would_be(tmp_path):
    """nbconvert drops the widget view (no saved widget state) and falls back to image/png."""
    import nbconvert
    from conftest import execute

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom helpers import explore"
        ),
        nbformat.v4.new_code_cell("explore.chain_rule_graph()"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    run = execute(nb, tmp_path)
    assert not run.errors, run.errors
    outputs = run.notebook.cells[1].outputs
    assert [o.output_type for o in outputs] == ["execute_result"]
    data = outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in data  # a live front end gets the widget
    run.notebook.metadata.pop("widgets", None)  # what a saved notebook without widget state holds
    page, _ = nbconvert.HTMLExporter().from_notebook_node(run.notebook)
    assert f'src="data:image/png;base64,{data["image/png"]}' in page.replace("\n", "")
    assert 'alt="No description' not in page


def test_a_failing_redraw_is_reported_in_the_explorer_not_raised_into_the_widget_machinery():
    import numpy as np

    broken = {"now": False}

    def f(x):
        if broken["now"]:
            raise ValueError("broken on purpose")
        return np.sin(x)

    ex = explore.secant_to_tangent(f=f, df=np.cos)
    broken["now"] = True
    ex.controls["h"].value = 0.01  # must not raise out of the slider's callback
    assert ex.last_text.startswith("could not redraw")
    assert "ValueError: broken on purpose" in ex.last_text


# --------------------------------------------------------------------------- shipped pictures


def _lesson_explorer_calls() -> set[str]:
    """Every ``explore.NAME(...)`` a solutions notebook shows as a cell's last expression."""
    import ast

    calls = set()
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            last = ast.parse(cell.source).body[-1]
            call = getattr(last, "value", None)
            func = getattr(call, "func", None)
            if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "explore":
                calls.add(ast.unparse(call).removeprefix("explore."))
    return calls


def test_every_explorer_call_in_the_lessons_has_a_shipped_picture():
    from helpers.explore import shipped

    assert _lesson_explorer_calls() == set(shipped.LESSON_CALLS)


def test_shipped_pictures_look_like_a_fresh_drawing_and_none_is_left_over():
    from helpers.explore import shipped

    assert shipped.differences() == []


def test_a_lesson_call_shows_the_shipped_picture_and_other_arguments_draw_their_own():
    from helpers.explore import shipped

    ex = explore.gradient_field(point=(1.0, -0.5))
    assert ex.static_png() == shipped.path(ex.picture_key).read_bytes()
    other = explore.gradient_field(point=(0.5, 0.5))
    assert shipped.load(other.picture_key) is None
    assert other.static_png().startswith(PNG_MAGIC)
    assert other.static_png() != ex.static_png()


def test_a_students_own_function_is_never_given_a_shipped_picture():
    import numpy as np

    assert explore.secant_to_tangent(np.cos).picture_key is None
    assert explore.secant_to_tangent().picture_key is not None


def test_a_lesson_call_starts_with_the_shipped_live_picture_and_a_slider_draws_anew():
    from helpers.explore import shipped

    ex = explore.learning_rate(lr=0.1, start=(-1.5, 1.5))
    png, text = shipped.load_live(ex.picture_key)
    assert (ex.last_png, ex.last_text, ex.redraws) == (png, text, 1)
    ex.controls["lr"].value = 0.5
    assert ex.redraws == 2 and ex.last_png != png and ex.last_text != text
