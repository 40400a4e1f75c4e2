"""grades.csv as files an LMS imports (the command is :mod:`autograder.commands.export`).

The points are grades.csv's ``score``, i.e. after the late penalty; the names, e-mail
addresses, LMS ids and usernames come from the gradebook's students and the roster
(``grade --roster``). Every student of grades.csv and of the roster has a row (Moodle: every
student it can identify). A lesson cell is

- the notebook's score when it was graded (written answers still waiting in formgrader count
  what they have so far; the command says how many);
- 0 when nothing was handed in (status ``missing``, or no row at all), as ``nbgrader export``
  counts it;
- empty when the notebook could not be graded (status ``failed``; ``-`` in Moodle's file,
  Moodle's "no grade"): a broken file never becomes a silent zero; the command lists them.

Formats (each follows the column rules of its LMS's own importer; docs/GRADING.md quotes them):

- ``canvas``: Canvas's gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section,
  then one column per lesson, and a second row "Points Possible" with each lesson's maximum;
  Student is "Last, First", ID the LMS id, SIS User ID the student id, SIS Login ID the
  roster's username;
- ``moodle``: Moodle's CSV grade import: First name, Last name, ID number (the student id),
  Email address, Username, then one grade column per lesson (and with ``feedback`` a
  "<lesson> (Feedback)" column of the instructor's comments after each). A row without the
  identifier users are mapped by is left out and named: Moodle would file it under the
  student of the row above;
- ``wide``: student_id, first_name, last_name, email, lms_user_id, one column per lesson, total
  (empty when a lesson cell is).

Every cell goes through :mod:`.csv_cells` (no cell a spreadsheet runs as a formula).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..vocabulary import GraderError, NotebookStatus
from . import csv_cells

FORMATS = ("canvas", "moodle", "wide")
MOODLE_IDENTIFIERS = {"email": "Email address", "username": "Username", "idnumber": "ID number"}


CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes it


MOODLE_IDENTITY = ("First name", "Last name", "ID number", "Email address", "Username")


WIDE_IDENTITY = ("student_id", "first_name", "last_name", "email", "lms_user_id")


@dataclass(frozen=True)
class Person:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""
    username: str = ""


@dataclass(frozen=True)
class Table:
    """One row per student, one cell per lesson: the points to export, or None (empty)."""

    lessons: list[str]
    max_scores: dict[str, float]
    people: list[Person]
    points: dict[tuple[str, str], float | None]
    warnings: list[str]
    comments: dict[tuple[str, str], str]  # (student, lesson) -> the instructor's comments

    def row(self, student: str) -> list[float | None]:
        return [self.points[(student, lesson)] for lesson in self.lessons]


@dataclass(frozen=True)
class Options:
    """What the export command asks for beyond the format."""

    lessons: list[str] | None = None
    to: Path | None = None
    moodle_id: str = "email"  # the column users are mapped by in Moodle's import
    feedback: bool = False  # Moodle: a feedback column per lesson (the instructor's comments)


def export(out: Path, fmt: str, options: Options = Options()) -> tuple[Path, Table]:
    """Write OUT's grades in ``fmt``; return the file written and what was in it."""
    from ..course_dir import CoursePaths

    course = CoursePaths(out.resolve())
    if not course.grades_csv.is_file():
        raise GraderError(f"{course.grades_csv} not found: run `python -m autograder grade` first")
    table = read_table(course, options.lessons)
    path = options.to if options.to is not None else course.exports_dir / f"{fmt}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "canvas":
        rows = canvas_rows(table)
    elif fmt == "moodle":
        rows = moodle_rows(table, options)
    else:
        rows = wide_rows(table)
    csv_cells.write(path, rows)
    return path, table


def read_table(course, only: list[str] | None) -> Table:
    """grades.csv, the roster and the gradebook's students, as one table."""
    from ..rules import roster
    from . import rows as results

    grades = results.read_grades(course)
    present = sorted({g.lesson for g in grades if g.lesson})
    unknown = sorted(set(only or ()) - set(present))
    if unknown:
        raise GraderError(f"--lesson {' '.join(unknown)}: not in grades.csv (have {present})")
    lessons = sorted(only) if only else present
    people = _people(course, grades, roster.load(course))
    by_pair = {(g.student_id, g.lesson): g for g in grades if g.lesson}
    points: dict[tuple[str, str], float | None] = {}
    failed, pending = [], 0
    for person in people:
        for lesson in lessons:
            g = by_pair.get((person.id, lesson))
            if g is None or g.status == NotebookStatus.MISSING:
                points[(person.id, lesson)] = 0.0
            elif g.status == NotebookStatus.FAILED:
                points[(person.id, lesson)] = None
                failed.append(f"{person.id} {lesson}")
            else:
                points[(person.id, lesson)] = g.score
                pending += g.status == NotebookStatus.NEEDS_MANUAL
    warnings = []
    unreadable = sorted({g.student_id for g in grades if not g.lesson})
    if unreadable:
        warnings.append(
            f"a notebook of {', '.join(unreadable)} could not be read or recognised, and its "
            "file name names no lesson (see grades.csv): a 0 for a lesson there may be it"
        )
    if failed:
        warnings.append(f"left empty, could not be graded: {', '.join(failed)}")
    if pending:
        warnings.append(f"{pending} notebooks still wait for manual grading: points so far")
    comments = _comments(course, lessons)
    return Table(lessons, _max_scores(grades, lessons), people, points, warnings, comments)


