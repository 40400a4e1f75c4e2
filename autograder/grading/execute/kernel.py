"""Run a submission cell by cell so that one bad cell costs only what depends on it.

nbclient executes each cell. Around it this module adds what batch grading needs:

- a per-cell time limit: the kernel is interrupted; if it ignores the interrupt (a loop that
  catches ``KeyboardInterrupt`` or ignores SIGINT) it is replaced;
- a dead kernel (``os._exit``, a crash, the memory limit) is replaced too; in both cases the
  earlier cells that ran fine are run again in the new kernel, so the state the later cells
  expect is back, and grading goes on with the next cell;
- a per-notebook time budget: cells left when it runs out are not run and say so;
- a cap on the output kept per cell (a 50 MB print is cut to the cap with a note).

Every cell gets a :class:`CellRun` record saying what happened, for the feedback and the report.
A cell that failed for one of these reasons gets an error output naming the reason, so nbgrader
scores it 0 like any other failing test.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from ..record.protocol import MIME as RECORD_MIME
from ..settings import Limits
from ..vocabulary import GraderErrorName, Status
from .sandbox import SandboxSpec, kernel_argv, kernel_env

# What nbclient writes when a cell overruns: read back by _Kernel._run, never shown to anyone.
_TIMEOUT_ENAME = "CellTimeoutError"
# A test's record (see record.py) is kept outside the output cap, up to this size.
RECORD_BYTES = 16_000_000

_SPARE: _Boot | None = None  # a kernel spawned ahead for this process's next notebook


@dataclass
class CellRun:
    """What happened to one code cell (``status`` is one of Status.OK ... Status.NOT_RUN)."""

    index: int
    status: Status = Status.OK
    seconds: float = 0.0
    note: str = ""  # why it was stopped or not run, in words for the student
    reason: str = ""  # for NOT_RUN: the limit that was used up, without the "not run: " prefix
    output_truncated: bool = False


@dataclass
class ExecutionResult:
    """An executed notebook and what happened on the way (sent from a worker as it is)."""

    notebook: dict[str, Any]
    cells: list[CellRun]
    kernel_starts: int = 0
    booted_ahead: bool = False  # the first kernel was spawned before the notebook arrived
    seconds_kernel_start: float = 0.0
    seconds_preload: float = 0.0  # the grader's imports (helpers, numpy, the lesson's checkers)
    seconds_cells: float = 0.0
    seconds_replay: float = 0.0
    seconds_total: float = 0.0


class _SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is given, not looked up in a kernelspec."""

    def __init__(self, argv: list[str], **kwargs: Any):
        super().__init__(**kwargs)
        # Interrupt through the control channel: a SIGINT to the process group would hit bwrap
        # itself, which then takes the whole sandbox down.
        self._kernel_spec = KernelSpec(
            argv=argv, display_name="sandboxed python", language="python", interrupt_mode="message"
        )


class _CappedClient(NotebookClient):
    """nbclient with a cap on the bytes of output stored per cell."""

    def __init__(self, *args: Any, output_bytes: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.output_bytes = output_bytes
        self.stored: dict[int, int] = {}
        self.truncated: set[int] = set()

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if RECORD_MIME in (content.get("data") or {}):  # a test's record, for trusted.py
            if _message_size(msg["msg_type"], content) > RECORD_BYTES:
                return None  # the trusted side then finds no record: the test fails
            return super().output(outs, msg, display_id, cell_index)
        size = _message_size(msg["msg_type"], content)
        used = self.stored.get(cell_index, 0)
        room = self.output_bytes - used
        if room <= 0:
            self.truncated.add(cell_index)
            return None
        if size > room:
            self.truncated.add(cell_index)
            if msg["msg_type"] == "stream":
                msg = copy.deepcopy(msg)
                msg["content"]["text"] = content.get("text", "")[:room]
                size = room
            else:
                return None
        self.stored[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)


def _message_size(msg_type: str, content: dict[str, Any]) -> int:
    if msg_type == "stream":
        return len(content.get("text", ""))
    if msg_type == "error":
        return sum(len(line) for line in content.get("traceback", [])) + len(
            content.get("evalue", "")
        )
    data = content.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())


