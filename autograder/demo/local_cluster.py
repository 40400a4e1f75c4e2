"""A Dask cluster on this machine, started with Dask's own command line (benchmarks, tests).

``dask scheduler`` and ``dask worker`` run as subprocesses on 127.0.0.1 with no dashboard,
exactly as an instructor starts them on real hosts (docs/GRADING.md): one thread per worker,
no nanny (so a worker's process id is the worker), and the scheduler told to run a notebook
whose worker died again only once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_until(what: str, ready, process: subprocess.Popen, log: Path, timeout: float = 60):
    """Wait for ``ready()``; fail with the log's end when ``process`` exits or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready within {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class LocalCluster:
    """A scheduler and its workers in ``folder`` (logs, scheduler file, workers' folders)."""

    folder: Path
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def scheduler_file(self) -> Path:
        return self.folder / "scheduler.json"

    @property
    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def env(self) -> dict[str, str]:
        env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        # A notebook whose worker dies is run again once, on another worker (GRADING.md).
        env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "1"
        env.pop("PYTHONPATH", None)
        return env

    def start_scheduler(self) -> None:
        log = self.folder / "scheduler.log"
        self.scheduler = subprocess.Popen(
            [str(VENV_BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0"]
            + ["--no-dashboard", "--scheduler-file", str(self.scheduler_file)],
            cwd=self.folder,
            env=self.env(),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_until("dask scheduler", self.scheduler_file.is_file, self.scheduler, log)

    def start_worker(self, **extra_env: str) -> subprocess.Popen:
        """One more worker (``extra_env``: variables set for it alone)."""
        n = len(self.workers) + 1
        log = self.folder / f"worker{n}.log"
        local = self.folder / f"worker{n}"
        local.mkdir()
        worker = subprocess.Popen(
            [str(VENV_BIN / "dask"), "worker", "--scheduler-file", str(self.scheduler_file)]
            + ["--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard"]
            + ["--memory-limit", "0", "--local-directory", str(local), "--name", f"w{n}"],
            cwd=self.folder,
            env={**self.env(), **extra_env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, n: int, timeout: float = 120) -> None:
        from distributed import Client

        with Client(scheduler_file=str(self.scheduler_file), timeout=30) as client:
            client.wait_for_workers(n, timeout=timeout)

    @classmethod
    def start(cls, folder: Path, workers: int) -> LocalCluster:
        """A running scheduler with ``workers`` workers connected."""
        folder.mkdir(parents=True, exist_ok=True)
        cluster = cls(folder)
        try:
            cluster.start_scheduler()
            for _ in range(workers):
                cluster.start_worker()
            cluster.wait_for_workers(workers)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def stop(self) -> None:
        for worker in self.workers:
            stop_process(worker)
        if self.scheduler is not None:
            stop_process(self.scheduler)
