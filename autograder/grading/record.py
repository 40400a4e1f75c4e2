"""What crosses between a test and the student's objects, as plain data: the record.

Batch grading runs each graded test cell twice. In the student's kernel (untrusted) the test
source runs with the student's names wrapped by recording proxies (:func:`run_recorded`);
every call the checker makes into a student object is written down in order - the arguments'
fingerprint, what came back (or the exception), the arrays the call changed in place, the
checker's callables the student invoked on the way. The record leaves the kernel as one
display output of type :data:`MIME`. The grading worker then runs the same source again with
the real course modules (:mod:`.trusted`) and replays the record; the points are decided there.

This module is both imported by the trusted side (the codec: :func:`encode`, :func:`decode`,
:func:`same`) and shipped as source into every kernel (:func:`kernel_source`), so it imports
nothing but the standard library and, lazily, numpy and sympy. Nothing here is trusted when it
runs in the kernel: the student may change any of it, and a changed record only fails a test.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import io
import json
import math
import sys
from typing import Any

MIME = "application/vnd.autograder.record+json"
VERSION = 1
MAX_DEPTH = 24  # deeper values are "unsupported": a record is data, not an object graph
MAX_TEXT = 20_000  # printed output and exception messages kept per call
WATCH_DEPTH = 3  # arrays nested this deep in the arguments are watched for in-place changes
_NUMERIC_KINDS = "biufc"
_SYMPY_SINGLETONS = (
    "Zero One NegativeOne Half Pi Exp1 ImaginaryUnit Infinity NegativeInfinity ComplexInfinity "
    "NaN EulerGamma GoldenRatio Catalan TribonacciConstant EmptySet true false"
).split()


# --------------------------------------------------------------------------- encoding


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode(value: Any, token, depth: int = 0) -> Any:
    """``value`` as JSON-able plain data; ``token(obj)`` encodes a callable (a handle or id).

    Subclasses of the built-in types are encoded as their base value, so an object that claims
    to equal everything arrives as the plain number, string or list it really holds.
    """
    if depth > MAX_DEPTH:
        return {"$u": "nested too deep"}
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value
    if t is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    if t is complex:
        return {"$c": [encode(value.real, token), encode(value.imag, token)]}
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return _encode_array(value, np)
    if np is not None and isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return {"$ns": value.dtype.str, "b64": _b64(value.tobytes())}
    if isinstance(value, bool):
        return builtins.bool(value)
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return encode(float.__float__(value), token)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, tuple):
        return {"$t": [encode(v, token, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [encode(v, token, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        items = dict.items(value)
        return {
            "$d": [[encode(k, token, depth + 1), encode(v, token, depth + 1)] for k, v in items]
        }
    if isinstance(value, (set, frozenset)):
        members = sorted(
            (encode(v, token, depth + 1) for v in value),
            key=lambda e: json.dumps(e, sort_keys=True),
        )
        return {"$fs" if isinstance(value, frozenset) else "$set": members}
    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(value, sympy.Basic):
        return _encode_sympy(value, sympy, token, depth)
    if callable(value) and not isinstance(value, type):
        return token(value)
    return {"$u": t.__name__}


def _encode_array(value, np) -> Any:
    if value.dtype.kind not in _NUMERIC_KINDS:
        return {"$u": f"array of dtype {value.dtype}"}
    base = np.ascontiguousarray(value)
    return {"$nd": base.dtype.str, "shape": list(base.shape), "b64": _b64(base.tobytes())}


def _encode_sympy(value, sympy, token, depth: int) -> Any:
    name = type(value).__name__
    if isinstance(value, sympy.Symbol):
        return {"$sym": "Symbol", "name": str(value.name), "assume": dict(value.assumptions0)}
    if isinstance(value, sympy.Integer):
        return {"$sym": "Integer", "p": int(value.p)}
    if isinstance(value, sympy.Rational):
        return {"$sym": "Rational", "p": int(value.p), "q": int(value.q)}
    if isinstance(value, sympy.Float):
        return {"$sym": "Float", "text": str(value), "prec": int(value._prec)}
    if name in _SYMPY_SINGLETONS:
        return {"$sym": name}
    return {"$sym": name, "args": [encode(a, token, depth + 1) for a in value.args]}


# --------------------------------------------------------------------------- decoding


class Unsupported:
    """Stands for a value the record could not carry (an object of the student's own type)."""

    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what} (not plain data)>"


