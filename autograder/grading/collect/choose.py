"""Recognise each notebook's lesson from its content and choose one per student and lesson.

A notebook that cannot go on (unreadable, no lesson recognised) gets its
:class:`~..outcomes.Outcome` at once; when a student handed in two copies of a lesson the
newest is graded and the others are named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..vocabulary import Failure
from . import ingest
from .batch import Batch, Submissions

if TYPE_CHECKING:
    from ...course.lessons import Lesson


def choose(found: Submissions, lessons: dict[str, Lesson], only_lesson: str | None) -> Batch:
    """Recognise each notebook's lesson and choose the one graded per student and lesson.

    The batch returned has no tasks yet (:func:`.stage.prepare` makes them); ``chosen`` says which
    notebooks will become tasks.
    """
    from ..outcomes import Outcome

    batch = Batch(outcomes={s: [] for s in found.students})
    for s in found.empty:
        nothing = Failure("no .ipynb file in the student's folder")
        batch.outcomes[s].append(Outcome(s, "", "(no notebook)", failure=nothing))
    batch.chosen, batch.notes = _newest(_recognise(found.notebooks, lessons, only_lesson, batch))
    return batch


def _recognise(
    notebooks: list[ingest.Notebook],
    lessons: dict[str, Lesson],
    only_lesson: str | None,
    batch: Batch,
) -> dict[tuple[str, str], list[ingest.Notebook]]:
    """(student, lesson) -> that student's notebooks of that lesson, recognised by content."""
    from ..outcomes import Outcome
    from .recognise import recognise

    candidates: dict[tuple[str, str], list[ingest.Notebook]] = {}
    for n in notebooks:
        if n.content is None:
            batch.outcomes[n.student].append(
                Outcome(n.student, "", n.name, failure=Failure(n.problem))
            )
            continue
        found = recognise(n.content, lessons.values())
        if found.lesson is None:
            batch.outcomes[n.student].append(
                Outcome(n.student, "", n.name, failure=Failure(found.detail))
            )
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
