"""The trusted end of a test's conversation with the kernel: one Unix socket, hostile input.

For each test cell the worker opens a fresh socket in the kernel's runtime folder (bound into
the sandbox, beside Jupyter's own ipc sockets) and accepts exactly one connection, whose first
message must carry the nonce that only that cell's execute request held. Everything the kernel
sends is read as untrusted JSON: a size cap per message and per test, a cap on the number of
messages, and the cell's deadline on every read (:class:`Channel`). :func:`in_process` joins
both ends in one process (a socket pair and a thread), for tests that need no kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..record import bootstrap, protocol

MAX_BYTES = 256_000_000  # bytes one test may receive from the kernel in all
MAX_MESSAGES = 1_000_000  # messages one test may receive from the kernel


class ConversationEnded(BaseException):
    """The conversation cannot go on; ``why`` says so (a BaseException: no checker catches it)."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


class KernelTimeout(ConversationEnded):
    """The cell's time ran out while the worker waited for the kernel (the worker's clock)."""


class KernelGone(ConversationEnded):
    """The kernel closed the conversation (it may have died: the executor asks the process)."""


class Broken(ConversationEnded):
    """The kernel sent something that is not a message of this grader, or too much."""


class Channel:
    """The trusted end of one test's socket: whole messages, each read before ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.deadline = deadline
        self.received = 0
        self.messages = 0
        self.waited = 0.0  # seconds spent waiting for the kernel (its time, not the worker's)

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise KernelTimeout("the cell's time ran out while the kernel was answering")
        return left

    def send(self, message: Any) -> None:
        try:
            data = protocol.frame(message)
        except ValueError as exc:  # a value of the grader's too large to send: not run
            raise Broken(str(exc)) from None
        try:
            self.sock.settimeout(self._left())
            self.sock.sendall(data)
        except TimeoutError:
            raise KernelTimeout(
                "the kernel stopped reading before the cell's time ran out"
            ) from None
        except OSError as exc:
            raise KernelGone(f"the kernel closed the conversation ({exc})") from None

    def recv(self) -> dict:
        t0 = time.monotonic()
        try:
            header = self._exactly(protocol.HEADER_BYTES)
        finally:
            self.waited += time.monotonic() - t0
        size = int.from_bytes(header, "big")
        if size > protocol.MAX_MESSAGE:
            raise Broken(f"the kernel sent a message of {size:,} bytes, over the limit")
        self.messages += 1
        self.received += size
        if self.messages > MAX_MESSAGES or self.received > MAX_BYTES:
            raise Broken(
                f"the kernel sent more than {MAX_MESSAGES:,} messages or {MAX_BYTES:,} bytes"
            )
        try:
            message = json.loads(self._exactly(size))
        except (ValueError, RecursionError):
            raise Broken("the kernel sent a message that is not valid JSON") from None
        if not isinstance(message, dict):
            raise Broken("the kernel sent a message that is not an object")
        return message

    def _exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            try:
                self.sock.settimeout(self._left())
                chunk = self.sock.recv(min(left, 1 << 20))
            except TimeoutError:
                raise KernelTimeout(
                    "the cell's time ran out while the kernel was answering"
                ) from None
            except OSError as exc:
                raise KernelGone(f"the kernel closed the conversation ({exc})") from None
            if not chunk:
                raise KernelGone("the kernel closed the conversation")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Listener:
    """A fresh socket in ``folder`` for one test cell; it accepts one connection, then closes."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / f"t{secrets.token_hex(4)}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self.sock.listen(1)

    def accept(self, deadline: float, stop: Callable[[], str]) -> socket.socket:
        """The kernel's connection; ``stop()`` says why to give up waiting ("" to go on)."""
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise KernelTimeout("the kernel did not start the test in the cell's time")
                ready, _, _ = select.select([self.sock], [], [], min(left, 0.05))
                if ready:
                    conn, _ = self.sock.accept()
                    return conn
                why = stop()
                if why:
                    raise KernelGone(why)
        finally:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def in_process(user: dict, names: list[str], nonce: str, deadline: float) -> Channel:
    """Both ends in this process: the kernel side answers from ``user`` in a thread.

    For tests of the trusted side that need no kernel (tests/test_trusted.py).
    """
    ours, theirs = socket.socketpair()

    def kernel_side() -> None:
        with contextlib.suppress(Exception):
            bootstrap.converse(theirs, nonce, names, user)

    threading.Thread(target=kernel_side, daemon=True).start()
    return Channel(ours, deadline)