def decode(data: Any, resolve, depth: int = 0) -> Any:
    """The inverse of :func:`encode`; ``resolve(dict)`` turns a handle or callable id back."""
    if depth > MAX_DEPTH + 2:
        raise ValueError("record nested too deep")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, resolve, depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise ValueError(f"not a recorded value: {str(data)[:80]}")
    if "$t" in data:
        return tuple(decode(v, resolve, depth + 1) for v in data["$t"])
    if "$d" in data:
        return {decode(k, resolve, depth + 1): decode(v, resolve, depth + 1) for k, v in data["$d"]}
    if "$set" in data or "$fs" in data:
        kind = frozenset if "$fs" in data else set
        return kind(decode(v, resolve, depth + 1) for v in data.get("$set", data.get("$fs")))
    if "$f" in data:
        return float({"inf": "inf", "-inf": "-inf", "nan": "nan"}[data["$f"]])
    if "$c" in data:
        re_, im = (decode(v, resolve, depth + 1) for v in data["$c"])
        return complex(float(re_), float(im))
    if "$nd" in data or "$ns" in data:
        return _decode_numeric(data)
    if "$sym" in data:
        return _decode_sympy(data, resolve, depth)
    if "$u" in data:
        return Unsupported(str(data["$u"]))
    return resolve(data)


def _decode_numeric(data: dict) -> Any:
    import numpy as np

    dtype = np.dtype(str(data.get("$nd") or data.get("$ns")))
    if dtype.kind not in _NUMERIC_KINDS:
        raise ValueError(f"not a numeric dtype: {dtype}")
    raw = base64.b64decode(str(data["b64"]), validate=True)
    if "$ns" in data:
        return np.frombuffer(raw, dtype=dtype, count=1)[0]
    shape = tuple(int(n) for n in data["shape"])
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _decode_sympy(data: dict, resolve, depth: int) -> Any:
    import sympy

    name = str(data["$sym"])
    if name == "Symbol":
        assume = {str(k): bool(v) for k, v in dict(data.get("assume", {})).items()}
        return sympy.Symbol(str(data["name"]), **assume)
    if (
        name in ("Integer", "Rational")
        and max(abs(int(data["p"])), abs(int(data.get("q", 1)))) > 10**60
    ):
        return Unsupported("a SymPy number too large to check")
    if name == "Integer":
        return sympy.Integer(int(data["p"]))
    if name == "Rational":
        return sympy.Rational(int(data["p"]), int(data["q"]))
    if name == "Float":
        return sympy.Float(str(data["text"])[:100], precision=min(int(data["prec"]), 3000))
    if name in _SYMPY_SINGLETONS:
        return getattr(sympy.S, name)
    cls = getattr(sympy, name, None)
    if not (isinstance(cls, type) and issubclass(cls, sympy.Basic)):
        return Unsupported(f"sympy {name}")
    args = [decode(a, resolve, depth + 1) for a in data.get("args", [])]
    try:
        return cls(*args, evaluate=False)
    except TypeError:
        return cls(*args)


# --------------------------------------------------------------------------- comparing


