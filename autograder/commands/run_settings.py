"""The one :class:`~..grading.settings.RunSettings` of a ``grade`` run, made from its arguments.

The arguments are checked here, the course folder is found (``--course``, else the current
folder when it holds a course, else the checkout the grader runs from), ``[tool.course]`` is
read once (:func:`autograder.course.settings`), and each remembered setting is taken from the
command line, else from what OUT remembers (:mod:`..grading.remembered`), else from
``[tool.course]`` or the default. Nothing below the command sees the arguments.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..course import ROOT as CHECKOUT
from ..course import CourseSettings, find_course, is_course, settings
from ..grading import remembered
from ..grading.course_dir import CoursePaths
from ..grading.rules import late
from ..grading.rules import roster as class_list
from ..grading.settings import Rules, RunSettings
from ..grading.vocabulary import GraderError


def from_arguments(a: argparse.Namespace) -> RunSettings:
    """Check ``a`` and build the run's settings (a :class:`GraderError` says what is wrong)."""
    _check(a)
    course = find_course(a.course)
    if a.course is not None and not is_course(course):
        raise GraderError(f"--course {a.course}: no course there (no solutions/ folder)")
    solutions = a.solutions or (course / "solutions" if course else None)
    if solutions is None:
        raise GraderError(
            "no course found: run from the course folder, or give --course DIR (the folder "
            "holding solutions/ and pyproject.toml) or --solutions DIR"
        )
    try:
        site = settings(course) if course else CourseSettings()
    except ValueError as exc:
        raise GraderError(str(exc)) from None
    out = a.out.resolve()
    before = remembered.load(CoursePaths(out).settings_record)
    given = _given(a)
    policy, policy_notes = remembered.resolve_policy(given, site, before)
    deadlines, due_notes = remembered.resolve_deadlines(given, site, before)
    rules = Rules(
        deadlines=deadlines,
        extensions=tuple(late.read_extensions(a.extensions)) if a.extensions else before.extensions,
        policy=policy,
        roster=_roster(a.roster, out),
        exchange_timestamps=bool(
            a.exchange_timestamps
            if a.exchange_timestamps is not None
            else before.exchange_timestamps
        ),
    )
    return RunSettings(
        submissions=tuple(p.resolve() for p in a.submissions),
        out=out,
        solutions=solutions.resolve(),
        site=site,
        private=_private(course),
        limits=remembered.resolve_limits(given, before),
        rules=rules,
        before=before,
        lesson=a.lesson,
        students=tuple(a.student) if a.student else None,
        jobs=a.jobs,
        quiet=a.quiet,
        no_sandbox=a.no_sandbox,
        worksheets=tuple(a.moodle_worksheet),
        scheduler=a.scheduler,
        scheduler_file=a.scheduler_file,
        db_url=a.db_url,
        notes=tuple(policy_notes + due_notes),
    )


def _given(a: argparse.Namespace) -> remembered.Given:
    return remembered.Given(
        due=tuple(a.due),
        extensions=a.extensions,
        late_policy=a.late_policy,
        late_rate=a.late_rate,
        late_cap=a.late_cap,
        roster=a.roster,
        exchange_timestamps=a.exchange_timestamps,
        cell_seconds=a.timeout,
        submission_seconds=a.notebook_timeout,
        memory_mb=a.memory,
        output_bytes=a.max_output,
    )


def _roster(path: Path | None, out: Path):
    if path is not None:
        return tuple(class_list.read_roster(path))
    kept = class_list.load(CoursePaths(out))
    return None if kept is None else tuple(kept)


def _private(course: Path | None) -> tuple[Path, ...]:
    """The course's folders student code must not see: the course folder, and the checkout
    the grader runs from when it holds a course (an editable install). An installed package
    (site-packages) holds no answers and stays visible: the kernels import from it."""
    found = [course] if course else []
    if is_course(CHECKOUT):
        found.append(CHECKOUT)
    return tuple(dict.fromkeys(p.resolve() for p in found))


def _check(a: argparse.Namespace) -> None:
    from ..grading.rules.roster import student_id_problem

    if a.jobs < 1:
        raise GraderError("--jobs must be at least 1")
    if (a.timeout is not None and a.timeout <= 0) or (
        a.notebook_timeout is not None and a.notebook_timeout <= 0
    ):
        raise GraderError("--timeout and --notebook-timeout must be positive")
    if a.memory is not None and a.memory < 256:
        raise GraderError(
            "--memory must be at least 256 (MB): Python with numpy needs that much to start"
        )
    if a.max_output is not None and a.max_output < 1000:
        raise GraderError("--max-output must be at least 1000 bytes")
    for student in a.student or ():
        if student_id_problem(student):
            raise GraderError(f"--student: {student_id_problem(student)}")
    out = a.out.resolve()
    for path in a.submissions:
        if not path.exists():
            raise GraderError(f"SUBMISSIONS not found: {path}")
        sub = path.resolve()
        if out.is_relative_to(sub) or sub.is_relative_to(out):
            raise GraderError("--out must not be inside SUBMISSIONS, nor SUBMISSIONS inside --out")
    for option, path in (("--extensions", a.extensions), ("--roster", a.roster)):
        if path is not None and not path.is_file():
            raise GraderError(f"{option}: no such file: {path}")
    for path in a.moodle_worksheet:
        if not path.is_file():
            raise GraderError(f"--moodle-worksheet: no such file: {path}")
    if a.scheduler_file is not None and not a.scheduler_file.is_file():
        raise GraderError(f"--scheduler-file not found: {a.scheduler_file}")
