"""One sandboxed kernel and the nbclient driving it, cell by cell, with the grader's own facts.

What the executor decides about a cell it reads from facts the kernel cannot forge: nbclient's
own timeout (:class:`_CappedClient` notes when it fires), the kernel process's exit (nbclient's
``DeadKernelError``, :meth:`.boot.Boot.alive`), the processes' peak address space in /proc
(:meth:`.boot.Boot.peak_memory`) - never from an error name the kernel sent. Every output of
every cell is under the per-cell cap. A graded test cell is not run here at all: the grader
sends an empty execute request whose user expression makes the kernel answer the test's
worker (:class:`TestRequest`, the judge's session).
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import time
from dataclasses import dataclass
from queue import Empty
from typing import Any

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from ..settings import Limits
from ..vocabulary import CellStatus
from .boot import Boot


@dataclass
class CellRun:
    """What happened to one code cell (``status`` is one of the :class:`CellStatus` words)."""

    index: int
    status: CellStatus = CellStatus.OK
    seconds: float = 0.0
    note: str = ""  # why it was stopped or not run, in words for the student
    reason: str = ""  # for NOT_RUN: the limit that was used up, without the "not run: " prefix
    output_truncated: bool = False


@dataclass
class ExecutionResult:
    """An executed notebook and what happened on the way."""

    notebook: dict[str, Any]
    cells: list[CellRun]
    kernel_starts: int = 0
    booted_ahead: bool = False  # the first kernel was spawned before the notebook arrived
    seconds_kernel_start: float = 0.0
    seconds_preload: float = 0.0  # the grader's own code in each new kernel
    seconds_cells: float = 0.0
    seconds_replay: float = 0.0
    seconds_total: float = 0.0


class _CappedClient(NotebookClient):
    """nbclient with a cap on the bytes of output stored per cell, and its timeouts noted."""

    def __init__(self, *args: Any, output_bytes: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.output_bytes = output_bytes
        self.stored: dict[int, int] = {}
        self.truncated: set[int] = set()
        self.timed_out = False  # nbclient's own timeout fired for the cell being run

    async def _async_handle_timeout(self, timeout, cell=None):
        # nbclient's own bookkeeping: the one fact that makes a cell TIMEOUT.
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = message_size(msg["msg_type"], content)
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

    def _update_display_id(self, display_id, msg):
        # A display updated in place (update_display, or a new display with the same id) is
        # output too: the cap holds for every cell whose output the update would grow.
        size = message_size("display_data", msg.get("content", {}))
        cells, grown = self.nb["cells"], {}
        for cell_idx, indices in self._display_id_map.get(display_id, {}).items():
            outputs = cells[cell_idx].get("outputs", [])
            old = sum(message_size("display_data", outputs[i]) for i in indices if i < len(outputs))
            grown[cell_idx] = self.stored.get(cell_idx, 0) - old + size * len(indices)
        if any(total > self.output_bytes for total in grown.values()):
            self.truncated.update(grown)
            return None
        self.stored.update(grown)
        return super()._update_display_id(display_id, msg)


def message_size(msg_type: str, content: dict[str, Any]) -> int:
    if msg_type == "stream":
        return len(content.get("text", ""))
    if msg_type == "error":
        return sum(len(line) for line in content.get("traceback", [])) + len(
            content.get("evalue", "")
        )
    data = content.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())


class Kernel:
    """One sandboxed kernel and the nbclient driving it."""

    def __init__(self, nb, limits: Limits, boot: Boot):
        self.boot = boot
        self.client = _CappedClient(
            nb,
            km=boot.km,
            timeout=int(limits.cell_seconds),
            interrupt_on_timeout=True,
            # nbclient stops waiting with this reply; the cell's status comes from timed_out.
            error_on_timeout={"ename": "CellTimeoutError", "evalue": "cell timed out"},
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

    def run(self, cell, index: int, seconds: float, record: bool = True) -> CellStatus:
        """Execute one cell; return CellStatus.OK, ERROR, TIMEOUT or KERNEL_DIED.

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

    def _run(self, cell, index: int, seconds: float) -> CellStatus:
        self.client.timeout = max(1, int(seconds + 0.999))
        self.client.timed_out = False
        self.replies.pop(index, None)
        try:
            self.client.execute_cell(cell, index)
        except DeadKernelError:
            return CellStatus.KERNEL_DIED
        if self.client.timed_out:
            return CellStatus.TIMEOUT
        reply = self.replies.get(index, {}).get("content", {})
        if reply.get("status") == "error" or any(
            o.get("output_type") == "error" for o in cell.get("outputs", [])
        ):
            return CellStatus.ERROR
        return CellStatus.OK

    def responsive(self) -> bool:
        """After an interrupt: does the kernel answer a trivial cell within a few seconds?"""
        probe = nbformat.v4.new_code_cell("pass")
        return self.run(probe, -1, 3, record=False) == CellStatus.OK

    def interrupt(self) -> None:
        with contextlib.suppress(Exception):  # a kernel that is gone needs no interrupt
            run_sync(self.boot.km.interrupt_kernel)()

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


class TestRequest:
    """A test cell's one execute request: the session :class:`~..judge.cells.TestCells` uses.

    The request is silent and empty, with the kernel side's call as its user expression, so
    no IPython input or AST transformer, cell event or exception handler sees it, and no
    output of it is kept: the cell's outputs are the worker's.
    """

    def __init__(self, kernel: Kernel, deadline: float):
        self.kernel = kernel
        self.folder = kernel.boot.runtime
        self.deadline = deadline
        self.msg_id = ""
        self.replied = False

    def start(self, expression: str) -> None:
        self.msg_id = self.kernel.client.kc.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"grader": expression},
            allow_stdin=False,
            stop_on_error=False,
        )

    def waiting(self) -> str:
        if self.finish(0):
            return "the kernel finished the cell without starting its test"
        if not self.kernel.boot.alive():
            return "the kernel died before the test started"
        return ""

    def finish(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the request's reply; whether it came."""
        until = time.monotonic() + seconds
        get = run_sync(self.kernel.client.kc.shell_channel.get_msg)
        while not self.replied:
            try:
                msg = get(timeout=max(0.0, until - time.monotonic()))
            except Empty:
                return False
            if msg.get("parent_header", {}).get("msg_id") == self.msg_id:
                self.replied = True
        return True

    def died(self, within: float = 2.0) -> bool:
        """Whether the kernel's process has exited (it may take a moment to be seen)."""
        until = time.monotonic() + within
        while self.kernel.boot.alive():
            if time.monotonic() >= until:
                return False
            time.sleep(0.05)
        return True
