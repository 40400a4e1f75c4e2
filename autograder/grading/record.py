"""What crosses between a test and the student's objects, as plain data: the record.

Batch grading runs each graded test cell twice. In the student's kernel (untrusted) the test
source runs with the student's names wrapped by recording proxies (:func:`run_recorded`);
every interaction of the checker with a student object is written down in order - a call, an
attribute read, an operator, ``isinstance`` against a student class: the operands' fingerprint,
what came back (or the exception), the arrays the call changed in place - and so is every
interaction of the student's code with the checker's objects (calls, attribute reads and
writes). Student objects that are not plain data travel as handles (``{"$h": n}``), the
checker's objects as ids in order of crossing (``{"$co": k}``). The record leaves the kernel as one
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
import operator
import sys
from typing import Any

MIME = "application/vnd.autograder.record+json"
VERSION = 2
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


# Types whose values cross as data (their subclasses too, as the base value); bytes-like
# values are data the record does not carry ("unsupported"). Everything else is an object.
_DATA_TYPES = (bool, int, float, complex, str, tuple, list, dict, set, frozenset)
_OPAQUE_TYPES = (bytes, bytearray, memoryview)


def is_object(value: Any) -> bool:
    """Whether ``value`` crosses as an object (a handle or a checker object id), not as data.

    Decided by ``type(value)`` alone, which the value cannot fake (``__class__`` can be).
    """
    t = type(value)
    if value is None or issubclass(t, _DATA_TYPES) or issubclass(t, _OPAQUE_TYPES):
        return False
    np = sys.modules.get("numpy")
    if np is not None and issubclass(t, (np.ndarray, np.generic)):
        return False
    sympy = sys.modules.get("sympy")
    return not (sympy is not None and issubclass(t, sympy.Basic))


def encode(value: Any, token, depth: int = 0) -> Any:
    """``value`` as JSON-able plain data; ``token(obj)`` encodes an object (a handle or id).

    Subclasses of the built-in types are encoded as their base value, so an object that claims
    to equal everything arrives as the plain number, string or list it really holds.
    """
    if depth > MAX_DEPTH:
        return {"$u": "nested too deep"}
    if is_object(value):
        return token(value)
    t = type(value)
    if value is None or t is bool or t is str or t is int:
        return value
    if t is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    if t is complex:
        return {"$c": [encode(value.real, token), encode(value.imag, token)]}
    np = sys.modules.get("numpy")
    if np is not None and issubclass(t, np.ndarray):
        return _encode_array(value, np)
    if np is not None and issubclass(t, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return {"$ns": value.dtype.str, "b64": _b64(value.tobytes())}
    if issubclass(t, bool):
        return builtins.bool(value)
    if issubclass(t, int):
        return int.__index__(value)
    if issubclass(t, float):
        return encode(float.__float__(value), token)
    if issubclass(t, complex):
        return encode(complex(complex.__complex__(value)), token)
    if issubclass(t, str):
        return str.__str__(value)
    if issubclass(t, tuple):
        return {"$t": [encode(v, token, depth + 1) for v in tuple.__iter__(value)]}
    if issubclass(t, list):
        return [encode(v, token, depth + 1) for v in list.__iter__(value)]
    if issubclass(t, dict):
        items = dict.items(value)
        return {
            "$d": [[encode(k, token, depth + 1), encode(v, token, depth + 1)] for k, v in items]
        }
    if issubclass(t, (set, frozenset)):
        members = sorted(
            (encode(v, token, depth + 1) for v in value),
            key=lambda e: json.dumps(e, sort_keys=True),
        )
        return {"$fs" if issubclass(t, frozenset) else "$set": members}
    sympy = sys.modules.get("sympy")
    if sympy is not None and issubclass(t, sympy.Basic):
        return _encode_sympy(value, sympy, token, depth)
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


def skeleton(data: Any) -> Any:
    """An encoded value without its floating-point numbers: types, shapes, handles and ids.

    What the trusted side compares where only the structure matters (a callback's result,
    which the worker never uses but whose objects it must number alike), so that rounding
    in a reference computation never fails an honest record.
    """
    if isinstance(data, float) or (isinstance(data, dict) and "$f" in data):
        return "float"
    if isinstance(data, list):
        return [skeleton(v) for v in data]
    if isinstance(data, dict):
        if "$nd" in data or "$ns" in data:
            return {k: v for k, v in data.items() if k != "b64"}
        return {k: skeleton(v) for k, v in data.items()}
    return data


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


# --------------------------------------------------------------------------- handles


def _call(fn, *args, **kwargs):
    return fn(*args, **kwargs)


_BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "matmul": operator.matmul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "lshift": operator.lshift,
    "rshift": operator.rshift,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
}
_UNARY = {
    "neg": operator.neg,
    "pos": operator.pos,
    "abs": operator.abs,
    "invert": operator.invert,
    "float": float,
    "int": int,
    "complex": complex,
    "index": operator.index,
    "bool": operator.truth,
    "len": len,
    "iter": iter,
    "next": next,
    "reversed": reversed,
    "repr": repr,
    "str": str,
    "trunc": math.trunc,
    "floor": math.floor,
    "ceil": math.ceil,
}
_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
# Every operation a checker can apply to a student object, by the name the record uses, with
# what it does in the student's world. A handle's proxy has the special method of each.
OPERATIONS = {
    **_BINARY,
    **{f"i{op}": getattr(operator, f"i{op}") for op in _BINARY},
    "pow": pow,
    "ipow": operator.ipow,
    **_UNARY,
    **{op: getattr(operator, op) for op in _COMPARE},
    "round": round,
    "format": format,
    "contains": operator.contains,
    "getitem": operator.getitem,
    "setitem": operator.setitem,
    "delitem": operator.delitem,
    "getattr": getattr,
    "setattr": setattr,
    "delattr": delattr,
    "isinstance": isinstance,
    "issubclass": issubclass,
    "call": _call,
}
# What an operation must give back (Python insists on most of these; a record must too).
RESULT_TYPES = {
    "bool": bool,
    "isinstance": bool,
    "issubclass": bool,
    "contains": bool,
    "len": int,
    "index": int,
    "int": int,
    "float": float,
    "complex": complex,
    "repr": str,
    "str": str,
    "format": str,
}


def _special_methods(invoke) -> dict:
    """The special methods of a handle's proxy, each one ``invoke(proxy, op, operands, kw)``."""
    methods: dict = {}

    def binary(op):
        def forward(self, other, *mod):
            return invoke(self, "pow" if op == "pow" else op, (self, other, *mod), {})

        def reflected(self, other, *mod):
            return invoke(self, op, (other, self, *mod), {})

        def in_place(self, other):
            return invoke(self, f"i{op}", (self, other), {})

        return forward, reflected, in_place

    for op in (*_BINARY, "pow"):
        methods[f"__{op}__"], methods[f"__r{op}__"], methods[f"__i{op}__"] = binary(op)

    def unary(op):
        return lambda self: invoke(self, op, (self,), {})

    for op in _UNARY:
        methods[f"__{op}__"] = unary(op)

    def compare(op):
        return lambda self, other: invoke(self, op, (self, other), {})

    for op in _COMPARE:
        methods[f"__{op}__"] = compare(op)
    methods.update(
        __round__=lambda self, *n: invoke(self, "round", (self, *n), {}),
        __format__=lambda self, spec: invoke(self, "format", (self, spec), {}),
        __contains__=lambda self, item: invoke(self, "contains", (self, item), {}),
        __getitem__=lambda self, key: invoke(self, "getitem", (self, key), {}),
        __setitem__=lambda self, key, v: invoke(self, "setitem", (self, key, v), {}),
        __delitem__=lambda self, key: invoke(self, "delitem", (self, key), {}),
        __setattr__=lambda self, name, v: invoke(self, "setattr", (self, name, v), {}),
        __delattr__=lambda self, name: invoke(self, "delattr", (self, name), {}),
        __instancecheck__=lambda self, obj: invoke(self, "isinstance", (obj, self), {}),
        __subclasscheck__=lambda self, cls: invoke(self, "issubclass", (cls, self), {}),
        __hash__=object.__hash__,  # identity, never the student's __hash__
    )

    def getattribute(self, name):
        if name == "__class__":
            return type(self)
        if name == "__name__":  # carried by the handle itself (checkers name functions)
            known = object.__getattribute__(self, "_name")
            if known is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute '__name__'")
            return known
        return invoke(self, "getattr", (self, name), {})

    methods["__getattribute__"] = getattribute
    return methods


