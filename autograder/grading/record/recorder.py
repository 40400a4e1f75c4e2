"""The kernel side of a test: the recorder that writes down every crossing as plain data.

In the student's kernel (untrusted) the test source runs with the student's names wrapped by
recording proxies (:func:`record_test`): every interaction of the checker with a student
object is written down in order - a call, an attribute read, an operator, ``isinstance``
against a student class: the operands' fingerprint, what came back (or the exception), the
arrays the call changed in place - and so is every interaction of the student's code with the
checker's objects (calls, attribute reads and writes). Student objects that are not plain data
travel as handles (``{"$h": n}``), the checker's objects as ids in order of crossing
(``{"$co": k}``). Part of the kernel-side record package: standard library only.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any

from .codec import MAX_DEPTH, encode, encode_array, is_object
from .protocol import (
    OPERATIONS,
    VERSION,
    handle_bases,
    make_handle,
    public,
    state_of,
    watched_arrays,
)

MAX_TEXT = 20_000  # printed output and exception messages kept per call


# --------------------------------------------------------------------------- decoding


# --------------------------------------------------------------------------- comparing


# --------------------------------------------------------------------------- handles


# --------------------------------------------------------------------------- the kernel side


class _Frame:
    """One call into a student object: the arrays handed over and their last recorded state."""

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


def _kernel_invoke(proxy, op: str, operands: tuple, kwargs: dict):
    recorder = object.__getattribute__(proxy, "_state")[0]
    return recorder.invoke(op, operands, kwargs)


_HANDLE_BASES = handle_bases(_kernel_invoke)


class Recorder:
    """Kernel side: wraps the student's names, writes every crossing into :attr:`events`.

    The checker holds proxies of student objects (one per handle number, so ``id()`` tells
    them apart as it tells the objects apart); the student's code holds proxies of the
    checker's objects (one per id). Each side's proxies unwrap to the real object when they
    cross back.
    """

    def __init__(self):
        self.events: list[dict] = []
        self.handles: list[Any] = []  # student objects the checker holds, by handle number
        self.handle_of: dict[int, int] = {}
        self.proxies: dict[int, Any] = {}
        self.classes: dict = {}
        self.callbacks: list[Any] = []  # checker objects the student holds, by id
        self.callback_of: dict[int, int] = {}
        self.checker_proxies: dict[int, _CheckerProxy] = {}
        self.frames: list[_Frame] = []

    # Student -> checker: student objects become handles; checker objects come back as ids.
    def token_in(self, obj) -> dict:
        if issubclass(type(obj), _CheckerProxy) and object.__getattribute__(obj, "_rec") is self:
            return {"$co": object.__getattribute__(obj, "_k")}
        if id(obj) in self.handle_of:
            return {"$h": self.handle_of[id(obj)]}
        self.handle_of[id(obj)] = n = len(self.handles)
        self.handles.append(obj)
        kind = type.__dict__["__name__"].__get__(type(obj))
        return {"$h": n, "type": kind, "name": _name(obj), "call": callable(obj)}

    # Checker -> student: handles go back as themselves; checker objects get an id.
    def token_out(self, obj) -> dict:
        state = state_of(obj, _HANDLE_BASES)
        if state is not None and state[0] is self:
            return {"$h": state[1]}
        if id(obj) not in self.callback_of:
            self.callback_of[id(obj)] = len(self.callbacks)
            self.callbacks.append(obj)
        return {"$co": self.callback_of[id(obj)]}

    def to_checker(self, value, depth: int = 0):
        """What the kernel's checker receives for a student value: objects as handle proxies."""
        if depth > MAX_DEPTH:
            return value
        if is_object(value):
            token = self.token_in(value)
            if "$co" in token:
                return self.callbacks[token["$co"]]
            n = token["$h"]
            if n not in self.proxies:
                token = {**token, "type": type.__dict__["__name__"].__get__(type(value))}
                token.update(name=_name(value), call=callable(value))
                self.proxies[n] = make_handle(_HANDLE_BASES, self.classes, token, (self, n, value))
            return self.proxies[n]
        t = type(value)
        if issubclass(t, (list, tuple)):
            raw = list(list.__iter__(value) if issubclass(t, list) else tuple.__iter__(value))
            items = [self.to_checker(v, depth + 1) for v in raw]
            if any(x is not y for x, y in zip(items, raw)):
                return (list if issubclass(t, list) else tuple)(items)
        elif issubclass(t, dict):
            raw = list(dict.items(value))
            pairs = [(self.to_checker(k, depth + 1), self.to_checker(v, depth + 1)) for k, v in raw]
            if any(a is not k or b is not v for (a, b), (k, v) in zip(pairs, raw)):
                return dict(pairs)
        return value

    def to_student(self, value):
        """What the student's code receives for a checker value: checker objects wrapped."""
        if is_object(value):
            state = state_of(value, _HANDLE_BASES)
            if state is not None and state[0] is self:
                return state[2]
            k = self.token_out(value)["$co"]
            if k not in self.checker_proxies:
                kind = _CallableCheckerProxy if callable(value) else _CheckerProxy
                self.checker_proxies[k] = kind(self, k, value)
            return self.checker_proxies[k]
        if type(value) in (list, tuple):
            items = [self.to_student(v) for v in value]
            if any(x is not y for x, y in zip(items, value)):
                return type(value)(items)
        if type(value) is dict:
            pairs = {k: self.to_student(v) for k, v in value.items()}
            if any(pairs[k] is not value[k] for k in value):
                return pairs
        return value

    def invoke(self, op: str, operands: tuple, kwargs: dict):
        """The checker applies ``op`` to student objects: recorded, then done with the real ones."""
        self.events.append(
            {
                "e": "op",
                "op": op,
                "args": encode(operands, self.token_out),
                "kw": encode(kwargs, self.token_out),
            }
        )
        args = tuple(self.to_student(a) for a in operands)
        kwargs = {k: self.to_student(v) for k, v in kwargs.items()}
        frame = _Frame(args, kwargs)
        self.frames.append(frame)
        out, saved = io.StringIO(), (sys.stdout, sys.stderr)
        sys.stdout = sys.stderr = out
        try:
            result = OPERATIONS[op](*args, **kwargs)
        except BaseException as exc:
            sys.stdout, sys.stderr = saved
            self.frames.pop()
            self.events.append(
                {
                    "e": "raise",
                    "type": type(exc).__name__,
                    "base": not isinstance(exc, Exception),
                    "msg": _clip(_safe_str(exc)),
                    "in": raised_in(exc),
                    "mut": frame.changes(),
                    "out": _clip(out.getvalue()),
                }
            )
            raise
        sys.stdout, sys.stderr = saved
        self.frames.pop()
        self.events.append(
            {
                "e": "ret",
                "v": encode(result, self.token_in),
                "mut": frame.changes(),
                "out": _clip(out.getvalue()),
            }
        )
        return self.to_checker(result)

    def callback(self, k: int, op: str, args=(), kwargs=None, name=None, value=None):
        """The student's code uses checker object ``k``: recorded, then done with the real one."""
        frame = self.frames[-1] if self.frames else None
        event = {"e": "cb", "op": op, "c": k, "mut": frame.changes() if frame else []}
        if op == "call":
            event.update(args=encode(args, self.token_in), kw=encode(kwargs or {}, self.token_in))
        else:
            event["name"] = name
        if op == "setattr":
            event["v"] = encode(value, self.token_in)
        self.events.append(event)
        target = self.callbacks[k]
        try:
            if op == "call":
                result = target(
                    *[self.to_checker(a) for a in args],
                    **{key: self.to_checker(v) for key, v in (kwargs or {}).items()},
                )
            elif op == "getattr":
                result = getattr(target, name)
            else:
                result = setattr(target, name, self.to_checker(value))
        except BaseException as exc:
            self.events.append({"e": "cbend", "raised": type(exc).__name__})
            raise
        self.events.append({"e": "cbend", "raised": None, "v": encode(result, self.token_out)})
        return self.to_student(result)


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
    """A checker object as the student's code sees it: public attributes, read and set."""

    __slots__ = ("_rec", "_k", "_target")

    def __init__(self, recorder: Recorder, k: int, target):
        object.__setattr__(self, "_rec", recorder)
        object.__setattr__(self, "_k", k)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name):
        if not public(name):
            raise AttributeError(f"the grader's object has no attribute {name!r} for you")
        return self._rec.callback(self._k, "getattr", name=name)

    def __setattr__(self, name, value):
        if not public(name):
            raise AttributeError(f"the grader's object has no attribute {name!r} for you")
        self._rec.callback(self._k, "setattr", name=name, value=value)

    def __repr__(self) -> str:
        return repr(self._target)


