"""Installing the recorder in a kernel, and the call the grader makes for each test cell.

Part of the kernel-side record package: standard library only.
"""

from __future__ import annotations

import ast
import builtins
import json
import sys
from pathlib import Path

from .protocol import MIME
from .recorder import record_test

# The kernel-side modules, in the order the kernel runs them (each uses the ones before it).
KERNEL_MODULES = ("codec", "protocol", "recorder", "bootstrap")


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
    """Code a kernel runs before the notebook: the record package, then ``install()``."""
    return (
        "def _grader_install_():\n"
        "    _ns = {'__name__': '_grader_record'}\n"
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
