"""grades.csv and exercises.csv: scores from the gradebook, statuses that say what happened.

Scores are read back from nbgrader's gradebook (so a written answer graded later in formgrader
shows up on the next run); what the gradebook cannot tell - a file that could not be graded,
a cell that timed out, a test cell that had to be put back - comes from the grader's own
record of each submission (:class:`Outcome`, kept in ``OUT/.grader/outcomes/``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..autograde import hand_grades
from ..outcomes import Outcome
from ..rules.late import lateness
from ..vocabulary import ExerciseStatus, NotebookStatus
from . import csv_cells

if TYPE_CHECKING:
    from ...course.lessons import Lesson
    from ..course_dir import CoursePaths


@dataclass(frozen=True)
class ExerciseRow:
    student_id: str
    lesson: str
    grade_id: str
    score: float | None
    max_score: float
    status: ExerciseStatus  # PASSED, PARTIAL, FAILED or NEEDS_MANUAL
    comment: str = ""  # the grader's comment from formgrader


@dataclass(frozen=True)
class GradeRow:
    student_id: str
    lesson: str
    score: float | None
    max_score: float | None
    status: NotebookStatus  # GRADED, NEEDS_MANUAL, FAILED or MISSING
    detail: str
    late_by: str = ""
    penalty: float = 0.0


GRADE_COLUMNS = (
    "student_id",
    "lesson",
    "score",
    "max_score",
    "late_by",
    "penalty",
    "status",
    "detail",
)


def read_grades(course: CoursePaths) -> list[GradeRow]:
    """grades.csv read back (for the exports)."""

    def number(text: str) -> float | None:
        return float(text) if text else None

    text = csv_cells.as_written
    with open(course.grades_csv, newline="") as f:
        return [
            GradeRow(
                text(r["student_id"]),
                r["lesson"],
                number(r["score"]),
                number(r["max_score"]),
                NotebookStatus(r["status"]),
                text(r["detail"]),
                r["late_by"],
                number(r["penalty"]) or 0.0,
            )
            for r in csv.DictReader(f)
        ]


def gradebook_rows(
    db_url: str,
    outcomes: list[Outcome],
    max_scores: dict[str, float],
    lessons: dict[str, Lesson] | None = None,
) -> tuple[list[GradeRow], list[ExerciseRow]]:
    """The rows of grades.csv and exercises.csv; ``lessons`` place formgrader's comments."""
    from nbgrader.api import Gradebook, MissingEntry

    grades: list[GradeRow] = []
    exercises: list[ExerciseRow] = []
    with Gradebook(db_url) as gb:
        for o in outcomes:
            if o.failure:
                grades.append(_failed_row(o, max_scores, o.failure.reason))
                continue
            try:
                submission = gb.find_submission(o.lesson, o.student)
            except MissingEntry:
                grades.append(
                    _failed_row(o, max_scores, "not in the gradebook (grade this student again)")
                )
                continue
            pending, total, maximum = [], 0.0, 0.0
            for nb in submission.notebooks:
                lesson = (lessons or {}).get(o.lesson)
                remarks = hand_grades.comments(nb, lesson) if lesson else {}
                for g in sorted(nb.grades, key=lambda g: g.name):
                    maximum += g.max_score
                    total += g.score or 0.0
                    if g.needs_manual_grade:
                        pending.append(f"{g.name} ({g.max_score:g} pt)")
                    exercises.append(_exercise_row(o, g, remarks.get(g.name, "")))
            late = lateness(submission, o.time_source)
            parts = [f"graded from {o.file}"]
            if pending:
                parts.append("to grade by hand in formgrader: " + ", ".join(pending))
            parts += o.notes
            if late.note:
                parts.append(late.note)
            grades.append(
                GradeRow(
                    o.student,
                    o.lesson,
                    round(max(total - late.penalty, 0.0), 6),  # after the penalty, as nbgrader's
                    maximum,
                    NotebookStatus.NEEDS_MANUAL if pending else NotebookStatus.GRADED,
                    "; ".join(parts),
                    late.late_by,
                    late.penalty,
                )
            )
    return grades, exercises


def _exercise_row(o: Outcome, g, comment: str) -> ExerciseRow:
    """The exercises.csv row of one nbgrader ``Grade``."""
    score = g.score
    if g.needs_manual_grade:
        status = ExerciseStatus.NEEDS_MANUAL
    elif score is not None and score >= g.max_score:
        status = ExerciseStatus.PASSED
    elif score:
        status = ExerciseStatus.PARTIAL
    else:
        status = ExerciseStatus.FAILED
    # A pending written answer has no score yet: an empty cell, not a zero.
    shown = g.manual_score if g.needs_manual_grade else score
    return ExerciseRow(o.student, o.lesson, g.name, shown, g.max_score, status, comment)


def _failed_row(o: Outcome, max_scores: dict[str, float], why: str) -> GradeRow:
    # No score at all, never a zero: the detail says why.
    return GradeRow(
        o.student,
        o.lesson,
        None,
        max_scores.get(o.lesson),
        NotebookStatus.FAILED,
        f"{o.file}: {why}",
    )


def lessons_from_file_names(grades: list[GradeRow], max_scores: dict[str, float]) -> list[GradeRow]:
    """A failed notebook whose lesson was not recognised from its content, but whose file name
    names exactly one lesson (of ``max_scores``) the student has no other row for, is put under
    that lesson: its cell is then empty in every export (never the 0 of a lesson not handed
    in)."""
    have = {(g.student_id, g.lesson) for g in grades if g.lesson}
    out = []
    for g in grades:
        named = [x for x in max_scores if x in g.detail.split(": ")[0]] if not g.lesson else []
        if (
            g.status == NotebookStatus.FAILED
            and len(named) == 1
            and (g.student_id, named[0]) not in have
        ):
            have.add((g.student_id, named[0]))
            detail = f"{g.detail} (not recognised from its content; its file name names the lesson)"
            g = replace(g, lesson=named[0], max_score=max_scores[named[0]], detail=detail)
        out.append(g)
    return sorted(out, key=lambda r: (r.student_id, r.lesson))


def write_csvs(course: CoursePaths, grades: list[GradeRow], exercises: list[ExerciseRow]) -> None:
    """grades.csv and exercises.csv (:mod:`.csv_cells`: no cell a spreadsheet runs)."""
    csv_cells.write(
        course.grades_csv,
        [GRADE_COLUMNS]
        + [
            [
                r.student_id,
                r.lesson,
                _num(r.score),
                _num(r.max_score),
                r.late_by,
                _num(r.penalty),
                r.status,
                r.detail,
            ]
            for r in grades
        ],
    )
    csv_cells.write(
        course.exercises_csv,
        [("student_id", "lesson", "grade_id", "score", "max_score", "status", "comment")]
        + [
            [
                e.student_id,
                e.lesson,
                e.grade_id,
                _num(e.score),
                _num(e.max_score),
                e.status,
                e.comment,
            ]
            for e in exercises
        ],
    )


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"
