"""The kernel side of a test: it performs what the worker asks on the student's objects.

The test runs in the grading worker, never here. For each operation its checker applies to a
student object (a call, an attribute read, an operator, ``isinstance`` against a student
class) the worker sends one message; the :class:`Recorder` performs it on the real object and
answers with what happened: the value (plain data, or a handle ``{"$h": n}`` for an object that
is not), or the exception's type and message, the text the student's code printed meanwhile,
and the arrays the call changed in place. When the student's code uses one of the grader's
objects it was handed (a ``{"$co": k}``: a function to evaluate, a graph node), the recorder
asks the worker, which does it on its own object; conversations nest. Part of the kernel-side
record package: standard library only.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import sys
import tracemalloc
from typing import Any

from .codec import decode, encode, encode_array
from .protocol import HEADER_BYTES, MAX_MESSAGE, OPERATIONS, frame, public, watched_arrays

MAX_TEXT = 20_000  # printed output and exception messages kept per operation
_loads = json.loads  # bound now: see codec


class ProtocolError(Exception):
    """The worker sent something this side does not understand (the test then fails)."""


class Link:
    """The kernel's end of one test's socket: whole messages out and in."""

    def __init__(self, sock):
        self.sock = sock

    def send(self, message: Any) -> None:
        self.sock.sendall(frame(message))

    def recv(self) -> dict:
        size = int.from_bytes(self._exactly(HEADER_BYTES), "big")
        if size > MAX_MESSAGE:
            raise ProtocolError("a message over the size limit")
        message = _loads(self._exactly(size))
        if not isinstance(message, dict):
            raise ProtocolError("a message that is not an object")
        return message

    def _exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise ProtocolError("the worker closed the conversation")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class _Frame:
    """One operation on student objects: the arrays handed over and their last sent state."""

    def __init__(self, args: tuple, kwargs: dict):
        self.arrays = watched_arrays(args, kwargs)
        self.sent = [encode_array(a, sys.modules["numpy"]) for _, a in self.arrays]

    def changes(self) -> list:
        out = []
        np = sys.modules.get("numpy")
        for i, (path, array) in enumerate(self.arrays):
            now = encode_array(array, np)
            if now != self.sent[i]:
                self.sent[i] = now
                out.append([path, now])
        return out


class Recorder:
    """Kernel side of one test's conversation (see the module docstring).

    Student objects the worker holds are numbered in the order they cross (one handle per
    object, so ``is`` tells them apart there as here); the grader's objects the student's code
    holds are proxies, one per id the worker gave.
    """

    def __init__(self, link: Link):
        self.link = link
        self.handles: list[Any] = []  # student objects the worker holds, by handle number
        self.handle_of: dict[int, int] = {}
        self.grader_objects: list[_CheckerProxy] = []  # by the id the worker gave
        self.frames: list[_Frame] = []
        # (grader object id, attribute) -> its value as the worker sent it ahead; valid until
        # the grader's side may have run: a new operation, a call or a write of the student's
        self.ahead: dict[tuple[int, str], Any] = {}

    def token_in(self, obj) -> dict:
        """A student object (or a grader object coming back) as the worker will know it."""
        if issubclass(type(obj), _CheckerProxy) and object.__getattribute__(obj, "_rec") is self:
            return {"$co": object.__getattribute__(obj, "_k")}
        if id(obj) in self.handle_of:
            return {"$h": self.handle_of[id(obj)]}
        self.handle_of[id(obj)] = n = len(self.handles)
        self.handles.append(obj)
        kind = type.__dict__["__name__"].__get__(type(obj))
        return {"$h": n, "type": kind, "name": _name(obj), "call": callable(obj)}

    def resolve(self, token: dict) -> Any:
        """What a token of the worker's stands for here: the student's object, or a proxy."""
        n, k = token.get("$h"), token.get("$co")
        if type(n) is int and 0 <= n < len(self.handles):
            return self.handles[n]
        if type(k) is int and 0 <= k < len(self.grader_objects):
            return self.grader_objects[k]
        if type(k) is int and k == len(self.grader_objects):
            kind = _CallableCheckerProxy if token.get("call") is True else _CheckerProxy
            self.grader_objects.append(kind(self, k, token))
            return self.grader_objects[k]
        raise ProtocolError(f"an object never introduced: {str(token)[:80]}")

    def bindings(self, names: list[str], user: dict) -> dict:
        """The names the test reads, as the worker will bind them."""
        out = {}
        for name in names:
            if name not in user:
                out[name] = {"$missing": True}
                continue
            try:
                out[name] = encode(user[name], self.token_in)
            except Exception:  # noqa: BLE001 - an object that cannot be read is not plain data
                out[name] = {"$u": "unreadable"}
        return out

    def serve(self) -> None:
        """Answer the worker's operations until it says the test is over."""
        while True:
            message = self.link.recv()
            if message.get("m") == "end":
                return
            if message.get("m") != "op":
                raise ProtocolError(f"unexpected message {str(message.get('m'))[:40]!r}")
            self.answer(message)

    def answer(self, message: dict) -> None:
        """Perform one operation on the student's objects and tell the worker what happened."""
        op = OPERATIONS.get(str(message.get("op")))
        if op is None:
            raise ProtocolError("an operation that does not exist")
        self.ahead.clear()
        args = decode(message.get("args"), self.resolve)
        kwargs = decode(message.get("kw"), self.resolve)
        frame = _Frame(args, kwargs)
        self.frames.append(frame)
        out, saved = io.StringIO(), (sys.stdout, sys.stderr)
        sys.stdout = sys.stderr = out
        try:
            limit = message.get("alloc")
            if type(limit) is int:
                with _allocations_limited(limit):
                    result = op(*args, **kwargs)
            else:
                result = op(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - the student's code raised: say which
            sys.stdout, sys.stderr = saved
            self.frames.pop()
            self.link.send(
                {
                    "m": "raise",
                    "type": type.__dict__["__name__"].__get__(type(exc)),
                    "base": not isinstance(exc, Exception),
                    "msg": _clip(_safe_str(exc)),
                    "in": raised_in(exc),
                    "mut": frame.changes(),
                    "out": _clip(out.getvalue()),
                }
            )
            return
        sys.stdout, sys.stderr = saved
        self.frames.pop()
        try:
            value = encode(result, self.token_in)
        except Exception:  # noqa: BLE001 - a value that cannot be read is not plain data
            value = {"$u": "unreadable"}
        self.link.send(
            {"m": "ret", "v": value, "mut": frame.changes(), "out": _clip(out.getvalue())}
        )

    def callback(self, k: int, op: str, args=(), kwargs=None, name=None, value=None):
        """The student's code uses grader object ``k``: the worker does it on its own object."""
        if op == "getattr" and (k, name) in self.ahead:
            return decode(self.ahead[k, name], self.resolve)
        if op != "getattr":
            self.ahead.clear()
        frame = self.frames[-1] if self.frames else None
        message = {"m": "cb", "op": op, "c": k, "mut": frame.changes() if frame else []}
        if op == "call":
            message["args"] = encode(args, self.token_in)
            message["kw"] = encode(kwargs or {}, self.token_in)
        else:
            message["name"] = name
        if op == "setattr":
            message["v"] = encode(value, self.token_in)
        self.link.send(message)
        while True:
            reply = self.link.recv()
            kind = reply.get("m")
            if kind == "op":  # the grader's object works on student objects meanwhile
                self.answer(reply)
                continue
            if kind not in ("back", "raised"):
                raise ProtocolError(f"unexpected message {str(kind)[:40]!r}")
            self._changed(watched_arrays(args, kwargs or {}), reply.get("mut"))
            if kind == "raised":
                raise _exception(reply)
            value = decode(reply.get("v"), self.resolve)
            for ahead in reply.get("more") or []:  # decoded now: new objects come in order
                obj, attr, data = ahead
                decode(data, self.resolve)
                self.ahead[obj, attr] = data
            return value

    def _changed(self, arrays: list, changes) -> None:
        """Arrays the grader's object changed in place (``rng.shuffle(order)``): here too."""
        for path, value in changes if isinstance(changes, list) else []:
            target = next((a for p, a in arrays if p == path), None)
            new = decode(value, self.resolve)
            if target is None or getattr(new, "shape", None) != target.shape:
                raise ProtocolError("an in-place change that does not fit its argument")
            target[...] = new


@contextlib.contextmanager
def _allocations_limited(limit: int):
    """MemoryError inside the student's code once it allocated ``limit`` bytes more: the
    checker's allocation limit (helpers.checks.allocation_limit), applied here where the code
    runs. tracemalloc measures (NumPy reports its arrays to it); a trace function looks at the
    peak at every call and return."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]

    def on_event(frame, event, arg):
        if tracemalloc.get_traced_memory()[1] - base > limit:
            raise MemoryError(f"more than {limit / 1e6:.0f} MB allocated")
        return on_event

    def on_call(frame, event, arg):
        frame.f_trace_lines = False  # calls and returns only: loops run at full speed
        return on_event(frame, event, arg)

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(previous)
        if started:
            tracemalloc.stop()


def _exception(reply: dict) -> BaseException:
    """The grader's object raised (or refused): the same built-in type, with its message."""
    cls = getattr(builtins, str(reply.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = Exception
    return cls(str(reply.get("msg", ""))[:MAX_TEXT])


def _name(obj) -> str | None:
    try:
        name = getattr(obj, "__name__", None)
    except Exception:  # noqa: BLE001 - a student's __getattr__ may raise anything
        return None
    return name if type(name) is str else None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n[cut]"


def raised_in(exc: BaseException) -> str:
    """The name of the function whose frame raised ``exc`` (the traceback's innermost)."""
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return str(tb.tb_frame.f_code.co_name)[:100]


def _safe_str(exc) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a message that cannot be shown is still a raise
        return ""


class _CheckerProxy:
    """A grader object as the student's code sees it: public attributes, read and set.

    The object itself stays in the worker: each read or write is a question to it, and the
    worker refuses a write the grader's class does not allow.
    """

    __slots__ = ("_rec", "_k", "_kind")

    def __init__(self, recorder: Recorder, k: int, token: dict):
        object.__setattr__(self, "_rec", recorder)
        object.__setattr__(self, "_k", k)
        kind, name = token.get("type"), token.get("name")
        object.__setattr__(self, "_kind", (str(kind)[:100], None if name is None else str(name)))

    def __getattr__(self, name):
        if not public(name):
            raise AttributeError(f"the grader's object has no attribute {name!r} for you")
        return self._rec.callback(self._k, "getattr", name=name)

    def __setattr__(self, name, value):
        if not public(name):
            raise AttributeError(f"the grader's object has no attribute {name!r} for you")
        self._rec.callback(self._k, "setattr", name=name, value=value)

    def __repr__(self) -> str:
        return self._rec.callback(self._k, "repr")


class _CallableCheckerProxy(_CheckerProxy):
    """A grader function as the student's code sees it: each call is made in the worker."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        return self._rec.callback(self._k, "call", args, kwargs)

    @property
    def __name__(self) -> str:
        kind, name = object.__getattribute__(self, "_kind")
        return name or kind
