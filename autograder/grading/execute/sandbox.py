"""The command that starts a student's kernel: bubblewrap isolation plus resource limits.

Inside the sandbox the whole file system is read-only, the course repository, the grading
output, the submissions, ``/tmp``, ``/root`` and ``/home`` are replaced by empty folders, and
only the student's scratch folder (also the working directory) and the kernel's connection
folder are writable. The Python installation and the ``helpers`` package are bound back in
read-only, so the setup cell still imports ``helpers``. There is no network (a separate
network namespace), which is why the kernel talks ZeroMQ over ``ipc`` sockets in the
connection folder instead of TCP.

When ``bwrap`` is missing or cannot create namespaces (some containers forbid it), grading
goes on without isolation and :class:`SandboxStatus` says so; the report shows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Applied by the kernel's own interpreter before it becomes the kernel: limits the address
# space, then execs ipykernel. argv: memory bytes, then the kernel's arguments.
_LAUNCHER = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "if limit > 0:\n"
    "    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execv(sys.executable, [sys.executable] + sys.argv[2:])\n"
)


@dataclass(frozen=True)
class SandboxStatus:
    """Whether kernels run isolated, and if not, why."""

    isolated: bool
    detail: str


def bwrap_path() -> str | None:
    """The bubblewrap executable; ``AUTOGRADER_BWRAP`` overrides it.

    (The tests point it at a failing one.)
    """
    forced = os.environ.get("AUTOGRADER_BWRAP")
    if forced is not None:
        return forced or None
    return shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


def helpers_dir() -> Path:
    import helpers

    return Path(helpers.__file__).resolve().parent


@dataclass(frozen=True)
class SandboxSpec:
    """What to hide and what to keep for every kernel of a grading run."""

    hidden: tuple[Path, ...]  # replaced by empty folders inside the sandbox
    readable: tuple[Path, ...]  # bound back read-only (Python, helpers)

    @classmethod
    def for_run(cls, *private: Path) -> SandboxSpec:
        home_dirs = [Path("/root"), Path("/home"), Path("/tmp"), Path("/var/tmp")]
        hidden = {p.resolve() for p in list(private) + home_dirs if p and Path(p).exists()}
        readable = {
            Path(sys.prefix).resolve(),
            Path(sys.base_prefix).resolve(),
            Path(os.path.realpath(sys.executable)).parent.parent,
            helpers_dir(),
            *_import_dirs(private),
        }
        return cls(
            hidden=tuple(sorted(hidden, key=lambda p: len(p.parts))),
            readable=tuple(sorted(readable)),
        )


def _import_dirs(private: tuple[Path, ...]) -> set[Path]:
    """The folders the kernels' interpreter imports from beyond its prefix: site folders that a
    ``.pth`` file adds (a venv that borrows another's packages), wherever they are, but never
    one inside a private folder, nor the folder the grader was started from (``sys.path[0]``)."""
    closed = [Path(p).resolve() for p in private if p]
    found = set()
    for entry in sys.path[1:]:
        path = Path(entry).resolve() if entry else None
        if path is None or not path.is_dir() or path == Path.cwd().resolve():
            continue
        if not any(path.is_relative_to(c) for c in closed):
            found.add(path)
    return found


def bwrap_args(spec: SandboxSpec, writable: list[Path]) -> list[str]:
    bwrap = bwrap_path()
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in spec.hidden:
        args += ["--tmpfs", str(path)]
    for path in spec.readable:
        if any(path.is_relative_to(h) for h in spec.hidden):
            args += ["--ro-bind", str(path), str(path)]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    # The empty folders are read-only too: writes outside the scratch folder fail loudly
    # instead of landing in a throwaway tmpfs.
    for path in spec.hidden:
        args += ["--remount-ro", str(path)]
    args += [
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-pid",
        "--die-with-parent",
        "--chdir",
        str(writable[0]),
    ]
    return args + ["--"]


def kernel_argv(
    *, sandbox: SandboxSpec | None, scratch: Path, runtime: Path, memory_mb: int
) -> list[str]:
    """The kernel command line with ``{connection_file}`` left for jupyter_client to fill."""
    memory = str(int(memory_mb) * 1024 * 1024) if memory_mb else "0"
    # No IPython history database: a fresh one per kernel costs time and nobody reads it.
    inner = [
        sys.executable,
        "-c",
        _LAUNCHER,
        memory,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        "--HistoryManager.enabled=False",
    ]
    if sandbox is None:
        return inner
    # In its own PID namespace the kernel's parent is PID 1, which ipykernel's parent poller
    # takes for "the grader has gone": switch the poller off; bwrap --die-with-parent does its job.
    return bwrap_args(sandbox, [scratch, runtime]) + inner + ["--IPKernelApp.parent_handle=0"]


def kernel_env(scratch: Path) -> dict[str, str]:
    """A small, clean environment: nothing of the grader's (tokens, paths) reaches student code."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
        "IPYTHONDIR": str(scratch / ".ipython"),
        "MPLCONFIGDIR": str(scratch / ".matplotlib"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # One thread per kernel: jobs run side by side, and BLAS threads would fight them.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
    }
    return env


def start_font_cache(folder: Path) -> Callable[[], Path]:
    """Start matplotlib building its font cache in ``folder``; call the result to wait for it.

    Each kernel has a fresh, private MPLCONFIGDIR; without a cache to copy in, matplotlib would
    spend a second or more rebuilding the font list in every single kernel. Building it in the
    background lets the grader do other preparation meanwhile.
    """
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(kernel_env(folder), MPLCONFIGDIR=str(folder))
    proc = subprocess.Popen(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def wait() -> Path:
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:  # no cache: each kernel builds its own, slower
            proc.kill()
            proc.wait()
        return folder

    return wait


def probe(spec: SandboxSpec, workdir: Path) -> SandboxStatus:
    """Start a throwaway Python under the sandbox and prove it is isolated."""
    if bwrap_path() is None:
        return SandboxStatus(
            False, "bubblewrap (bwrap) is not installed: kernels ran WITHOUT isolation"
        )
    scratch = workdir / "probe-scratch"
    runtime = workdir / "probe-runtime"
    scratch.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(parents=True, exist_ok=True)
    code = (
        "import os, sys, socket\n"
        "import helpers\n"
        "open('ok', 'w').write('ok')\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=1)\n"
        "    print('network')\n"
        "except OSError:\n"
        "    print('isolated')\n"
    )
    cmd = bwrap_args(spec, [scratch, runtime]) + [sys.executable, "-c", code]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=30, env=kernel_env(scratch), check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SandboxStatus(
            False, f"bubblewrap failed to start ({exc}): kernels ran WITHOUT isolation"
        )
    if done.returncode != 0 or done.stdout.strip() != "isolated":
        why = (
            done.stderr.strip().splitlines() or [done.stdout.strip() or f"exit {done.returncode}"]
        )[-1]
        return SandboxStatus(
            False, f"bubblewrap is installed but failed here ({why}): kernels ran WITHOUT isolation"
        )
    return SandboxStatus(
        True,
        "each kernel ran under bubblewrap: read-only system, course files, gradebook, other "
        "submissions and /tmp hidden, only its scratch folder writable, no network",
    )
