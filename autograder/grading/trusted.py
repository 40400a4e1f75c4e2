"""The trusted side of batch grading: each test's points are decided here, never in the kernel.

For every graded test cell the grading worker (a process in which no student code has ever
run) executes the instructor's test source - hidden tests included, as the gradebook stores it
- with the course's own modules (:data:`TRUSTED_NAMES`). The names the source takes from the
student's notebook (:func:`student_names`) are bound to what the kernel's record says they
were: plain values by value, functions as :class:`_ReplayHandle` objects that hand back the
recorded results in order. Each call's arguments must match the record; anything that does
not fit - a missing, duplicated, malformed, truncated, extra or out-of-order record - fails the
test with the plain message :data:`NOT_RUN_MESSAGE`, and the instructor's note says what
differed. The checker computes every reference value itself.

The outcome replaces the test cell's outputs (an error for a failure, the ``execute_result``
of ``quiz_score`` for partial credit, nothing for a pass) before nbgrader scores the notebook.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import io
import json
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from . import record as rec
from .status import STOPPED, GraderErrorName, Status

# Names a test source may read that the trusted side binds itself (the course's own modules),
# whatever the student's notebook says they are. Every other free name comes from the record.
TRUSTED_NAMES = {
    "np": "numpy",
    "numpy": "numpy",
    "math": "math",
    "helpers": "helpers",
    "sympy": "sympy",
    "sp": "sympy",
}
NOT_RUN_ENAME = GraderErrorName.NOT_RUN_AS_WRITTEN
NOT_RUN_MESSAGE = "this test did not run as written"


class NotRunAsWritten(BaseException):
    """The record does not fit the test (a BaseException: no checker may catch it)."""


class TrustedTimeout(BaseException):
    """A test ran longer on the trusted side than a cell may run in the kernel."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Stop a test that runs too long here (a record may hold values a checker chokes on)."""
    import signal
    import threading

    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise TrustedTimeout(f"the test ran longer than {seconds:g} s on the trusted side")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def warm() -> None:
    """Import the course modules the tests use now (a worker does it while its kernel boots)."""
    for module in ("numpy", "helpers", "helpers.checks", "sympy"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def student_names(source: str) -> list[str]:
    """The free names a test source reads from the student's notebook, sorted."""
    tree = ast.parse(source)
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return sorted(loaded - bound - set(TRUSTED_NAMES) - set(dir(builtins)))


# --------------------------------------------------------------------------- replay


def _name(obj: Any) -> str:
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else type(obj).__name__


class _Replay:
    """The recorded events of one test cell, handed out in order."""

    def __init__(self, events: list):
        self.events, self.pos = events, 0
        self.handles: list[_ReplayHandle] = []
        self.callbacks: list[Any] = []
        self.callback_of: dict[int, int] = {}
        self.raised: dict[str, BaseException] = {}  # by type name: what a callback raised
        self.broken: str = ""

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
        if isinstance(obj, _ReplayHandle) and obj.replay is self:
            return {"$h": obj.number}
        if id(obj) not in self.callback_of:
            self.callback_of[id(obj)] = len(self.callbacks)
            self.callbacks.append(obj)
        return {"$cb": self.callback_of[id(obj)], "name": _name(obj)}

    def resolve(self, data: dict) -> Any:
        if "$h" in data and isinstance(data["$h"], int):
            n = data["$h"]
            if n == len(self.handles):
                self.handles.append(_ReplayHandle(self, n, str(data.get("name", "function"))))
            if 0 <= n < len(self.handles):
                return self.handles[n]
        if (
            "$cb" in data
            and isinstance(data["$cb"], int)
            and 0 <= data["$cb"] < len(self.callbacks)
        ):
            return self.callbacks[data["$cb"]]
        self.fail(f"the record names an object it never introduced: {str(data)[:80]}")

    def decode(self, data: Any) -> Any:
        try:
            return rec.decode(data, self.resolve)
        except NotRunAsWritten:
            raise
        except Exception as exc:  # noqa: BLE001 - any undecodable value is a malformed record
            self.fail(f"a recorded value cannot be read: {type(exc).__name__}: {exc}")


def _apply(replay: _Replay, arrays: list, changes: Any) -> None:
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


def _exception(replay: _Replay, ev: dict) -> BaseException:
    name = str(ev.get("type", "Exception"))
    if name in replay.raised:  # a checker callable's own exception, passed through
        return replay.raised[name]
    msg = str(ev.get("msg", ""))
    cls = getattr(builtins, name, None)
    base = bool(ev.get("base"))
    if (
        isinstance(cls, type)
        and issubclass(cls, BaseException)
        and (issubclass(cls, Exception) != base)
    ):
        with contextlib.suppress(Exception):
            return cls(msg) if msg else cls()
    return type(name, (BaseException if base else Exception,), {})(msg)


class _ReplayHandle:
    """A student object on the trusted side: calls return what the kernel recorded."""

    def __init__(self, replay: _Replay, number: int, name: str):
        self.replay, self.number, self.__name__ = replay, number, name

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        replay = self.replay
        ev = replay.next()
        what = f"call {replay.pos} ({self.__name__})"
        if ev.get("e") != "call" or ev.get("h") != self.number:
            replay.fail(f"{what}: the record has {str(ev.get('e'))!r} of another object here")
        if not rec.same(rec.encode(args, replay.token_out), ev.get("args")) or not rec.same(
            rec.encode(kwargs, replay.token_out), ev.get("kw")
        ):
            replay.fail(f"{what}: the recorded arguments differ from the test's")
        arrays = rec.watched_arrays(args, kwargs)
        while True:
            ev = replay.next()
            kind = ev.get("e")
            if kind == "cb":
                self._callback(ev, arrays)
                continue
            if kind not in ("ret", "raise"):
                replay.fail(f"{what}: unexpected event {str(kind)!r}")
            _apply(replay, arrays, ev.get("mut", []))
            if ev.get("out"):
                sys.stdout.write(str(ev["out"]))
            if kind == "raise":
                raise _exception(replay, ev)
            return replay.decode(ev.get("v"))

    def _callback(self, ev: dict, arrays: list) -> None:
        """The student called one of the checker's callables: make the same call here."""
        replay = self.replay
        _apply(replay, arrays, ev.get("mut", []))
        c = ev.get("c")
        if not (isinstance(c, int) and 0 <= c < len(replay.callbacks)):
            replay.fail("the record calls a checker function it was never given")
        args = replay.decode(ev.get("args"))
        kwargs = replay.decode(ev.get("kw"))
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            replay.fail("a recorded callback has malformed arguments")
        raised = None
        try:
            replay.callbacks[c](*args, **kwargs)
        except NotRunAsWritten:
            raise
        except BaseException as exc:  # noqa: BLE001 - the student's code may have caught it
            raised = type(exc).__name__
            replay.raised[raised] = exc
        end = replay.next()
        if end.get("e") != "cbend" or end.get("raised") != raised:
            replay.fail("a checker function the student called behaved differently in the kernel")


# --------------------------------------------------------------------------- one test cell


@dataclass
class Judged:
    """A test cell's trusted outcome: its outputs, and a note for the instructor if any."""

    outputs: list[dict[str, Any]]
    note: str = ""
    seconds: float = 0.0
    passed: bool = field(default=False)
    answers: dict[str, bool | None] = field(default_factory=dict)  # a quiz's, from the record


def _error(ename: str, evalue: str, line: int | None) -> dict[str, Any]:
    where = [f"Cell In[1], line {line}"] if line else []
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"{ename}  Traceback (most recent call last)", *where, f"{ename}: {evalue}"],
    }


