"""Collect a batch of submissions into tasks: one repaired notebook per student and lesson.

:func:`read` finds the students' notebooks (:mod:`.ingest`) - cheap, so the workers can start
right after it. :func:`.choose.choose` then recognises each notebook's lesson from its content and
picks the newest copy when a student handed in two; :func:`.stage.prepare` puts the lessons in the
gradebook, stages each submission in ``OUT/submitted/`` as nbgrader expects it and repairs
what will run (:mod:`.repair`). A notebook that cannot go on gets its
:class:`~..outcomes.Outcome` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..vocabulary import GraderError
from . import ingest

if TYPE_CHECKING:
    from ..outcomes import Outcome


@dataclass(frozen=True)
class Submissions:
    """The students' notebooks as found, before anything is recognised."""

    roots: tuple[Path, ...]  # each SUBMISSIONS, unpacked when it was a zip
    students: list[str]
    notebooks: list[ingest.Notebook]
    empty: list[str]  # students whose folder holds no notebook
    # what was not graded, and why: folders whose name cannot be a student id, LMS files that
    # match no roster student (listed in the report and on stderr, never graded under a guess)
    not_graded: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sources:
    """Where to read and what the reading needs: the roster (to match LMS files), Moodle's
    grading worksheets, whether nbgrader's exchange timestamps are trusted."""

    paths: tuple[Path, ...]
    roster: list = field(default_factory=list)  # rules.roster.RosterStudent
    worksheets: tuple[Path, ...] = ()
    exchange_times: bool = False


@dataclass
class Task:
    """One submission ready to execute."""

    student: str
    lesson: str
    notebook: Any  # read back from submitted/, repaired
    file: str
    notes: list[str]
    time_source: str = ""  # where the submission time came from (times.resolve)
    moodle_folder: str = ""  # "<Full Name>_<participant id>" when collected from Moodle


@dataclass
class Batch:
    """Every task of the run, and the outcome of each notebook that will not run."""

    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)  # student -> outcomes
    chosen: dict[tuple[str, str], ingest.Notebook] = field(default_factory=dict)
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # copies left out
    tasks: dict[tuple[str, str], Task] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)  # could not be staged: the grader's fault


def read(sources: Sources, work: Path, only: list[str] | None) -> Submissions:
    """Find every student's notebooks in each of ``sources`` (zips unpacked into ``work``)."""
    roots, notebooks, empty, not_graded = [], [], [], []
    for number, path in enumerate(sources.paths):
        try:
            root = ingest.unpack(path, work / f"source-{number}")
            found, unmatched = _read_one(path, root, sources)
        except ingest.SubmissionsError as exc:
            raise GraderError(str(exc)) from None
        except OSError as exc:
            raise GraderError(f"cannot read SUBMISSIONS {path}: {exc}") from None
        roots.append(root)
        notebooks += found.notebooks
        empty += found.empty
        not_graded += [f"{path.name}: {line}" for line in found.refused + unmatched]
    students = sorted({n.student for n in notebooks} | set(empty))
    if only:
        missing = sorted(set(only) - set(students))
        if missing:
            raise GraderError(f"--student: no submission of {', '.join(missing)} in SUBMISSIONS")
        students = sorted(only)
        notebooks = [n for n in notebooks if n.student in students]
        empty = [s for s in empty if s in students]
    if not students:
        where = ", ".join(str(p) for p in sources.paths)
        raise GraderError(f"no student folders in {where}" + _not_graded_hint(not_graded))
    return Submissions(tuple(roots), students, notebooks, sorted(set(empty)), not_graded)


def _read_one(path: Path, root: Path, sources: Sources):
    """One SUBMISSIONS: (what was found, the LMS files matched to no student)."""
    from . import lms

    kind = lms.layout(root)
    if kind in ("canvas", "moodle") and not sources.roster:
        raise GraderError(
            f"{path} is a {kind.capitalize()} download: its files name students by the LMS's "
            "ids and names, so a roster is needed to match them (--roster students.csv with "
            "student_id, first_name, last_name, email, lms_user_id, username)"
        )
    if kind == "canvas":
        return lms.read_canvas(root, sources.roster)
    if kind == "moodle":
        return lms.read_moodle(root, sources.roster, lms.read_worksheets(sources.worksheets))
    if path.is_file():
        kind = "zip"  # each file's time is its entry's (ingest.unpack keeps it)
    elif root.name == "submitted" or root != path.resolve():
        kind = "nbgrader"  # an nbgrader submitted/ tree, or the course folder holding one
    return ingest.find_notebooks(root, kind, sources.exchange_times), []


def _not_graded_hint(lines: list[str]) -> str:
    return (" (not graded: " + "; ".join(lines[:3]) + ")") if lines else ""
