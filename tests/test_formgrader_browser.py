"""Manual grading in the real formgrader reaches the student, through a re-run of ``grade``.

A class of two (ann: all right; bob: a wrong slope) is graded on the toy lesson once per test
run (``graded``; through ``shared_once``). nbgrader's formgrader is
then served from OUT by the course's own command, ``python -m autograder formgrader OUT``, as an
instructor starts it (the address it prints, with its token), driven in headless Debian chromium
as an instructor would: open that address, Manual Grading, the lesson, its notebook, "Show All
Names", bob's
submission; type points for his written answer, a comment on it and a comment on his
(autograded, failed) slope answer; formgrader saves each as the box is left. ``grade`` then runs
again on the same submissions, and the tests read exercises.csv, grades.csv, the gradebook and
the feedback page (opened in chromium). A last run, with bob's written answer changed, checks
that a hand grade of an answer that changed is not silently kept as decided.

Takes about 2.5 minutes on a loaded 2-core machine (load average 5-10): three grading runs of
two notebooks, the server's start, chromium.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import browser_support as bs
import toy_submissions as toy
from support.cli import run_cli

from autograder.demo import samples

# Its own server and chromium: a group of its own, beside test_browser's.
pytestmark = pytest.mark.xdist_group("formgrader")

LESSON = "99_toy"
WRITTEN = "written_toy"
POINTS = "0.5"
COMMENT = "Right idea. Say why h -> 0 <at the end>,\nand you get the full point."
SLOPE_COMMENT = "Differentiate x**2: the slope is 2x, not x."
CHANGED = "Because the slope of x**2 is twice x, by the power rule."


@dataclass
class Graded:
    out: Path
    submissions: Path
    shared: Path  # the folder of the run, formgrader's log and chromium profile included


def grade(submissions: Path, out: Path, *extra: str) -> None:
    done = run_cli(
        "grade", submissions, "--out", out, "--solutions", toy.TOY_SOLUTIONS, "--jobs", "2", *extra
    )
    assert done.returncode == 0, done.stdout + done.stderr


def write_class(folder: Path, written: str | None = None) -> None:
    solution = json.loads(toy.TOY.read_text())
    samples.write(samples.student_copy(solution), folder / "ann" / f"{LESSON}.ipynb")
    bob = samples.student_copy(
        solution,
        answers={"slope_of_square": toy.SLOPE_WRONG},
        written={WRITTEN: written} if written else None,
    )
    samples.write(bob, folder / "bob" / f"{LESSON}.ipynb")


def start_formgrader(out: Path, shared: Path) -> tuple[subprocess.Popen, str]:
    """``python -m autograder formgrader OUT``; the process and the address it printed."""
    env = bs.server_env(shared)
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "formgrader", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        found = re.search(r"formgrader: (http://\S+/formgrader\?token=\w+)", line)
        if found:
            return proc, found.group(1)
    raise AssertionError(f"formgrader printed no address:\n{''.join(lines)[-3000:]}")


def stop_with_ctrl_c(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def grade_in_formgrader(context, url: str, out: Path) -> None:
    """Open the printed address, open bob's submission, type points and two comments."""
    page = context.new_page()
    try:
        page.goto(url)
        page.click("text=Manual Grading")
        page.click(f"td a:text-is('{LESSON}')")  # the assignment ...
        page.click(f"td a:text-is('{LESSON}')")  # ... and its notebook
        page.locator("td.name a").first.wait_for()  # the table is filled by a script
        page.click("text=Show All Names")
        page.click("td.name a.name-shown:text-is('bob')")
        # the submission page binds its save handlers once its scripts and data have loaded
        page.wait_for_load_state("networkidle")
        score = page.locator(f"input.score#{WRITTEN}")
        score.wait_for()
        score.click()
        score.type(POINTS)
        score.press("Tab")  # formgrader saves on change
        comment = page.locator(f"textarea#{WRITTEN}-comment")
        comment.click()
        comment.type(COMMENT)
        comment.press("Tab")
        slope = page.locator("textarea#slope_of_square-comment")
        slope.click()
        slope.type(SLOPE_COMMENT)
        slope.press("Tab")
        wait_until_saved(out)
        bs.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(bs.ARTIFACTS / "formgrader-bob.png"), full_page=True)
    finally:
        page.close()


