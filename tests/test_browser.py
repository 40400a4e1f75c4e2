"""Every solutions notebook in JupyterLab 4, in headless chromium, as a student would use it.

One ``jupyter lab`` serves a copy of the course (tests/browser_support.py); for each solutions
notebook the test opens it, runs Run > Run All Cells, saves it and requires no error output,
then, when the lesson uses an explorer, requires its sliders to render and a slider moved with
the keyboard to change the explorer's picture (a round trip through the kernel). A student
lesson must show nbgrader's Validate button, and the button must validate.

Screenshots go to artifacts/browser/ (git-ignored). Needs 3-4 minutes: JupyterLab starts in
about 10 s and each lesson takes 15-30 s to load, run and redraw in a real browser (measured with
six lessons at a load average of 6-8 on 2 cores: 3.3-3.9 min).
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import browser_support as bs
import colab_support as cs

from autograder import course

# One environment per session: under pytest-xdist keep these tests on one worker
# (`--dist loadgroup`), or each worker would build its own.
pytestmark = pytest.mark.xdist_group("browser")

SOLUTIONS = [cs.SYNTHETIC] + course.present_lessons()
EXPLORER_CALL = re.compile(r"\bexplore\.(\w+)\((?![^)]*static\s*=\s*True)")


@dataclass
class Lab:
    server: bs.LabServer
    context: object
    course: Path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    missing = bs.chromium_missing_message()
    if missing:
        pytest.fail(missing)
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("lab")
    root = bs.copy_course(tmp)
    for folder, answer in (("solutions", cs.ANSWER_RIGHT), ("lessons", None)):
        target = root / folder / cs.SYNTHETIC / f"{cs.SYNTHETIC}.ipynb"
        target.parent.mkdir(parents=True)
        nb = cs.synthetic_notebook(answer) if answer else cs.synthetic_notebook()
        target.write_text(nbformat.writes(nb))
    server = bs.start_lab(root, tmp)
    playwright = sync_playwright().start()
    try:
        context = bs.launch_chromium(playwright, tmp / "chromium-profile")
        try:
            yield Lab(server, context, root)
        finally:
            context.close()
    finally:
        playwright.stop()
        server.stop()


def screenshot(page, name: str) -> Path:
    bs.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = bs.ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def explorer_cells(notebook: Path) -> list[str]:
    """The explorers a notebook shows live, one entry per code cell that calls one."""
    nb = json.loads(notebook.read_text())
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            found += EXPLORER_CALL.findall("".join(cell["source"]))
    return found


def movable_slider(page):
    """The first rendered slider that ArrowRight can move (not already at its maximum)."""
    sliders = page.locator(bs.SLIDER)
    for i in range(sliders.count()):
        handle = sliders.nth(i)
        if handle.get_attribute("aria-valuenow") != handle.get_attribute("aria-valuemax"):
            return handle
    raise AssertionError("every slider is at its maximum: none can be moved right")


def wait_for_change(read, before, timeout_s: float = 45):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = read()
        if now != before:
            return now
        time.sleep(0.3)
    return before


# ------------------------------------------------------------------------ every solutions notebook


@pytest.mark.parametrize("name", SOLUTIONS)
def test_solutions_notebook_runs_in_jupyterlab_and_its_explorers_respond(lab, name):
    relative = f"solutions/{name}/{name}.ipynb"
    notebook = lab.course / relative
    page = lab.context.new_page()
    try:
        bs.open_notebook(page, lab.server, relative)
        seconds = bs.run_all_cells(page)
        bs.save(page, notebook)
        screenshot(page, f"{name}-1-after-run-all")
        saved = json.loads(notebook.read_text())
        unrun = [
            i
            for i, c in enumerate(saved["cells"])
            if c["cell_type"] == "code" and c.get("execution_count") is None
        ]
        errors = bs.error_outputs(notebook)
        assert not errors, f"{name}: error outputs after Run All Cells:\n" + "\n".join(errors)
        assert not unrun, f"{name}: cells {unrun} did not run"
        print(f"{name}: Run All Cells took {seconds:.1f} s in JupyterLab")

        explorers = explorer_cells(notebook)
        if not explorers:
            return
        sliders = page.locator(bs.SLIDER)
        assert sliders.count() >= len(explorers), (
            f"{name} shows {len(explorers)} explorer(s) ({', '.join(explorers)}) but only "
            f"{sliders.count()} slider(s) rendered"
        )
        handle = movable_slider(page)
        explorer = handle.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")
        picture = explorer.locator(".widget-output img").first
        handle.scroll_into_view_if_needed()
        picture.wait_for(timeout=30_000)
        readout = handle.locator(
            "xpath=ancestor::div[contains(@class, 'widget-slider')][1]"
        ).locator(".widget-readout")
        value, before = readout.inner_text(), picture.get_attribute("src")
        screenshot(page, f"{name}-2-explorer-before")
        handle.focus()
        page.keyboard.press("ArrowRight")
        after = wait_for_change(lambda: picture.get_attribute("src"), before)
        screenshot(page, f"{name}-3-explorer-after-ArrowRight")
        assert readout.inner_text() != value, "ArrowRight did not move the slider"
        assert after != before, f"{name}: moving the slider did not redraw the explorer's picture"
    finally:
        page.close()
        bs.shutdown_kernels(lab.server)


# --------------------------------------------------------------------------- make lab's promise


def test_student_lesson_has_a_working_nbgrader_validate_button(lab):
    """``make lab`` opens lessons/ with nbgrader's lab extension; Validate runs its tests."""
    present = [n for n in course.present_lessons() if course.lesson_path(n).is_file()]
    name = present[0] if present else cs.SYNTHETIC
    page = lab.context.new_page()
    try:
        bs.open_notebook(page, lab.server, f"lessons/{name}/{name}.ipynb")
        button = page.locator(f"{bs.PANEL} .jp-Toolbar").get_by_text("Validate", exact=True)
        assert button.count() == 1, (
            "the nbgrader Validate button is missing from the notebook toolbar"
        )
        button.click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=120_000)
        dialog.get_by_text("Validation Results").wait_for(timeout=120_000)
        screenshot(page, f"validate-{name}")
        # The untouched student version must fail its own tests, and Validate must say so.
        assert "failed" in dialog.inner_text().lower()
    finally:
        page.close()
        bs.shutdown_kernels(lab.server)


def test_nbgrader_menu_offers_the_assignment_list(lab):
    page = lab.context.new_page()
    try:
        bs.open_notebook(page, lab.server, f"lessons/{cs.SYNTHETIC}/{cs.SYNTHETIC}.ipynb")
        page.click('.lm-MenuBar-itemLabel:text-is("Nbgrader")')
        assert page.locator('.lm-Menu-itemLabel:text-is("Assignment List")').count() == 1
        page.keyboard.press("Escape")
    finally:
        page.close()
        bs.shutdown_kernels(lab.server)


def test_a_missing_chromium_is_a_failure_that_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(bs, "CHROMIUM", str(tmp_path / "no-chromium-here"))
    message = bs.chromium_missing_message()
    assert message is not None and "apt-get install chromium" in message
