"""What a student may be told about each test cell, read from the executed notebook.

A failing test is either *visible* (the failing line is in the part of the test cell the
student has) - then its message is shown in full - or *hidden* - then only which hidden check
failed is said, with :attr:`helpers.checks.CheckFailure.summary` (one line, no input values)
when the failure is a CheckFailure, and the exception's type otherwise. The hidden test's
source and traceback never leave this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ...course.lessons import TEST, Lesson, SourceCell
from ..vocabulary import GraderErrorName, Status

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\[\d*\], line (\d+)")


@dataclass(frozen=True)
class Verdict:
    grade_id: str
    outcome: Status  # PASSED, FAILED or NOT_RUN
    where: str  # "", "visible", "hidden", "limit"
    message: str  # safe to show the student
    output: str  # the cell's printed output, when safe to show

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Verdict:
        """Back from the JSON of an outcome record (``dataclasses.asdict`` wrote it)."""
        return cls(**{**data, "outcome": Status(data["outcome"])})

    @property
    def short(self) -> str:
        """One line for the report's most-common-failures table."""
        return self.message.splitlines()[0] if self.message else ""


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _failing_line(error: dict[str, Any]) -> int | None:
    for line in error.get("traceback", []):
        m = _CELL_LINE.search(_plain(line))
        if m:
            return int(m.group(1))
    return None


def verdict(cell: dict[str, Any], source_cell: SourceCell) -> Verdict:
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    # Output printed while hidden checks ran may show their inputs: only shown without them.
    shown = "" if source_cell.has_hidden_tests else printed[-3000:]
    if not errors:
        return Verdict(source_cell.grade_id, Status.PASSED, "", "", shown)
    error = errors[-1]
    ename, evalue = error.get("ename", "Error"), _plain(str(error.get("evalue", "")))
    if ename in set(GraderErrorName):
        return Verdict(
            source_cell.grade_id,
            Status.NOT_RUN if ename == GraderErrorName.NOT_RUN else Status.FAILED,
            "limit",
            evalue,
            shown,
        )
    line = _failing_line(error)
    # Conservative: from the first hidden line on, everything counts as hidden.
    ranges = source_cell.hidden_line_ranges()
    hidden = bool(ranges) and (line is None or line >= ranges[0][0])
    if hidden:
        summary = evalue.splitlines()[0] if ename == "CheckFailure" and evalue else ""
        text = (
            f"A hidden check failed: {summary}" if summary else f"A hidden check failed ({ename})."
        )
        return Verdict(source_cell.grade_id, Status.FAILED, "hidden", text, "")
    return Verdict(
        source_cell.grade_id,
        Status.FAILED,
        "visible",
        f"{ename}: {evalue}" if evalue else ename,
        shown,
    )


def verdicts(nb: dict[str, Any], lesson: Lesson) -> dict[str, Verdict]:
    """grade id -> Verdict for every test cell of the executed, repaired notebook."""
    tests = {c.grade_id: c for c in lesson.cells if c.role == TEST}
    out = {}
    for cell in nb.get("cells", []):
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if gid in tests and cell.get("cell_type") == "code":
            out[gid] = verdict(cell, tests[gid])
    return out