def wait_until_saved(out: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = gradebook_state(out)
        if (got["score"], got["comment"], got["slope_comment"]) == (
            float(POINTS),
            COMMENT,
            SLOPE_COMMENT,
        ):
            return
        time.sleep(0.3)
    raise AssertionError(f"formgrader did not save the grade and comments: {got}")


def gradebook_state(out: Path, student: str = "bob") -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        g = gb.find_grade(WRITTEN, LESSON, LESSON, student)
        return {
            "score": g.manual_score,
            "needs_manual_grade": g.needs_manual_grade,
            "comment": gb.find_comment(WRITTEN, LESSON, LESSON, student).manual_comment,
            "slope_comment": gb.find_comment(
                "slope_of_square", LESSON, LESSON, student
            ).manual_comment,
        }


def _graded_once(shared: Path) -> None:
    """Grade the class, grade bob by hand in formgrader in chromium, grade the class again."""
    from playwright.sync_api import sync_playwright

    submissions, out = shared / "submissions", shared / "out"
    write_class(submissions)
    grade(submissions, out)
    with sync_playwright() as playwright:
        context = bs.launch_chromium(playwright, shared / "chromium-profile")
        try:
            proc, url = start_formgrader(out, shared)
            try:
                grade_in_formgrader(context, url, out)
            finally:
                code = stop_with_ctrl_c(proc)
            (shared / "formgrader-exit").write_text(str(code))
        finally:
            context.close()
    grade(submissions, out)


@pytest.fixture(scope="module")
def graded(shared_once) -> Graded:
    """The class graded, bob graded by hand in formgrader, then the class graded again.

    Done once per test run (``shared_once``); tests that change OUT copy it first.
    """
    missing = bs.chromium_missing_message()
    if missing:
        pytest.fail(missing)
    shared = Path(shared_once("formgrader", lambda folder: _graded_once(folder) or folder))
    return Graded(shared / "out", shared / "submissions", shared)


@pytest.fixture
def browser(tmp_path):
    """A fresh headless chromium context (a few seconds to start)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = bs.launch_chromium(playwright, tmp_path / "chromium-profile")
        try:
            yield context
        finally:
            context.close()


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def exercise(out: Path, student: str, grade_id: str) -> dict[str, str]:
    (row,) = [
        r
        for r in rows(out / "exercises.csv")
        if r["student_id"] == student and r["grade_id"] == grade_id
    ]
    return row


# ----------------------------------------------------------------------------- after the re-run


def test_the_formgrader_command_stopped_cleanly_on_ctrl_c(graded):
    assert (graded.shared / "formgrader-exit").read_text() == "0"


def test_points_typed_in_formgrader_are_in_exercises_csv_after_a_regrade(graded):
    row = exercise(graded.out, "bob", WRITTEN)
    assert (row["score"], row["status"]) == (POINTS, "partial")


def test_comment_typed_in_formgrader_is_the_last_column_of_exercises_csv(graded):
    header = next(csv.reader(open(graded.out / "exercises.csv")))
    assert header[-1] == "comment"
    assert exercise(graded.out, "bob", WRITTEN)["comment"] == COMMENT


def test_comment_on_an_autograded_answer_reaches_its_test_row(graded):
    row = exercise(graded.out, "bob", "test_slope_of_square")
    assert (row["status"], row["comment"]) == ("failed", SLOPE_COMMENT)


def test_regrade_keeps_the_hand_grade_decided_in_the_gradebook(graded):
    state = gradebook_state(graded.out)
    assert state["score"] == float(POINTS)
    assert state["needs_manual_grade"] is False  # formgrader shows it graded, not pending


def test_grades_csv_counts_the_hand_grade(graded):
    (bob,) = [r for r in rows(graded.out / "grades.csv") if r["student_id"] == "bob"]
    # ann and bob both have 1 + 1 for square and mean; bob's wrong slope scores 0 of 2
    assert (bob["score"], bob["status"]) == (f"{2 + float(POINTS):g}", "graded")


def test_a_student_not_graded_by_hand_is_still_pending(graded):
    row = exercise(graded.out, "ann", WRITTEN)
    assert (row["score"], row["status"], row["comment"]) == ("", "needs_manual", "")


def test_feedback_page_shows_the_points_and_both_comments_in_a_browser(graded, browser):
    page = browser.new_page()
    try:
        page.goto((graded.out / "feedback" / "bob" / f"{LESSON}.html").as_uri())
        written = page.locator(f"section#{WRITTEN}").inner_text()
        slope = page.locator("section#test_slope_of_square").inner_text()
    finally:
        page.close()
    assert f"Graded by your instructor: {POINTS} of 1 point." in written
    assert "Your instructor's comment" in written and COMMENT in written
    assert SLOPE_COMMENT in slope


# ------------------------------------------------------------------------- a changed answer


def test_a_changed_written_answer_is_pending_again_and_detail_says_why(graded, tmp_path):
    out, submissions = tmp_path / "out", tmp_path / "submissions"
    shutil.copytree(graded.out, out)
    write_class(submissions, written=CHANGED)
    grade(submissions, out, "--student", "bob")
    row = exercise(out, "bob", WRITTEN)
    (bob,) = [r for r in rows(out / "grades.csv") if r["student_id"] == "bob"]
    assert row["status"] == "needs_manual"
    assert gradebook_state(out)["needs_manual_grade"] is True
    assert f"{WRITTEN}: the answer changed since it was graded by hand" in bob["detail"]
