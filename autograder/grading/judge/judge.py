"""The trusted side of batch grading: each test's points are decided here, never in the kernel.

For every graded test cell the grading worker (a process in which no student code has ever
run) executes the instructor's test source - hidden tests included, as the gradebook stores it
- with the course's own modules (:data:`TRUSTED_NAMES`). The names the source takes from the
student's notebook (:func:`student_names`) are bound to what the kernel's record says they
were: plain values by value, student objects (functions, classes, instances) as replay
proxies that hand back the recorded results in order; when the record says the student's code
used one of the checker's objects, the same is done here to the checker's own object of that
number. Each operation's operands must match the record; anything that does
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
import time
from dataclasses import dataclass, field
from typing import Any

from ..record import bootstrap, codec, protocol
from ..vocabulary import STOPPED, GraderErrorName, Status
from .replay import REPLAY_BASES, NotRunAsWritten, Replay, TrustedTimeout

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
MAX_EVENTS = 1_000_000  # events in one record (the record itself is at most 16 MB)


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
        if not isinstance(data, dict) or data.get("v") != protocol.VERSION:
            raise NotRunAsWritten("the record is not a record of this grader")
        if data.get("nonce") == nonce and data.get("grade_id") == grade_id:
            mine.append(data)
    if len(mine) != 1:
        raise NotRunAsWritten(f"{len(mine)} records for this cell instead of one")
    data = mine[0]
    if not isinstance(data.get("events"), list) or not isinstance(data.get("names"), dict):
        raise NotRunAsWritten("the record has no events or names")
    if len(data["events"]) > MAX_EVENTS:
        raise NotRunAsWritten(f"the record has more than {MAX_EVENTS} events")
    if sorted(data["names"]) != sorted(names):
        raise NotRunAsWritten("the record binds other names than the test reads")
    return data


def run_test(source: str, grade_id: str, names: list[str], data: dict) -> Judged:
    """Execute ``source`` here with the student's names bound from the record ``data``."""
    filename = f"<test {grade_id}>"
    replay = Replay(data["events"])
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
        replay.closed = True
        shown = None if value is None else _shown(value)
    except NotRunAsWritten as exc:
        return Judged(_stream(out) + [_error(NOT_RUN_ENAME, NOT_RUN_MESSAGE, None)], str(exc))
    except TrustedTimeout:
        raise
    except BaseException as exc:  # noqa: BLE001 - a failing check is the test's verdict
        if replay.broken:
            return Judged(
                _stream(out) + [_error(NOT_RUN_ENAME, NOT_RUN_MESSAGE, None)], replay.broken
            )
        replay.closed = True
        line = _cell_line(exc.__traceback__, filename)
        return Judged(_stream(out) + [_error(type(exc).__name__, _message(exc), line)])
    outputs = _stream(out)
    if shown is not None:
        outputs.append(
            {
                "output_type": "execute_result",
                "execution_count": None,
                "data": {"text/plain": shown},
                "metadata": {},
            }
        )
    return Judged(outputs, passed=True)


def _shown(value: Any) -> str:
    """The test's last value as text; a student object only by its type (never replayed)."""
    state = protocol.state_of(value, REPLAY_BASES)
    if state is not None:
        return f"<{type(value).__name__} object>"
    try:
        return repr(value)
    except BaseException:  # noqa: BLE001 - a container holding student objects
        return f"<{type(value).__name__}>"


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001 - a message made of student objects: not replayed
        return f"{type(exc).__name__} (its message names a student object)"


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
        return bootstrap.call_expression(gid, nonces[index], cell.get("source", ""), names)

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
            o["data"][protocol.MIME]
            for o in outputs
            if o.get("output_type") == "display_data" and protocol.MIME in (o.get("data") or {})
        ]
        if status.get(index) in _LIMIT_STATUSES:
            cell["outputs"] = [o for o in outputs if protocol.MIME not in (o.get("data") or {})]
            continue
        judged = judge_cell(
            tests[gid], gid, texts, nonces.get(index, ""), status.get(index), seconds
        )
        if judged.note:
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
            value = codec.decode(data["names"][name], lambda _: None)
        except Exception:  # noqa: BLE001 - an unreadable value is not an answer
            value = None
        out[name] = bool(value) if isinstance(value, (bool, np.bool_)) else None
    return out
