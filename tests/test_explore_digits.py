"""helpers.explore.digit_probabilities (Lesson 08): a test digit, ten probabilities, 32 activations.

Runs without a kernel, like tests/test_explore.py. The numbers in the readout are checked
against the reference network of helpers.digits, trained here independently of the explorer.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import ipywidgets
import numpy as np
import pytest

from helpers import digits, explore
from helpers.explore.digits import EPOCHS, _state, first_mistake

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def live():
    return explore.digit_probabilities(index=0)


@pytest.fixture(scope="module")
def trained():
    data = digits.split()
    params, _ = digits.train_digits(data.X_train, data.y_train)
    return data, params


def test_the_explorer_is_exported_by_the_package():
    assert "digit_probabilities" in explore.__all__


def test_it_builds_a_widget_with_an_image_and_an_epochs_slider(live):
    assert isinstance(live, explore.Explorer)
    assert isinstance(live.widget, ipywidgets.Box)
    assert set(live.controls) == {"index", "epochs"}
    assert live.controls["index"].max == digits.N_TEST - 1
    assert live.controls["epochs"].max == EPOCHS
    assert live.last_png.startswith(PNG_MAGIC)


def test_the_readout_names_the_label_and_the_guess_of_the_trained_network(live, trained):
    data, params = trained
    live.controls["index"].value = 5
    try:
        p = digits.predict_proba(params, data.X_test[5:6])[0]
        label = int(data.y_test[5])
        assert f"test image 5 shows a {label}" in live.last_text
        assert f"guesses {int(np.argmax(p))}" in live.last_text
        assert f"loss -log P(label) = {-math.log(p[label]):.3f}" in live.last_text
    finally:
        live.controls["index"].value = 0


def test_the_explorers_network_is_the_lessons_trained_network(trained):
    data, params = trained
    state = _state(7, EPOCHS)
    expected = digits.predict_proba(params, data.X_test[7:8])[0]
    np.testing.assert_allclose(state["p"], expected, rtol=1e-12)
    assert state["p"].sum() == pytest.approx(1.0)
    assert state["hidden"].shape == (32,)
    assert np.all(np.abs(state["hidden"]) <= 1.0)


def test_the_untrained_network_is_close_to_chance():
    p = _state(0, 0)["p"]
    assert np.all((p > 0.02) & (p < 0.3))
    assert abs(-math.log(p[_state(0, 0)["label"]]) - math.log(10)) < 1.0


def test_first_mistake_is_the_first_test_image_the_network_gets_wrong(trained):
    data, params = trained
    wrong = np.flatnonzero(digits.predict(params, data.X_test) != data.y_test)
    assert first_mistake() == wrong[0]


def test_the_static_grid_shows_before_after_and_a_mistake():
    fig = explore.digit_probabilities(static=True)
    titles = [ax.get_title() for ax in fig.axes]
    assert sum(t.startswith("after 0 epochs") for t in titles) == 1
    assert sum(t.startswith(f"after {EPOCHS} epochs") for t in titles) == 2
    assert any("WRONG" in t and f"test image {first_mistake()}" in t for t in titles)
