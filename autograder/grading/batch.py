"""Collect a batch of submissions into tasks: one repaired notebook per student and lesson.

:func:`read` finds the students' notebooks (:mod:`.ingest`) - cheap, so the workers can start
right after it. :func:`choose` then recognises each notebook's lesson from its content and
picks the newest copy when a student handed in two; :func:`prepare` puts the lessons in the
gradebook, stages each submission in ``OUT/submitted/`` as nbgrader expects it and repairs
what will run (:mod:`.repair`). A notebook that cannot go on gets its
:class:`~.results.Outcome` at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import ingest
from .errors import GraderError

if TYPE_CHECKING:
    from .course_dir import CourseFolder
    from .lessons import Lesson
    from .results import Outcome


@dataclass(frozen=True)
class Submissions:
    """The students' notebooks as found, before anything is recognised."""

    root: Path  # SUBMISSIONS, unpacked when it was a zip
    students: list[str]
    notebooks: list[ingest.Notebook]
    empty: list[str]  # students whose folder holds no notebook


@dataclass
class Task:
    """One submission ready to execute."""

    student: str
    lesson: str
    notebook: Any  # read back from submitted/, repaired
    file: str
    notes: list[str]
    time_source: str = ""  # where the submission time came from (late.submission_time)


@dataclass
class Batch:
    """Every task of the run, and the outcome of each notebook that will not run."""

    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)  # student -> outcomes
    chosen: dict[tuple[str, str], ingest.Notebook] = field(default_factory=dict)
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # copies left out
    tasks: dict[tuple[str, str], Task] = field(default_factory=dict)


def read(submissions: Path, work: Path, only: list[str] | None) -> Submissions:
    """Find every student's notebooks in ``submissions`` (unpacked into ``work`` if a zip)."""
    try:
        root = ingest.unpack(submissions, work)
        notebooks, empty = ingest.find_notebooks(root)
    except ingest.SubmissionsError as exc:
        raise GraderError(str(exc)) from None
    except OSError as exc:
        raise GraderError(f"cannot read SUBMISSIONS: {exc}") from None
    if submissions.is_file():  # a zip: each file's time is its entry's (see ingest.unpack)
        notebooks = [replace(n, from_zip=True) for n in notebooks]
    students = sorted({n.student for n in notebooks} | set(empty))
    if only:
        missing = sorted(set(only) - set(students))
        if missing:
            raise GraderError(f"--student: no folder for {', '.join(missing)} in SUBMISSIONS")
        students = sorted(only)
        notebooks = [n for n in notebooks if n.student in students]
        empty = [s for s in empty if s in students]
    if not students:
        raise GraderError(f"no student folders in {submissions}")
    return Submissions(root, students, notebooks, empty)


def choose(found: Submissions, lessons: dict[str, Lesson], only_lesson: str | None) -> Batch:
    """Recognise each notebook's lesson and choose the one graded per student and lesson.

    The batch returned has no tasks yet (:func:`prepare` makes them); ``chosen`` says which
    notebooks will become tasks.
    """
    from .results import Outcome

    batch = Batch(outcomes={s: [] for s in found.students})
    for s in found.empty:
        batch.outcomes[s].append(
            Outcome(s, "", "(no notebook)", failed="no .ipynb file in the student's folder")
        )
    batch.chosen, batch.notes = _newest(_recognise(found.notebooks, lessons, only_lesson, batch))
    return batch


def prepare(
    batch: Batch,
    course: CourseFolder,
    solutions: Path,
    lessons: dict[str, Lesson],
    log: Callable[[str], None],
) -> None:
    """Install the chosen lessons, then stage and repair each chosen notebook into a task.

    ``lessons`` gains the gradebook's view of each installed lesson (hidden tests included).
    """
    for lesson in sorted({lesson for _, lesson in batch.chosen}):
        lessons[lesson] = _install(course, solutions, lesson, log)
    for (student, lesson), n in sorted(batch.chosen.items()):
        _stage(course, n, lessons[lesson], batch.notes.get((student, lesson), []), batch)


def _recognise(
    notebooks: list[ingest.Notebook],
    lessons: dict[str, Lesson],
    only_lesson: str | None,
    batch: Batch,
) -> dict[tuple[str, str], list[ingest.Notebook]]:
    """(student, lesson) -> that student's notebooks of that lesson, recognised by content."""
    from .lessons import recognise
    from .results import Outcome

    candidates: dict[tuple[str, str], list[ingest.Notebook]] = {}
    for n in notebooks:
        if n.content is None:
            batch.outcomes[n.student].append(Outcome(n.student, "", n.name, failed=n.problem))
            continue
        found = recognise(n.content, lessons.values())
        if found.lesson is None:
            batch.outcomes[n.student].append(Outcome(n.student, "", n.name, failed=found.detail))
            continue
        if only_lesson and found.lesson != only_lesson:
            continue
        candidates.setdefault((n.student, found.lesson), []).append(n)
    return candidates


def _newest(candidates: dict[tuple[str, str], list[ingest.Notebook]]):
    """The notebook graded for each (student, lesson), and a note where copies were left out."""
    chosen: dict[tuple[str, str], ingest.Notebook] = {}
    notes: dict[tuple[str, str], list[str]] = {}
    for key, found_here in candidates.items():
        # Two copies of one lesson: the newest is graded (mtime to 2 s, as a zip keeps it).
        ranked = sorted(found_here, key=lambda n: (n.mtime, n.name), reverse=True)
        chosen[key] = ranked[0]
        if len(ranked) > 1:
            notes[key] = [
                f"{len(ranked)} notebooks for this lesson: graded the newest, {ranked[0].name}; "
                f"not graded: {', '.join(n.name for n in ranked[1:])}"
            ]
    return chosen, notes


def _install(course: CourseFolder, solutions: Path, lesson: str, log) -> Lesson:
    """Put ``lesson`` in the gradebook; return it as the gradebook has it (hidden tests too)."""
    from . import course_dir
    from .lessons import load_lesson

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
    course: CourseFolder, n: ingest.Notebook, lesson: Lesson, notes: list[str], batch: Batch
) -> None:
    """Write the submission to ``submitted/`` as nbgrader expects it, read it back, repair it."""
    import nbformat

    from . import late
    from .borrowed import course_calls
    from .repair import repair
    from .results import Outcome

    try:
        target = course.submitted_notebook(n.student, lesson.id)
        if target.parent.exists():
            shutil.rmtree(target.parent)
        target.parent.mkdir(parents=True)
        nbformat.write(nbformat.from_dict(n.content), str(target))
        # nbgrader's autograde reads the time from here, and its late penalty step with it
        handed_in = late.submission_time(n.path, n.from_zip)
        late.write_timestamp(target.parent, handed_in)
        if handed_in.note:
            notes = [*notes, f"{handed_in.note}: used {handed_in.source}"]
        staged = nbformat.read(str(target), as_version=4)
        fixed = repair(staged, lesson)
        borrowed = course_calls(fixed.notebook, lesson)
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop the batch
        batch.outcomes[n.student].append(
            Outcome(
                n.student,
                lesson.id,
                n.name,
                failed=f"could not be prepared for grading: {type(exc).__name__}: {exc}",
            )
        )
        return
    batch.tasks[(n.student, lesson.id)] = Task(
        n.student,
        lesson.id,
        fixed.notebook,
        n.name,
        notes + fixed.findings + borrowed,
        handed_in.source,
    )