class _Boot:
    """A kernel process spawned in its own scratch folder, not yet connected to.

    Spawning returns at once; the process imports ipykernel while the grader does other work.
    A worker keeps one spare boot ready for its next notebook (see :func:`execute_notebook`).
    """

    def __init__(
        self,
        limits: Limits,
        sandbox: SandboxSpec | None,
        work: Path,
        font_cache: Path | None,
        scratch: Path | None = None,
    ):
        self.key = (limits.memory_mb, sandbox, str(font_cache))
        self.work = work
        self.scratch = scratch or work / "scratch"
        self.runtime = _runtime_dir(work)
        if scratch is None:
            self.scratch.mkdir()
            if font_cache is not None and Path(font_cache).is_dir():
                shutil.copytree(font_cache, self.scratch / ".matplotlib")
        argv = kernel_argv(
            sandbox=sandbox, scratch=self.scratch, runtime=self.runtime, memory_mb=limits.memory_mb
        )
        self.km = _SandboxedKernelManager(argv, transport="ipc")
        self.km.connection_file = str(self.runtime / "kernel.json")
        self.started = time.monotonic()
        # The kernel's own console chatter is not the student's output: discard it.
        try:
            run_sync(self.km.start_kernel)(
                cwd=str(self.scratch),
                env=kernel_env(self.scratch),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # a kernel that is already gone is fine
            run_sync(self.km.shutdown_kernel)(now=True)
        shutil.rmtree(self.runtime, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


# A Unix socket path holds at most 107 bytes (Linux; 103 on macOS). The kernel's ipc sockets
# are named <runtime>/kernel-ipc-<n>; a deep temporary folder would not fit.
_SOCKET_PATH_MAX = 100


def _runtime_dir(work: Path) -> Path:
    """A new folder for a kernel's connection file and sockets, in ``work`` if the path fits."""
    fits = len(str(work)) + len("/rt-xxxxxxxx/kernel-ipc-99") <= _SOCKET_PATH_MAX
    return Path(tempfile.mkdtemp(prefix="rt-", dir=work if fits else "/tmp"))


class _Kernel:
    """One sandboxed kernel and the nbclient driving it."""

    def __init__(self, nb, limits: Limits, boot: _Boot):
        self.boot = boot
        self.client = _CappedClient(
            nb,
            km=boot.km,
            timeout=int(limits.cell_seconds),
            interrupt_on_timeout=True,
            error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "cell timed out"},
            allow_errors=True,
            iopub_timeout=2,
            startup_timeout=60,
            record_timing=False,
            shutdown_kernel="immediate",
            output_bytes=limits.output_bytes,
        )
        self.replies: dict[int, dict[str, Any]] = {}
        self.client.on_cell_executed = self._remember_reply
        self.client.start_new_kernel_client()

    def _remember_reply(self, cell, cell_index, execute_reply):
        self.replies[cell_index] = execute_reply or {}

    def run(self, cell, index: int, seconds: float, record: bool = True) -> Status:
        """Execute one cell; return Status.OK, ERROR, TIMEOUT or KERNEL_DIED.

        nbclient stores the executed cell at ``nb.cells[index]``; with ``record=False`` (the
        grader's own cells, re-runs after a restart) the notebook is left as it was.
        """
        cells = self.client.nb["cells"]
        slot = index if 0 <= index < len(cells) else len(cells) - 1
        saved = cells[slot] if (not record and cells) else None
        try:
            return self._run(cell, index if record else slot, seconds)
        finally:
            if saved is not None:
                cells[slot] = saved

    def _run(self, cell, index: int, seconds: float) -> Status:
        self.client.timeout = max(1, int(seconds + 0.999))
        self.replies.pop(index, None)
        try:
            self.client.execute_cell(cell, index)
        except DeadKernelError:
            return Status.KERNEL_DIED
        reply = self.replies.get(index, {}).get("content", {})
        if reply.get("ename") == _TIMEOUT_ENAME:
            return Status.TIMEOUT
        if reply.get("status") == "error" or any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            return Status.ERROR
        return Status.OK

    def run_expression(self, expression: str, cell, index: int, seconds: float) -> Status:
        """Evaluate ``expression`` as the user expression of an empty execute request.

        IPython runs no transformer, cell event or exception handler for an empty cell, so
        the expression (the recording run of a test, see record.py) meets none of them. An
        expression that raised makes the status ERROR, like a failing cell.
        """
        kc = self.client.kc
        send = kc.execute

        def execute(code, **kwargs):
            return send("", user_expressions={"grader": expression}, **kwargs)

        kc.execute = execute
        try:
            status = self._run(cell, index, seconds)
        finally:
            del kc.execute
        result = self.replies.get(index, {}).get("content", {}).get("user_expressions", {})
        if status == Status.OK and (result.get("grader") or {}).get("status") != "ok":
            return Status.ERROR
        return status

    def responsive(self) -> bool:
        """After an interrupt: does the kernel answer a trivial cell within a few seconds?"""
        probe = nbformat.v4.new_code_cell("pass")
        return self.run(probe, -1, 3, record=False) == Status.OK

    def shutdown(self) -> None:
        """Stop the kernel and close our connection to it, with jupyter_client's public API.

        The same steps as nbclient's own clean-up: kill the kernel if it is alive, release its
        resources even if that failed, then stop the client's channels.
        """
        km, kc = self.boot.km, self.client.kc
        self.client.kc = None
        with contextlib.suppress(Exception):  # a kernel that is already gone is fine
            if run_sync(km.is_alive)():
                run_sync(km.shutdown_kernel)(now=True)
        with contextlib.suppress(Exception):
            run_sync(km.cleanup_resources)()
        with contextlib.suppress(Exception):
            if kc is not None:
                kc.stop_channels()
        shutil.rmtree(self.boot.runtime, ignore_errors=True)


def _error_output(ename: GraderErrorName, evalue: str) -> dict[str, Any]:
    return nbformat.v4.new_output(
        "error", ename=str(ename), evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def boot_spare(
    *,
    limits: Limits,
    sandbox: SandboxSpec | None,
    scratch_root: Path | None = None,
    font_cache: Path | None = None,
) -> bool:
    """Spawn a kernel now for this process's next :func:`execute_notebook` call with ``spare``.

    A grading worker calls this when it starts, before its first notebook arrives, so the
    first kernel boots while the grader is still preparing the batch. Returns whether a kernel
    was spawned; when it could not be, the next notebook simply starts its own.
    """
    global _SPARE
    discard_spare()
    try:
        _SPARE = _Boot(
            limits, sandbox, Path(tempfile.mkdtemp(prefix="grade-", dir=scratch_root)), font_cache
        )
    except Exception:  # noqa: BLE001 - no spare: the next notebook starts its own kernel
        return False
    return True


def discard_spare() -> None:
    """Shut down the kernel spawned ahead, if any (a grading worker calls this as it exits)."""
    global _SPARE
    if _SPARE is not None:
        _SPARE.discard()
        _SPARE = None


def execute_notebook(
    nb: dict[str, Any],
    *,
    limits: Limits,
    sandbox: SandboxSpec | None,
    scratch_root: Path | None = None,
    preload: list[str] | tuple[str, ...] = (),
    font_cache: Path | None = None,
    spare: bool = False,
    test_code: Callable[[int, Any], str | None] | None = None,
) -> ExecutionResult:
    """Execute ``nb`` (a repaired submission) and return it with outputs and per-cell records.

    ``preload`` is code run in every new kernel before the notebook's cells (not recorded):
    the grader imports ``helpers.checks`` there, so the checks bind numpy, math and builtins
    before any student code can replace them.
    With ``spare`` the notebook runs in the kernel spawned ahead (by :func:`boot_spare` or the
    previous call) when its settings match, and a kernel for the next call is spawned before
    returning, so its start-up overlaps whatever the process does in between.
    ``test_code(index, cell)`` may give the code to run in place of a cell (the grader's
    recording run of a test cell, see record.py); the cell keeps its own source.
    """
    nb = nbformat.from_dict(copy.deepcopy(nb))
    started = time.monotonic()
    run = _NotebookRun(nb, limits, sandbox, preload, font_cache, started)
    boot = _take_spare(limits, sandbox, font_cache) if spare else None
    run.result.booted_ahead = boot is not None
    run.first_boot = boot or _Boot(
        limits, sandbox, Path(tempfile.mkdtemp(prefix="grade-", dir=scratch_root)), font_cache
    )
    try:
        run.start(spawned_ahead=boot is not None, scratch_root=scratch_root)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            run.run_cell(index, cell, test_code)
    finally:
        if run.kernel is not None:
            run.kernel.shutdown()
        shutil.rmtree(run.first_boot.work, ignore_errors=True)
        if spare:
            boot_spare(
                limits=limits, sandbox=sandbox, scratch_root=scratch_root, font_cache=font_cache
            )
    result = run.result
    result.notebook = nb
    result.seconds_total = time.monotonic() - started
    return result


def _take_spare(
    limits: Limits, sandbox: SandboxSpec | None, font_cache: Path | None
) -> _Boot | None:
    """The kernel spawned ahead if it was spawned with these settings (it is then ours)."""
    global _SPARE
    if _SPARE is None or _SPARE.key != (limits.memory_mb, sandbox, str(font_cache)):
        return None
    boot, _SPARE = _SPARE, None
    return boot


class _NotebookRun:
    """One :func:`execute_notebook` call: the kernel in use and the cells that ran fine in it.

    A replacement kernel replays ``ran_ok``, so the state is kept across restarts.
    """

    def __init__(self, nb, limits: Limits, sandbox, preload, font_cache, started: float):
        self.nb = nb
        self.limits = limits
        self.sandbox = sandbox
        self.preload = preload
        self.font_cache = font_cache
        self.deadline = started + limits.submission_seconds
        self.result = ExecutionResult(notebook={}, cells=[])
        self.ran_ok: list[int] = []
        self.kernel: _Kernel | None = None
        self.first_boot: _Boot  # set by execute_notebook before start()

    def start(self, *, spawned_ahead: bool, scratch_root: Path | None) -> None:
        try:
            self.kernel = self.new_kernel(self.first_boot)
        except Exception:
            if not spawned_ahead:
                raise
            # The kernel spawned ahead did not come up (killed, or its folder went away): this
            # notebook starts its own instead of failing for the grader's sake.
            self.first_boot.discard()
            self.first_boot = _Boot(
                self.limits,
                self.sandbox,
                Path(tempfile.mkdtemp(prefix="grade-", dir=scratch_root)),
                self.font_cache,
            )
            self.result.booted_ahead = False
            self.kernel = self.new_kernel(self.first_boot)

    def new_kernel(self, boot: _Boot | None = None) -> _Kernel:
        limits, result = self.limits, self.result
        t0 = time.monotonic()
        # A replacement kernel keeps the scratch folder: files the student's cells wrote stay.
        k = _Kernel(
            self.nb,
            limits,
            boot
            or _Boot(
                limits,
                self.sandbox,
                self.first_boot.work,
                self.font_cache,
                scratch=self.first_boot.scratch,
            ),
        )
        t1 = time.monotonic()
        for code in self.preload:
            k.run(nbformat.v4.new_code_cell(code), -1, limits.cell_seconds, record=False)
        result.kernel_starts += 1
        result.seconds_kernel_start += t1 - t0
        result.seconds_preload += time.monotonic() - t1
        return k

    def replay(self) -> None:
        t0 = time.monotonic()
        for j in self.ran_ok:
            left = self.deadline - time.monotonic()
            if left <= 0:
                break
            self.kernel.run(
                copy.deepcopy(self.nb.cells[j]),
                j,
                min(self.limits.cell_seconds, left),
                record=False,
            )
        self.result.seconds_replay += time.monotonic() - t0

    def restart(self) -> None:
        self.kernel.shutdown()
        self.kernel = self.new_kernel()
        self.replay()

    def run_cell(self, index: int, cell, test_code) -> None:
        cell.outputs = []
        cell.execution_count = None
        record = CellRun(index)
        self.result.cells.append(record)
        left = self.deadline - time.monotonic()
        if left <= 0:
            self._not_run(record, cell)
            return
        if not cell.source.strip():
            return
        t0 = time.monotonic()
        budget = min(self.limits.cell_seconds, left)
        status = self._execute(index, cell, budget, test_code)
        record.seconds = time.monotonic() - t0
        self.result.seconds_cells += record.seconds
        if index in self.kernel.client.truncated:
            self._cut_note(record, cell)
        if self._classify(status, index, record, cell, budget):
            self.restart()

    def _not_run(self, record: CellRun, cell) -> None:
        record.status = Status.NOT_RUN
        record.reason = (
            f"the notebook's time limit ({self.limits.submission_seconds:g} s) was used up"
        )
        record.note = f"not run: {record.reason}"
        cell.outputs = [_error_output(GraderErrorName.NOT_RUN, record.note)]

    def _execute(self, index: int, cell, budget: float, test_code) -> Status:
        stand_in = test_code(index, cell) if test_code else None
        if stand_in is None:
            return self.kernel.run(cell, index, budget)
        ran = nbformat.v4.new_code_cell("# the grader's recording run of this test")
        status = self.kernel.run_expression(stand_in, ran, index, budget)
        cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
        self.nb.cells[index] = cell
        return status

    def _cut_note(self, record: CellRun, cell) -> None:
        record.output_truncated = True
        cell.outputs.append(
            nbformat.v4.new_output(
                "stream",
                name="stdout",
                text=f"\n[output cut: more than {self.limits.output_bytes:,} bytes]\n",
            )
        )

    def _classify(self, status: Status, index: int, record: CellRun, cell, budget: float) -> bool:
        """Record what happened to the cell; return whether its kernel must be replaced."""
        if status == Status.TIMEOUT:
            return self._timed_out(record, cell, budget)
        if status == Status.KERNEL_DIED:
            record.status = Status.KERNEL_DIED
            record.note = (
                "the kernel died in this cell (os._exit, a crash or the memory limit) "
                "and was replaced"
            )
            cell.outputs.append(_error_output(GraderErrorName.KERNEL_DIED, record.note))
            return True
        if status == Status.ERROR:
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            if errors and errors[-1].get("ename") == "MemoryError":
                record.status = Status.MEMORY
                record.note = f"ran out of memory (limit {self.limits.memory_mb} MB)"
            else:
                record.status = Status.ERROR
        else:
            self.ran_ok.append(index)
        return False

    def _timed_out(self, record: CellRun, cell, budget: float) -> bool:
        limits = self.limits
        restart = False
        record.status = Status.TIMEOUT
        cut = "notebook's time limit" if budget < limits.cell_seconds else "time limit per cell"
        record.note = f"stopped after {budget:.0f} s ({cut})"
        if not self.kernel.responsive():
            record.note += "; the kernel ignored the interrupt and was replaced"
            restart = True
        # nbclient's own timeout error names an exception the student never raised.
        cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
        cell.outputs.append(_error_output(GraderErrorName.TIMEOUT, f"this cell was {record.note}"))
        return restart
