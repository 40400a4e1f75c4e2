"""The kernel's record handed back to the instructor's test, in order: the replay proxies.

The names a test reads from the student's notebook are bound on the trusted side to what the
record says they were: plain values by value, student objects (functions, classes, instances)
as replay proxies that hand back the recorded results in order; when the record says the
student's code used one of the checker's objects, the same is done here to the checker's own
object of that number. Each operation's operands must match the record; anything that does
not fit fails the test (:class:`NotRunAsWritten`).
"""

from __future__ import annotations

import builtins
import contextlib
import sys
import types
from typing import Any

from ..record import codec, protocol

# Guards against a record made to exhaust the grading worker (each also a "not run" failure).


MAX_HANDLES = 200_000  # student objects one record introduces


MAX_NESTING = 50  # crossings inside crossings (a callback that operates on a handle ...)


class NotRunAsWritten(BaseException):
    """The record does not fit the test (a BaseException: no checker may catch it)."""


class TrustedTimeout(BaseException):
    """A test ran longer on the trusted side than a cell may run in the kernel."""


def _name(obj: Any) -> str:
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else type(obj).__name__


class Replay:
    """The recorded events of one test cell, handed out in order."""

    def __init__(self, events: list):
        self.events, self.pos, self.depth = events, 0, 0
        self.handles: list[Any] = []  # replay proxies, by handle number
        self.classes: dict = {}
        self.callbacks: list[Any] = []  # the checker's objects the student holds, by id
        self.callback_of: dict[int, int] = {}
        self.raised: dict[str, BaseException] = {}  # by type name: what a callback raised
        self.broken: str = ""
        self.closed = False  # the test has ended: nothing may cross any more

    def fail(self, why: str) -> None:
        self.broken = self.broken or why
        raise NotRunAsWritten(why)

    def next(self) -> dict:
        if self.pos >= len(self.events):
            self.fail(f"the record ends before event {self.pos + 1}")
        ev = self.events[self.pos]
        self.pos += 1
        if not isinstance(ev, dict):
            self.fail(f"event {self.pos} is not an object")
        return ev

    def token_out(self, obj: Any) -> dict:
        state = protocol.state_of(obj, REPLAY_BASES)
        if state is not None and state[0] is self:
            return {"$h": state[1]}
        if id(obj) not in self.callback_of:
            self.callback_of[id(obj)] = len(self.callbacks)
            self.callbacks.append(obj)
        return {"$co": self.callback_of[id(obj)]}

    def resolve(self, data: dict) -> Any:
        n = data.get("$h")
        if type(n) is int:
            if n == len(self.handles):
                if len(self.handles) >= MAX_HANDLES:
                    self.fail("the record introduces too many objects")
                proxy = protocol.make_handle(REPLAY_BASES, self.classes, data, (self, n))
                self.handles.append(proxy)
            if 0 <= n < len(self.handles):
                return self.handles[n]
        k = data.get("$co")
        if type(k) is int and 0 <= k < len(self.callbacks):
            return self.callbacks[k]
        self.fail(f"the record names an object it never introduced: {str(data)[:80]}")

    def decode(self, data: Any) -> Any:
        try:
            return codec.decode(data, self.resolve)
        except NotRunAsWritten:
            raise
        except Exception as exc:  # noqa: BLE001 - any undecodable value is a malformed record
            self.fail(f"a recorded value cannot be read: {type(exc).__name__}: {exc}")

    def invoke(self, op: str, operands: tuple, kwargs: dict) -> Any:
        """The checker applies ``op`` to a student object: the recorded outcome, if it fits."""
        if self.broken or self.closed:
            raise NotRunAsWritten(self.broken or "a student object was used after the test")
        ev = self.next()
        what = f"event {self.pos} ({op})"
        if ev.get("e") != "op" or ev.get("op") != op:
            self.fail(f"{what}: the record has {str(ev.get('e'))!r} {str(ev.get('op'))!r} here")
        if not codec.same(codec.encode(operands, self.token_out), ev.get("args")) or not codec.same(
            codec.encode(kwargs, self.token_out), ev.get("kw")
        ):
            self.fail(f"{what}: the recorded operands differ from the test's")
        arrays = protocol.watched_arrays(operands, kwargs)
        if self.depth >= MAX_NESTING:
            self.fail(f"{what}: the record nests deeper than {MAX_NESTING} crossings")
        self.depth += 1
        try:
            return self._outcome(what, op, arrays)
        finally:
            self.depth -= 1

    def _outcome(self, what: str, op: str, arrays: list) -> Any:
        while True:
            ev = self.next()
            kind = ev.get("e")
            if kind == "cb":
                self._callback(ev, arrays)
                continue
            if kind not in ("ret", "raise"):
                self.fail(f"{what}: unexpected event {str(kind)!r}")
            _apply(self, arrays, ev.get("mut", []))
            if ev.get("out"):
                sys.stdout.write(str(ev["out"]))
            if kind == "raise":
                raise _exception(self, ev)
            value = self.decode(ev.get("v"))
            want = protocol.RESULT_TYPES.get(op)
            if want is not None and not isinstance(value, want):
                self.fail(f"{what}: the recorded result is not a {want.__name__}")
            return value

    def _callback(self, ev: dict, arrays: list) -> None:
        """The student's code used one of the checker's objects: do the same here."""
        _apply(self, arrays, ev.get("mut", []))
        action = self._action(ev)
        raised, result = None, None
        try:
            result = action()
        except (NotRunAsWritten, TrustedTimeout):
            raise
        except BaseException as exc:  # noqa: BLE001 - the student's code may have caught it
            raised = type(exc).__name__
            self.raised[raised] = exc
        end = self.next()
        if end.get("e") != "cbend" or end.get("raised") != raised:
            self.fail("a checker object the student used behaved differently in the kernel")
        if raised is None:
            if isinstance(result, (type, types.ModuleType)):
                self.fail("the record reaches a class or module of the checker")
            ours = codec.skeleton(codec.encode(result, self.token_out))
            if ours != codec.skeleton(end.get("v")):
                self.fail("a checker object the student used gave another result in the kernel")

    def _action(self, ev: dict):
        """What the recorded use of a checker object does here (public attributes only)."""
        c, op, name = ev.get("c"), ev.get("op", "call"), ev.get("name")
        if not (type(c) is int and 0 <= c < len(self.callbacks)):
            self.fail("the record uses a checker object it was never given")
        target = self.callbacks[c]
        if op == "call":
            args, kwargs = self.decode(ev.get("args")), self.decode(ev.get("kw"))
            if not isinstance(args, tuple) or not isinstance(kwargs, dict):
                self.fail("a recorded callback has malformed arguments")
            if not all(type(key) is str for key in kwargs):
                self.fail("a recorded callback has malformed keywords")
            return lambda: target(*args, **kwargs)
        if op not in ("getattr", "setattr") or not protocol.public(name):
            self.fail(f"the record uses a checker object in a way it cannot: {str(op)[:40]}")
        if isinstance(target, (type, types.ModuleType)):
            self.fail("the record reaches into a class or module of the checker")
        if op == "getattr":
            return lambda: getattr(target, name)
        value = self.decode(ev.get("v"))
        return lambda: setattr(target, name, value)


