"""Run a submission cell by cell so that one bad cell costs only what depends on it.

nbclient executes each cell (:class:`.kernel.Kernel`). Around it this module adds what batch
grading needs:

- a per-cell time limit: the kernel is interrupted; if it ignores the interrupt (a loop that
  catches ``KeyboardInterrupt`` or ignores SIGINT) it is replaced;
- a dead kernel (``os._exit``, a crash, the memory limit) is replaced too; in both cases the
  earlier cells that ran fine are run again in the new kernel, so the state the later cells
  expect is back, and grading goes on with the next cell;
- a per-notebook time budget: cells left when it runs out are not run and say so;
- a cap on the output kept per cell (a 50 MB print is cut to the cap with a note);
- graded test cells are never run in the kernel: each is handed to the judge's hook
  (``tests``, :class:`~..judge.cells.TestCells`), which runs the test in this process while
  the kernel answers for the student's objects, and writes the cell's outputs. A test cell
  is never run again after a restart, so no kernel ever receives a test's source.

Every cell gets a :class:`~.kernel.CellRun` saying what happened, for the feedback and the
report. A cell the executor stopped gets an error output naming the reason (from the grader's
own facts: see :mod:`.kernel`), so nbgrader scores it 0 like any other failing test.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from ..settings import Limits
from ..vocabulary import CellStatus, GraderErrorName
from . import boot as boots
from .kernel import CellRun, ExecutionResult, Kernel, TestRequest
from .sandbox import SandboxSpec

MEMORY_SHARE = 0.9  # a cell that failed with its sandbox's peak address space this near the limit
_GRACE = 2.0  # seconds a kernel has to reply once its test is over


def execute_notebook(
    nb: dict[str, Any],
    *,
    limits: Limits,
    sandbox: SandboxSpec | None,
    scratch_root: Path | None = None,
    preload: list[str] | tuple[str, ...] = (),
    font_cache: Path | None = None,
    spare: bool = False,
    tests: Any = None,
) -> ExecutionResult:
    """Execute ``nb`` (a repaired submission) and return it with outputs and per-cell records.

    ``preload`` is code run in every new kernel before the notebook's cells (not recorded):
    the kernel side of the grader's record (:mod:`..record`).
    With ``spare`` the notebook runs in the kernel spawned ahead (by :func:`.boot.boot_spare`
    or the previous call) when its settings match, and a kernel for the next call is spawned
    before returning, so its start-up overlaps whatever the process does in between.
    ``tests`` (:class:`~..judge.cells.TestCells`) runs the graded test cells; without it every
    cell runs in the kernel as written.
    """
    nb = _copied(nb)
    started = time.monotonic()
    run = _NotebookRun(nb, limits, sandbox, preload, font_cache, started, tests)
    boot = boots.take_spare(limits, sandbox, font_cache) if spare else None
    run.result.booted_ahead = boot is not None
    run.first_boot = boot or boots.Boot(
        limits, sandbox, Path(tempfile.mkdtemp(prefix="grade-", dir=scratch_root)), font_cache
    )
    try:
        run.start(spawned_ahead=boot is not None, scratch_root=scratch_root)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                run.run_cell(index, cell)
    finally:
        if run.kernel is not None:
            run.kernel.shutdown()
        shutil.rmtree(run.first_boot.work, ignore_errors=True)
        if spare:
            boots.boot_spare(
                limits=limits, sandbox=sandbox, scratch_root=scratch_root, font_cache=font_cache
            )
    result = run.result
    result.notebook = nb
    result.seconds_total = time.monotonic() - started
    return result


def _copied(node: Any) -> Any:
    """A deep copy of notebook data through JSON.

    Never ``copy.deepcopy``: an nbformat node looks attributes up in its own keys, so a
    student's ``__deepcopy__`` key in a cell's metadata would be called.
    """
    return nbformat.from_dict(json.loads(json.dumps(node)))


def _error_output(ename: GraderErrorName, evalue: str) -> dict[str, Any]:
    return nbformat.v4.new_output(
        "error", ename=str(ename), evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


class _NotebookRun:
    """One :func:`execute_notebook` call: the kernel in use and the cells that ran fine in it.

    A replacement kernel replays ``ran_ok`` (never a test cell), so the state is kept across
    restarts.
    """

    def __init__(self, nb, limits: Limits, sandbox, preload, font_cache, started: float, tests):
        self.nb = nb
        self.limits = limits
        self.sandbox = sandbox
        self.preload = preload
        self.font_cache = font_cache
        self.tests = tests
        self.deadline = started + limits.submission_seconds
        self.result = ExecutionResult(notebook={}, cells=[])
        self.ran_ok: list[int] = []
        self.kernel: Kernel | None = None
        self.first_boot: boots.Boot  # set by execute_notebook before start()
        self.peak = 0  # the sandbox's peak address space after the last cell

    def start(self, *, spawned_ahead: bool, scratch_root: Path | None) -> None:
        try:
            self.kernel = self.new_kernel(self.first_boot)
        except Exception:
            if not spawned_ahead:
                raise
            # The kernel spawned ahead did not come up (killed, or its folder went away): this
            # notebook starts its own instead of failing for the grader's sake.
            self.first_boot.discard()
            self.first_boot = boots.Boot(
                self.limits,
                self.sandbox,
                Path(tempfile.mkdtemp(prefix="grade-", dir=scratch_root)),
                self.font_cache,
            )
            self.result.booted_ahead = False
            self.kernel = self.new_kernel(self.first_boot)

    def new_kernel(self, boot: boots.Boot | None = None) -> Kernel:
        limits, result = self.limits, self.result
        t0 = time.monotonic()
        # A replacement kernel keeps the scratch folder: files the student's cells wrote stay.
        boot = boot or boots.Boot(
            limits,
            self.sandbox,
            self.first_boot.work,
            self.font_cache,
            scratch=self.first_boot.scratch,
        )
        k = Kernel(self.nb, limits, boot)
        t1 = time.monotonic()
        for code in self.preload:
            k.run(nbformat.v4.new_code_cell(code), -1, limits.cell_seconds, record=False)
        result.kernel_starts += 1
        result.seconds_kernel_start += t1 - t0
        result.seconds_preload += time.monotonic() - t1
        self.peak = boot.peak_memory()
        return k

    def replay(self) -> None:
        t0 = time.monotonic()
        for j in self.ran_ok:
            left = self.deadline - time.monotonic()
            if left <= 0:
                break
            self.kernel.run(
                _copied(self.nb.cells[j]), j, min(self.limits.cell_seconds, left), record=False
            )
        self.result.seconds_replay += time.monotonic() - t0

    def restart(self) -> None:
        self.kernel.shutdown()
        self.kernel = self.new_kernel()
        self.replay()

    def run_cell(self, index: int, cell) -> None:
        cell.outputs = []
        cell.execution_count = None
        record = CellRun(index)
        self.result.cells.append(record)
        is_test = self.tests is not None and self.tests.grade_id(cell) is not None
        left = self.deadline - time.monotonic()
        if left <= 0:
            self._not_run(record, cell, is_test)
            return
        if not cell.source.strip():
            return
        t0 = time.monotonic()
        budget = min(self.limits.cell_seconds, left)
        if is_test:
            restart = self._run_test(index, cell, record, budget)
        else:
            status = self.kernel.run(cell, index, budget)
            if index in self.kernel.client.truncated:
                self._cut_note(record, cell)
            restart = self._classify(status, index, record, cell, budget)
        record.seconds = time.monotonic() - t0
        self.result.seconds_cells += record.seconds
        if restart:
            self.restart()

    def _not_run(self, record: CellRun, cell, is_test: bool) -> None:
        record.status = CellStatus.NOT_RUN
        record.reason = (
            f"the notebook's time limit ({self.limits.submission_seconds:g} s) was used up"
        )
        record.note = f"not run: {record.reason}"
        if is_test:
            self.tests.stopped(record.index, cell, CellStatus.NOT_RUN, record.note)
            cell.outputs = nbformat.from_dict(self.tests.outputs(record.index))
        else:
            cell.outputs = [_error_output(GraderErrorName.NOT_RUN, record.note)]

    def _run_test(self, index: int, cell, record: CellRun, budget: float) -> bool:
        """A graded test cell, judged live; whether the kernel must be replaced."""
        request = TestRequest(self.kernel, time.monotonic() + budget)
        ended = self.tests.run(index, cell, request)
        restart = False
        if ended == "gone" and request.died():
            record.status, record.note = CellStatus.KERNEL_DIED, _DIED
            self.tests.stopped(index, cell, CellStatus.KERNEL_DIED, record.note)
            restart = True
        elif ended == "timeout" or not request.finish(
            max(_GRACE, request.deadline - time.monotonic())
        ):
            restart = self._stop_test(request, record, budget)
            self.tests.stopped(index, cell, CellStatus.TIMEOUT, record.note)
        else:
            record.status = CellStatus.OK if not ended else CellStatus.ERROR
        outputs, cut = _capped(self.tests.outputs(index), self.limits.output_bytes)
        cell.outputs = nbformat.from_dict(outputs)
        if cut:
            self._cut_note(record, cell)
        return restart

    def _stop_test(self, request: TestRequest, record: CellRun, budget: float) -> bool:
        """The test cell's time ran out: interrupt; whether the kernel must be replaced."""
        record.status = CellStatus.TIMEOUT
        record.note = self._stop_note(budget)
        if request.finish(0.5):  # its side ended with the conversation: nothing to interrupt
            return False
        self.kernel.interrupt()
        if request.finish(3) and self.kernel.responsive():
            return False
        record.note += "; the kernel ignored the interrupt and was replaced"
        return True

    def _stop_note(self, budget: float) -> str:
        cut = (
            "notebook's time limit" if budget < self.limits.cell_seconds else "time limit per cell"
        )
        return f"stopped after {budget:.0f} s ({cut})"

    def _cut_note(self, record: CellRun, cell) -> None:
        record.output_truncated = True
        cell.outputs.append(
            nbformat.v4.new_output(
                "stream",
                name="stdout",
                text=f"\n[output cut: more than {self.limits.output_bytes:,} bytes]\n",
            )
        )

    def _classify(
        self, status: CellStatus, index: int, record: CellRun, cell, budget: float
    ) -> bool:
        """Record what happened to the cell; return whether its kernel must be replaced."""
        if status == CellStatus.TIMEOUT:
            return self._timed_out(record, cell, budget)
        if status == CellStatus.KERNEL_DIED:
            record.status, record.note = CellStatus.KERNEL_DIED, _DIED
            cell.outputs.append(_error_output(GraderErrorName.KERNEL_DIED, record.note))
            return True
        before, self.peak = self.peak, self.kernel.boot.peak_memory()
        if status == CellStatus.ERROR:
            limit = self.limits.memory_mb * 1024 * 1024
            if before < MEMORY_SHARE * limit <= self.peak:  # /proc's word, not the kernel's
                record.status = CellStatus.MEMORY
                record.note = f"ran out of memory (limit {self.limits.memory_mb} MB)"
            else:
                record.status = CellStatus.ERROR
        else:
            self.ran_ok.append(index)
        return False

    def _timed_out(self, record: CellRun, cell, budget: float) -> bool:
        restart = False
        record.status = CellStatus.TIMEOUT
        record.note = self._stop_note(budget)
        if not self.kernel.responsive():
            record.note += "; the kernel ignored the interrupt and was replaced"
            restart = True
        # nbclient's own timeout error names an exception the student never raised.
        cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
        cell.outputs.append(_error_output(GraderErrorName.TIMEOUT, f"this cell was {record.note}"))
        return restart


_DIED = "the kernel died in this cell (os._exit, a crash or the memory limit) and was replaced"


def _capped(outputs: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """A test cell's trusted outputs under the per-cell cap (its printed text cut first)."""
    kept, used, cut = [], 0, False
    for out in outputs:
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            room = max(0, limit - used)
            if len(text) > room:
                out, cut = {**out, "text": text[:room]}, True
            used += len(out["text"])
        kept.append(out)
    return kept, cut
