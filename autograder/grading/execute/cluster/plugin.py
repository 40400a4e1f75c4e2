"""The worker host's side: a Dask worker plugin that prepares the host, and the grading task.

The driver's paths do not exist on a worker host, so :class:`GradingPlugin` decides
everything from the host's own: it hides the course installed there, its solutions, the
worker's local directory, ``/tmp`` and the home folders from student code, probes bubblewrap
on that host, builds matplotlib's font cache there and boots the first kernel on the worker's
own task thread (so it is warm when the first notebook arrives). :func:`grade_on_worker` then
runs one notebook there with a kernel from that host and judges its tests in the Dask worker's
process (:func:`..jobs.execute_job`, the local pool's very step: the worker runs no student
code, the kernel is sandboxed), and hands the judged notebook back as JSON text.

A worker whose kernels cannot be isolated is refused (unless the run allows it with
``--no-sandbox``), and so is one whose course or numeric stack differs from the driver's
(:func:`course_fingerprint`): only an accepted worker is given the run's Dask *resource*
(:attr:`GradingPlugin.resource`, one unit per thread), and every notebook of the run asks for
one unit, so the scheduler never sends a notebook to a refused worker - nor to a worker that
joins later before the plugin has prepared it. Each run registers its plugin under its own
name, so the settings of two runs on one cluster do not mix.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from ...settings import Limits

PLUGIN_PREFIX = "autograder-grading-"


@dataclass(frozen=True)
class HostStatus:
    """What the plugin found on one worker: sent to the driver, shown in the report."""

    address: str
    host: str
    isolated: bool
    detail: str  # the sandbox's status in words (sandbox.SandboxStatus.detail)
    accepted: bool  # isolated, or the run was started with --no-sandbox
    nthreads: int
    error: str = ""  # the host could not be prepared at all


@dataclass
class _Host:
    settings: Any  # settings.WorkerSettings
    status: HostStatus
    work: Path


def course_fingerprint() -> str:
    """What the verdicts depend on, as one hash: the course's code and the numeric stack.

    A worker with another version of the course (its checkers, judge, executor) or of Python,
    numpy or SymPy could decide tests differently from the driver's own copy.
    """
    import hashlib
    import sys

    import numpy
    import sympy

    from ....course import ROOT

    h = hashlib.sha256(f"{sys.version_info[:2]} {numpy.__version__} {sympy.__version__}".encode())
    for package in ("helpers", "autograder"):
        for path in sorted((ROOT / package).rglob("*.py")):
            h.update(str(path.relative_to(ROOT)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


class GradingPlugin(WorkerPlugin):
    """Prepare a worker host for grading with the run's limits (see the module docstring)."""

    def __init__(self, run_id: str, limits: Limits, no_sandbox: bool):
        self.name = PLUGIN_PREFIX + run_id
        self.resource = f"autograder-{run_id}"  # what each notebook of this run asks for
        self.limits = limits
        self.no_sandbox = no_sandbox
        self.fingerprint = course_fingerprint()  # the driver's; each worker compares its own
        self.host: _Host | None = None

    async def setup(self, worker) -> None:
        nthreads = worker.state.nthreads
        try:
            self.host = await asyncio.to_thread(self._prepare, worker.address, worker)
        except Exception as exc:  # noqa: BLE001 - reported to the driver, who refuses the worker
            status = HostStatus(
                worker.address, socket.gethostname(), False, "", False, nthreads, repr(exc)
            )
            self.host = _Host(None, status, Path())
            return
        if not self.host.status.accepted:
            return
        if nthreads == 1:
            # The kernel must be booted on the thread that will run the notebooks.
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(worker.executors["default"], self._boot)
        await worker.set_resources(**{self.resource: nthreads})

    def _prepare(self, address: str, worker) -> _Host:
        from ....course import ROOT, SOLUTIONS
        from .. import pool as workers

        workers.keep_socket_paths_short()
        work = Path(tempfile.mkdtemp(prefix="autograder-worker-"))
        private = (ROOT, SOLUTIONS, Path(worker.local_directory))
        settings, sandbox = workers.prepare(self.limits, self.no_sandbox, private, work)
        mine = course_fingerprint()
        other = (
            f"this host has another version of the course or of Python, numpy or SymPy "
            f"(fingerprint {mine}, the driver's {self.fingerprint}): install the same here"
            if mine != self.fingerprint
            else ""
        )
        status = HostStatus(
            address,
            socket.gethostname(),
            sandbox.isolated,
            sandbox.detail,
            (sandbox.isolated or self.no_sandbox) and not other,
            worker.state.nthreads,
            other,
        )
        return _Host(settings, status, work)

    def _boot(self) -> None:
        from ..pool import warm_worker

        warm_worker(self.host.settings)

    async def teardown(self, worker) -> None:
        from ..boot import discard_spare

        if self.host is not None and self.host.status.accepted:
            await worker.set_resources(**{self.resource: 0})
        discard_spare()
        if self.host is not None and self.host.work != Path():
            shutil.rmtree(self.host.work, ignore_errors=True)


def host_status(plugin_name: str, dask_worker=None) -> HostStatus:
    """This worker's status for the run whose plugin is ``plugin_name`` (``Client.run``)."""
    worker = dask_worker or get_worker()
    plugin = worker.plugins.get(plugin_name)
    if plugin is None or plugin.host is None:
        return HostStatus(worker.address, socket.gethostname(), False, "", False, 0, "not set up")
    return plugin.host.status


def grade_on_worker(job_text: str, plugin_name: str) -> str:
    """Run on a worker: execute and judge one notebook (a ``Job``'s text) with a kernel here.

    Returns JSON text: the worker's address, the seconds it took and the ``Finished``'s text.
    """
    from ..jobs import Finished, Job, execute_job

    started = time.monotonic()
    host = get_worker().plugins[plugin_name].host
    address = host.status.address
    job = Job.from_text(job_text)
    if not host.status.accepted:  # the driver never sends one here; say so if it happens
        why = host.status.error or host.status.detail
        finished = Finished.grader_failed(job.key, f"worker refused: {why}")
    else:
        finished = execute_job(job, host.settings, spare=host.status.nthreads == 1)
    seconds = time.monotonic() - started
    return json.dumps({"worker": address, "seconds": seconds, "finished": finished.to_text()})
