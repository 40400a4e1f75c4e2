"""The class roster: who should have handed something in.

``--roster students.csv`` is read here and loaded into the gradebook the way
``nbgrader db student import`` loads one (``Gradebook.update_or_create_student`` per row, an
empty cell stored as no value), so formgrader and ``nbgrader export`` show the names. The
roster is also kept in ``OUT/.grader/roster.json``: a later run without ``--roster`` still
knows the class. With a roster, every roster student with no submission for a lesson of the
course folder gets a grades.csv row with status ``missing``, and the report lists who handed
something in without being on the roster.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..vocabulary import GraderError, Status

if TYPE_CHECKING:
    from ..course_dir import CoursePaths
    from ..publish.rows import GradeRow

# The roster's columns, as nbgrader's student table names them; ``student_id`` may stand for
# ``id`` (the name grades.csv uses).
COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id")
_ALIASES = {"student_id": "id"}


@dataclass(frozen=True)
class RosterStudent:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""


def read_roster(path: Path) -> list[RosterStudent]:
    """Read a roster CSV; every problem names the file, the line and what is wrong.

    The header must name an ``id`` (or ``student_id``) column; ``first_name``, ``last_name``,
    ``email`` and ``lms_user_id`` are optional, other columns are ignored (as nbgrader's
    import does).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GraderError(f"--roster {path}: cannot read the file ({exc})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise GraderError(f"{path}:1: the roster is empty (it needs a header with an id column)")
    header = [_ALIASES.get(h.strip(), h.strip()) for h in rows[0]]
    if "id" not in header:
        raise GraderError(
            f"{path}:1: no id column: the header must name student_id (or id); "
            f"found {', '.join(rows[0])}"
        )
    students: dict[str, RosterStudent] = {}
    for number, row in enumerate(rows[1:], start=2):
        where = f"{path}:{number}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise GraderError(f"{where}: expected {len(header)} fields, found {len(row)}")
        values = {h: cell.strip() for h, cell in zip(header, row) if h in COLUMNS}
        student = values["id"]
        if not student:
            raise GraderError(f"{where}: the student id is empty")
        if "/" in student or student.startswith("."):
            raise GraderError(f"{where}: {student!r} cannot be a student id (it names a folder)")
        if student in students:
            raise GraderError(f"{where}: {student} is on the roster twice")
        students[student] = RosterStudent(**values)
    return list(students.values())


def import_roster(db_url: str, students: list[RosterStudent]) -> None:
    """Create or update each student in the gradebook, as ``nbgrader db student import``."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        for s in students:
            fields = {k: (v or None) for k, v in asdict(s).items() if k != "id"}
            gb.update_or_create_student(s.id, **fields)


def save(course: CoursePaths, students: list[RosterStudent]) -> None:
    course.roster_record.write_text(json.dumps([asdict(s) for s in students], indent=1))


def load(course: CoursePaths) -> list[RosterStudent] | None:
    """The roster last given to this course folder; None when there never was one."""
    path = course.roster_record
    if not path.is_file():
        return None
    return [RosterStudent(**d) for d in json.loads(path.read_text())]


def missing_rows(
    roster: list[RosterStudent], grades: list[GradeRow], max_scores: dict[str, float]
) -> list[GradeRow]:
    """A ``missing`` row for each roster student and lesson of ``grades`` with no row."""
    from ..publish.rows import GradeRow

    lessons = sorted({g.lesson for g in grades if g.lesson})
    have = {(g.student_id, g.lesson) for g in grades}
    unrecognised = {g.student_id for g in grades if not g.lesson}
    return [
        GradeRow(
            s.id,
            lesson,
            None,
            max_scores.get(lesson),
            Status.MISSING,
            "on the roster; no notebook of this lesson was handed in"
            + (
                " (a file that could not be read is listed as failed)"
                if s.id in unrecognised
                else ""
            ),
        )
        for s in roster
        for lesson in lessons
        if (s.id, lesson) not in have
    ]


def not_on_roster(roster: list[RosterStudent], grades: list[GradeRow]) -> list[str]:
    """Students with a row in grades.csv who are not on the roster."""
    known = {s.id for s in roster}
    return sorted({g.student_id for g in grades} - known)
