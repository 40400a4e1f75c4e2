"""Put a submission's nbgrader cells back the way the lesson has them.

nbgrader overwrites an *edited* test or locked cell from the gradebook, but a test cell that was
deleted, stripped of its metadata, retyped to markdown or duplicated slips through (it is
scored as "needs manual grading", i.e. 0). :func:`repair` fixes all of these before anything
runs:

- every student cell is matched to a lesson cell by grade id, then by cell id, then by its
  text (a test cell's visible text, an answer cell's ``def <name>(``);
- test and locked cells are replaced by the lesson's own (hidden tests included); a missing
  one is inserted after the lesson cell that precedes it; extra copies are dropped;
- answer and written cells keep the student's text but get the lesson's metadata and cell
  type back; a missing answer cell comes back as the unanswered stub;
- the student's own extra cells stay where they are.

The result is deterministic: the grader runs it before executing a submission and again inside
nbgrader's Autograde (:class:`RestoreCells`), and both must produce the same notebook.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import nbformat

from ...course.lessons import (
    ANSWER,
    LOCKED,
    PLAIN,
    TEST,
    WRITTEN,
    Lesson,
    SourceCell,
    digest,
    strip_hidden,
)
from ...course.notebooks import grade_id


@dataclass
class Repair:
    notebook: Any  # nbformat.NotebookNode
    findings: list[str] = field(default_factory=list)


def _text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _match(
    cell: dict[str, Any],
    by_gid: dict[str, SourceCell],
    by_cid: dict[str, SourceCell],
    by_text: dict[str, SourceCell],
) -> SourceCell | None:
    gid = grade_id(cell)
    if gid in by_gid:
        return by_gid[gid]
    cid = cell.get("id")
    if cid in by_cid:
        return by_cid[cid]
    text = _text(cell)
    if text.strip():
        hit = by_text.get(digest(strip_hidden(text)))
        if hit is not None:
            return hit
    return None


def _new_cell(source_cell: SourceCell, text: str | None = None) -> Any:
    make = (
        nbformat.v4.new_code_cell
        if source_cell.cell_type == "code"
        else nbformat.v4.new_markdown_cell
    )
    cell = make(source_cell.source if text is None else text)
    cell.metadata["nbgrader"] = copy.deepcopy(source_cell.nbgrader)
    if source_cell.role in (TEST, LOCKED):
        cell.metadata["deletable"] = False
        cell.metadata["editable"] = False
    if source_cell.cell_id:
        cell["id"] = source_cell.cell_id
    return cell


def repair(student: dict[str, Any], lesson: Lesson) -> Repair:
    """Return the submission with every nbgrader cell of ``lesson`` present exactly once."""
    nb = nbformat.from_dict(copy.deepcopy(student))
    graded = [c for c in lesson.cells if c.role != PLAIN]
    findings: list[str] = []
    matches = _match_cells(nb.cells, graded)
    out, placed = _restore_present(nb.cells, matches, findings)
    _insert_missing(graded, out, placed, findings)
    nb.cells = out
    _unique_ids(nb)
    return Repair(nb, findings)


def _match_cells(cells: list[Any], graded: list[SourceCell]) -> list[SourceCell | None]:
    """The lesson cell each student cell stands for, or None for the student's own cells."""
    by_gid = {c.grade_id: c for c in graded}
    by_cid = {c.cell_id: c for c in graded if c.cell_id}
    by_text = {
        digest(c.visible_source): c
        for c in graded
        if c.role in (TEST, LOCKED) and c.visible_source.strip()
    }
    matches: list[SourceCell | None] = [_match(c, by_gid, by_cid, by_text) for c in cells]
    # Answer cells that lost metadata and id: recognised by the function they define.
    for c in graded:
        if c.role == ANSWER and c not in matches and c.grade_id:
            pattern = re.compile(rf"^\s*def\s+{re.escape(c.grade_id)}\s*\(", re.MULTILINE)
            for i, cell in enumerate(cells):
                if (
                    matches[i] is None
                    and cell.get("cell_type") == "code"
                    and pattern.search(_text(cell))
                ):
                    matches[i] = c
    return matches