class _CallableCheckerProxy(_CheckerProxy):
    """A checker function as the student's code sees it: each call is recorded, then made."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        return self._rec.callback(self._k, "call", args, kwargs)

    @property
    def __name__(self) -> str:
        return _name(self._target) or type(self._target).__name__


def record_test(grade_id: str, nonce: str, source: str, names: list[str], user: dict) -> dict:
    """Run a test's source against the namespace ``user`` with ``names`` recorded: the record.

    What the test defines stays defined in ``user``, as it would in a notebook. The test's own
    outcome is not part of the record: the trusted side decides it.
    """
    rec = Recorder()
    env = dict(user)
    bindings = {}
    for name in names:
        if name in user:
            try:
                bindings[name] = encode(user[name], rec.token_in)
            except Exception:  # noqa: BLE001 - an object that cannot be read is not plain data
                bindings[name] = {"$u": "unreadable"}
            env[name] = rec.to_checker(user[name])
        else:
            bindings[name] = {"$missing": True}
            env.pop(name, None)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"<test {grade_id}>", "exec"), env)  # noqa: S102 - the test
    except (Exception, SystemExit):  # noqa: BLE001 - a failing check is decided elsewhere
        pass
    finally:
        record = {
            "v": VERSION,
            "grade_id": grade_id,
            "nonce": nonce,
            "names": bindings,
            "events": rec.events,
        }
        for key, value in env.items():
            if key not in names and not key.startswith("__") and user.get(key) is not value:
                user[key] = value
    return record
