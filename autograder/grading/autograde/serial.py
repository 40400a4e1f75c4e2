"""The serial phase: each executed notebook through nbgrader's own Autograde, into an Outcome.

Runs in the grader's process, one notebook at a time as the workers finish them, so every
gradebook write comes from one process (:mod:`.preprocessors` says why). The worker's
notebook reaches nbgrader's preprocessors as a file under OUT
(``CoursePaths.executed_notebook``), kept only while Autograde runs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from typing import Any

from ...course.lessons import ANSWER, WRITTEN, Lesson
from ...course.notebooks import grade_id
from ..collect.batch import Task
from ..course_dir import CourseFolder
from ..execute.jobs import Finished
from ..execute.kernel import ExecutionResult
from ..judge.messages import verdicts
from ..outcomes import Outcome
from ..vocabulary import AUTOGRADE_FAILED, NOT_EXECUTED, STOPPED, Blame, CellStatus, Failure
from . import preprocessors
from .hand_grades import KeptHandGrades


class SerialAutograde:
    """Autograde one finished notebook at a time; remember who got a gradebook entry."""

    def __init__(
        self,
        course: CourseFolder,
        lessons: dict[str, Lesson],
        students: list[str],
        late_config=None,
    ):
        self.course = course
        self.lessons = lessons
        config = preprocessors.autograde_config(course, lessons)
        if late_config is not None:  # the course's late policy (late.plugin_config)
            config.merge(late_config)
        self.api = course.api(config)
        self.graded: dict[str, set[str]] = {s: set() for s in students}  # student -> lessons

    def outcome(self, task: Task, finished: Finished) -> Outcome:
        """What became of ``task``: its notes, timings and verdicts, or why it failed."""
        outcome = Outcome(
            task.student,
            task.lesson,
            task.file,
            notes=list(task.notes),
            time_source=task.time_source,
            moodle_folder=task.moodle_folder,
        )
        if finished.result is None:
            # A notebook that broke its workers is its own failure; anything else the grader's.
            failure = finished.failure
            why = NOT_EXECUTED if failure.by_grader else "not graded"
            outcome.failure = Failure(f"{why}: {failure.reason}", failure.blame)
            return outcome
        executed = finished.result
        outcome.notes += fault_notes(executed)
        outcome.notes += finished.judgement.notes
        outcome.timings = timings(executed)
        outcome.timings["trusted"] = round(finished.judgement.seconds, 3)
        outcome.verdicts = verdicts(finished.judgement.cells, self.lessons[task.lesson])
        outcome.answers = answer_sources(executed.notebook, self.lessons[task.lesson])
        outcome.quiz = dict(finished.judgement.quiz_answers)
        t0 = time.monotonic()
        kept = KeptHandGrades.before_autograde(
            self.course, self.course.db_url, self.lessons[task.lesson], task.student
        )
        answer = self._autograde(task, executed)
        outcome.timings["autograde"] = round(time.monotonic() - t0, 3)
        if not answer.get("success"):
            why = _autograde_error(answer)
            reason = why[-1] if why else "no reason given"
            outcome.failure = Failure(f"{AUTOGRADE_FAILED}: {reason}", Blame.GRADER)
        else:
            outcome.notes += kept.restore(self.course, self.course.db_url)
            self.graded[task.student].add(task.lesson)
        return outcome

    def _autograde(self, task: Task, executed: ExecutionResult) -> dict[str, Any]:
        path = self.course.executed_notebook(task.student, task.lesson)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(executed.notebook))
        try:
            return self.api.autograde(task.lesson, task.student, force=True, create=True)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the folder the executed notebooks passed through."""
        shutil.rmtree(self.course.executed_dir, ignore_errors=True)


def fault_notes(executed: ExecutionResult) -> list[str]:
    """What went wrong while executing, one line each, for grades.csv and the feedback page."""
    gid_of = {}
    for i, cell in enumerate(executed.notebook.get("cells", [])):
        gid_of[i] = grade_id(cell)
    notes = []
    for rec in executed.cells:
        where = f"cell '{gid_of[rec.index]}'" if gid_of.get(rec.index) else f"cell {rec.index + 1}"
        if rec.status in STOPPED:
            notes.append(f"{where}: {rec.note}")
        if rec.output_truncated:
            notes.append(f"{where}: output cut to the limit")
    not_run = [r for r in executed.cells if r.status == CellStatus.NOT_RUN]
    if not_run:
        notes.append(f"{len(not_run)} cells not run: {not_run[0].reason}")
    return notes


ANSWER_LIMIT = 4000  # characters of a student's answer cell kept for the feedback page


def answer_sources(nb: dict[str, Any], lesson: Lesson) -> dict[str, str]:
    """Answer and written-answer cell grade id -> the student's text as it was graded.

    Text only, never run here: code of an answer cell, markdown of a written answer.
    """
    wanted = {c.grade_id for c in lesson.cells if c.role in (ANSWER, WRITTEN)}
    out = {}
    for cell in nb.get("cells", []):
        gid = grade_id(cell)
        if gid in wanted and gid not in out:
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            if len(source) > ANSWER_LIMIT:
                source = source[:ANSWER_LIMIT] + "\n# ... (cut here: the cell is longer)"
            out[gid] = source
    return out


def timings(executed: ExecutionResult) -> dict[str, float]:
    """Where the notebook's time went, for the report."""
    return {
        "kernel_start": round(executed.seconds_kernel_start, 3),
        "imports": round(executed.seconds_preload, 3),
        "cells": round(executed.seconds_cells, 3),
        "replay": round(executed.seconds_replay, 3),
        "total": round(executed.seconds_total, 3),
        "kernel_starts": executed.kernel_starts,
        "booted_ahead": executed.booted_ahead,
    }


def _autograde_error(answer: dict[str, Any]) -> list[str]:
    """The most telling lines of a failed nbgrader autograde: its own error, not the wrapper's."""
    log = answer.get("log") or ""
    if os.environ.get("AUTOGRADER_DEBUG"):
        print(log, file=sys.stderr)
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    errors = [
        ln
        for ln in lines
        if ("Error" in ln or "Exception" in ln)
        and "NbGraderException" not in ln
        and not ln.startswith("File ")
    ]
    return errors or (answer.get("error") or "").strip().splitlines()