def same(a: Any, b: Any) -> bool:
    """Whether two fingerprints agree: exactly, but floats to a relative 1e-12 (BLAS sums)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or (type(a) is type(b) and a == b)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(a, (int, str)) or isinstance(b, (int, str)):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        if "$nd" in a:
            return _same_array(a, b)
        return all(same(a[k], b[k]) for k in a)
    return False


def _same_array(a: dict, b: dict) -> bool:
    if a["$nd"] != b["$nd"] or a["shape"] != b["shape"]:
        return False
    if a["b64"] == b["b64"]:
        return True
    import numpy as np

    x, y = _decode_numeric(a), _decode_numeric(b)
    if x.dtype.kind not in "fc":
        return False
    return bool(np.allclose(x, y, rtol=1e-12, atol=1e-300, equal_nan=True))


# --------------------------------------------------------------------------- the kernel side


def watched_arrays(args: tuple, kwargs: dict) -> list[tuple[list, Any]]:
    """(path, array) for every numpy array in the arguments, to look for in-place changes."""
    np = sys.modules.get("numpy")
    found: list[tuple[list, Any]] = []
    if np is None:
        return found

    def walk(value, path, depth):
        if isinstance(value, np.ndarray):
            found.append((path, value))
        elif depth < WATCH_DEPTH and type(value) in (list, tuple):
            for i, v in enumerate(value):
                walk(v, path + [i], depth + 1)
        elif depth < WATCH_DEPTH and type(value) is dict:
            for k, v in value.items():
                if type(k) is str:
                    walk(v, path + [k], depth + 1)

    for i, v in enumerate(args):
        walk(v, [i], 1)
    for k, v in kwargs.items():
        walk(v, [k], 1)
    return found


class _Frame:
    """One call into a student object: the arrays handed over and their last recorded state."""

    def __init__(self, args: tuple, kwargs: dict):
        self.arrays = watched_arrays(args, kwargs)
        self.sent = [_encode_array(a, sys.modules["numpy"]) for _, a in self.arrays]

    def changes(self) -> list:
        out = []
        np = sys.modules.get("numpy")
        for i, (path, array) in enumerate(self.arrays):
            now = _encode_array(array, np)
            if now != self.sent[i]:
                self.sent[i] = now
                out.append([path, now])
        return out


class Recorder:
    """Kernel side: wraps the student's names, writes every crossing into :attr:`events`."""

    def __init__(self):
        self.events: list[dict] = []
        self.handles: list[Any] = []  # student objects the checker holds, by handle number
        self.handle_of: dict[int, int] = {}
        self.callbacks: list[Any] = []  # checker callables the student holds, by id
        self.callback_of: dict[int, int] = {}
        self.frames: list[_Frame] = []

    # Student -> checker: student callables become handles; checker callables come back as ids.
    def token_in(self, obj) -> dict:
        if isinstance(obj, _CallbackProxy) and obj.recorder is self:
            return {"$cb": obj.number}
        if id(obj) not in self.handle_of:
            self.handle_of[id(obj)] = len(self.handles)
            self.handles.append(obj)
        return {"$h": self.handle_of[id(obj)], "name": _name(obj)}

    # Checker -> student: handles go back as themselves; checker callables get an id.
    def token_out(self, obj) -> dict:
        if isinstance(obj, _HandleProxy) and obj.recorder is self:
            return {"$h": obj.number}
        if id(obj) not in self.callback_of:
            self.callback_of[id(obj)] = len(self.callbacks)
            self.callbacks.append(obj)
        return {"$cb": self.callback_of[id(obj)], "name": _name(obj)}

    def to_checker(self, value):
        """What the kernel's checker receives for a student value: callables wrapped."""
        if isinstance(value, _CallbackProxy):
            return value.target
        if _is_function(value):
            self.token_in(value)
            return _HandleProxy(self, self.handle_of[id(value)], value)
        if type(value) in (list, tuple):
            items = [self.to_checker(v) for v in value]
            if any(x is not y for x, y in zip(items, value)):
                return type(value)(items)
        if type(value) is dict:
            pairs = {k: self.to_checker(v) for k, v in value.items()}
            if any(pairs[k] is not value[k] for k in value):
                return pairs
        return value

    def to_student(self, value):
        """What the student's code receives for a checker value: checker callables wrapped."""
        if isinstance(value, _HandleProxy):
            return value.target
        if _is_function(value):
            self.token_out(value)
            return _CallbackProxy(self, self.callback_of[id(value)], value)
        if type(value) in (list, tuple):
            items = [self.to_student(v) for v in value]
            if any(x is not y for x, y in zip(items, value)):
                return type(value)(items)
        if type(value) is dict:
            pairs = {k: self.to_student(v) for k, v in value.items()}
            if any(pairs[k] is not value[k] for k in value):
                return pairs
        return value