def _cell_line(tb, filename: str) -> int | None:
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            return tb.tb_lineno
        tb = tb.tb_next
    return None


def parse_record(texts: list[str], grade_id: str, nonce: str, names: list[str]) -> dict:
    """The one record of a test cell, checked for shape; NotRunAsWritten says what is wrong."""
    if not texts:
        raise NotRunAsWritten("the kernel sent no record (or one over the size limit)")
    mine = []
    for text in texts:
        try:
            data = json.loads(text) if isinstance(text, str) else None
        except (ValueError, RecursionError):
            raise NotRunAsWritten("the record is not valid JSON (malformed or cut)") from None
        if not isinstance(data, dict) or data.get("v") != rec.VERSION:
            raise NotRunAsWritten("the record is not a record of this grader")
        if data.get("nonce") == nonce and data.get("grade_id") == grade_id:
            mine.append(data)
    if len(mine) != 1:
        raise NotRunAsWritten(f"{len(mine)} records for this cell instead of one")
    data = mine[0]
    if not isinstance(data.get("events"), list) or not isinstance(data.get("names"), dict):
        raise NotRunAsWritten("the record has no events or names")
    if sorted(data["names"]) != sorted(names):
        raise NotRunAsWritten("the record binds other names than the test reads")
    return data


# Tests whose checkers hand student code the checker's own objects, or build the student's
# class and read its instances (Lesson 07's engine): the record cannot carry those objects
# yet, so their verdict is the one the student's kernel reports - forgeable, and said so in
# the instructor's detail. Every other test is replayed here.
KERNEL_JUDGED = frozenset(
    {"test_topological_order", "test_Value", "test_autodiff_gradient", "test_zero_grad"}
)
KERNEL_JUDGED_NOTE = (
    "judged in the student's kernel, not replayed (its checker passes objects the record "
    "cannot carry yet): a determined student could forge this verdict"
)


