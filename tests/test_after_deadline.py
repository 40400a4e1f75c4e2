"""After the deadline: late penalties, extensions, the roster and the LMS exports, on real nbgrader.

ONE batch of the toy lesson is graded for the whole module (``graded``), with a deadline, a
per-hour policy with a cap, an extensions CSV and a roster:

- ``ontime`` hands in before the deadline (nbgrader's timestamp.txt: the batch is an nbgrader
  ``submitted/`` tree, graded with ``--exchange-timestamps``);
- ``late`` hands in 2 h 31 min after it (timestamp.txt);
- ``extended`` hands in after it but before the extension (the file's time);
- ``stranger`` hands in 6 h after it (the file's time) and is not on the roster;
- ``absent`` is on the roster and hands in nothing.

Every expected penalty is computed from the policy and the times, not written down; the
totals of the exports are checked against the real ``nbgrader export`` on the same OUT.
Measured: about 1 min for the batch and 15 s for ``nbgrader export`` on a lightly loaded
2-core machine; 2 to 4 min when the machine is shared (load average 12).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import run_cli
from support.env import with_venv_on_path

from autograder.demo import samples
from autograder.grading.publish.lms import CANVAS_IDENTITY, MOODLE_IDENTITY
from autograder.grading.rules import late

ROOT = Path(__file__).resolve().parent.parent
TOY_SOLUTIONS = ROOT / "tests" / "fixtures" / "toy_course" / "solutions"
LESSON = "99_toy"
UTC = dt.timezone.utc
DUE = dt.datetime(2026, 12, 1, 22, 59, tzinfo=UTC)  # given as 23:59+01:00
EXTENDED_TO = dt.datetime(2026, 12, 3, tzinfo=UTC)
POLICY = late.Policy("per-hour", rate=10, cap=50)
HANDED_IN = {
    "ontime": DUE - dt.timedelta(hours=3),
    "late": DUE + dt.timedelta(hours=2, minutes=31),
    "extended": DUE + dt.timedelta(hours=6),
    "stranger": DUE + dt.timedelta(hours=6),
}
STAMPED = ("ontime", "late")  # the others carry only the file's time
ROSTER = [
    ("ontime", "Ona", "Time", "ona@example.edu", "101"),
    ("late", "Lee", "Late", "lee@example.edu", "102"),
    ("extended", "Ext", "Ended", "ext@example.edu", "103"),
    ("absent", "Abe", "Sent", "abe@example.edu", "104"),
]

# One batch for the module, graded once per test run; its tests run on one worker.
pytestmark = pytest.mark.xdist_group("after-deadline")


def _build(folder: Path) -> None:
    """An nbgrader submitted/ tree, as nbgrader's exchange (``nbgrader collect``) leaves it."""
    solution = samples.read(TOY_SOLUTIONS / LESSON / f"{LESSON}.ipynb")
    for student, when in HANDED_IN.items():
        where = folder / student / LESSON / f"{LESSON}.ipynb"
        path = samples.write(samples.student_copy(solution), where)
        if student in STAMPED:
            (path.parent / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        os.utime(path, (when.timestamp(), when.timestamp()))


def _grade_batch(base: Path) -> Path:
    """Build and grade the module's batch in ``base``; return OUT."""
    _build(base / "subs" / "submitted")
    with open(base / "roster.csv", "w", newline="") as f:
        csv.writer(f).writerows([("student_id", "first_name", "last_name", "email", "lms_user_id")])
        csv.writer(f).writerows(ROSTER)
    (base / "ext.csv").write_text(f"student_id,lesson,due\nextended,{LESSON},2026-12-03T00:00Z\n")
    done = run_cli(
        "grade",
        base / "subs" / "submitted",
        "--out",
        base / "out",
        "--exchange-timestamps",
        *["--solutions", TOY_SOLUTIONS, "--jobs", "2", "--due", "2026-12-01T23:59+01:00"],
        *["--late-policy", POLICY.method, "--late-rate", f"{POLICY.rate:g}"],
        *["--late-cap", f"{POLICY.cap:g}", "--roster", base / "roster.csv"],
        *["--extensions", base / "ext.csv"],
        cwd=base,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return base / "out"


@pytest.fixture(scope="module")
def graded(shared_once) -> Path:
    """OUT of the module's one graded batch, graded once per test run (``shared_once``: the
    tests only read it)."""
    return Path(shared_once("after-deadline", _grade_batch))


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def grades(out: Path) -> dict[str, dict[str, str]]:
    return {r["student_id"]: r for r in read_csv(out / "grades.csv")}


def raw_points(out: Path, student: str) -> float:
    """The points before any penalty: the sum of the student's exercises."""
    rows = read_csv(out / "exercises.csv")
    return sum(float(r["score"] or 0) for r in rows if r["student_id"] == student)


def expected_penalty(out: Path, student: str, due: dt.datetime = DUE) -> float:
    seconds = (HANDED_IN[student] - due).total_seconds()
    return POLICY.penalty(raw_points(out, student), seconds)


def test_grades_csv_has_late_by_and_penalty_before_status(graded):
    with open(graded / "grades.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[header.index("late_by") :][:3] == ["late_by", "penalty", "status"]


def test_a_late_notebook_scores_its_points_less_the_policys_penalty(graded):
    row = grades(graded)["late"]
    penalty = expected_penalty(graded, "late")
    assert penalty > 0
    assert float(row["penalty"]) == pytest.approx(penalty)
    assert float(row["score"]) == pytest.approx(raw_points(graded, "late") - penalty)
    assert row["late_by"] == late.show_duration((HANDED_IN["late"] - DUE).total_seconds())


def test_the_cap_limits_a_very_late_notebooks_penalty(graded):
    row = grades(graded)["stranger"]
    assert POLICY.percent((HANDED_IN["stranger"] - DUE).total_seconds()) == POLICY.cap
    assert float(row["penalty"]) == pytest.approx(expected_penalty(graded, "stranger"))


def test_an_on_time_notebook_keeps_every_point(graded):
    row = grades(graded)["ontime"]
    assert (row["late_by"], float(row["penalty"])) == ("", 0)
    assert float(row["score"]) == raw_points(graded, "ontime")


def test_an_extension_moves_the_deadline_for_that_student_only(graded):
    row = grades(graded)["extended"]
    assert (row["late_by"], float(row["penalty"])) == ("", 0)
    assert "with an extension" in row["detail"]
    assert HANDED_IN["extended"] < EXTENDED_TO


@pytest.mark.parametrize(
    ("student", "source"),
    [("late", "(timestamp.txt of nbgrader's exchange)"), ("extended", "(the file's time)")],
)
def test_detail_says_where_the_submission_time_came_from(graded, student, source):
    assert source in grades(graded)[student]["detail"]


def test_the_gradebook_holds_the_deadline_the_extension_and_nbgraders_penalty(graded):
    from nbgrader.api import Gradebook

    rows = grades(graded)
    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}") as gb:
        assert gb.find_assignment(LESSON).duedate == DUE.replace(tzinfo=None)
        extended = gb.find_submission(LESSON, "extended")
        assert extended.duedate == EXTENDED_TO.replace(tzinfo=None)
        for student in HANDED_IN:
            sub = gb.find_submission(LESSON, student)
            assert sub.late_submission_penalty == pytest.approx(float(rows[student]["penalty"]))


def nbgrader_export(out: Path, target: Path) -> dict[str, float]:
    """student -> the score nbgrader's own `nbgrader export` gives (after its penalty)."""
    subprocess.run(
        [Path(sys.executable).parent / "nbgrader", "export", "--to", str(target)],
        cwd=out,
        env=with_venv_on_path(),
        capture_output=True,
        check=True,
        timeout=300,
    )
    return {r["student_id"]: float(r["score"]) for r in read_csv(target)}


@pytest.fixture(scope="module")
def theirs(graded, tmp_path_factory) -> dict[str, float]:
    return nbgrader_export(graded, tmp_path_factory.mktemp("nbgrader-export") / "grades.csv")


def test_grades_csv_scores_equal_nbgrader_exports_after_the_penalty(graded, theirs):
    ours = {s: float(r["score"] or 0) for s, r in grades(graded).items()}
    assert ours == pytest.approx(theirs)


def test_a_roster_student_with_nothing_handed_in_has_a_missing_row(graded):
    row = grades(graded)["absent"]
    assert (row["status"], row["score"], row["lesson"]) == ("missing", "", LESSON)


def test_the_roster_names_reach_the_gradebook(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}") as gb:
        people = {
            s.id: (s.id, s.first_name, s.last_name, s.email, s.lms_user_id) for s in gb.students
        }
    assert [people[r[0]] for r in ROSTER] == ROSTER


def test_the_report_names_the_submitter_not_on_the_roster_and_the_missing_student(graded):
    report = (graded / "report.html").read_text()
    assert "not on the roster" in report and "stranger" in report.split("not on the roster")[1]
    assert "<td>absent</td>" in report


def test_the_report_lists_late_submissions_with_their_penalty(graded):
    section = (graded / "report.html").read_text().split("<h2>Late submissions</h2>")[1]
    section = section.split("</table>")[0]
    assert "<td>late</td>" in section and "<td>ontime</td>" not in section


def test_a_late_students_feedback_page_shows_the_penalty_and_the_score_after_it(graded):
    row = grades(graded)["late"]
    page = (graded / "feedback" / "late" / f"{LESSON}.html").read_text()
    assert "Late submission" in page
    assert f"a late penalty of {float(row['penalty']):g} points" in page
    assert f"Your score after it: {float(row['score']):g} of " in page


def test_an_on_time_students_feedback_page_has_no_late_block(graded):
    assert "Late submission" not in (graded / "feedback" / "ontime" / f"{LESSON}.html").read_text()


# --------------------------------------------------------------------------- exports


@pytest.fixture(scope="module")
def exported(graded, tmp_path_factory) -> dict[str, list[list[str]]]:
    """Each format exported once (in this process: the command line is tested on its own)."""
    from autograder.grading.publish.lms import FORMATS, Options
    from autograder.grading.publish.lms import export as write

    folder = tmp_path_factory.mktemp("exports")  # this worker's own: OUT may be shared
    files = {}
    for fmt in FORMATS:
        path, _ = write(graded, fmt, Options(to=folder / f"{fmt}.csv"))
        with open(path, newline="", encoding="utf-8") as f:
            files[fmt] = list(csv.reader(f))
    return files


def test_the_export_command_writes_under_out_and_says_where(graded):
    done = run_cli("export", graded, "--format", "wide", timeout=120)
    assert done.returncode == 0, done.stderr
    assert str(graded / "exports" / "wide.csv") in done.stdout
    assert (graded / "exports" / "wide.csv").is_file()


def _number(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def test_canvas_export_follows_canvas_gradebook_importer_rules(exported):
    # Canvas's GradebookImporter (app/models/gradebook_importer.rb): the header starts with
    # Student and ID; with "SIS User ID" then "SIS Login ID" in the third and fourth columns
    # there are five student columns, the fifth matching /Section/; a row whose first cell
    # matches /Points Possible/ gives each assignment's points; a trailing column named like
    # "Current Score" or "Final Points" is dropped as read-only, so none may be a lesson.
    rows = exported["canvas"]
    header = rows[0]
    assert tuple(header[:5]) == CANVAS_IDENTITY
    assert header[5:] == [LESSON]
    assert "Points Possible" in rows[1][0] and rows[1][1:5] == ["", "", "", ""]
    maximum = float(rows[1][5])
    students = rows[2:]
    assert all(len(r) == len(header) for r in rows)
    assert all(_number(r[5]) is None or 0 <= _number(r[5]) <= maximum for r in students)
    # the importer finds a student by Canvas ID, else SIS User ID, else SIS Login ID, else name
    assert all(r[1] or r[2] for r in students)


def test_canvas_export_identifies_roster_students_by_lms_id_and_name(exported):
    rows = {r[2]: r for r in exported["canvas"][2:]}
    for sid, first, last, _, lms in ROSTER:
        assert rows[sid][:2] == [f"{last}, {first}", lms]


def test_moodle_export_follows_moodles_csv_grade_import_rules(exported):
    # Moodle's gradeimport_csv (grade/import/csv/classes/load_data.php): each line must map to
    # a user through the column chosen as identifier (an empty one maps to nobody); a grade
    # cell is a number or empty / '-' (no grade); two columns may not map to one item.
    rows = exported["moodle"]
    header = rows[0]
    assert tuple(header[:5]) == MOODLE_IDENTITY and len(set(header)) == len(header)
    ids = [r[header.index("ID number")] for r in rows[1:]]
    emails = [r[header.index("Email address")] for r in rows[1:]]
    assert all(ids) and len(set(ids)) == len(ids)
    assert all(emails), "a row without the identifier would be filed under the row above"
    for r in rows[1:]:
        assert len(r) == len(header)
        assert all(cell == "-" or float(cell) >= 0 for cell in r[5:])


def test_wide_export_totals_equal_nbgrader_export(exported, theirs):
    rows = exported["wide"]
    header = rows[0]
    assert header[-2:] == [LESSON, "total"]
    totals = {r[0]: float(r[-1]) for r in rows[1:]}
    assert totals == pytest.approx(theirs)


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "wide"])
def test_every_export_has_the_missing_student_with_zero(exported, fmt):
    rows = exported[fmt]
    header = rows[0]
    (absent,) = [r for r in rows if "absent" in r]
    assert absent[header.index(LESSON)] == "0"


def test_export_of_a_lesson_that_was_not_graded_is_refused(graded):
    done = run_cli("export", graded, "--format", "wide", "--lesson", "01_derivatives", timeout=120)
    assert done.returncode == 2 and "01_derivatives" in done.stderr
