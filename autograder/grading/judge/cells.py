"""The test cells of one notebook, as the executor meets them: each judged in the worker.

The executor (:mod:`..execute.kernel`) hands every graded test cell to :class:`TestCells`
instead of running it: a fresh socket and nonce for the cell, an empty execute request whose
user expression makes the kernel connect, then the test runs here (:func:`.judge.judge_test`).
A cell the executor stopped (time, a dead kernel) or did not run (the notebook's time) gets
the grader's own failure; either way its outputs are written here and only here, so nothing
the kernel printed or displayed reaches a test cell. :meth:`TestCells.judgement` is what the
grader keeps: every test cell's :class:`~.judge.CellJudgement`, with where each failure came
from, and the quiz answers as the kernel gave them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ...course.notebooks import grade_id
from ..record import bootstrap
from ..vocabulary import CellStatus, GraderErrorName, VerdictStatus
from .channel import Channel, KernelGone, KernelTimeout, Listener
from .judge import CellJudgement, grader_failure, judge_test, not_run_as_written, student_names

# The executor's stop reasons, as the grader's own error of a test cell.
_STOP_NAMES = {
    CellStatus.TIMEOUT: GraderErrorName.TIMEOUT,
    CellStatus.KERNEL_DIED: GraderErrorName.KERNEL_DIED,
    CellStatus.NOT_RUN: GraderErrorName.NOT_RUN,
}


class Session(Protocol):
    """What the executor lends a test cell: its kernel, for one execute request."""

    folder: Path  # the kernel's runtime folder, which the sandbox shares
    deadline: float  # the cell's time runs out then (time.monotonic)

    def start(self, expression: str) -> None:
        """Send the empty execute request whose user expression is ``expression``."""

    def waiting(self) -> str:
        """Why the kernel will not connect any more ("" while it still may)."""


@dataclass(frozen=True)
class NotebookJudgement:
    """What judging a notebook's tests leaves for the outcome record (plain data)."""

    cells: dict[str, CellJudgement]  # grade id -> its judgement
    notes: tuple[str, ...]  # one line per test that did not run as written
    seconds: float  # the trusted side's time for this notebook
    # quiz test grade id -> item name -> the student's True/False (None: not a bool), as the
    # kernel gave them: the feedback page marks each item from these.
    quiz_answers: dict[str, dict[str, bool | None]] = field(default_factory=dict)


class TestCells:
    """The executor's hook: which cells are tests, and the trusted outcome of each."""

    def __init__(self, tests: dict[str, str]):
        self.tests = tests  # grade id -> the instructor's test source, hidden tests included
        self.judged: dict[int, CellJudgement] = {}  # cell index -> judgement

    def grade_id(self, cell: Any) -> str | None:
        """The cell's grade id when it is a graded test cell (run by :meth:`run`), else None."""
        gid = grade_id(cell)
        return gid if cell.get("cell_type") == "code" and gid in self.tests else None

    def run(self, index: int, cell: Any, session: Session) -> str:
        """Judge the test cell at ``index`` live; how its conversation ended (see judge_test)."""
        gid = self.grade_id(cell)
        source = self.tests[gid]
        nonce = secrets.token_hex(16)
        listener = Listener(session.folder)
        session.start(bootstrap.call_expression(str(listener.path), nonce, student_names(source)))
        try:
            sock = listener.accept(session.deadline, session.waiting)
        except KernelGone as exc:
            self.judged[index] = not_run_as_written(gid, exc.why)
            return "gone"
        except KernelTimeout:  # the cell's time ran out before the kernel connected
            return "timeout"
        judged, ended = judge_test(source, gid, Channel(sock, session.deadline), nonce)
        if judged is not None:
            self.judged[index] = judged
        return ended

    def stopped(self, index: int, cell: Any, status: CellStatus, note: str) -> None:
        """The executor stopped or skipped the cell: the grader's failure, in its words."""
        gid = self.grade_id(cell)
        ename = _STOP_NAMES.get(status, GraderErrorName.NOT_RUN_AS_WRITTEN)
        outcome = VerdictStatus.NOT_RUN if status == CellStatus.NOT_RUN else VerdictStatus.FAILED
        message = f"this cell was {note}" if status == CellStatus.TIMEOUT else note
        self.judged[index] = grader_failure(gid, ename, message, status=outcome)

    def outputs(self, index: int) -> list[dict[str, Any]]:
        """The test cell's outputs: the trusted outcome, whatever happened in the kernel."""
        judged = self.judged.get(index)
        return list(judged.outputs) if judged is not None else []

    def judgement(self) -> NotebookJudgement:
        """Every test cell's judgement, the instructor's notes, the quiz answers."""
        cells = {j.grade_id: j for _, j in sorted(self.judged.items())}
        notes = tuple(f"test '{gid}': {j.message}: {j.note}" for gid, j in cells.items() if j.note)
        quiz = {gid: j.answers for gid, j in cells.items() if j.answers}
        seconds = sum(j.seconds for j in cells.values())
        return NotebookJudgement(cells, notes, seconds, quiz)
