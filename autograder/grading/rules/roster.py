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
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..vocabulary import GraderError, NotebookStatus

if TYPE_CHECKING:
    from ..course_dir import CoursePaths
    from ..publish.rows import GradeRow

# The roster's columns, as nbgrader's student table names them; ``student_id`` may stand for
# ``id`` (the name grades.csv uses), ``login`` for ``username`` (the login name the LMS and
# JupyterHub know: Canvas's SIS Login ID, Moodle's Username; nbgrader does not keep it).
COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id", "username")
_ALIASES = {"student_id": "id", "login": "username"}

# A student id is a folder name in OUT and an argument nbgrader reads as a file pattern
# (``*``, ``?`` and ``[...]`` would name other students): letters, digits and ``_ . @ + -``,
# starting with a letter, a digit or ``_``.
_STUDENT_ID = re.compile(r"\w[\w.@+-]{0,99}")


def student_id_problem(text: str) -> str:
    """Why ``text`` cannot be a student id ("" when it can)."""
    if _STUDENT_ID.fullmatch(text) and text.isprintable():
        return ""
    return (
        f"{text[:60]!r} cannot be a student id (use letters, digits and _ . @ + -, starting "
        "with a letter, a digit or _; at most 100 characters)"
    )


@dataclass(frozen=True)
class RosterStudent:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""
    username: str = ""


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
        if student_id_problem(student):
            raise GraderError(f"{where}: {student_id_problem(student)}")
        if student in students:
            raise GraderError(f"{where}: {student} is on the roster twice")
        students[student] = RosterStudent(**values)
    return list(students.values())


def import_roster(db_url: str, students: list[RosterStudent]) -> None:
    """Create or update each student in the gradebook, as ``nbgrader db student import``."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        for s in students:
            fields = {k: (v or None) for k, v in asdict(s).items() if k not in ("id", "username")}
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
            NotebookStatus.MISSING,
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


# --------------------------------------------------------------------------- LMS identities

MATCH_ORDER = ("lms_user_id", "email", "username", "name")


@dataclass(frozen=True)
class Identity:
    """Who an LMS download says handed a file in: whatever of these it names."""

    lms_user_id: str = ""  # Canvas's user id (the number in its file names)
    email: str = ""
    username: str = ""
    name: str = ""  # the full name, as the LMS writes it ("Ada Lovelace")
    canvas_name: str = ""  # Canvas's file-name form of "Last, First" (lovelaceada)

    def describe(self) -> str:
        parts = [f"{k} {v!r}" for k, v in self.__dict__.items() if v]
        return ", ".join(parts) or "nothing that names a student"


def canvas_key(sortable_name: str) -> str:
    """A name as Canvas writes it into its download's file names (lib/content_zipper.rb):
    ``_<digits>_`` runs lose their underscores, lower case, every non-word character dropped."""
    return re.sub(r"[^\w]", "", re.sub(r"_(\d+)_", r"\1", sortable_name).lower())


def _name_key(text: str) -> str:
    return " ".join(text.replace(",", " ").split()).casefold()


def _keys(s: RosterStudent, field_name: str) -> set[str]:
    if field_name == "name":
        first, last = s.first_name.strip(), s.last_name.strip()
        if not (first or last):
            return set()
        return {_name_key(f"{first} {last}"), _name_key(f"{last} {first}")}
    value = getattr(s, field_name).strip()
    return {value.casefold()} if value else set()


def match(identity: Identity, students: list[RosterStudent]) -> tuple[RosterStudent | None, str]:
    """The one roster student ``identity`` names, trying :data:`MATCH_ORDER` in turn; or None
    and why. A value that names two students matches nobody (never a guess), and a weaker key
    never matches a student whose stronger key the identity contradicts: a Canvas user not on
    the roster who calls themself by a roster student's name is not that student."""
    contradicted: set[str] = set()  # students an earlier key of the identity rules out
    for field_name in MATCH_ORDER:
        wanted = getattr(identity, field_name).strip()
        if field_name == "name" and identity.canvas_name:
            hits = [
                s
                for s in students
                if (s.first_name or s.last_name)
                and canvas_key(f"{s.last_name}, {s.first_name}") == identity.canvas_name
            ]
        elif wanted:
            key = _name_key(wanted) if field_name == "name" else wanted.casefold()
            hits = [s for s in students if key in _keys(s, field_name)]
        else:
            continue
        hits = [s for s in hits if s.id not in contradicted]
        if len(hits) == 1:
            return hits[0], field_name
        if len(hits) > 1:
            who = ", ".join(s.id for s in hits)
            return None, f"its {field_name} names several roster students ({who})"
        if wanted and field_name != "name":
            contradicted |= {s.id for s in students if _keys(s, field_name) - {wanted.casefold()}}
    return None, f"no roster student matches ({identity.describe()})"
