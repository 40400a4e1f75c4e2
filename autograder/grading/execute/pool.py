"""The worker pool that executes notebooks, each worker keeping a warm kernel.

The workers are started before the grader imports nbgrader or reads a lesson (see
:class:`Pool`): the fork server imports the execution stack once (nbclient, jupyter_client,
nbformat: over a second), every worker is forked from it and boots its first kernel in the
pool initializer, so no notebook waits for a cold start; after each notebook a worker boots
the kernel for its next (:func:`.kernel.execute_notebook` with ``spare``).

The settings every kernel of the run shares (:class:`..settings.WorkerSettings`) are handed to
each worker once, by the pool initializer; a :class:`Job` carries only what differs per notebook.

This module is imported before the pool starts: it imports nothing heavy at module level.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings import Limits, WorkerSettings

if TYPE_CHECKING:
    from ..judge.judge import Judgement
    from .kernel import ExecutionResult
    from .sandbox import SandboxStatus

Key = tuple[str, str]  # (student, lesson)


@dataclass(frozen=True)
class Job:
    """One repaired notebook to execute, the code its kernels run first, the tests judged."""

    key: Key
    notebook: dict[str, Any]
    preload: tuple[str, ...]
    tests: dict[str, str]  # grade id -> the instructor's test source (kernel_code.test_sources)


@dataclass(frozen=True)
class Finished:
    """What a worker sends back: the executed notebook, or why there is none."""

    key: Key
    result: ExecutionResult | None  # its test cells hold the trusted verdicts
    error: str = ""  # "" when ``result`` is there
    judgement: Judgement | None = None  # what judging the tests here left to say


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


# The settings of this worker process, set once by the pool initializer.
_SETTINGS: WorkerSettings | None = None


def _warm_worker(settings: WorkerSettings) -> None:
    """Pool initializer: keep the settings, boot this worker's first kernel before its first
    notebook arrives, and import what the tests are judged with while it boots."""
    from multiprocessing.util import Finalize

    from ..judge import judge as trusted
    from .kernel import boot_spare, discard_spare

    global _SETTINGS
    _SETTINGS = settings
    # A worker exits with a spare kernel booted for a notebook that never came: shut it down
    # (atexit does not run in pool workers; multiprocessing's exit finalizers do).
    Finalize(None, discard_spare, exitpriority=10)
    boot_spare(
        limits=settings.limits,
        sandbox=settings.sandbox,
        scratch_root=settings.scratch_root,
        font_cache=settings.font_cache,
    )
    trusted.warm()


def _execute(job: Job) -> Finished:
    """Run in a worker process: execute one repaired notebook in a sandboxed kernel, then
    decide its tests here, in a process where no student code has run (:mod:`..judge`)."""
    from ..judge import judge as trusted
    from .kernel import execute_notebook

    s = _SETTINGS
    nonces: dict[int, str] = {}
    try:
        result = execute_notebook(
            job.notebook,
            limits=s.limits,
            sandbox=s.sandbox,
            preload=job.preload,
            font_cache=s.font_cache,
            scratch_root=s.scratch_root,
            spare=True,
            test_code=trusted.recording_run(job.tests, nonces),
        )
        judgement = trusted.judge_notebook(
            result.notebook, result.cells, job.tests, nonces, s.limits.cell_seconds
        )
    except Exception as exc:  # noqa: BLE001 - reported as this submission's failure
        return Finished(job.key, None, f"{type(exc).__name__}: {exc}")
    return Finished(job.key, result, judgement=judgement)


def _started() -> None:
    """A no-op task: submitting one makes the pool start a worker now rather than later."""


class Pool:
    """``jobs`` grading workers, each booting a kernel while the caller prepares the batch."""

    def __init__(self, jobs: int, settings: WorkerSettings):
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(
            ["autograder.grading.execute.pool", "autograder.grading.execute.kernel"]
        )
        self._executor = ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=_warm_worker, initargs=(settings,)
        )
        for _ in range(jobs):
            self._executor.submit(_started)

    def execute(self, jobs: list[Job]) -> Iterator[Finished]:
        """Execute every job, yielding each as it finishes (those finishing together by key)."""
        pending = {self._executor.submit(_execute, job): job.key for job in jobs}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                key = pending.pop(future)
                try:
                    yield future.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails one submission
                    yield Finished(key, None, f"the grading worker crashed: {exc}")

    def close(self) -> None:
        """Stop the workers; their spare kernels go with them. Safe to call twice."""
        self._executor.shutdown(wait=True, cancel_futures=True)