def kernel_verdict(data: dict) -> Judged:
    """The outcome the kernel's record reports, for a test in :data:`KERNEL_JUDGED`."""
    outcome, message, line = data.get("outcome"), data.get("message"), data.get("line")
    if not isinstance(outcome, str) or not isinstance(message, str):
        return Judged([_error(NOT_RUN_ENAME, NOT_RUN_MESSAGE, None)], "the record has no outcome")
    if not isinstance(line, int) or isinstance(line, bool):
        line = None
    printed = data.get("printed")
    out = io.StringIO(printed if isinstance(printed, str) else "")
    if outcome == "ok":
        return Judged(_stream(out), KERNEL_JUDGED_NOTE, passed=True)
    return Judged(_stream(out) + [_error(outcome, message, line)], KERNEL_JUDGED_NOTE)


def run_test(source: str, grade_id: str, names: list[str], data: dict) -> Judged:
    """Execute ``source`` here with the student's names bound from the record ``data``."""
    filename = f"<test {grade_id}>"
    replay = _Replay(data["events"])
    ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    out = io.StringIO()
    outputs: list[dict[str, Any]] = []
    try:
        tree = ast.parse(source, filename)
        read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        for name, module in TRUSTED_NAMES.items():
            if name in read:
                ns[name] = importlib.import_module(module)
        for name in names:
            value = data["names"][name]
            if not (isinstance(value, dict) and value.get("$missing")):
                ns[name] = replay.decode(value)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(compile(tree, filename, "exec"), ns)  # noqa: S102 - the instructor's test
            value = (
                eval(compile(ast.Expression(last.value), filename, "eval"), ns)  # noqa: S307
                if last is not None
                else None
            )
        if replay.broken or replay.pos != len(replay.events):
            replay.fail(
                replay.broken or f"{len(replay.events) - replay.pos} recorded events left over"
            )
    except NotRunAsWritten as exc:
        return Judged(_stream(out) + [_error(NOT_RUN_ENAME, NOT_RUN_MESSAGE, None)], str(exc))
    except TrustedTimeout:
        raise
    except BaseException as exc:  # noqa: BLE001 - a failing check is the test's verdict
        if replay.broken:
            return Judged(
                _stream(out) + [_error(NOT_RUN_ENAME, NOT_RUN_MESSAGE, None)], replay.broken
            )
        line = _cell_line(exc.__traceback__, filename)
        return Judged(_stream(out) + [_error(type(exc).__name__, str(exc), line)])
    outputs = _stream(out)
    if value is not None:
        outputs.append(
            {
                "output_type": "execute_result",
                "execution_count": None,
                "data": {"text/plain": repr(value)},
                "metadata": {},
            }
        )
    return Judged(outputs, passed=True)


def _stream(out: io.StringIO) -> list[dict[str, Any]]:
    text = out.getvalue()
    return [{"output_type": "stream", "name": "stdout", "text": text}] if text else []


# --------------------------------------------------------------------------- a notebook


# Executor statuses (see execute.py) after which the executor's own error output stands.
_LIMIT_STATUSES = STOPPED | {Status.NOT_RUN}


