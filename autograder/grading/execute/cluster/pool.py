"""The driver's side of grading on a Dask cluster: a pool that looks like the local one.

:class:`ClusterPool` connects to the scheduler (``--scheduler ADDRESS`` or
``--scheduler-file F``), registers the run's :class:`~.plugin.GradingPlugin` on every worker
(present and future), and sends each notebook as one task that asks for the run's resource,
so only workers whose kernels are isolated get any. Each task executes the notebook and judges
its tests on the worker with the local pool's own step (:func:`..jobs.execute_job`), and the
judged notebook comes back as JSON text (never a pickled notebook); :meth:`ClusterPool.execute`
yields the same :class:`~..jobs.Finished` the local pool does, so the pipeline, the serial
Autograde and everything after it do not know where a notebook ran.

Faults: a worker that dies in the middle of a notebook is Dask's to handle - the scheduler
runs the task again on another worker (``distributed.scheduler.allowed-failures``, which
GRADING.md has the scheduler started with at 1: once; the driver says so when it is not), and
a task whose workers died twice fails that notebook only, charged to it. Any other failure of
a task is the grader's (the run then exits 1). A lost scheduler raises :class:`SchedulerLost`,
naming it.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from dataclasses import asdict, dataclass
from pathlib import Path

from ...settings import Limits
from ...vocabulary import GraderError
from ..jobs import Finished, Job
from ..sandbox import SandboxStatus
from .plugin import GradingPlugin, HostStatus, grade_on_worker, host_status

# How long the driver waits for a worker that may grade (present at the start, or none left).
WORKER_WAIT_SECONDS = 60.0
CONNECT_SECONDS = 10.0  # to reach the scheduler, at the start and again after a lost connection
_POLL_SECONDS = 2.0


class SchedulerLost(GraderError):
    """The connection to the Dask scheduler was lost in the middle of the batch."""


@dataclass
class WorkerRow:
    """One worker of the run, for the report: its sandbox, what it graded, how long it took."""

    address: str
    host: str
    isolated: bool
    accepted: bool
    detail: str
    notebooks: int = 0
    seconds: float = 0.0


class ClusterPool:
    """Notebook executions on the Dask cluster at ``address`` (or named by ``scheduler_file``)."""

    keeps_checkpoint = True  # a run cut short (the scheduler lost) goes on from its outcomes

    def __init__(
        self,
        limits: Limits,
        no_sandbox: bool,
        *,
        address: str | None = None,
        scheduler_file: Path | None = None,
        log=print,
    ):
        from distributed import Client

        self.name = address or f"the scheduler in {scheduler_file}"
        # What an instructor must know the grader says itself (refused workers, a lost
        # scheduler); Dask's own logging of its reconnection attempts is tracebacks.
        for name in ["distributed", *logging.root.manager.loggerDict]:
            if name.startswith("distributed"):  # Dask's config sets some children's levels
                logging.getLogger(name).setLevel(logging.CRITICAL)
        self.limits = limits
        self.log = log
        try:
            # The default client: distributed.wait() takes it (this process has only this one).
            if scheduler_file is not None:
                self.client = Client(scheduler_file=str(scheduler_file), timeout=CONNECT_SECONDS)
            else:
                self.client = Client(address, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as exc:
            raise GraderError(f"cannot reach the Dask scheduler at {self.name}: {exc}") from None
        self.plugin = GradingPlugin(secrets.token_hex(4), limits, no_sandbox)
        self.workers: dict[str, WorkerRow] = {}
        try:
            self._wait_for_workers()
            self.client.register_plugin(self.plugin)
            self._refresh_workers()
            self._check_allowed_failures()
        except BaseException:
            self.client.close()
            raise

    # ------------------------------------------------------------------ workers

    def _check_allowed_failures(self) -> None:
        """Say so when the scheduler would run a notebook whose worker died more than once."""
        allowed = self.client.run_on_scheduler(_allowed_failures)
        if allowed != 1:
            self.log(
                f"note: the scheduler at {self.name} runs a task again up to {allowed} times "
                "when its worker dies; start it with "
                "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1 to run a notebook again once"
            )

    def _wait_for_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except TimeoutError:
            raise GraderError(
                f"the Dask scheduler at {self.name} has no worker after "
                f"{WORKER_WAIT_SECONDS:g} s: start some with `dask worker {self.name}`"
            ) from None

    def _refresh_workers(self) -> set[str]:
        """Learn the status of workers not seen yet; return the addresses alive now."""
        alive = set(self.client.scheduler_info(n_workers=-1)["workers"])
        new = sorted(alive - set(self.workers))
        if new:
            found = self.client.run(host_status, self.plugin.name, workers=new, on_error="return")
            for address, status in found.items():
                if not isinstance(status, HostStatus):  # the worker left while asked
                    continue
                self.workers[address] = WorkerRow(
                    address,
                    status.host,
                    status.isolated,
                    status.accepted,
                    status.error or status.detail,
                )
                if not status.accepted:
                    self.log(f"WARNING: worker {address} refused: {status.error or status.detail}")
        return alive

    def accepted(self, alive: set[str] | None = None) -> list[str]:
        alive = set(self.workers) if alive is None else alive
        return sorted(a for a, w in self.workers.items() if w.accepted and a in alive)

    def sandbox(self) -> SandboxStatus:
        """The run's sandbox status: isolated only when every worker that graded was."""
        used = [w for w in self.workers.values() if w.accepted]
        if used and all(w.isolated for w in used):
            return SandboxStatus(True, f"on every Dask worker: {used[0].detail}")
        loose = [w.address for w in used if not w.isolated]
        return SandboxStatus(
            False, f"Dask workers {', '.join(loose)} ran kernels WITHOUT isolation (--no-sandbox)"
        )

    def worker_rows(self) -> tuple[dict, ...]:
        """The report's list of the workers: host, sandbox, notebooks graded, seconds."""
        return tuple(asdict(w) for _, w in sorted(self.workers.items()))

    def check_workers(self) -> None:
        """Fail before grading when no worker may grade (each refused one says why)."""
        if self.accepted():
            return
        why = "; ".join(f"{w.address}: {w.detail}" for w in self.workers.values())
        raise GraderError(
            f"no Dask worker at {self.name} can isolate student code ({why}); "
            "install bubblewrap on the workers, or give --no-sandbox to grade without isolation"
        )

    # ------------------------------------------------------------------ notebooks

    def execute(self, jobs: list[Job]) -> Iterator[Finished]:
        """Execute every job on the cluster, yielding each as it finishes."""
        from distributed import wait

        futures = {self._submit(job): job for job in jobs}
        idle_since = None
        while futures:
            try:
                done, _ = wait(list(futures), timeout=_POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            except (OSError, CancelledError) as exc:  # CommClosedError, FuturesCancelledError
                raise self._lost(_first_line(exc)) from None
            self._check_scheduler()
            if not done:
                alive = self._refresh_workers()
                idle_since = None if self.accepted(alive) else (idle_since or time.monotonic())
                if idle_since and time.monotonic() - idle_since > WORKER_WAIT_SECONDS:
                    raise SchedulerLost(
                        f"no Dask worker that may grade is left at {self.name} "
                        f"({len(futures)} notebooks not graded)"
                    )
                continue
            for future in sorted(done, key=lambda f: futures[f].key):
                yield self._finished(futures.pop(future), future)

    def _submit(self, job: Job):
        student, lesson = job.key
        return self.client.submit(
            grade_on_worker,
            job.to_text(),
            self.plugin.name,
            key=f"grade-{student}-{lesson}-{secrets.token_hex(4)}",
            pure=False,
            resources={self.plugin.resource: 1},
        )

    def _check_scheduler(self) -> None:
        if self.client.status not in ("running", "newly-created"):
            raise self._lost(f"client {self.client.status}")

    def _lost(self, why) -> SchedulerLost:
        return SchedulerLost(
            f"lost the connection to the Dask scheduler at {self.name} ({why}); the notebooks "
            "autograded so far are kept: run the same command again to grade what is missing"
        )

    def _finished(self, job: Job, future) -> Finished:
        from distributed import KilledWorker

        if future.status == "cancelled":
            self._check_scheduler()
            return Finished.grader_failed(job.key, "the cluster cancelled its task")
        try:
            error = future.exception()
        except (OSError, CancelledError) as exc:
            raise self._lost(_first_line(exc)) from None
        if isinstance(error, KilledWorker):
            why = "its Dask worker died while running it, twice (on two workers)"
            return Finished.notebook_failed(job.key, why)
        if error is not None:
            return Finished.grader_failed(job.key, f"the grading worker crashed: {error!r}")
        try:
            run = json.loads(future.result())
        except (OSError, CancelledError) as exc:  # the scheduler went with the result
            raise self._lost(_first_line(exc)) from None
        if run["worker"] not in self.workers:  # it joined during the batch
            self._refresh_workers()
        row = self.workers.get(run["worker"])
        if row is not None:
            row.notebooks += 1
            row.seconds += run["seconds"]
        return Finished.from_text(run["finished"])

    def close(self) -> None:
        """Take the run's plugin off the workers (their spare kernels go) and disconnect."""
        if self.client.status == "running":
            try:
                self.client.unregister_worker_plugin(self.plugin.name)
            except Exception:  # noqa: BLE001, S110 - a worker already gone needs no teardown
                pass
        self.client.close()


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, CancelledError):  # Dask cancels every task when the connection goes
        return "the batch's tasks were cancelled with it"
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _allowed_failures(dask_scheduler=None) -> int:
    return dask_scheduler.allowed_failures