def _chosen(matches: list[SourceCell | None]) -> dict[str, int]:
    # Which occurrence of each lesson cell is the real one: the first for locked content,
    # the last for answers (the definition that wins when the notebook runs).
    chosen: dict[str, int] = {}
    for i, m in enumerate(matches):
        if m is None:
            continue
        if m.grade_id not in chosen or m.role in (ANSWER, WRITTEN):
            chosen[m.grade_id] = i
    return chosen


def _restore_present(
    cells: list[Any], matches: list[SourceCell | None], findings: list[str]
) -> tuple[list[Any], dict[str, int]]:
    """The cells in their order, lesson cells restored; and where each lesson cell now is."""
    chosen = _chosen(matches)
    out: list[Any] = []
    placed: dict[str, int] = {}
    for i, (cell, m) in enumerate(zip(cells, matches)):
        if m is None:
            md = cell.get("metadata", {})
            if "nbgrader" in md:  # a grade id the lesson does not know: a plain cell now
                md.pop("nbgrader")
                findings.append(
                    "a cell claimed an unknown nbgrader id; it runs as an ordinary cell"
                )
            out.append(cell)
            continue
        if chosen[m.grade_id] != i:
            if m.role in (TEST, LOCKED):
                findings.append(f"a duplicate of {_label(m)} was removed")
            else:
                cell.get("metadata", {}).pop("nbgrader", None)
                findings.append(f"an earlier copy of {_label(m)} runs as an ordinary cell")
                out.append(cell)
            continue
        if m.role in (TEST, LOCKED):
            new = _restore_locked(cell, m, findings)
        else:
            new = _restore_answer(cell, m, findings)
        placed[m.grade_id] = len(out)
        out.append(new)
    return out, placed


def _restore_locked(cell: Any, m: SourceCell, findings: list[str]) -> Any:
    if digest(strip_hidden(_text(cell))) != digest(m.visible_source):
        findings.append(f"{_label(m)} was edited; the lesson's version was put back")
    elif cell.get("cell_type") != m.cell_type:
        findings.append(f"{_label(m)} was turned into {cell.get('cell_type')}; put back")
    elif grade_id(cell) != m.grade_id:
        findings.append(f"{_label(m)} had lost its nbgrader metadata; put back")
    return _new_cell(m)


def _restore_answer(cell: Any, m: SourceCell, findings: list[str]) -> Any:
    # The student's text is the answer: only the type and the metadata are the lesson's.
    if cell.get("cell_type") != m.cell_type:
        findings.append(
            f"{_label(m)} was turned into {cell.get('cell_type')}; its type was put back"
        )
    elif grade_id(cell) != m.grade_id:
        findings.append(f"{_label(m)} had lost its nbgrader metadata; put back")
    return _new_cell(m, _text(cell))


def _insert_missing(
    graded: list[SourceCell], out: list[Any], placed: dict[str, int], findings: list[str]
) -> None:
    # Missing lesson cells go after the nearest earlier lesson cell that is present.
    for c in graded:
        if c.grade_id in placed:
            continue
        previous = [p for p in graded if p.index < c.index and p.grade_id in placed]
        at = placed[previous[-1].grade_id] + 1 if previous else _first_graded_position(out, placed)
        out.insert(at, _new_cell(c))
        for gid, pos in placed.items():
            if pos >= at:
                placed[gid] = pos + 1
        placed[c.grade_id] = at
        what = (
            "was missing; the unanswered stub was put in its place"
            if c.role == ANSWER
            else "was missing; put back"
        )
        findings.append(f"{_label(c)} {what}")


def _first_graded_position(out: list[Any], placed: dict[str, int]) -> int:
    return min(placed.values()) if placed else len(out)


def _label(c: SourceCell) -> str:
    kind = {
        TEST: "test cell",
        LOCKED: "locked cell",
        ANSWER: "answer cell",
        WRITTEN: "written answer",
    }[c.role]
    return f"{kind} '{c.grade_id}'"


def _unique_ids(nb: Any) -> None:
    nb.nbformat, nb.nbformat_minor = 4, max(5, int(nb.get("nbformat_minor", 5)))
    seen: set[str] = set()
    for number, cell in enumerate(nb.cells):
        cid = cell.get("id")
        if not cid or cid in seen or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", str(cid)):
            cid = f"cell-{number}"
            while cid in seen:
                cid += "x"
            cell["id"] = cid
        seen.add(cid)
