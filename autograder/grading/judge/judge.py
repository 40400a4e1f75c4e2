"""One test cell, decided in the grading worker: the instructor's test against the live kernel.

The grading worker - a process in which no student code ever runs - executes the instructor's
test source (hidden tests included, as the gradebook stores it) with the course's own modules
(:data:`TRUSTED_NAMES`) at the moment the cell would run. The names the source takes from the
student's notebook (:func:`student_names`) come from the kernel: plain values by value, student
objects as proxies whose every operation the kernel performs and answers
(:mod:`.conversation`). The checker computes every reference value here; the kernel never
receives the source, nor anything the checker computed but the operands of its operations.

The outcome (:class:`CellJudgement`) is the cell's outputs - an error with the check's message,
the ``quiz_score`` result for partial credit, or nothing for a pass - and where a failure came
from: the test itself (a check, or the student's exception reaching it) or the grader (a limit,
or answers that do not fit: :data:`NOT_RUN_MESSAGE`). The feedback reads that provenance, never
an error's name, which the student's code can choose.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import ctypes
import importlib
import io
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ...course.lessons import HIDDEN_BEGIN
from ...course.quiz_key import is_quiz_test
from ..vocabulary import GraderErrorName, VerdictStatus
from .channel import Channel, ConversationEnded, KernelGone, KernelTimeout
from .conversation import REMOTE_BASES, Conversation, TrustedTimeout

# Names a test source may read that the trusted side binds itself (the course's own modules),
# whatever the student's notebook says they are. Every other free name comes from the kernel.
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

# Where a failure came from (CellJudgement.origin).
TEST = "test"  # the test raised: a check failed, or the student's exception reached it
GRADER = "grader"  # a limit, or the kernel's answers did not fit the test


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


def hidden_from(source: str) -> int | None:
    """The first line of the hidden tests in ``source`` (1-based), or None."""
    for number, line in enumerate(source.splitlines(), start=1):
        if HIDDEN_BEGIN in line:
            return number
    return None


@dataclass
class CellJudgement:
    """A test cell's trusted outcome: its outputs, and where a failure came from.

    ``origin`` is "" for a pass, :data:`TEST` or :data:`GRADER`; ``line`` the test's line
    that raised; ``summary`` the one-line summary of a failing check of the grader's own
    (``helpers.checks.CheckFailure``, never a class the student's code named so);
    ``by_student`` says the exception that failed the test was raised by the student's code;
    ``tainted`` is text the kernel chose while the hidden tests ran, which no message about a
    hidden check may repeat.
    """

    grade_id: str
    outputs: list[dict[str, Any]]
    status: VerdictStatus = VerdictStatus.PASSED
    origin: str = ""
    ename: str = ""
    message: str = ""
    line: int | None = None
    summary: str | None = None
    by_student: bool = False
    tainted: list[str] = field(default_factory=list)
    note: str = ""  # for the instructor: why the test did not run as written
    seconds: float = 0.0
    answers: dict[str, bool | None] = field(default_factory=dict)  # a quiz's, from the kernel

    @property
    def passed(self) -> bool:
        return self.status == VerdictStatus.PASSED

    def printed(self) -> str:
        return "".join(o.get("text", "") for o in self.outputs if o["output_type"] == "stream")


def error_output(ename: str, evalue: str, line: int | None = None) -> dict[str, Any]:
    where = [f"Cell In[1], line {line}"] if line else []
    return {
        "output_type": "error",
        "ename": str(ename),
        "evalue": evalue,
        "traceback": [f"{ename}  Traceback (most recent call last)", *where, f"{ename}: {evalue}"],
    }


def grader_failure(
    gid: str, ename: str, message: str, status=VerdictStatus.FAILED, note="", out=""
):
    """A test the grader stopped or could not run: its plain message, no kernel output."""
    outputs = [_stream(out)] if out else []
    return CellJudgement(
        gid,
        outputs + [error_output(ename, message)],
        status=status,
        origin=GRADER,
        ename=str(ename),
        message=message,
        note=note,
    )


def not_run_as_written(gid: str, note: str, out: str = "") -> CellJudgement:
    return grader_failure(gid, NOT_RUN_ENAME, NOT_RUN_MESSAGE, note=note, out=out)


@contextlib.contextmanager
def time_limit(deadline: float):
    """Raise :class:`TrustedTimeout` in this thread when ``deadline`` passes inside the block.

    An asynchronous exception, not a signal: the worker may run in any thread (a Dask worker
    runs tasks in its own), and a checker fed values it chokes on must still stop.
    """
    tid = threading.get_ident()
    lock, state = threading.Lock(), {"inside": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["inside"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(tid), ctypes.py_object(TrustedTimeout)
                )

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), fire)
    timer.daemon = True
    timer.start()
    try:
        yield state
    finally:
        timer.cancel()
        with lock:
            state["inside"] = False
            if state["fired"]:  # not delivered yet: it must not surface after the block
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)


def judge_test(
    source: str, gid: str, channel: Channel, nonce: str
) -> tuple[CellJudgement | None, str]:
    """Run the test ``source`` against the kernel at the other end of ``channel``.

    Returns the judgement and how the conversation ended: "" when the test ran to its end,
    "timeout" when the cell's time ran out (no judgement: the executor words the stop),
    "gone" when the kernel closed it (the executor then asks whether the kernel died).
    """
    t0 = time.monotonic()
    conversation = Conversation(channel, hidden_from(source))
    ended, judged, fired = "", None, {}
    try:
        with time_limit(channel.deadline) as fired, _student_code_elsewhere():
            raw = conversation.open(nonce, student_names(source))
            judged = run_test(source, gid, conversation, raw)
    except (TrustedTimeout, KernelTimeout):
        ended = "timeout"
    except KernelGone as exc:
        ended, judged = "gone", not_run_as_written(gid, exc.why)
    except ConversationEnded as exc:
        judged = not_run_as_written(gid, exc.why)
    finally:
        conversation.end(finished=judged is not None and judged.origin != GRADER)
        channel.close()
    if fired.get("fired") and not ended:
        ended, judged = "timeout", None  # the time ran out just as the test finished
    if judged is not None:  # the worker's own time: waiting for the kernel is the kernel's
        judged.seconds = max(0.0, time.monotonic() - t0 - channel.waited)
        if is_quiz_test(gid) and conversation.values:
            judged.answers = quiz_answers(conversation.values)
    return judged, ended


def _student_code_elsewhere():
    """The checkers' own measures of the student's code (an allocation limit) travel with the
    calls to the kernel instead of running here (helpers.checks.allocation_limit)."""
    try:
        from helpers.checks import student_code_runs_elsewhere
    except ImportError:  # a course without the measure
        return contextlib.nullcontext()
    return student_code_runs_elsewhere()


def judge_here(source: str, gid: str, user: dict, seconds: float = 60.0) -> CellJudgement:
    """:func:`judge_test` with the kernel side answering from ``user`` in this process.

    No kernel, no sandbox: for tests of the trusted side (tests/test_trusted.py).
    """
    from .channel import in_process

    nonce = "in-process"
    deadline = time.monotonic() + seconds
    judged, ended = judge_test(
        source, gid, in_process(user, student_names(source), nonce, deadline), nonce
    )
    if judged is None:
        judged = grader_failure(gid, GraderErrorName.TIMEOUT, f"stopped after {seconds:g} s")
    if ended:
        judged.note = judged.note or f"the conversation ended: {ended}"
    return judged


def quiz_answers(values: dict[str, Any]) -> dict[str, bool | None]:
    """Each quiz name's value from the kernel if it is a bool (numpy's too), else None."""
    import numpy as np

    from ..record import codec

    out: dict[str, bool | None] = {}
    for name, data in values.items():
        try:
            value = codec.decode(data, lambda _: None)
        except Exception:  # noqa: BLE001 - an unreadable value is not an answer
            value = None
        out[name] = bool(value) if isinstance(value, (bool, np.bool_)) else None
    return out


def run_test(source: str, gid: str, conversation: Conversation, raw: dict) -> CellJudgement:
    """Execute ``source`` here with the student's names bound from the kernel's ``raw`` values."""
    filename = f"<test {gid}>"
    ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    out = io.StringIO()
    conversation.test_file = filename
    try:
        tree = ast.parse(source, filename)
        read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        for name, module in TRUSTED_NAMES.items():
            if name in read:
                ns[name] = importlib.import_module(module)
        ns.update(conversation.bind(raw))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(compile(tree, filename, "exec"), ns)  # noqa: S102 - the instructor's test
            value = (
                eval(compile(ast.Expression(last.value), filename, "eval"), ns)  # noqa: S307
                if last is not None
                else None
            )
        if conversation.ended is not None:  # a checker caught it: the test is not trusted
            raise conversation.ended
        conversation.closed = True
        shown = None if value is None else _shown(value)
    except (ConversationEnded, TrustedTimeout):
        raise
    except BaseException as exc:  # noqa: BLE001 - a failing check is the test's verdict
        if conversation.ended is not None:  # a checker caught it: the test is not trusted
            raise conversation.ended from None
        conversation.closed = True
        return _failed(gid, exc, filename, conversation, out)
    outputs = [_stream(out.getvalue())] if out.getvalue() else []
    if shown is not None:
        outputs.append(
            {
                "output_type": "execute_result",
                "execution_count": None,
                "data": {"text/plain": shown},
                "metadata": {},
            }
        )
    return CellJudgement(gid, outputs)


def _failed(gid: str, exc: BaseException, filename: str, conversation, out) -> CellJudgement:
    """The test raised ``exc``: its error output, and where it came from."""
    from helpers.checks import CheckFailure  # the grader's own class, never the kernel's

    ename, message = type(exc).__name__, _message(exc)
    line = _cell_line(exc.__traceback__, filename)
    summary = (
        exc.summary if isinstance(exc, CheckFailure) and isinstance(exc.summary, str) else None
    )
    text = out.getvalue()
    return CellJudgement(
        gid,
        ([_stream(text)] if text else []) + [error_output(ename, message, line)],
        status=VerdictStatus.FAILED,
        origin=TEST,
        ename=ename,
        message=message,
        line=line,
        summary=summary,
        by_student=any(exc is raised for raised in conversation.raised),
        tainted=sorted(conversation.tainted),
    )


def _cell_line(tb, filename: str) -> int | None:
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            return tb.tb_lineno
        tb = tb.tb_next
    return None


def _shown(value: Any) -> str:
    """The test's last value as text; a student object only by its type (never asked)."""
    from ..record import protocol

    if protocol.state_of(value, REMOTE_BASES) is not None:
        return f"<{type(value).__name__} object>"
    try:
        return repr(value)
    except BaseException:  # noqa: BLE001 - a container holding student objects
        return f"<{type(value).__name__}>"


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001 - a message made of student objects: not asked
        return f"{type(exc).__name__} (its message names a student object)"


def _stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}
