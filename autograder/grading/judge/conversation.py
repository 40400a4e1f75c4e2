"""The trusted side of a test's conversation: student objects as remote proxies.

The names a test reads from the student's notebook are bound here to what the kernel says they
are: plain values by value, student objects (functions, classes, instances) as proxies whose
every operation is sent to the kernel and answered there (:class:`Conversation`). When the
student's code uses one of the grader's objects it was handed, the kernel asks, and the same is
done here to the grader's own object - a call, a public attribute read, or a write the object's
class allows (:data:`WRITABLE`). Anything that does not fit fails the test
(:class:`NotRunAsWritten`).

What crosses to the kernel is only what the checker applies to a student object: the
operation, the student's objects as handles, and the other operands (the inputs the checker
passes, the grader's objects by id). A comparison of a student object with a grader value is
never sent: it is decided here, by identity, as for two objects that do not compare (so no
expected value reaches the kernel through ``==``).
"""

from __future__ import annotations

import builtins
import sys
import types
from typing import Any

from ..record import codec, protocol
from .channel import Channel, ConversationEnded

# Guards against a kernel that answers to exhaust the grading worker (each a "not run" failure).
MAX_HANDLES = 200_000  # student objects one test may introduce
MAX_NESTING = 50  # crossings inside crossings (a callback that operates on a handle ...)
MAX_TEXT = 20_000  # characters of a message sent back to the kernel
MAX_ALONG = 20_000  # attribute values sent ahead with one the student's code read

# The class attribute a grader's class lists the attributes in that the student's code may
# set on its objects (``Node.grad`` for zero_grad); every other write is refused.
WRITABLE = "STUDENT_WRITABLE"


class NotRunAsWritten(ConversationEnded):
    """The kernel's answers do not fit the test."""


class TrustedTimeout(BaseException):
    """A test ran longer on the trusted side than the cell's time allows."""


