"""A notebook's lesson, recognised from its content (never from its file name)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...course.lessons import Lesson, digest, strip_hidden
from ...course.notebooks import grade_id


@dataclass(frozen=True)
class Recognition:
    lesson: str | None
    detail: str


def notebook_features(nb: dict[str, Any]) -> set[str]:
    out = set()
    for cell in nb.get("cells", []):
        gid = grade_id(cell)
        if gid:
            out.add("gid:" + gid)
        if cell.get("id"):
            out.add("cid:" + str(cell["id"]))
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if isinstance(source, str) and source.strip():
            out.add("src:" + digest(strip_hidden(source)))
    return out


def recognise(nb: dict[str, Any], lessons: Iterable[Lesson]) -> Recognition:
    """The lesson whose cells this notebook shares most clearly, or None with the reason.

    Grade ids, cell ids and the text of cells a student does not edit are compared. Ids
    shared by several lessons (``quiz``) count for none of them.
    """
    lessons = list(lessons)
    features = {lesson.id: lesson.features() for lesson in lessons}
    counts: dict[str, int] = {}
    for f in (f for fs in features.values() for f in fs):
        counts[f] = counts.get(f, 0) + 1
    mine = notebook_features(nb)
    scores = sorted(
        ((len({f for f in mine & fs if counts[f] == 1}), lid) for lid, fs in features.items()),
        reverse=True,
    )
    if not scores or scores[0][0] < 3:
        return Recognition(
            None,
            "no lesson recognised: the notebook shares no nbgrader cells, cell ids or "
            "cell text with any lesson of the course",
        )
    if len(scores) > 1 and scores[1][0] * 2 > scores[0][0]:
        return Recognition(
            None,
            f"ambiguous: the notebook matches lessons {scores[0][1]} and {scores[1][1]} "
            "about equally",
        )
    return Recognition(scores[0][1], f"recognised from {scores[0][0]} matching cells")
