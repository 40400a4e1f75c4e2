"""Install the chosen lessons in the gradebook, then stage and repair each chosen notebook.

Each submission is written to ``OUT/submitted/`` as nbgrader expects it (with the time it was
handed in), read back and repaired (:mod:`.repair`): one task per student and lesson.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..vocabulary import NOT_PREPARED, Blame, Failure, GraderError
from . import ingest
from .batch import Batch, Task

if TYPE_CHECKING:
    from ...course.lessons import Lesson
    from ..course_dir import CourseFolder


def install(
    batch: Batch,
    course: CourseFolder,
    solutions: Path,
    lessons: dict[str, Lesson],
    log: Callable[[str], None],
) -> None:
    """Install the chosen lessons in the gradebook.

    ``lessons`` gains the gradebook's view of each installed lesson (hidden tests included).
    """
    for lesson in sorted({lesson for _, lesson in batch.chosen}):
        lessons[lesson] = _install(course, solutions, lesson, log)


def prepare(
    batch: Batch,
    course: CourseFolder,
    lessons: dict[str, Lesson],
    due: Callable[[str], dt.datetime | None],
) -> None:
    """Stage and repair each chosen notebook into a task; ``due(lesson)`` is its deadline
    (for Canvas's LATE marks, :func:`.times.resolve`)."""
    for (student, lesson), n in sorted(batch.chosen.items()):
        notes = batch.notes.get((student, lesson), [])
        _stage(course, n, lessons[lesson], notes, batch, due(lesson))


def _install(course: CourseFolder, solutions: Path, lesson: str, log) -> Lesson:
    """Put ``lesson`` in the gradebook; return it as the gradebook has it (hidden tests too)."""
    from ...course.lessons import load_lesson
    from .. import course_dir

    try:
        course_dir.install_lesson(course, solutions, lesson, log)
    except RuntimeError as exc:
        raise GraderError(str(exc)) from None
    return load_lesson(
        lesson,
        course.source_notebook(lesson),
        course.release_notebook(lesson),
        course_dir.gradebook_sources(course, lesson),
    )


def _stage(
    course: CourseFolder,
    n: ingest.Notebook,
    lesson: Lesson,
    notes: list[str],
    batch: Batch,
    due: dt.datetime | None,
) -> None:
    """Write the submission to ``submitted/`` as nbgrader expects it, read it back, repair it."""
    import nbformat

    from ..outcomes import Outcome
    from ..rules import late
    from .borrowed import course_calls
    from .repair import repair
    from .times import resolve

    try:
        target = course.submitted_notebook(n.student, lesson.id)
        if target.parent.exists():
            shutil.rmtree(target.parent)
        target.parent.mkdir(parents=True)
        nbformat.write(nbformat.from_dict(n.content), str(target))
        # nbgrader's autograde reads the time from here, and its late penalty step with it
        handed_in = resolve(n.origin, due)
        late.write_timestamp(target.parent, handed_in)
        _keep_exchange_secret(n, target.parent)
        if handed_in.note:
            notes = [*notes, handed_in.note]
        staged = nbformat.read(str(target), as_version=4)
        fixed = repair(staged, lesson)
        borrowed = course_calls(fixed.notebook, lesson)
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop the batch
        why = f"{NOT_PREPARED}: {type(exc).__name__}: {exc}"
        failure = Failure(why, Blame.GRADER)
        batch.outcomes[n.student].append(Outcome(n.student, lesson.id, n.name, failure=failure))
        batch.lost.append(f"{n.student} {lesson.id}: {why}")
        return
    batch.tasks[(n.student, lesson.id)] = Task(
        n.student,
        lesson.id,
        fixed.notebook,
        n.name,
        notes + fixed.findings + borrowed,
        handed_in.source,
        n.origin.moodle_folder,
    )


SECRET = "submission_secret.txt"


def _keep_exchange_secret(n: ingest.Notebook, staged: Path) -> None:
    """Keep the file nbgrader's exchange wrote beside a submission (``nbgrader submit``): its
    ``release_feedback`` needs it to address the student's feedback."""
    secret = n.path.parent / SECRET
    if n.origin.layout == "nbgrader" and secret.is_file() and not secret.is_symlink():
        (staged / SECRET).write_text(secret.read_text(errors="replace")[:200])