def _is_function(value) -> bool:
    """Callable, and encoded as a handle (not a class, a SymPy object or a numpy value)."""
    if not callable(value) or isinstance(value, type):
        return False
    sympy, np = sys.modules.get("sympy"), sys.modules.get("numpy")
    if sympy is not None and isinstance(value, sympy.Basic):
        return False
    return not (np is not None and isinstance(value, (np.ndarray, np.generic)))


def _name(obj) -> str:
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else type(obj).__name__


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n[cut]"


class _HandleProxy:
    """A student object as the kernel's checker sees it: every call is recorded."""

    def __init__(self, recorder: Recorder, number: int, target):
        self.recorder, self.number, self.target = recorder, number, target
        self.__name__ = _name(target)
        self.__doc__ = getattr(target, "__doc__", None)

    def __call__(self, *args, **kwargs):
        rec = self.recorder
        rec.events.append(
            {
                "e": "call",
                "h": self.number,
                "args": encode(args, rec.token_out),
                "kw": encode(kwargs, rec.token_out),
            }
        )
        args = tuple(rec.to_student(a) for a in args)
        kwargs = {k: rec.to_student(v) for k, v in kwargs.items()}
        frame = _Frame(args, kwargs)
        rec.frames.append(frame)
        out, saved = io.StringIO(), (sys.stdout, sys.stderr)
        sys.stdout = sys.stderr = out
        try:
            result = self.target(*args, **kwargs)
        except BaseException as exc:
            sys.stdout, sys.stderr = saved
            rec.frames.pop()
            rec.events.append(
                {
                    "e": "raise",
                    "type": type(exc).__name__,
                    "base": not isinstance(exc, Exception),
                    "msg": _clip(_safe_str(exc)),
                    "mut": frame.changes(),
                    "out": _clip(out.getvalue()),
                }
            )
            raise
        sys.stdout, sys.stderr = saved
        rec.frames.pop()
        rec.events.append(
            {
                "e": "ret",
                "v": encode(result, rec.token_in),
                "mut": frame.changes(),
                "out": _clip(out.getvalue()),
            }
        )
        return rec.to_checker(result)


def _safe_str(exc) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a message that cannot be shown is still a raise
        return ""


class _CallbackProxy:
    """A checker callable as the student's code sees it: each call is recorded, then made."""

    def __init__(self, recorder: Recorder, number: int, target):
        self.recorder, self.number, self.target = recorder, number, target
        self.__name__ = _name(target)

    def __call__(self, *args, **kwargs):
        rec = self.recorder
        frame = rec.frames[-1] if rec.frames else None
        rec.events.append(
            {
                "e": "cb",
                "c": self.number,
                "args": encode(args, rec.token_in),
                "kw": encode(kwargs, rec.token_in),
                "mut": frame.changes() if frame else [],
            }
        )
        try:
            result = self.target(*args, **kwargs)
        except BaseException as exc:
            rec.events.append({"e": "cbend", "raised": type(exc).__name__})
            raise
        rec.events.append({"e": "cbend", "raised": None})
        return result


def record_test(grade_id: str, nonce: str, source: str, names: list[str], user: dict) -> dict:
    """Run a test's source against the namespace ``user`` with ``names`` recorded: the record.

    What the test defines stays defined in ``user``, as it would in a notebook.
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
    outcome, message, line = "ok", "", None
    filename = f"<test {grade_id}>"
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(source, filename, "exec"), env)  # noqa: S102 - the test itself
    except (Exception, SystemExit) as exc:
        outcome, message = type(exc).__name__, str(exc)[:4000]
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == filename:
                line = tb.tb_lineno
            tb = tb.tb_next
    finally:
        # outcome, message and line are the kernel's own verdict: used only for the tests
        # trusted.KERNEL_JUDGED names, whose checkers the record cannot replay yet.
        record = {
            "v": VERSION,
            "grade_id": grade_id,
            "nonce": nonce,
            "names": bindings,
            "events": rec.events,
            "outcome": outcome,
            "message": message,
            "line": line,
            "printed": printed.getvalue()[:4000],
        }
        for key, value in env.items():
            if key not in names and not key.startswith("__") and user.get(key) is not value:
                user[key] = value
    return record


def run_recorded(grade_id: str, nonce: str, source: str, names: list[str], publish, restore):
    """In the kernel: :func:`record_test` on the notebook's namespace, published as one output."""
    from IPython import get_ipython

    restore()
    record = record_test(grade_id, nonce, source, names, get_ipython().user_ns)
    publish({MIME: json.dumps(record, allow_nan=False)})


