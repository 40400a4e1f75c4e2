"""What may cross between a test and the student's objects: the operations, the handles, and
the wire.

The trusted side's proxies of student objects are built from this one table
(:func:`handle_bases`), so every implicit protocol call of a checker (``tuple(x)`` asking
``len`` first, ``1.0 / x`` reflected, ``isinstance`` on a class handle) becomes one operation
the kernel performs on the real object. Messages travel as length-prefixed JSON
(:func:`frame`) over the test's Unix socket. Part of the kernel-side record package: standard
library only.
"""

from __future__ import annotations

import json
import math
import operator
import sys
from typing import Any

VERSION = 3

HEADER_BYTES = 4  # a message is its length (big-endian) and then that many bytes of JSON
MAX_MESSAGE = 16_000_000  # bytes of one message; a longer one ends the conversation


_dumps = json.dumps  # bound now: see codec


def frame(message: Any) -> bytes:
    """``message`` as it travels: its length in four bytes, then its JSON."""
    body = _dumps(message, allow_nan=False, separators=(",", ":")).encode()
    if len(body) > MAX_MESSAGE:
        raise ValueError(f"a message of {len(body):,} bytes is over the limit")
    return len(body).to_bytes(HEADER_BYTES, "big") + body


WATCH_DEPTH = 3  # arrays nested this deep in the arguments are watched for in-place changes


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


COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")


# Every operation a checker can apply to a student object, by the name the record uses, with
# what it does in the student's world. A handle's proxy has the special method of each.
OPERATIONS = {
    **_BINARY,
    **{f"i{op}": getattr(operator, f"i{op}") for op in _BINARY},
    "pow": pow,
    "ipow": operator.ipow,
    **_UNARY,
    **{op: getattr(operator, op) for op in COMPARE},
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

    for op in COMPARE:
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
    """(base, callable base) of the proxies of student objects; ``invoke`` asks the kernel."""
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