@dataclass(frozen=True)
class Judgement:
    """What judging a notebook's tests leaves for the outcome record."""

    notes: tuple[str, ...]  # one line per test that did not run as written
    seconds: float  # the trusted phase's time for this notebook
    # quiz test grade id -> item name -> the student's True/False (None: not a bool), as the
    # record carried it: the feedback page marks each item from these, not from the kernel.
    quiz_answers: dict[str, dict[str, bool | None]] = field(default_factory=dict)


def recording_run(tests: dict[str, str], nonces: dict[int, str]):
    """The executor's ``test_code``: a test cell runs as the recorder's call, with a new nonce."""
    import secrets

    def stand_in(index: int, cell: Any) -> str | None:
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if cell.get("cell_type") != "code" or gid not in tests:
            return None
        nonces[index] = secrets.token_hex(8)
        names = student_names(tests[gid])
        return rec.call_expression(gid, nonces[index], cell.get("source", ""), names)

    return stand_in


def judge_notebook(
    nb: dict[str, Any],
    runs: list[Any],
    tests: dict[str, str],
    nonces: dict[int, str],
    seconds: float = 60.0,
) -> Judgement:
    """Replace every test cell's outputs by its trusted outcome; say what the instructor must know.

    ``runs`` are the executor's per-cell records, ``tests`` the instructor's test source per
    grade id, ``nonces`` the nonce each test cell was run with in the kernel.
    """
    import nbformat

    started = time.monotonic()
    status = {r.index: r.status for r in runs}
    notes, answers = [], {}
    for index, cell in enumerate(nb["cells"]):
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if cell.get("cell_type") != "code" or gid not in tests:
            continue
        outputs = cell.get("outputs", [])
        texts = [
            o["data"][rec.MIME]
            for o in outputs
            if o.get("output_type") == "display_data" and rec.MIME in (o.get("data") or {})
        ]
        if status.get(index) in _LIMIT_STATUSES:
            cell["outputs"] = [o for o in outputs if rec.MIME not in (o.get("data") or {})]
            continue
        judged = judge_cell(
            tests[gid], gid, texts, nonces.get(index, ""), status.get(index), seconds
        )
        if judged.note == KERNEL_JUDGED_NOTE:
            notes.append(f"test '{gid}': {judged.note}")
        elif judged.note:
            notes.append(f"test '{gid}': {NOT_RUN_MESSAGE}: {judged.note}")
        cell["outputs"] = [nbformat.from_dict(o) for o in judged.outputs]
        if judged.answers:
            answers[gid] = judged.answers
    return Judgement(tuple(notes), time.monotonic() - started, answers)


def judge_cell(
    source: str, gid: str, texts: list[str], nonce: str, status: str | None, seconds: float = 60.0
) -> Judged:
    """The trusted outcome of one test cell from the kernel's record texts."""
    t0 = time.monotonic()
    names = student_names(source)
    try:
        if status == Status.ERROR:
            raise NotRunAsWritten("the kernel reported an error for the cell")
        data = parse_record(texts, gid, nonce, names)
    except NotRunAsWritten as exc:
        judged = Judged([_error(NOT_RUN_ENAME, NOT_RUN_MESSAGE, None)], str(exc))
    else:
        try:
            with _time_limit(seconds):
                if gid in KERNEL_JUDGED:
                    judged = kernel_verdict(data)
                else:
                    judged = run_test(source, gid, names, data)
        except TrustedTimeout as exc:
            judged = Judged([_error(GraderErrorName.TIMEOUT, str(exc), None)], str(exc))
        if QUIZ_TEST.match(gid):
            judged.answers = quiz_answers(data, names)
    judged.seconds = time.monotonic() - t0
    return judged


QUIZ_TEST = re.compile(r"^test_quiz_\d\d$")


def quiz_answers(data: dict, names: list[str]) -> dict[str, bool | None]:
    """Each quiz name's recorded value if it is a bool (numpy's too), else None."""
    import numpy as np

    out: dict[str, bool | None] = {}
    for name in names:
        try:
            value = rec.decode(data["names"][name], lambda _: None)
        except Exception:  # noqa: BLE001 - an unreadable value is not an answer
            value = None
        out[name] = bool(value) if isinstance(value, (bool, np.bool_)) else None
    return out