def handle_bases(invoke) -> tuple[type, type]:
    """(base, callable base) of the proxies of student objects; ``invoke`` records or replays.

    Both sides build their proxies from this one table, so Python's implicit protocol calls
    (``tuple(x)`` asking ``len`` first, ``1.0 / x`` reflected, ``isinstance`` on a class
    handle) reach the same operations in the kernel and on the trusted side.
    """
    base = type("StudentObject", (), {"__slots__": ("_state", "_name")})
    for name, method in _special_methods(invoke).items():
        setattr(base, name, method)
    callable_base = type(
        "StudentCallable",
        (base,),
        {"__slots__": (), "__call__": lambda self, *a, **k: invoke(self, "call", (self, *a), k)},
    )
    return base, callable_base


def make_handle(bases: tuple[type, type], cache: dict, token: dict, state) -> Any:
    """A proxy for the handle ``token``: its class is named after the student object's type."""
    kind = token.get("type")
    kind = kind[:100] if isinstance(kind, str) and kind.isidentifier() else "object"
    is_callable = token.get("call") is True
    if (kind, is_callable) not in cache:
        cache[kind, is_callable] = type(kind, (bases[is_callable],), {"__slots__": ()})
    proxy = object.__new__(cache[kind, is_callable])
    name = token.get("name")
    object.__setattr__(proxy, "_state", state)
    object.__setattr__(proxy, "_name", name[:200] if isinstance(name, str) else None)
    return proxy


def state_of(proxy: Any, bases: tuple[type, type]) -> Any:
    """The state of a handle's proxy built on ``bases``, or None for anything else."""
    if issubclass(type(proxy), bases[0]):
        return object.__getattribute__(proxy, "_state")
    return None


PUBLIC_NAME = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def public(name: Any) -> bool:
    """An attribute name the student's code may read or set on a checker object."""
    return type(name) is str and name[:1] in PUBLIC_NAME and name.isidentifier()


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