def _replay_invoke(proxy: Any, op: str, operands: tuple, kwargs: dict) -> Any:
    replay = object.__getattribute__(proxy, "_state")[0]
    return replay.invoke(op, operands, kwargs)


# A student object on the trusted side: every operation returns what the kernel recorded.
REPLAY_BASES = protocol.handle_bases(_replay_invoke)


def _apply(replay: Replay, arrays: list, changes: Any) -> None:
    """Put the recorded in-place changes into the trusted side's own argument arrays."""
    if not isinstance(changes, list):
        replay.fail("the recorded in-place changes are not a list")
    for change in changes:
        if not (isinstance(change, list) and len(change) == 2):
            replay.fail("a recorded in-place change is malformed")
        path, value = change
        target = next((a for p, a in arrays if p == path), None)
        new = replay.decode(value)
        if target is None or getattr(new, "shape", None) != target.shape:
            replay.fail(f"an in-place change of argument {path} does not fit it")
        target[...] = new


def _exception(replay: Replay, ev: dict) -> BaseException:
    name = str(ev.get("type", "Exception"))
    if name in replay.raised:  # a checker callable's own exception, passed through
        return replay.raised[name]
    exc = _new_exception(name, str(ev.get("msg", "")), bool(ev.get("base")))
    # Where the student's code raised it, for the message only ("f calls g, which is not
    # written yet"): the kernel's word, which decides no points.
    exc.raised_in = str(ev.get("in", ""))[:100]
    return exc


def _new_exception(name: str, msg: str, base: bool) -> BaseException:
    cls = getattr(builtins, name, None)
    if (
        isinstance(cls, type)
        and issubclass(cls, BaseException)
        and (issubclass(cls, Exception) != base)
    ):
        with contextlib.suppress(Exception):
            return cls(msg) if msg else cls()
    return type(name, (BaseException if base else Exception,), {})(msg)
