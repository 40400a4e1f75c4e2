"""The roster CSV: reading it, loading it as nbgrader's own import does, and missing rows.

Nothing here grades; the graded roster behaviour (a missing row in grades.csv, a submitter not
on the roster in the report) is in tests/test_after_deadline.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.publish.rows import GradeRow
from autograder.grading.rules import roster
from autograder.grading.vocabulary import GraderError, NotebookStatus

ROOT = Path(__file__).resolve().parent.parent
HEADER = "student_id,first_name,last_name,email,lms_user_id\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_roster_row_becomes_a_student_with_every_field(tmp_path):
    path = write(tmp_path / "s.csv", HEADER + "ada,Ada,Lovelace,ada@example.edu,101\n")
    assert roster.read_roster(path) == [
        roster.RosterStudent("ada", "Ada", "Lovelace", "ada@example.edu", "101")
    ]


def test_nbgraders_own_id_header_and_extra_columns_are_accepted(tmp_path):
    path = write(tmp_path / "s.csv", "id,last_name,section\nada,Lovelace,A\n")
    assert roster.read_roster(path) == [roster.RosterStudent("ada", last_name="Lovelace")]


def test_a_roster_without_an_id_column_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "s.csv", "name,email\nAda,ada@example.edu\n")
    with pytest.raises(GraderError, match=rf"{path}:1: no id column"):
        roster.read_roster(path)


def test_a_row_with_a_missing_field_names_the_line(tmp_path):
    path = write(tmp_path / "s.csv", HEADER + "ada,Ada,Lovelace,ada@example.edu,101\nben,Ben\n")
    with pytest.raises(GraderError, match=rf"{path}:3: expected 5 fields, found 2"):
        roster.read_roster(path)


def test_an_empty_student_id_names_the_line(tmp_path):
    path = write(tmp_path / "s.csv", HEADER + ",Ada,Lovelace,ada@example.edu,101\n")
    with pytest.raises(GraderError, match=rf"{path}:2: the student id is empty"):
        roster.read_roster(path)


def test_a_student_twice_on_the_roster_is_refused(tmp_path):
    path = write(tmp_path / "s.csv", HEADER + "ada,,,,\nada,,,,\n")
    with pytest.raises(GraderError, match=rf"{path}:3: ada is on the roster twice"):
        roster.read_roster(path)


def test_a_malformed_roster_stops_grade_before_anything_is_graded(tmp_path):
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    bad = write(tmp_path / "s.csv", "name\nAda\n")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp_path / "subs")]
        + ["--out", str(tmp_path / "out"), "--roster", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert f"{bad}:1: no id column" in done.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


def _students(db: Path) -> list[tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}") as gb:
        return sorted(
            (s.id, s.first_name, s.last_name, s.email, s.lms_user_id) for s in gb.students
        )


def test_the_roster_reaches_the_gradebook_as_nbgrader_db_student_import_puts_it(
    tmp_path, monkeypatch
):
    csv_text = "id,first_name,last_name,email,lms_user_id\nada,Ada,Lovelace,,101\nben,Ben,,b@x,\n"
    path = write(tmp_path / "s.csv", csv_text)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    theirs = tmp_path / "nbgrader"
    theirs.mkdir()
    subprocess.run(
        [Path(sys.executable).parent / "nbgrader", "db", "student", "import", str(path)],
        cwd=theirs,
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    monkeypatch.setenv("PATH", env["PATH"])  # a new gradebook runs `alembic` from PATH
    ours = tmp_path / "ours.db"
    roster.import_roster(f"sqlite:///{ours}", roster.read_roster(path))
    assert _students(ours) == _students(theirs / "gradebook.db")


def _row(student: str, lesson: str, status: NotebookStatus = NotebookStatus.GRADED) -> GradeRow:
    return GradeRow(student, lesson, 1.0, 2.0, status, "")


def test_a_roster_student_without_a_notebook_gets_a_missing_row_per_lesson():
    grades = [_row("ada", "01_derivatives"), _row("ada", "02_chain_rule")]
    class_list = [roster.RosterStudent("ada"), roster.RosterStudent("ben")]
    rows = roster.missing_rows(class_list, grades, {"01_derivatives": 3.0, "02_chain_rule": 4.0})
    assert [(r.student_id, r.lesson, r.status, r.score) for r in rows] == [
        ("ben", "01_derivatives", NotebookStatus.MISSING, None),
        ("ben", "02_chain_rule", NotebookStatus.MISSING, None),
    ]


def test_a_failed_notebook_is_not_counted_as_missing():
    grades = [_row("ada", "01_derivatives"), _row("ben", "01_derivatives", NotebookStatus.FAILED)]
    class_list = [roster.RosterStudent("ada"), roster.RosterStudent("ben")]
    assert roster.missing_rows(class_list, grades, {}) == []


def test_a_submitter_not_on_the_roster_is_named():
    grades = [_row("ada", "01_derivatives"), _row("zed", "01_derivatives")]
    assert roster.not_on_roster([roster.RosterStudent("ada")], grades) == ["zed"]


# --------------------------------------------------------------------------- student ids


@pytest.mark.parametrize("text", ["ada", "ada.lovelace@example.edu", "s-1024", "_x", "josé", "a+b"])
def test_an_ordinary_id_is_a_student_id(text):
    assert roster.student_id_problem(text) == ""


@pytest.mark.parametrize(
    "text",
    ["*", "ali*", "[a-z]*", "a?", "-rf", "--help", ".hidden", "a/b", "a b", "=1+1", "", "x" * 101],
)
def test_a_pattern_an_option_or_a_formula_is_not_a_student_id(text):
    assert "cannot be a student id" in roster.student_id_problem(text)


def test_a_roster_id_that_is_a_pattern_names_the_line(tmp_path):
    path = write(tmp_path / "s.csv", HEADER + "ali*,Ali,,,\n")
    with pytest.raises(GraderError, match=rf"{path}:2: 'ali\*' cannot be a student id"):
        roster.read_roster(path)


# --------------------------------------------------------------------------- LMS identities

CLASS = [
    roster.RosterStudent("ada", "Ada", "Lovelace", "ada@example.edu", "1001", "alovelace"),
    roster.RosterStudent("ben", "Ben", "Franklin", "ben@example.edu", "", "bfranklin"),
    roster.RosterStudent("ben2", "Ben", "Franklin", "ben2@example.edu", "", ""),
]


def test_an_lms_user_id_matches_first():
    found, how = roster.match(roster.Identity(lms_user_id="1001", name="Someone Else"), CLASS)
    assert (found.id, how) == ("ada", "lms_user_id")


def test_email_and_username_match_case_insensitively():
    assert roster.match(roster.Identity(email="BEN@example.edu"), CLASS)[0].id == "ben"
    assert roster.match(roster.Identity(username="BFranklin"), CLASS)[0].id == "ben"


def test_a_name_that_names_two_students_matches_nobody():
    found, why = roster.match(roster.Identity(name="Ben Franklin"), CLASS)
    assert found is None and "several" in why


def test_canvas_file_names_match_by_canvas_form_of_the_sortable_name():
    assert roster.canvas_key("O'Brien-Smith, Seán") == "obriensmithseán"
    assert roster.canvas_key("Lovelace_12_, Ada") == "lovelace12ada"
    found, how = roster.match(roster.Identity(canvas_name="lovelaceada"), CLASS)
    assert (found.id, how) == ("ada", "name")


def test_a_user_not_on_the_roster_who_takes_a_students_name_is_not_that_student():
    found, _ = roster.match(roster.Identity(lms_user_id="1099", canvas_name="lovelaceada"), CLASS)
    assert found is None
