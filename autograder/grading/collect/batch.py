"""Collect a batch of submissions into tasks: one repaired notebook per student and lesson.

:func:`read` finds the students' notebooks (:mod:`.ingest`) - cheap, so the workers can start
right after it. :func:`.choose.choose` then recognises each notebook's lesson from its content and
picks the newest copy when a student handed in two; :func:`.stage.prepare` puts the lessons in the
gradebook, stages each submission in ``OUT/submitted/`` as nbgrader expects it and repairs
what will run (:mod:`.repair`). A notebook that cannot go on gets its
:class:`~..outcomes.Outcome` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..vocabulary import GraderError
from . import ingest

if TYPE_CHECKING:
    from ..outcomes import Outcome


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
