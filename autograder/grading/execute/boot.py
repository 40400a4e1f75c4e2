"""Kernel processes: spawned in a scratch folder of their own, one kept ahead per worker.

Spawning returns at once; the process imports ipykernel while the grader does other work. A
worker keeps one spare kernel ready for its next notebook (:func:`boot_spare`), so no notebook
waits for a cold start. What the grader knows about a kernel it reads from the operating
system, never from the kernel's messages: whether the process is alive, and the peak address
space of the processes in its sandbox (:func:`peak_memory`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from ..settings import Limits
from .sandbox import SandboxSpec, kernel_argv, kernel_env

_SPARE: Boot | None = None  # a kernel spawned ahead for this process's next notebook

# A Unix socket path holds at most 107 bytes (Linux; 103 on macOS). The kernel's ipc sockets
# are named <runtime>/kernel-ipc-<n>, a test's <runtime>/t<8 hex>.sock; a deep temporary
# folder would not fit.
_SOCKET_PATH_MAX = 100


class _SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is given, not looked up in a kernelspec."""

    def __init__(self, argv: list[str], **kwargs: Any):
        super().__init__(**kwargs)
        # Interrupt through the control channel: a SIGINT to the process group would hit bwrap
        # itself, which then takes the whole sandbox down.
        self._kernel_spec = KernelSpec(
            argv=argv, display_name="sandboxed python", language="python", interrupt_mode="message"
        )


def runtime_dir(work: Path) -> Path:
    """A new folder for a kernel's connection file and sockets, in ``work`` if the path fits."""
    fits = len(str(work)) + len("/rt-xxxxxxxx/kernel-ipc-99") <= _SOCKET_PATH_MAX
    return Path(tempfile.mkdtemp(prefix="rt-", dir=work if fits else "/tmp"))


class Boot:
    """A kernel process spawned in its own scratch folder, not yet connected to."""

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
        self.runtime = runtime_dir(work)
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

    def alive(self) -> bool:
        """Whether the kernel's process is still running (the operating system's word)."""
        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:  # noqa: BLE001 - a manager that cannot tell has no kernel
            return False

    def peak_memory(self) -> int:
        """The largest peak address space, in bytes, of the processes in the kernel's sandbox."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return peak_memory(process.pid) if process is not None else 0

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # a kernel that is already gone is fine
            run_sync(self.km.shutdown_kernel)(now=True)
        shutil.rmtree(self.runtime, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


def peak_memory(pid: int, depth: int = 4) -> int:
    """The largest ``VmPeak`` of ``pid`` and its descendants (bwrap, then the kernel), in bytes.

    Read from /proc, which the kernel cannot write: the fact that decides whether a cell ran
    out of memory. 0 where /proc cannot tell.
    """
    peak = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                peak = int(line.split()[1]) * 1024
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, ValueError, IndexError):
        return peak
    if depth > 0:
        for child in children:
            peak = max(peak, peak_memory(int(child), depth - 1))
    return peak


def boot_spare(
    *,
    limits: Limits,
    sandbox: SandboxSpec | None,
    scratch_root: Path | None = None,
    font_cache: Path | None = None,
) -> bool:
    """Spawn a kernel now for this process's next notebook (``execute_notebook(spare=True)``).

    A grading worker calls this when it starts, before its first notebook arrives, so the
    first kernel boots while the grader is still preparing the batch. Returns whether a kernel
    was spawned; when it could not be, the next notebook simply starts its own.
    """
    global _SPARE
    discard_spare()
    try:
        _SPARE = Boot(
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


def take_spare(limits: Limits, sandbox: SandboxSpec | None, font_cache: Path | None) -> Boot | None:
    """The kernel spawned ahead if it was spawned with these settings (it is then ours)."""
    global _SPARE
    if _SPARE is None or _SPARE.key != (limits.memory_mb, sandbox, str(font_cache)):
        return None
    boot, _SPARE = _SPARE, None
    return boot


def spare() -> Boot | None:
    """The kernel spawned ahead, if any (for tests that kill it on purpose)."""
    return _SPARE
