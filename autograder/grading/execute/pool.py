"""The pools that execute notebooks: one :class:`Pool` protocol, the local one here.

Both pools - :class:`LocalPool` here and the Dask cluster's (:mod:`.cluster.pool`) - take
:class:`~.jobs.Job` s and yield :class:`~.jobs.Finished` ones, and both run the same
:func:`~.jobs.run_job` on a worker, so the pipeline never tells them apart.

The local pool's workers are started before the grader imports nbgrader or reads a lesson:
the fork server imports the execution stack once, every worker is forked from it and boots
its first kernel at once, so no notebook waits for a cold start; after each notebook a worker
boots the kernel for its next. The run's settings (:class:`..settings.WorkerSettings`) go to
each worker once, when it starts; a job crosses as JSON text (:mod:`.jobs` says why).

Each worker holds one notebook at a time, so the pool knows which notebook a worker was
running when it died: that notebook runs again on a fresh worker, and only a notebook that
breaks two workers fails - charged to itself, the others never see it.

This module is imported before the pool starts: it imports nothing heavy at module level.
"""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import connection, get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..settings import Limits, WorkerSettings
from .jobs import Finished, Job

if TYPE_CHECKING:
    from .sandbox import SandboxStatus

BREAKS = 2  # workers a notebook may break before it is failed (charged to it alone)


class Pool(Protocol):
    """Where notebooks are executed and judged: the local processes or a Dask cluster."""

    keeps_checkpoint: bool  # outcomes are kept as they come, for a run that is cut short

    def execute(self, jobs: list[Job]) -> Iterator[Finished]:
        """Execute and judge every job, yielding each as it finishes."""

    def sandbox(self) -> SandboxStatus:
        """Whether the kernels ran isolated, for the log and the report."""

    def worker_rows(self) -> tuple[dict[str, Any], ...]:
        """The report's rows about the workers (none for the local pool)."""

    def close(self) -> None:
        """Stop the workers; safe to call twice."""


def keep_socket_paths_short() -> None:
    """Put this run's temporary files in /tmp when the usual temporary folder is deep.

    The workers' fork server and every kernel talk over Unix sockets inside the temporary
    folder, and a socket path holds at most 107 bytes (103 on macOS). Our deepest is about 70
    bytes below the temporary folder, so a TMPDIR longer than 30 (macOS gives about 50) would
    make the run fail before grading anyone.
    """
    if len(tempfile.gettempdir()) > 30 and os.path.isdir("/tmp"):
        tempfile.tempdir = "/tmp"


def prepare(
    limits: Limits, no_sandbox: bool, private: tuple[Path, ...], work: Path
) -> tuple[WorkerSettings, SandboxStatus]:
    """Decide the sandbox (probe bubblewrap) and build matplotlib's font cache, side by side.

    ``private`` are the folders student code must not see (the course, the solutions, OUT, the
    submissions). Returns the workers' settings and the sandbox's status for the report.
    """
    from .sandbox import SandboxSpec, SandboxStatus, probe, start_font_cache

    fonts = start_font_cache(work / "matplotlib")
    if no_sandbox:
        sandbox = None
        status = SandboxStatus(False, "--no-sandbox was given: kernels ran WITHOUT isolation")
    else:
        spec = SandboxSpec.for_run(*private, work)
        status = probe(spec, work / "probe")
        sandbox = spec if status.isolated else None
    scratch_root = work / "kernels"
    scratch_root.mkdir()
    return WorkerSettings(limits, sandbox, fonts(), scratch_root), status


def warm_worker(settings: WorkerSettings) -> None:
    """Boot this worker's first kernel before its first notebook arrives, and import what the
    tests are judged with while it boots."""
    from ..judge import judge as trusted
    from .boot import boot_spare

    boot_spare(
        limits=settings.limits,
        sandbox=settings.sandbox,
        scratch_root=settings.scratch_root,
        font_cache=settings.font_cache,
    )
    trusted.warm()
    # What is imported now lives as long as the worker: out of the collector's way, so that a
    # test that makes many objects (a graph of thousands of nodes) does not pay for scanning
    # numpy's and SymPy's every time (it halves Lesson 07's longest test).
    gc.freeze()


