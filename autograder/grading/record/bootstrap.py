"""Installing the kernel side in a kernel, and the call the grader makes for each test cell.

Part of the kernel-side record package: standard library only.
"""

from __future__ import annotations

import ast
import builtins
import socket
from pathlib import Path

from .protocol import VERSION
from .recorder import Link, Recorder

# The kernel-side modules, in the order the kernel runs them (each uses the ones before it).
KERNEL_MODULES = ("codec", "protocol", "recorder", "bootstrap")

# Bound when the kernel side is installed, before any student cell: a student's code that
# replaces them later (or a library that patches sockets) does not change how tests connect.
_SOCKET = socket.socket
_AF_UNIX = socket.AF_UNIX
_STREAM = socket.SOCK_STREAM


def answer_test(path: str, nonce: str, names: list[str], user: dict) -> None:
    """Connect to the worker at ``path``, then :func:`converse` with it."""
    sock = _SOCKET(_AF_UNIX, _STREAM)
    try:
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    converse(sock, nonce, names, user)


def converse(sock, nonce: str, names: list[str], user: dict) -> None:
    """Say hello with ``nonce`` and ``names`` bound from ``user``; answer until the test ends."""
    try:
        link = Link(sock)
        recorder = Recorder(link)
        hello = {"m": "hello", "v": VERSION, "nonce": nonce}
        link.send({**hello, "names": recorder.bindings(list(names), user)})
        recorder.serve()
    finally:
        sock.close()


def install() -> None:
    """Define ``builtins._grader_answer_``: the call the grader makes for each test cell."""
    from IPython import get_ipython

    user = get_ipython().user_ns  # bound now: the namespace the student's cells define

    def answer(path, nonce, names):
        answer_test(path, nonce, names, user)

    builtins.__dict__["_grader_answer_"] = answer


def kernel_source() -> str:
    """Code a kernel runs before the notebook: the record package, then ``install()``."""
    # Its own copy of the builtins, taken before any student cell: a student who replaces
    # builtins.min or builtins.isinstance later changes nothing the kernel side does.
    return (
        "def _grader_install_():\n"
        "    import builtins\n"
        "    _ns = {'__name__': '_grader_record', '__builtins__': dict(vars(builtins))}\n"
        f"    exec(compile({joined_source()!r}, '<grader record>', 'exec'), _ns)\n"
        "    _ns['install']()\n"
        "_grader_install_()\n"
        "del _grader_install_\n"
    )


def joined_source() -> str:
    """The record package as one module: its :data:`KERNEL_MODULES` without their imports of
    each other (they share one namespace in the kernel)."""
    folder = Path(__file__).resolve().parent
    joined = "\n".join(_own_code((folder / f"{m}.py").read_text()) for m in KERNEL_MODULES)
    return "from __future__ import annotations\n" + joined


def _own_code(source: str) -> str:
    """``source`` without ``from __future__`` and without imports from this package."""
    lines = source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module == "__future__"):
            for i in range(node.lineno - 1, node.end_lineno):
                lines[i] = "\n"
    return "".join(lines)


def call_expression(path: str, nonce: str, names: list[str]) -> str:
    """The expression the kernel evaluates in place of a graded test cell.

    It is sent as the user expression of an empty execute request, so no IPython input or AST
    transformer, cell event or exception handler sees it. It carries no test source: only
    where to connect, the nonce the worker expects first, and the names the test reads.
    """
    return (
        f"__import__('builtins').__dict__['_grader_answer_']({path!r}, {nonce!r}, {list(names)!r})"
    )
