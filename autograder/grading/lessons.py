"""What a lesson's instructor source says, in the shape grading needs.

A :class:`Lesson` lists the cells of the released notebook in order, each with its role
(answer, test, written, locked, plain), its grade id, its cell id and the source nbgrader
stores for it. Test and locked cells carry their full source - hidden tests included - as
the gradebook has it, so a repaired submission runs exactly what nbgrader would run.

It also recognises a notebook's lesson from its content (:func:`recognise`), never from its
file name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

ANSWER = "answer"  # solution, not graded: the student's code
TEST = "test"  # graded, locked: visible (and hidden) tests
WRITTEN = "written"  # solution and graded: answered in prose, graded by hand
LOCKED = "locked"  # locked, not graded: data or instructions the student must not change
PLAIN = "plain"  # no nbgrader role

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def role(cell: dict[str, Any]) -> str:
    md = cell.get("metadata", {}).get("nbgrader", {})
    if not md.get("grade_id"):
        return PLAIN
    if md.get("solution") and md.get("grade"):
        return WRITTEN
    if md.get("solution"):
        return ANSWER
    if md.get("grade"):
        return TEST
    if md.get("locked"):
        return LOCKED
    return PLAIN


@dataclass(frozen=True)
class SourceCell:
    index: int
    role: str
    cell_type: str
    grade_id: str | None
    cell_id: str | None
    source: str  # what runs: full test source for tests, the release stub for answers
    visible_source: str  # what the student's copy shows (hidden tests removed)
    nbgrader: dict[str, Any]
    points: float

    @property
    def has_hidden_tests(self) -> bool:
        return HIDDEN_BEGIN in self.source

    def hidden_line_ranges(self) -> list[tuple[int, int]]:
        """1-based, inclusive line ranges of the hidden parts of :attr:`source`."""
        ranges, start = [], None
        for number, line in enumerate(self.source.splitlines(), start=1):
            if HIDDEN_BEGIN in line:
                start = number
            elif HIDDEN_END in line and start is not None:
                ranges.append((start, number))
                start = None
        if start is not None:
            ranges.append((start, len(self.source.splitlines())))
        return ranges


@dataclass(frozen=True)
class Lesson:
    id: str
    cells: tuple[SourceCell, ...]
    solution_path: Path

    def by_grade_id(self) -> dict[str, SourceCell]:
        return {c.grade_id: c for c in self.cells if c.grade_id}

    @property
    def graded(self) -> tuple[SourceCell, ...]:
        return tuple(c for c in self.cells if c.role in (TEST, WRITTEN))

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.graded)

    @property
    def topic(self) -> str:
        return self.id.split("_", 1)[1] if "_" in self.id else self.id

    def features(self) -> set[str]:
        """Fingerprints a notebook of this lesson is likely to keep, whatever it is called."""
        out = set()
        for c in self.cells:
            if c.grade_id:
                out.add("gid:" + c.grade_id)
            if c.cell_id:
                out.add("cid:" + c.cell_id)
            if c.role in (TEST, LOCKED, PLAIN) and c.visible_source.strip():
                out.add("src:" + _digest(c.visible_source))
        return out


def _digest(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode()).hexdigest()[:16]


def strip_hidden(source: str) -> str:
    keep, hidden = [], False
    for line in source.splitlines(keepends=True):
        if HIDDEN_BEGIN in line:
            hidden = True
        elif HIDDEN_END in line:
            hidden = False
        elif not hidden:
            keep.append(line)
    return "".join(keep).rstrip("\n")


def load_lesson(
    lesson_id: str,
    source_nb: Path,
    release_nb: Path | None = None,
    gradebook_sources: dict[str, str] | None = None,
) -> Lesson:
    """Build a :class:`Lesson` from the instructor notebook and (when generated) its release.

    ``gradebook_sources`` maps grade ids to the source nbgrader stored; when given, it wins
    for test and locked cells so the repaired notebook matches nbgrader's checksums.
    """
    src = nbformat.read(source_nb, as_version=4)
    rel = nbformat.read(release_nb, as_version=4) if release_nb and release_nb.exists() else None
    if rel is not None and len(rel.cells) != len(src.cells):
        rel = None  # a header or footer was added: fall back to the source alone
    cells = []
    for index, cell in enumerate(src.cells):
        r = role(cell)
        md = dict(cell.metadata.get("nbgrader", {}))
        gid = md.get("grade_id")
        released = rel.cells[index] if rel is not None else None
        if released is not None:
            md = dict(released.metadata.get("nbgrader", md))
        source = cell.source
        if r in (TEST, LOCKED) and gradebook_sources and gid in gradebook_sources:
            source = gradebook_sources[gid]
        elif r in (ANSWER, WRITTEN) and released is not None:
            source = released.source
        cells.append(
            SourceCell(
                index=index,
                role=r,
                cell_type=cell.cell_type,
                grade_id=gid if r != PLAIN else None,
                cell_id=cell.get("id"),
                source=source,
                visible_source=strip_hidden(cell.source),
                nbgrader=md,
                points=float(md.get("points", 0) or 0) if r in (TEST, WRITTEN) else 0.0,
            )
        )
    return Lesson(id=lesson_id, cells=tuple(cells), solution_path=source_nb)


# --------------------------------------------------------------------------- recognition


@dataclass(frozen=True)
class Recognition:
    lesson: str | None
    detail: str


def notebook_features(nb: dict[str, Any]) -> set[str]:
    out = set()
    for cell in nb.get("cells", []):
        md = cell.get("metadata", {}) or {}
        gid = (md.get("nbgrader") or {}).get("grade_id") if isinstance(md, dict) else None
        if gid:
            out.add("gid:" + str(gid))
        if cell.get("id"):
            out.add("cid:" + str(cell["id"]))
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if isinstance(source, str) and source.strip():
            out.add("src:" + _digest(strip_hidden(source)))
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