def guard():
    """Snapshot, before any student cell, what the kernel's checkers rely on; return restore().

    Only for a faithful recording: a student who patches ``helpers.checks``, numpy, math or
    builtins, swaps a checker's code object, installs an import hook or a trace function,
    would otherwise change which calls the kernel's checker makes, and the record would no
    longer fit the test, costing the points of right answers too. (The verdict never depends on
    this: it is decided on the trusted side.)
    """
    import numpy  # noqa: F401 - snapshotted below

    import helpers.checks  # noqa: F401

    names = [n for n in sys.modules if n == "helpers" or n.startswith("helpers.")]
    names += [
        "builtins",
        "math",
        "numpy",
        "numpy.linalg",
        "numpy.random",
        "importlib",
        "json",
        "io",
    ]
    saved = {n: (sys.modules[n], dict(vars(sys.modules[n]))) for n in names if n in sys.modules}
    codes = []
    for n in names:
        for value in list(saved.get(n, (None, {}))[1].values()):
            members = vars(value).values() if isinstance(value, type) else [value]
            for f in members:
                if type(f).__name__ == "function":
                    codes.append((f, f.__code__, f.__defaults__, f.__kwdefaults__))
    meta_path, path_hooks = list(sys.meta_path), list(sys.path_hooks)
    missing = object()
    import threading

    def restore():
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        sys.meta_path[:] = meta_path
        sys.path_hooks[:] = path_hooks
        for name, (module, attrs) in saved.items():
            sys.modules[name] = module
            current = vars(module)
            for key, value in attrs.items():
                if current.get(key, missing) is not value:
                    setattr(module, key, value)
        for f, code, defaults, kwdefaults in codes:
            if f.__code__ is not code:
                f.__code__ = code
            f.__defaults__, f.__kwdefaults__ = defaults, kwdefaults

    return restore


def install() -> None:
    """Define ``builtins._grader_record_`` (the call the grader makes for each test cell)."""
    from IPython import get_ipython

    restore = guard()
    publish = get_ipython().display_pub.publish  # bound now: a later replacement is not used

    def record(grade_id, nonce, source, names):
        run_recorded(grade_id, nonce, source, names, lambda data: publish(data), restore)

    builtins.__dict__["_grader_record_"] = record


def kernel_source() -> str:
    """This module as code a kernel runs before the notebook: installs ``_grader_record_``."""
    import inspect

    here = inspect.getsource(sys.modules[__name__])
    return (
        "def _grader_install_():\n"
        "    _ns = {'__name__': '_grader_record'}\n"
        f"    exec(compile({here!r}, '<grader record>', 'exec'), _ns)\n"
        "    _ns['install']()\n"
        "_grader_install_()\n"
        "del _grader_install_\n"
    )


def call_expression(grade_id: str, nonce: str, source: str, names: list[str]) -> str:
    """The expression the kernel evaluates in place of a graded test cell.

    It is sent as a user expression of an empty execute request, so IPython's input and AST
    transformers, cell events, custom exception handlers and traceback display never see it;
    the test source travels hex-encoded, so nothing can recognise it by its text.
    """
    return (
        f"__import__('builtins').__dict__['_grader_record_']({grade_id!r}, {nonce!r}, "
        f"bytes.fromhex({source.encode().hex()!r}).decode(), {list(names)!r})"
    )
