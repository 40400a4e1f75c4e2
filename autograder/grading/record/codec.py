"""The record's values as plain JSON data: encode, decode and compare (both sides).

Part of the kernel-side record package: shipped as source into every kernel
(:func:`.bootstrap.kernel_source`), so it imports nothing but the standard library and, lazily,
numpy and sympy.
"""

from __future__ import annotations

import base64
import builtins
import json
import math
import sys
from typing import Any

MAX_DEPTH = 24  # deeper values are "unsupported": a record is data, not an object graph


_NUMERIC_KINDS = "biufc"


_SYMPY_SINGLETONS = (
    "Zero One NegativeOne Half Pi Exp1 ImaginaryUnit Infinity NegativeInfinity ComplexInfinity "
    "NaN EulerGamma GoldenRatio Catalan TribonacciConstant EmptySet true false"
).split()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Types whose values cross as data (their subclasses too, as the base value); bytes-like
# values are data the record does not carry ("unsupported"). Everything else is an object.
_DATA_TYPES = (bool, int, float, complex, str, tuple, list, dict, set, frozenset, slice)


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
        return encode_array(value, np)
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
    if issubclass(t, slice):  # an index the checker hands over (Lesson 06's locate)
        parts = (value.start, value.stop, value.step)
        return {"$sl": [encode(v, token, depth + 1) for v in parts]}
    sympy = sys.modules.get("sympy")
    if sympy is not None and issubclass(t, sympy.Basic):
        return _encode_sympy(value, sympy, token, depth)
    return {"$u": t.__name__}


def encode_array(value, np) -> Any:
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
    if "$sl" in data:
        return slice(*(decode(v, resolve, depth + 1) for v in data["$sl"]))
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