class Conversation:
    """One test's exchange with the kernel, from the worker's side."""

    def __init__(self, channel: Channel, hidden_from: int | None = None):
        self.channel = channel
        self.hidden_from = hidden_from  # the test's first hidden line
        self.test_file = ""  # the test's code filename, once it runs (judge.run_test)
        self.handles: list[Any] = []  # remote proxies, by handle number
        self.classes: dict = {}
        self.objects: list[Any] = []  # the grader's objects the student's code holds, by id
        self.object_of: dict[int, int] = {}
        self.raised: list[BaseException] = []  # exceptions the student's code raised
        self.depth = 0
        self.broken = ""
        self.closed = False
        self.hidden = False  # the test has reached its hidden part
        self.seen: set[str] = set()  # text the kernel sent before the hidden part
        self.tainted: set[str] = set()  # text the kernel sent first in the hidden part
        self.values: dict[str, Any] = {}  # the names as the kernel's hello gave them
        self.ended: ConversationEnded | None = None  # why the conversation cannot go on

    def fail(self, why: str) -> None:
        self.broken = self.broken or why
        self.ended = self.ended or NotRunAsWritten(why)
        raise NotRunAsWritten(why)

    def send(self, message: dict) -> None:
        try:
            self.channel.send(message)
        except ConversationEnded as exc:  # kept: a checker that catches it changes nothing
            self.ended = self.ended or exc
            raise

    def recv(self) -> dict:
        try:
            return self.channel.recv()
        except ConversationEnded as exc:
            self.ended = self.ended or exc
            raise

    def open(self, nonce: str, names: list[str]) -> dict[str, Any]:
        """The kernel's hello: check its nonce; the raw values of ``names``, as it sent them."""
        hello = self.recv()
        if hello.get("m") != "hello" or hello.get("v") != protocol.VERSION:
            self.fail("the kernel's first message is not the grader's hello")
        if hello.get("nonce") != nonce:
            self.fail("the kernel's hello does not carry this cell's nonce")
        values = hello.get("names")
        if not isinstance(values, dict) or sorted(values) != sorted(names):
            self.fail("the kernel bound other names than the test reads")
        self.values = values
        return values

    def bind(self, values: dict[str, Any]) -> dict[str, Any]:
        """The names' values here: decoded, student objects as proxies; missing ones left out."""
        return {
            name: self.decode(value)
            for name, value in values.items()
            if not (isinstance(value, dict) and value.get("$missing"))
        }

    def end(self, finished: bool) -> None:
        """The test is over: tell the kernel if it ``finished``; nothing crosses any more."""
        self.closed = True
        if finished and self.ended is None:
            try:
                self.channel.send({"m": "end"})
            except ConversationEnded:
                pass  # the kernel is gone or stuck: the executor finds out which

    def in_hidden(self) -> bool:
        """Whether the test has reached its hidden part (once there, it stays there).

        Read from the line the test's code runs now: its module code, or the ``eval`` of its
        last expression (two frames, so the stack is walked each time).
        """
        if self.hidden or self.hidden_from is None or not self.test_file:
            return self.hidden
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.test_file:
            frame = frame.f_back
        self.hidden = frame is not None and frame.f_lineno >= self.hidden_from
        return self.hidden

    # ------------------------------------------------------------------ values

    def token_out(self, obj: Any) -> dict:
        """One of the test's objects as the kernel will know it: a handle back, or an id."""
        state = protocol.state_of(obj, REMOTE_BASES)
        if state is not None and state[0] is self:
            return {"$h": state[1]}
        if id(obj) in self.object_of:
            return {"$co": self.object_of[id(obj)]}
        self.object_of[id(obj)] = k = len(self.objects)
        self.objects.append(obj)
        # No name: a function a hidden test defines would tell its name to the kernel.
        return {"$co": k, "type": type(obj).__name__, "call": callable(obj)}

    def resolve(self, data: dict) -> Any:
        n = data.get("$h")
        if type(n) is int and n == len(self.handles):
            if n >= MAX_HANDLES:
                self.fail("the kernel introduces too many objects")
            self.handles.append(protocol.make_handle(REMOTE_BASES, self.classes, data, (self, n)))
        if type(n) is int and 0 <= n < len(self.handles):
            return self.handles[n]
        k = data.get("$co")
        if type(k) is int and 0 <= k < len(self.objects):
            return self.objects[k]
        self.fail(f"the kernel names an object it never introduced: {str(data)[:80]}")

    def note_text(self, texts: set[str]) -> None:
        """Remember text the kernel chose; in the hidden part, what is new there is tainted."""
        if self.in_hidden():
            self.tainted |= texts - self.seen - _BUILTIN_NAMES
        else:
            self.seen |= texts

    def decode(self, data: Any) -> Any:
        texts: set[str] = set()
        _strings(data, texts)
        self.note_text(texts)
        try:
            return codec.decode(data, self.resolve)
        except ConversationEnded:
            raise
        except Exception as exc:  # noqa: BLE001 - any undecodable value is a malformed answer
            self.fail(f"a value from the kernel cannot be read: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ operations

    def invoke(self, op: str, operands: tuple, kwargs: dict) -> Any:
        """The checker applies ``op`` to a student object: the kernel does it and answers."""
        if self.ended is not None:
            raise self.ended
        if self.closed:
            raise NotRunAsWritten("a student object was used after the test")
        if op in protocol.COMPARE and not all(self._ours(x) for x in operands):
            return NotImplemented  # decided here, never sent (see the module docstring)
        if self.depth >= MAX_NESTING:
            self.fail(f"the conversation nests deeper than {MAX_NESTING} crossings")
        args = codec.encode(operands, self.token_out)
        message = {"m": "op", "op": op, "args": args, "kw": codec.encode(kwargs, self.token_out)}
        limit = _allocation_limit() if op == "call" else None
        if limit is not None:  # the checker's measure, applied where the student's code runs
            message["alloc"] = limit
        self.send(message)
        self.depth += 1
        try:
            return self._outcome(op, protocol.watched_arrays(operands, kwargs))
        finally:
            self.depth -= 1

    def _ours(self, obj: Any) -> bool:
        state = protocol.state_of(obj, REMOTE_BASES)
        return state is not None and state[0] is self

    def _outcome(self, op: str, arrays: list) -> Any:
        while True:
            answer = self.recv()
            kind = answer.get("m")
            if kind == "cb":
                self._serve(answer, arrays)
                continue
            if kind not in ("ret", "raise"):
                self.fail(f"{op}: the kernel answered {str(kind)[:40]!r}")
            _apply(self, arrays, answer.get("mut", []))
            if answer.get("out"):
                sys.stdout.write(str(answer["out"])[:MAX_TEXT])
            if kind == "raise":
                raise self._exception(answer)
            value = self.decode(answer.get("v"))
            want = protocol.RESULT_TYPES.get(op)
            if want is not None and not isinstance(value, want):
                self.fail(f"{op}: the kernel's result is not a {want.__name__}")
            return value

    def _exception(self, answer: dict) -> BaseException:
        name, base = str(answer.get("type", "Exception"))[:100], bool(answer.get("base"))
        self.note_text({name, str(answer.get("msg", ""))[:200]})
        exc = _new_exception(name, str(answer.get("msg", "")), base)
        # Where the student's code raised it, for the message only ("f calls g, which is not
        # written yet"): the kernel's word, which decides no points.
        exc.raised_in = str(answer.get("in", ""))[:100]
        self.raised.append(exc)
        return exc

    def _serve(self, request: dict, arrays: list) -> None:
        """The student's code used one of the grader's objects: do the same here.

        The arrays of the student's it handed over travel back changed, as they would have
        been changed in place in one process (``rng.shuffle(order)``).
        """
        _apply(self, arrays, request.get("mut", []))
        action, handed = self._action(request)
        before = [codec.encode_array(a, _numpy()) for _, a in handed]
        try:
            result = action()
        except (ConversationEnded, TrustedTimeout):
            raise
        except BaseException as exc:  # noqa: BLE001 - the student's code may catch it
            kind = type(exc).__name__
            kind = kind if isinstance(getattr(builtins, kind, None), type) else "Exception"
            message = {"m": "raised", "type": kind, "msg": str(exc)[:MAX_TEXT]}
            self.send({**message, "mut": _changes(handed, before)})
            return
        if isinstance(result, (type, types.ModuleType)):
            self.fail("the student's code reached a class or module of the grader")
        value = codec.encode(result, self.token_out)
        answer = {"m": "back", "v": value, "mut": _changes(handed, before)}
        if request.get("op") == "getattr":
            answer["more"] = self._along(result, request.get("name"))
        self.send(answer)

    def _along(self, start: Any, name: str) -> list:
        """[k, name, value] for the grader's objects reached from ``start`` through ``name``.

        Sent with an attribute the student's code read, so that a walk through a graph
        (``node.inputs``, again and again) is one question, not one per node. Only plain
        instance attributes (no property runs unasked), only what the student may read anyway.
        """
        found, queue, seen = [], [start], set()
        while queue and len(found) < MAX_ALONG:
            value = queue.pop(0)
            if isinstance(value, (tuple, list)):
                queue += list(value)
                continue
            if not codec.is_object(value) or self._ours(value) or id(value) in seen:
                continue
            seen.add(id(value))
            attrs = getattr(value, "__dict__", None)
            if isinstance(value, (type, types.ModuleType)) or not isinstance(attrs, dict):
                continue
            if name in attrs:
                k = self.token_out(value)["$co"]
                found.append([k, name, codec.encode(attrs[name], self.token_out)])
                queue.append(attrs[name])
        return found

    def _action(self, request: dict):
        """What the student's code asks of a grader object, and the arrays it hands over."""
        c, op, name = request.get("c"), request.get("op"), request.get("name")
        if not (type(c) is int and 0 <= c < len(self.objects)):
            self.fail("the kernel uses a grader object it was never given")
        target = self.objects[c]
        if op == "call":
            args, kwargs = self.decode(request.get("args")), self.decode(request.get("kw"))
            if not isinstance(args, tuple) or not isinstance(kwargs, dict):
                self.fail("the kernel's call of a grader object has malformed arguments")
            if not all(type(key) is str for key in kwargs):
                self.fail("the kernel's call of a grader object has malformed keywords")
            return (lambda: target(*args, **kwargs)), protocol.watched_arrays(args, kwargs)
        if op == "repr":
            return (lambda: repr(target)[:MAX_TEXT]), []
        if op not in ("getattr", "setattr") or not protocol.public(name):
            self.fail(f"the kernel uses a grader object in a way it cannot: {str(op)[:40]}")
        if isinstance(target, (type, types.ModuleType)):
            self.fail("the kernel reaches into a class or module of the grader")
        if op == "getattr":
            return (lambda: getattr(target, name)), []
        if name not in getattr(type(target), WRITABLE, ()):
            kind = type(target).__name__
            self.fail(f"the student's code set {name!r} on the grader's read-only {kind}")
        value = self.decode(request.get("v"))
        return (lambda: setattr(target, name, value)), []


# Names that carry no student data: a hidden message may repeat them.
_BUILTIN_NAMES = {name for name in dir(builtins) if not name.startswith("_")} | {""}


def _remote_invoke(proxy: Any, op: str, operands: tuple, kwargs: dict) -> Any:
    conversation = object.__getattribute__(proxy, "_state")[0]
    return conversation.invoke(op, operands, kwargs)


# A student object on the trusted side: every operation is the kernel's to perform.
REMOTE_BASES = protocol.handle_bases(_remote_invoke)


def _apply(conversation: Conversation, arrays: list, changes: Any) -> None:
    """Put the kernel's in-place changes into the trusted side's own argument arrays."""
    if not isinstance(changes, list):
        conversation.fail("the kernel's in-place changes are not a list")
    for change in changes:
        if not (isinstance(change, list) and len(change) == 2):
            conversation.fail("an in-place change from the kernel is malformed")
        path, value = change
        target = next((a for p, a in arrays if p == path), None)
        new = conversation.decode(value)
        if target is None or getattr(new, "shape", None) != target.shape:
            conversation.fail(f"an in-place change of argument {path} does not fit it")
        target[...] = new


def _allocation_limit() -> int | None:
    checks = sys.modules.get("helpers.checks")
    now = getattr(checks, "allocation_limit_now", None)
    limit = now() if callable(now) else None
    return limit if type(limit) is int else None


def _numpy():
    return sys.modules.get("numpy")


def _changes(handed: list, before: list) -> list:
    """[path, array] for every array handed to a grader object that it changed in place."""
    np = _numpy()
    out = []
    for (path, array), sent in zip(handed, before):
        now = codec.encode_array(array, np)
        if now != sent:
            out.append([path, now])
    return out


def _new_exception(name: str, msg: str, base: bool) -> BaseException:
    cls = getattr(builtins, name, None)
    if (
        isinstance(cls, type)
        and issubclass(cls, BaseException)
        and (issubclass(cls, Exception) != base)
    ):
        try:
            return cls(msg) if msg else cls()
        except Exception:  # noqa: BLE001, S110 - a type that wants other arguments
            pass
    return type(name, (BaseException if base else Exception,), {})(msg)


def _strings(data: Any, out: set[str], depth: int = 0) -> None:
    """Every string in a value from the kernel (not array payloads), into ``out``."""
    if depth > codec.MAX_DEPTH + 2:
        return
    if isinstance(data, str):
        out.add(data[:200])
    elif isinstance(data, list):
        for item in data:
            _strings(item, out, depth + 1)
    elif isinstance(data, dict) and "b64" not in data:
        for value in data.values():
            _strings(value, out, depth + 1)
