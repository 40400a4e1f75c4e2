"""The record package is the one part of the grader that runs in the student's kernel.

It must import nothing but the standard library (numpy and sympy only lazily, when a value is
one of theirs), and the kernel must get exactly its four modules. Checked in a fresh
``python -I -S`` (no site-packages, no environment) with numpy, sympy, IPython and the course
blocked, not stated.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from autograder.grading.record import bootstrap

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "autograder" / "grading" / "record"

BLOCKED = ("numpy", "sympy", "IPython", "helpers", "nbformat", "nbgrader")
PRELUDE = f"""
import importlib.abc, sys
class _Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError("blocked for this test: " + name)
sys.meta_path.insert(0, _Blocked())
sys.path.insert(0, {str(ROOT)!r})
"""


def _isolated(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", PRELUDE + code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_kernel_side_modules_import_with_the_standard_library_only():
    modules = ", ".join(bootstrap.KERNEL_MODULES)
    done = _isolated(f"from autograder.grading.record import {modules}\nprint('ok')")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_kernel_side_answers_a_test_without_numpy():
    # The worker's side played by hand over a socket pair: hello, one call, the end.
    code = """
import json, socket, threading
from autograder.grading.record import bootstrap, protocol, recorder
ours, theirs = socket.socketpair()
user = {"f": lambda x: x * x}
threading.Thread(target=bootstrap.converse, args=(theirs, "n", ["f"], user)).start()
link = recorder.Link(ours)
hello = link.recv()
ours.sendall(protocol.frame({"m": "op", "op": "call", "args": {"$t": [hello["names"]["f"], 3]},
                             "kw": {"$d": []}}))
answer = link.recv()
ours.sendall(protocol.frame({"m": "end"}))
print(json.dumps([hello, answer]))
"""
    done = _isolated(code)
    assert done.returncode == 0, done.stderr
    hello, answer = json.loads(done.stdout)
    assert hello["m"] == "hello" and hello["nonce"] == "n"
    assert hello["names"]["f"]["$h"] == 0 and hello["names"]["f"]["call"] is True
    assert answer["m"] == "ret" and answer["v"] == 9


def _top_level_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_the_kernel_gets_exactly_the_four_modules():
    expected = set().union(
        *(_top_level_names((RECORD / f"{m}.py").read_text()) for m in bootstrap.KERNEL_MODULES)
    )
    code = f"""
ns = {{"__name__": "_grader_record"}}
exec(compile({bootstrap.joined_source()!r}, "<grader record>", "exec"), ns)
print(sorted(k for k in ns if not k.startswith("__")))
"""
    done = _isolated(code)
    assert done.returncode == 0, done.stderr
    defined = set(ast.literal_eval(done.stdout.strip()))
    imported = {"annotations", "Any", "Path", "ast", "base64", "builtins", "io"}
    imported |= {"contextlib", "json", "math", "operator", "socket", "sys", "tracemalloc"}
    assert defined - imported == expected


def test_the_kernel_source_is_the_joined_package_then_install():
    source = bootstrap.kernel_source()
    assert repr(bootstrap.joined_source()) in source
    assert "_ns['install']()" in source
