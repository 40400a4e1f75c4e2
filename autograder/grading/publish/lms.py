"""grades.csv as files an LMS imports (the command is :mod:`autograder.commands.export`).

The points are grades.csv's ``score``, i.e. after the late penalty; the names, e-mail
addresses and LMS ids come from the gradebook's students (the roster, ``grade --roster``).
Every student of grades.csv and of the roster has a row. A lesson cell is

- the notebook's score when it was graded (written answers still waiting in formgrader count
  what they have so far; the command says how many);
- 0 when nothing was handed in (status ``missing``, or no row at all), as ``nbgrader export``
  counts it;
- empty when the notebook could not be graded (status ``failed``): an LMS leaves an empty cell
  ungraded, so a broken file never becomes a silent zero; the command lists them.

Formats (each follows the column rules of its LMS's own import documentation; docs/GRADING.md
quotes them):

- ``canvas``: Canvas's gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section,
  then one column per lesson, and a second row "Points Possible" with each lesson's maximum;
  Student is "Last, First", ID the LMS id, SIS User ID the student id;
- ``moodle``: Moodle's CSV grade import: First name, Last name, ID number (the student id),
  Email address, then one grade column per lesson; map "Email address" to useremail or
  "ID number" to useridnumber when importing;
- ``wide``: student_id, first_name, last_name, email, lms_user_id, one column per lesson, total
  (empty when a lesson cell is).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..vocabulary import GraderError, Status

FORMATS = ("canvas", "moodle", "wide")


CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes it


MOODLE_IDENTITY = ("First name", "Last name", "ID number", "Email address")


WIDE_IDENTITY = ("student_id", "first_name", "last_name", "email", "lms_user_id")


@dataclass(frozen=True)
class Person:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""


@dataclass(frozen=True)
class Table:
    """One row per student, one cell per lesson: the points to export, or None (empty)."""

    lessons: list[str]
    max_scores: dict[str, float]
    people: list[Person]
    points: dict[tuple[str, str], float | None]
    warnings: list[str]

    def row(self, student: str) -> list[float | None]:
        return [self.points[(student, lesson)] for lesson in self.lessons]


def export(
    out: Path, fmt: str, lessons: list[str] | None = None, to: Path | None = None
) -> tuple[Path, Table]:
    """Write OUT's grades in ``fmt``; return the file written and what was in it."""
    from ..course_dir import CoursePaths

    course = CoursePaths(out.resolve())
    if not course.grades_csv.is_file():
        raise GraderError(f"{course.grades_csv} not found: run `python -m autograder grade` first")
    table = read_table(course, lessons)
    no_email = [p.id for p in table.people if not p.email]
    if fmt == "moodle" and no_email:
        # Moodle's import stops at a row whose identifier is empty: say which column is safe.
        table.warnings.append(
            f"no e-mail address for {', '.join(no_email)}: map users by 'ID number' "
            "(useridnumber) when importing, not by e-mail"
        )
    path = to if to is not None else course.exports_dir / f"{fmt}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = {"canvas": canvas_rows, "moodle": moodle_rows, "wide": wide_rows}[fmt](table)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
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
            if g is None or g.status == Status.MISSING:
                points[(person.id, lesson)] = 0.0
            elif g.status == Status.FAILED:
                points[(person.id, lesson)] = None
                failed.append(f"{person.id} {lesson}")
            else:
                points[(person.id, lesson)] = g.score
                pending += g.status == Status.NEEDS_MANUAL
    warnings = []
    unreadable = sorted({g.student_id for g in grades if not g.lesson})
    if unreadable:
        warnings.append(
            f"a notebook of {', '.join(unreadable)} could not be read or recognised (see "
            "grades.csv): a 0 for a lesson there may be that notebook"
        )
    if failed:
        warnings.append(f"left empty, could not be graded: {', '.join(failed)}")
    if pending:
        warnings.append(f"{pending} notebooks still wait for manual grading: points so far")
    return Table(lessons, _max_scores(grades, lessons), people, points, warnings)


def _people(course, grades, class_list) -> list[Person]:
    from nbgrader.api import Gradebook

    from ..course_dir import open_course

    known: dict[str, Person] = {}
    with Gradebook(open_course(course.root).db_url) as gb:
        for s in gb.students:
            known[s.id] = Person(
                s.id, s.first_name or "", s.last_name or "", s.email or "", s.lms_user_id or ""
            )
    ids = {g.student_id for g in grades} | {s.id for s in class_list or ()}
    return [known.get(i, Person(i)) for i in sorted(ids)]


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
        rows.append([name, p.lms_user_id, p.id, "", "", *map(_cell, t.row(p.id))])
    return rows


def moodle_rows(t: Table) -> list[list[str]]:
    rows = [[*MOODLE_IDENTITY, *t.lessons]]
    for p in t.people:
        rows.append([p.first_name, p.last_name, p.id, p.email, *map(_cell, t.row(p.id))])
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