def _people(course, grades, class_list) -> list[Person]:
    from dataclasses import replace

    from nbgrader.api import Gradebook

    from ..course_dir import open_course

    known: dict[str, Person] = {}
    with Gradebook(open_course(course.root).db_url) as gb:
        for s in gb.students:
            known[s.id] = Person(
                s.id, s.first_name or "", s.last_name or "", s.email or "", s.lms_user_id or ""
            )
    logins = {s.id: s.username for s in class_list or ()}  # nbgrader keeps no username
    ids = {g.student_id for g in grades} | {s.id for s in class_list or ()}
    return [replace(known.get(i, Person(i)), username=logins.get(i, "")) for i in sorted(ids)]


def _comments(course, lessons: list[str]) -> dict[tuple[str, str], str]:
    """(student, lesson) -> the instructor's comments of exercises.csv, one per exercise."""
    import csv

    found: dict[tuple[str, str], list[str]] = {}
    if course.exercises_csv.is_file():
        with open(course.exercises_csv, newline="") as f:
            for r in csv.DictReader(f):
                if r["lesson"] in lessons and r["comment"]:
                    text = csv_cells.as_written(r["comment"])
                    who = csv_cells.as_written(r["student_id"])
                    found.setdefault((who, r["lesson"]), []).append(f"{r['grade_id']}: {text}")
    return {key: " | ".join(parts) for key, parts in found.items()}


def _max_scores(grades, lessons: list[str]) -> dict[str, float]:
    found = {}
    for g in grades:
        if g.lesson in lessons and g.max_score is not None:
            found[g.lesson] = max(found.get(g.lesson, 0.0), g.max_score)
    return {lesson: found.get(lesson, 0.0) for lesson in lessons}


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def canvas_rows(t: Table) -> list[list[str]]:
    rows = [[*CANVAS_IDENTITY, *t.lessons]]
    rows.append(
        [CANVAS_POINTS_POSSIBLE, "", "", "", "", *(_cell(t.max_scores[x]) for x in t.lessons)]
    )
    for p in t.people:
        name = f"{p.last_name}, {p.first_name}" if p.last_name or p.first_name else p.id
        rows.append([name, p.lms_user_id, p.id, p.username, "", *map(_cell, t.row(p.id))])
    return rows


def moodle_rows(t: Table, options: Options = Options()) -> list[list[str]]:
    """Moodle's import file; a student without the identifier users are mapped by is left
    out and named in ``t.warnings`` (Moodle would file that row under the student above)."""
    if options.moodle_id not in MOODLE_IDENTIFIERS:
        raise GraderError(
            f"--moodle-id {options.moodle_id}: use one of {', '.join(MOODLE_IDENTIFIERS)}"
        )
    column = MOODLE_IDENTIFIERS[options.moodle_id]
    lesson_columns = [
        name
        for lesson in t.lessons
        for name in ([lesson, f"{lesson} (Feedback)"] if options.feedback else [lesson])
    ]
    rows = [[*MOODLE_IDENTITY, *lesson_columns]]
    left_out = []
    for p in t.people:
        identity = [p.first_name, p.last_name, p.id, p.email, p.username]
        if not identity[MOODLE_IDENTITY.index(column)].strip():
            left_out.append(p.id)
            continue
        cells = []
        for lesson, value in zip(t.lessons, t.row(p.id)):
            cells.append("-" if value is None else _cell(value))  # Moodle's "no grade"
            if options.feedback:
                cells.append(t.comments.get((p.id, lesson), ""))
        rows.append([*identity, *cells])
    if left_out:
        t.warnings.append(
            f"left out of the Moodle file, without {column.lower()} (Moodle would give their "
            f"grades to the student in the row above): {', '.join(left_out)}; map users by "
            "another column (--moodle-id) or add it to the roster"
        )
    return rows


def wide_rows(t: Table) -> list[list[str]]:
    rows = [[*WIDE_IDENTITY, *t.lessons, "total"]]
    for p in t.people:
        cells = t.row(p.id)
        total = None if None in cells else round(sum(cells), 6)
        rows.append(
            [p.id, p.first_name, p.last_name, p.email, p.lms_user_id, *map(_cell, cells)]
            + [_cell(total)]
        )
    return rows
