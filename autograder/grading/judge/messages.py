"""What a student may be told about each test cell, from its trusted judgement.

A test cell's failure is the grader's (a limit, or a test that did not run as written: its
plain message is shown), or the test's. A test's failure is *visible* when the failing line is
in the part of the test cell the student has - its message is then shown in full - or *hidden*:
then only which hidden check failed is said, with :attr:`helpers.checks.CheckFailure.summary`
(one line, no input values) when the check that failed is the grader's own, and otherwise the
exception's built-in type. Where a failure came from travels beside it
(:class:`~.judge.CellJudgement`), never read back from an error's name, which the student's code
can choose; a hidden message never repeats text the kernel chose while the hidden tests ran.
The hidden test's source and traceback never leave this module.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...course.lessons import TEST, Lesson, SourceCell
from ..vocabulary import VerdictStatus

if TYPE_CHECKING:
    from .judge import CellJudgement

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Verdict:
    grade_id: str
    outcome: VerdictStatus  # PASSED, FAILED or NOT_RUN
    where: str  # "", "visible", "hidden", "limit"
    message: str  # safe to show the student
    output: str  # the cell's printed output, when safe to show

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Verdict:
        """Back from the JSON of an outcome record (``dataclasses.asdict`` wrote it)."""
        return cls(**{**data, "outcome": VerdictStatus(data["outcome"])})

    @property
    def short(self) -> str:
        """One line for the report's most-common-failures table."""
        return self.message.splitlines()[0] if self.message else ""


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _builtin_exception(name: str) -> bool:
    cls = getattr(builtins, name, None)
    return isinstance(cls, type) and issubclass(cls, BaseException)


def verdict(judged: CellJudgement, source_cell: SourceCell) -> Verdict:
    """What the student may read about one test cell (see the module docstring)."""
    gid = source_cell.grade_id
    # Output printed while hidden checks ran may show their inputs: only shown without them.
    shown = "" if source_cell.has_hidden_tests else judged.printed()[-3000:]
    if judged.status == VerdictStatus.PASSED:
        return Verdict(gid, VerdictStatus.PASSED, "", "", shown)
    if judged.origin != "test":  # the grader's own message, plain words of its own
        outcome = (
            VerdictStatus.NOT_RUN
            if judged.status == VerdictStatus.NOT_RUN
            else VerdictStatus.FAILED
        )
        return Verdict(gid, outcome, "limit", _plain(judged.message), shown)
    ename, evalue = judged.ename or "Error", _plain(judged.message)
    # Conservative: from the first hidden line on, everything counts as hidden.
    ranges = source_cell.hidden_line_ranges()
    if ranges and (judged.line is None or judged.line >= ranges[0][0]):
        return Verdict(gid, VerdictStatus.FAILED, "hidden", _hidden_message(judged), "")
    return Verdict(
        gid, VerdictStatus.FAILED, "visible", f"{ename}: {evalue}" if evalue else ename, shown
    )


def _hidden_message(judged: CellJudgement) -> str:
    summary, ename = judged.summary, judged.ename
    if summary and not any(t and t in summary for t in judged.tainted):
        return f"A hidden check failed: {summary.splitlines()[0]}"
    if summary:  # the summary repeats what the student's code sent while hidden checks ran
        return "A hidden check failed."
    if (judged.by_student or ename in judged.tainted) and not _builtin_exception(ename):
        return "A hidden check failed (your code raised an exception of its own class)."
    return f"A hidden check failed ({ename})."


def verdicts(judged: dict[str, CellJudgement], lesson: Lesson) -> dict[str, Verdict]:
    """grade id -> Verdict for every test cell the worker judged."""
    tests = {c.grade_id: c for c in lesson.cells if c.role == TEST}
    return {gid: verdict(j, tests[gid]) for gid, j in judged.items() if gid in tests}
