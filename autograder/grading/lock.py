"""One writer at a time in a course folder: a lock on ``OUT/.grader/lock``.

``grade``, ``export`` and ``formgrader`` hold it while they write OUT. A second one waits with a
message naming the holder, or with ``--no-wait`` stops (exit 2). The lock is ``fcntl.flock`` on
the file: the kernel releases it when its holder ends, however it ends (even ``kill -9``), so a
crashed run never leaves OUT locked. The file holds the holder's record (process id, command,
host, start time) for the message; file descriptors are not inherited (PEP 446), so the
kernels a run starts never hold it.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .course_dir import CoursePaths
from .vocabulary import GraderError

POLL_SECONDS = 0.5


class Busy(GraderError):
    """OUT is held by another run and the caller would not wait."""


@contextmanager
def hold(out: Path, *, wait: bool, what: str, quiet: bool = False) -> Iterator[None]:
    """Hold OUT's lock while the block runs; ``what`` names this command in the record."""
    path = CoursePaths(out.resolve()).lock_file
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # never truncated: it names the holder
    try:
        said = False
        while not _try_lock(fd, path):
            holder = _holder(path)
            if not wait:
                raise Busy(f"{out} is in use by {holder}; run again when it has finished")
            if not said and not quiet:
                print(f"{what}: {out} is in use by {holder}; waiting for it ...", file=sys.stderr)
            said = True
            time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_record(what)).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _try_lock(fd: int, path: Path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK):
            raise GraderError(
                f"cannot lock {path} on this file system ({exc.strerror}): put OUT on a local "
                "disk, where two runs cannot write it at once unnoticed"
            ) from None
        raise


def _record(what: str) -> dict:
    return {
        "pid": os.getpid(),
        "command": f"python -m autograder {what}",
        "argv": sys.argv[1:],
        "host": socket.gethostname(),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _holder(path: Path) -> str:
    """The holder, as its record names it (or as much of it as is there yet)."""
    try:
        record = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        record = {}
    if not record:
        return "another run (it is starting)"
    where = "" if record.get("host") == socket.gethostname() else f" on {record.get('host')}"
    return (
        f"`{record.get('command', 'another run')}` (process {record.get('pid')}{where}, "
        f"started {record.get('started')})"
    )
