"""The corpus of tests/fixtures/attacks_term.py graded through the real command, in one run.

Class 6 (a submission time the student supplies) and class 7 (student text as a file pattern or
a spreadsheet formula) of issue 22. One ``grade`` of the four sources (folders, Canvas, Moodle,
an nbgrader exchange tree) under a deadline and the policy ``zero``; about a minute on 2 cores.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
TOY_SOLUTIONS = ROOT / "tests" / "fixtures" / "toy_course" / "solutions"
_spec = importlib.util.spec_from_file_location(
    "attacks_term", ROOT / "tests" / "fixtures" / "attacks_term.py"
)
attacks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attacks)

FORMULA = tuple("=+-@\t\r")


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, timeout=900)


def _graded(base: Path) -> dict:
    made = attacks.build(base / "in")
    done = run(
        "grade",
        *made["sources"],
        "--out",
        base / "out",
        "--solutions",
        TOY_SOLUTIONS,
        "--jobs",
        "2",
        *made["options"],
        cwd=base,
    )
    exports = {}
    for fmt in ("canvas", "moodle", "wide"):
        target = base / f"{fmt}.csv"
        exported = run("export", base / "out", "--format", fmt, "--to", target, cwd=base)
        exports[fmt] = (exported.returncode, exported.stderr)
    return {
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "exports": exports,
    }


@pytest.fixture(scope="module")
def graded(shared_once) -> tuple[Path, dict]:
    """The corpus graded once per test run (``shared_once``)."""
    done = shared_once("attacks-term", lambda base: {"base": str(base), "run": _graded(base)})
    return Path(done["base"]), done["run"]


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def grade_row(base: Path, student: str) -> dict[str, str]:
    (row,) = [r for r in rows(base / "out" / "grades.csv") if r["student_id"] == student]
    return row


def test_the_run_grades_the_class_and_exits_zero(graded):
    base, done = graded
    assert done["returncode"] == 0, done["stderr"][-3000:]
    for student, (status, _) in attacks.EXPECTED.items():
        assert grade_row(base, student)["status"] == status, student


# --------------------------------------------------------------------------- class 6: times


@pytest.mark.parametrize("student", sorted(s for s, (_, late) in attacks.EXPECTED.items() if late))
def test_a_time_the_student_wrote_is_not_believed(graded, student):
    base, _ = graded
    row = grade_row(base, student)
    # `zero`: a late notebook keeps none of its points (its raw points are all there)
    assert row["late_by"], row["detail"]
    assert float(row["penalty"]) > 0 and float(row["score"]) == 0, row


@pytest.mark.parametrize(
    ("student", "source"),
    [
        ("tim", "(the file's time)"),
        ("moe", "(Moodle's grading worksheet)"),
        ("cal", "(Canvas marked it LATE"),
        ("nia", "(the file's time)"),
        ("alice", "(the file's time)"),
    ],
)
def test_detail_says_where_the_time_came_from(graded, student, source):
    assert source in grade_row(graded[0], student)["detail"]


def test_a_timestamp_txt_in_the_students_own_folder_is_named_as_not_read(graded):
    for student in ("tim", "nia"):
        assert (
            "timestamp.txt in the student's folder was not read"
            in grade_row(graded[0], student)["detail"]
        )


def test_students_on_time_keep_every_point(graded):
    for student in ("alice", "alicia"):
        row = grade_row(graded[0], student)
        assert (row["late_by"], row["penalty"]) == ("", "0"), row


# --------------------------------------------------------------------------- class 7: ids


def test_a_folder_named_like_a_pattern_is_never_graded_and_is_named(graded):
    base, done = graded
    report = (base / "out" / "report.html").read_text()
    refused = {r["student_id"]: r for r in rows(base / "out" / "grades.csv")}
    for name in attacks.PATTERN_FOLDERS:
        assert f"folder {name!r}" in done["stderr"], name
        assert not (base / "out" / "submitted" / name).exists()
        assert not (base / "out" / "autograded" / name).exists()
        shown = "'" + name if name.startswith("-") else name  # a CSV cell, never an option
        row = refused[shown]
        assert (row["status"], row["score"]) == ("failed", ""), row
        assert "refused: the folder name" in row["detail"]
    assert "Not graded" in report and "cannot be a student id" in report


def test_the_students_a_pattern_would_name_are_graded_once_and_intact(graded):
    from nbgrader.api import Gradebook

    base, _ = graded
    out = base / "out"
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        ids = sorted(s.id for s in gb.students)
        assert "*" not in ids and "ali*" not in ids and "-rf" not in ids
        for student in ("alice", "alicia"):
            assert gb.find_submission(attacks.LESSON, student).score == 4.0
            assert (out / "autograded" / student / attacks.LESSON / "99_toy.ipynb").is_file()
    outcomes = json.loads((out / ".grader" / "outcomes" / "alice.json").read_text())
    assert len(outcomes) == 1


def test_an_lms_user_who_takes_a_roster_students_name_is_not_that_student(graded):
    base, done = graded
    assert "1099" in done["stderr"] and "not graded" in done["stderr"]
    alice = grade_row(base, "alice")
    assert "(the file's time)" in alice["detail"]  # her own folder's notebook, not the upload


def test_a_student_id_that_is_a_pattern_is_refused_on_the_command_line(graded, tmp_path):
    done = run(
        "grade",
        graded[0] / "in" / "folders",
        "--out",
        tmp_path / "o",
        "--solutions",
        TOY_SOLUTIONS,
        "--student",
        "ali*",
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "cannot be a student id" in done.stderr


# --------------------------------------------------------------------------- class 7: cells


def _cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return [c for row in csv.reader(f) for c in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "name", ["grades.csv", "exercises.csv", "canvas.csv", "moodle.csv", "wide.csv"]
)
def test_no_csv_cell_the_grader_writes_is_a_formula(graded, name):
    base, done = graded
    for fmt, (code, stderr) in done["exports"].items():
        assert code == 0, (fmt, stderr)
    path = base / "out" / name if name in ("grades.csv", "exercises.csv") else base / name
    risky = [c for c in _cells(path) if c.startswith(FORMULA) and not _is_number(c)]
    assert not risky, risky


def test_a_formula_file_name_reaches_the_detail_cell_as_text(graded):
    base, _ = graded
    details = [
        r["detail"] for r in rows(base / "out" / "grades.csv") if r["student_id"] == "mallory"
    ]
    assert any(d.startswith("'=HYPERLINK(") for d in details), details
    assert any(d.startswith("'@SUM(") for d in details), details


def test_a_formula_name_reaches_the_canvas_file_as_text(graded):
    base, _ = graded
    students = [r["Student"] for r in rows(base / "canvas.csv")]
    assert any(s.startswith("'-2+3+cmd, =HYPERLINK(") for s in students), students


def test_every_field_is_quoted_so_a_separator_cannot_start_a_cell(graded):
    base, _ = graded
    first = (base / "out" / "grades.csv").read_text().splitlines()[0]
    assert first.startswith('"student_id","lesson"')


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("＝1+1", "'＝1+1"),
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("1e-3", "1e-3"),
        ("-", "-"),
        ("ada", "ada"),
        (None, ""),
        (2.5, "2.5"),
    ],
)
def test_a_cell_that_could_be_a_formula_gets_a_leading_quote_and_a_number_does_not(value, written):
    from autograder.grading.publish.csv_cells import cell

    assert cell(value) == written
