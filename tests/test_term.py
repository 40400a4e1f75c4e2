"""The instructor's term on the toy lesson, through the real commands: collect what Canvas and
Moodle hand over, grade under a late policy, grade again without the flags, change a rule,
export for the LMS, return the feedback.

The downloads are built by autograder/demo/lms_downloads.py exactly as Canvas's
``content_zipper.rb`` and Moodle's ``mod/assign`` name them (Moodle 4.0's trailing ``_`` and
4.1's folders without it, and 4.1 with "download as folders" off). ONE course folder is graded
three times in a row (``term``): the first run gives the rules, the second repeats none, the
third changes the late policy. About 3 minutes on a loaded 2-core machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.cli import run_cli

from autograder.demo import lms_downloads as lms
from autograder.demo import samples

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "fixtures" / "toy_course" / "solutions" / "99_toy" / "99_toy.ipynb"
TOY_SOLUTIONS = TOY.parent.parent
LESSON = "99_toy"
UTC = dt.timezone.utc
DUE = dt.datetime(2026, 12, 1, 22, 59, tzinfo=UTC)
ROSTER = [
    # student_id, first_name, last_name, email, lms_user_id, username
    ("ann", "Ann", "Canvas", "ann@example.edu", "2001", "acanvas"),
    ("bob", "Bob", "Canvas", "bob@example.edu", "2002", "bcanvas"),
    ("cy", "Cy", "Moodle", "cy@example.edu", "", "cmoodle"),
    ("dee", "Dee", "Moodle", "", "", ""),  # no e-mail: left out of the Moodle file
    ("fay", "Fay", "Folder", "fay@example.edu", "", "ffolder"),
]


def command(*args, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, timeout=900)


def _notebook(wrong: bool = False) -> bytes:
    answers = {"slope_of_square": "def slope_of_square(x):\n    return x\n"} if wrong else None
    return json.dumps(samples.student_copy(samples.read(TOY), answers=answers)).encode()


def build_downloads(base: Path) -> list[str]:
    """The class's downloads and the roster; returns the SUBMISSIONS and their options."""
    right = _notebook()
    canvas = [
        lms.Upload("Ann", "Canvas", f"Copy of {LESSON} (2).ipynb", right, 2001),
        lms.Upload("Bob", "Canvas", f"{LESSON}.ipynb", right, 2002, late=True),
        lms.Upload("Bob", "Canvas", "notes.txt", b"my notes", 2002, late=True),
        lms.Upload("Zed", "Stranger", f"{LESSON}.ipynb", right, 2999),
    ]
    lms.canvas_zip(base / "canvas.zip", canvas)
    cy = lms.Upload(
        "Cy",
        "Moodle",
        f"{LESSON}.ipynb",
        _notebook(wrong=True),
        40001,
        email="cy@example.edu",
        handed_in=DUE - dt.timedelta(hours=2),
    )
    dee = lms.Upload(
        "Dee", "Moodle", f"{LESSON}.ipynb", right, 40002, handed_in=DUE + dt.timedelta(hours=30)
    )
    lms.moodle_zip(base / "moodle.zip", [cy, dee], version="4.0")
    lms.moodle_worksheet(base / "worksheet.csv", [cy, dee])
    (base / "folders" / "fay").mkdir(parents=True)
    (base / "folders" / "fay" / f"Copy of {LESSON}.ipynb").write_text('{"cells": [')
    with open(base / "roster.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "first_name", "last_name", "email", "lms_user_id", "username"])
        w.writerows(ROSTER)
    return [
        str(base / "canvas.zip"),
        str(base / "moodle.zip"),
        str(base / "folders"),
        "--moodle-worksheet",
        str(base / "worksheet.csv"),
    ]


def _term(base: Path) -> dict:
    sources = build_downloads(base)
    out = base / "out"
    common = [*sources, "--out", out, "--solutions", TOY_SOLUTIONS, "--jobs", "2"]
    runs = {}
    runs["first"] = command(
        "grade",
        *common,
        "--roster",
        base / "roster.csv",
        "--timeout",
        "30",
        "--due",
        DUE.isoformat(),
        "--late-policy",
        "per-day",
        "--late-rate",
        "10",
        cwd=base,
    )
    shutil.copy(out / "grades.csv", base / "grades-first.csv")
    shutil.copy(out / ".grader" / "settings.json", base / "settings-first.json")
    _comment(out, "ann", COMMENT)  # as formgrader saves it
    runs["again"] = command("grade", *common, "--student", "bob", cwd=base)
    shutil.copy(out / "grades.csv", base / "grades-again.csv")
    shutil.copy(out / ".grader" / "settings.json", base / "settings-again.json")
    runs["changed"] = command(
        "grade", *common, "--student", "ann", "--late-policy", "none", cwd=base
    )
    shutil.copy(out / "report.html", base / "report-changed.html")
    for fmt in ("canvas", "moodle", "wide", "moodle-feedback", "pages"):
        runs[fmt] = command("export", out, "--format", fmt, cwd=base)
    target = base / "moodle-feedback-column.csv"
    runs["feedback-column"] = command(
        "export", out, "--format", "moodle", "--feedback", "--to", target, cwd=base
    )
    runs["feedback"] = subprocess.run(
        [Path(sys.executable).parent / "nbgrader", "generate_feedback", LESSON, "--force"],
        cwd=out,
        env=dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return {k: [v.returncode, v.stdout, v.stderr] for k, v in runs.items()}


COMMENT = "=Right slope; say why the limit exists."  # a comment may start like a formula


def _comment(out: Path, student: str, text: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        gb.find_comment("written_toy", LESSON, LESSON, student).manual_comment = text
        gb.db.commit()


@pytest.fixture(scope="module")
def term(shared_once) -> tuple[Path, dict]:
    """The term, once per test run (``shared_once``)."""
    done = shared_once("term", lambda base: {"base": str(base), "runs": _term(base)})
    return Path(done["base"]), done["runs"]


def table(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def test_every_run_and_export_exits_zero(term):
    _, runs = term
    for name, (code, _, stderr) in runs.items():
        assert code == 0, (name, stderr[-3000:])


# --------------------------------------------------------------------------- collect


def test_canvas_and_moodle_downloads_are_graded_as_downloaded(term):
    base, _ = term
    grades = table(base / "grades-first.csv")
    assert {s: grades[s]["status"] for s in ("ann", "bob", "cy", "dee")} == dict.fromkeys(
        ("ann", "bob", "cy", "dee"), "needs_manual"
    )
    assert "Copy of 99_toy (2).ipynb" in grades["ann"]["detail"]


def test_a_file_from_no_roster_student_is_named_never_dropped(term):
    base, runs = term
    assert "2999" in runs["first"][2] and "not graded" in runs["first"][2]
    assert "2999" in (base / "out" / "report.html").read_text()


def test_canvas_late_mark_and_moodle_worksheet_give_the_times(term):
    grades = table(term[0] / "grades-first.csv")
    assert "Canvas marked it LATE" in grades["bob"]["detail"]
    assert grades["bob"]["late_by"] == "late (Canvas)"  # not a made-up duration
    assert float(grades["bob"]["penalty"]) == pytest.approx(0.4)  # 10% of 4, one started day
    assert "Moodle's grading worksheet" in grades["cy"]["detail"]
    assert grades["cy"]["late_by"] == ""
    assert grades["dee"]["late_by"] == "1d 6h"
    assert float(grades["dee"]["penalty"]) == pytest.approx(0.8)  # two started days


# --------------------------------------------------------------------------- grade again


def test_grading_again_without_the_flags_keeps_every_decision(term):
    base, runs = term
    first, again = table(base / "grades-first.csv"), table(base / "grades-again.csv")
    assert again["bob"]["penalty"] == first["bob"]["penalty"]
    assert again == first or {k: v for k, v in again.items() if k != "bob"} == {
        k: v for k, v in first.items() if k != "bob"
    }
    settings = json.loads((base / "settings-again.json").read_text())
    assert settings == json.loads((base / "settings-first.json").read_text())
    assert settings["limits"]["cell_seconds"] == 30
    assert settings["policy"] == {"method": "per-day", "rate": 10.0, "cap": 100.0}
    assert "changed in this run" not in runs["again"][1]


def test_a_changed_rule_is_applied_to_every_notebook_and_announced(term):
    base, runs = term
    grades = table(base / "out" / "grades.csv")
    assert float(grades["bob"]["penalty"]) == 0  # bob was not graded in that run
    said = "late policy: per-day 10% (at most 100%) -> none; 2 notebooks re-scored"
    assert said in runs["changed"][1]
    report = (base / "report-changed.html").read_text()
    assert "Settings changed in this run" in report and "2 notebooks re-scored" in report


# --------------------------------------------------------------------------- exports


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_moodle_leaves_out_a_row_without_identifier_and_says_so(term):
    base, runs = term
    rows = _csv_rows(base / "out" / "exports" / "moodle.csv")
    assert rows[0][:5] == ["First name", "Last name", "ID number", "Email address", "Username"]
    assert "dee" not in [r[2] for r in rows[1:]]
    assert "dee" in runs["moodle"][2] and "left out" in runs["moodle"][2]
    assert "without an e-mail address" in (base / "out" / "report.html").read_text()


def test_a_notebook_named_for_a_lesson_but_unreadable_leaves_its_cells_empty(term):
    base, _ = term
    grades = table(base / "out" / "grades.csv")
    assert (grades["fay"]["lesson"], grades["fay"]["status"]) == (LESSON, "failed")
    moodle = {r[2]: r for r in _csv_rows(base / "out" / "exports" / "moodle.csv")[1:]}
    assert moodle["fay"][5] == "-"  # Moodle's "no grade", never 0
    wide = {r[0]: r for r in _csv_rows(base / "out" / "exports" / "wide.csv")[1:]}
    assert wide["fay"][5] == ""


def test_canvas_sis_login_id_is_the_roster_username(term):
    rows = _csv_rows(term[0] / "out" / "exports" / "canvas.csv")
    login = {r[2]: r[3] for r in rows[2:]}
    assert login["ann"] == "acanvas" and login["dee"] == ""


def test_moodle_feedback_zip_puts_each_page_in_the_participants_folder(term):
    base, _ = term
    with zipfile.ZipFile(base / "out" / "exports" / "moodle-feedback" / f"{LESSON}.zip") as zf:
        names = sorted(zf.namelist())
        page = zf.read(names[0]).decode()
    assert names == [
        f"Cy Moodle_40001_assignsubmission_file/{LESSON}-feedback.html",
        f"Dee Moodle_40002_assignsubmission_file/{LESSON}-feedback.html",
    ]
    assert page == (base / "out" / "feedback" / "cy" / f"{LESSON}.html").read_text()


def test_pages_export_writes_one_zip_per_student(term):
    folder = term[0] / "out" / "exports" / "pages"
    assert sorted(p.name for p in folder.iterdir()) == ["ann.zip", "bob.zip", "cy.zip", "dee.zip"]
    with zipfile.ZipFile(folder / "ann.zip") as zf:
        assert zf.namelist() == [f"{LESSON}.html"]


# --------------------------------------------------------------------------- nbgrader's feedback


def test_nbgraders_generate_feedback_in_out_shows_no_hidden_test(term):
    base, runs = term
    pages = sorted((base / "out" / "feedback").rglob(f"{LESSON}/*.html"))
    assert runs["feedback"][0] == 0, runs["feedback"][2][-2000:]
    assert len(pages) == 4  # nbgrader's own pages, in feedback/<student>/<lesson>/
    hidden = [line for line in _hidden_lines() if line]
    assert hidden
    for page in pages:
        text = page.read_text()
        assert "BEGIN HIDDEN" not in text
        for line in hidden:
            assert line not in text, (page, line)
    assert "Score:" in pages[0].read_text()


def _hidden_lines() -> list[str]:
    nb = json.loads(TOY.read_text())
    found, inside = [], False
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for line in source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip():
                found.append(line.strip())
    return found


def test_moodle_feedback_column_carries_the_instructors_comments(term):
    base, _ = term
    rows = _csv_rows(base / "moodle-feedback-column.csv")
    assert rows[0][5:] == [LESSON, f"{LESSON} (Feedback)"]
    ann = next(r for r in rows[1:] if r[2] == "ann")
    assert ann[6] == f"written_toy: {COMMENT}"  # as typed, though exercises.csv quotes it
    exercises = _csv_rows(base / "out" / "exercises.csv")
    assert [r[-1] for r in exercises if r[0] == "ann" and r[2] == "written_toy"] == [f"'{COMMENT}"]