def _worker_main(conn, settings: WorkerSettings) -> None:
    """A local worker: warm up, then one job's text in, its Finished's text out, until EOF."""
    from .boot import discard_spare
    from .jobs import run_job

    try:
        warm_worker(settings)
        while True:
            try:
                text = conn.recv_bytes().decode()
            except (EOFError, OSError):
                return
            conn.send_bytes(run_job(text, settings, spare=True).encode())
    finally:
        discard_spare()  # a spare kernel booted for a notebook that never came


@dataclass
class _Worker:
    process: Any
    conn: Any
    job: Job | None = None


class LocalPool:
    """``jobs`` worker processes on this machine, each booting a kernel at once."""

    keeps_checkpoint = False  # a local run only reads what a cluster run left

    def __init__(self, jobs: int, settings: WorkerSettings, status: SandboxStatus):
        self._ctx = get_context("forkserver")
        self._ctx.set_forkserver_preload(
            [
                "autograder.grading.execute.pool",
                "autograder.grading.execute.kernel",
                "autograder.grading.execute.notebook",
            ]
        )
        self._settings = settings
        self._status = status
        self._spawns_left = 4 * jobs + 8  # replacements, before the pool itself is broken
        self._workers = [self._spawn() for _ in range(jobs)]

    def _spawn(self) -> _Worker:
        self._spawns_left -= 1
        if self._spawns_left < 0:
            raise RuntimeError("the grading workers keep dying: the pool cannot go on")
        ours, theirs = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=_worker_main, args=(theirs, self._settings), daemon=True)
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def sandbox(self) -> SandboxStatus:
        return self._status

    def worker_rows(self) -> tuple[dict[str, Any], ...]:
        return ()

    def execute(self, jobs: list[Job]) -> Iterator[Finished]:
        """Execute every job, yielding each as it finishes; a broken worker is replaced."""
        queue, broke = deque(jobs), {}
        while queue or any(w.job for w in self._workers):
            for worker in self._workers:
                if worker.job is None and queue:
                    self._hand(worker, queue.popleft(), queue)
            busy = [w for w in self._workers if w.job is not None]
            if not busy:
                continue
            ready = connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for worker in busy:
                if worker.conn in ready or worker.process.sentinel in ready:
                    yield from self._collect(worker, queue, broke)

    def _hand(self, worker: _Worker, job: Job, queue: deque) -> None:
        try:
            worker.conn.send_bytes(job.to_text().encode())
        except OSError:  # the worker died before it got the job: the job is not to blame
            queue.appendleft(job)
            self._replace(worker)
            return
        worker.job = job

    def _collect(self, worker: _Worker, queue: deque, broke: dict) -> Iterator[Finished]:
        job = worker.job
        try:
            if worker.conn.poll():
                text = worker.conn.recv_bytes().decode()
                worker.job = None
                yield Finished.from_text(text)
                return
        except (EOFError, OSError):
            pass
        if worker.process.is_alive():
            return  # woken by a message not complete yet
        worker.job = None
        broke[job.key] = broke.get(job.key, 0) + 1
        if broke[job.key] >= BREAKS:
            why = f"it broke the grading worker {BREAKS} times (the worker process died)"
            yield Finished.notebook_failed(job.key, why)
        else:
            queue.appendleft(job)  # again, on a fresh worker
        self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):
            worker.conn.close()
        fresh = self._spawn()
        worker.process, worker.conn = fresh.process, fresh.conn

    def close(self) -> None:
        """Stop the workers; their spare kernels go with them. Safe to call twice."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.close()
        for worker in self._workers:
            worker.process.join(timeout=30)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
        self._workers = []
