"""Publish a graded batch: records, grades.csv, exercises.csv, feedback pages, run.json, report.

Each regraded student's record replaces the old one and stale gradebook entries go; what is
published is then read back from the gradebook and all the records (:mod:`.rows`), so a
run with ``--student`` or ``--lesson`` leaves everyone else's lines as they were.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass

from ...course import CourseSettings
from ...course.lessons import Lesson
from ..course_dir import CourseFolder
from ..execute.sandbox import SandboxStatus
from ..outcomes import Outcome, load_outcomes, save_outcomes
from ..rules import roster
from ..settings import Limits
from ..vocabulary import NotebookStatus
from . import rows
from .feedback import write_feedback
from .report import write_report
from .rows import GradeRow


@dataclass(frozen=True)
class RunRecord:
    """How the batch was run, for run.json and the report."""

    sandbox: SandboxStatus
    limits: Limits
    jobs: int
    late_policy: str = "no penalty"  # late.Policy.describe()
    workers: tuple[dict, ...] = ()  # on a Dask cluster: each worker's row (cluster.pool.WorkerRow)
    changes: tuple[str, ...] = ()  # what this run changed of what OUT remembered (remembered.py)
    notes: tuple[str, ...] = ()  # [tool.course] values OUT overrides, said at the start
    not_graded: tuple[str, ...] = ()  # folders and LMS files not graded, and why


def publish(
    course: CourseFolder,
    outcomes: dict[str, list[Outcome]],
    graded: dict[str, set[str]],
    lessons: dict[str, Lesson],
    in_scope: set[str] | None,
    run: RunRecord,
    site: CourseSettings | None = None,
    rescored: set[str] = frozenset(),
) -> str:
    """Write everything under OUT for the students in ``outcomes``; return the summary table.

    ``graded`` names, per student, the lessons that got a gradebook entry in this run;
    ``in_scope`` the lessons this run was about (None: all); ``site`` the course's
    ``[tool.course]`` (the lessons' addresses, for the feedback pages' links); ``rescored`` the
    students not graded now whose penalty changed (their pages are written again too).
    """
    _forget_stale(course, graded, in_scope)
    _save_records(course, outcomes, in_scope)
    everyone = load_outcomes(course)
    max_scores = {lid: m.max_score for lid, m in lessons.items()}
    grade_rows, exercise_rows = rows.gradebook_rows(course.db_url, everyone, max_scores, lessons)
    grade_rows = rows.lessons_from_file_names(grade_rows, max_scores)
    class_list = roster.load(course)
    unlisted = None
    if class_list is not None:
        unlisted = roster.not_on_roster(class_list, grade_rows)
        grade_rows += roster.missing_rows(class_list, grade_rows, max_scores)
        grade_rows.sort(key=lambda r: (r.student_id, r.lesson))
    rows.write_csvs(course, grade_rows, exercise_rows)
    pages_of = set(outcomes) | set(rescored)
    tables = (grade_rows, exercise_rows)
    _feedback_pages(
        course, pages_of, everyone, tables, lessons, None if rescored else in_scope, site
    )
    course.run_record.write_text(json.dumps(_run_json(run), indent=1))
    write_report(
        course,
        grade_rows,
        exercise_rows,
        everyone,
        lessons,
        run.sandbox,
        run.limits,
        run.workers,
        unlisted=unlisted,
        run=run,
        class_list=class_list,
    )
    return summary(grade_rows, course, run)


def _run_json(run: RunRecord) -> dict:
    record = asdict(run)
    if not record["workers"]:  # the local pool: run.json as it always was
        del record["workers"]
    return record


def _forget_stale(
    course: CourseFolder, graded: dict[str, set[str]], in_scope: set[str] | None
) -> None:
    """Remove gradebook entries (and their folders) of in-scope lessons not graded this time."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        for student, lessons in graded.items():
            try:
                st = gb.find_student(student)
            except MissingEntry:
                continue
            for sub in list(st.submissions):
                name = sub.assignment.name
                if name not in lessons and (in_scope is None or name in in_scope):
                    gb.remove_submission(name, student)
                    shutil.rmtree(course.autograded_dir(student, name), ignore_errors=True)
                    shutil.rmtree(course.submitted_dir(student, name), ignore_errors=True)


def _save_records(
    course: CourseFolder, outcomes: dict[str, list[Outcome]], in_scope: set[str] | None
) -> None:
    """Each student's record: this run's outcomes, plus old ones of lessons out of scope."""
    previous: dict[str, list[Outcome]] = {}
    for o in load_outcomes(course):
        previous.setdefault(o.student, []).append(o)
    for student, theirs in outcomes.items():
        kept = [
            o
            for o in previous.get(student, [])
            if in_scope and o.lesson and o.lesson not in in_scope
        ]
        save_outcomes(course, student, sorted(kept + theirs, key=lambda o: (o.lesson, o.file)))


def _feedback_pages(course, students, everyone, tables, lessons, in_scope, site) -> None:
    """One page per graded notebook of these students; their old in-scope pages go first."""
    grade_rows, exercise_rows = tables
    for student in sorted(students):
        folder = course.feedback_dir(student)
        for page in folder.glob("*.html") if folder.is_dir() else []:
            if in_scope is None or page.stem in in_scope:
                page.unlink()
    for o in everyone:
        if o.student not in students or not o.lesson or o.failure:
            continue
        if in_scope is not None and o.lesson not in in_scope:
            continue
        rows = [e for e in exercise_rows if e.student_id == o.student and e.lesson == o.lesson]
        grade = next(
            (g for g in grade_rows if g.student_id == o.student and g.lesson == o.lesson), None
        )
        write_feedback(course, o, lessons.get(o.lesson), rows, grade, site)


def _late(late_by: str) -> str:
    return f"late by {late_by}" if late_by[:1].isdigit() else late_by


def summary(rows: list[GradeRow], course: CourseFolder, run: RunRecord | None = None) -> str:
    """The table printed at the end of a run, what it changed, and where the outputs are."""
    lines = [f"{'student':<16} {'lesson':<22} {'score':>9}  status"]
    for r in rows:
        score = "" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        lines.append(
            f"{r.student_id:<16} {r.lesson or '-':<22} {score:>9}  {r.status}"
            + (f"  ({r.detail})" if r.status == NotebookStatus.FAILED else "")
            + (f"  ({_late(r.late_by)}: -{r.penalty:g} pt)" if r.late_by else "")
        )
    counts = {s: sum(r.status == s for r in rows) for s in NotebookStatus}
    lines.append("")
    lines.append(
        f"{counts[NotebookStatus.GRADED]} graded, "
        f"{counts[NotebookStatus.NEEDS_MANUAL]} need manual grading, "
        f"{counts[NotebookStatus.FAILED]} failed"
        + (
            f", {counts[NotebookStatus.MISSING]} missing (on the roster)"
            if counts[NotebookStatus.MISSING]
            else ""
        )
    )
    if run is not None and run.changes:
        lines.append("changed in this run: " + "; ".join(run.changes))
    if run is not None and run.not_graded:
        lines.append(f"not graded: {len(run.not_graded)} (listed below and in the report)")
    lines.append(f"grades:   {course.grades_csv}")
    lines.append(f"report:   {course.report}")
    lines.append(f"feedback: {course.feedback_root}/<student>/<lesson>.html")
    return "\n".join(lines)
