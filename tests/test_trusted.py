"""The worker decides what the notebook would have decided, talking with the kernel.

Batch grading runs the instructor's test in the grading worker (autograder/grading/judge/)
while the kernel performs each operation on the student's objects and answers
(autograder/grading/record/). Here both halves run in this process - the kernel side in a
thread, over a socket pair - on every lesson's solution and on every right and wrong answer
of tests/fixtures/answers: the trusted outcome (the error and its message, the partial
credit, the printed text) must be the one-process outcome. A kernel that answers what no
kernel side would (tests/fixtures/hostile_kernels.py) must fail the test plainly.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import importlib.util
import io
import json
import socket
import threading
import time
from pathlib import Path

import matplotlib
import nbformat
import pytest

from autograder.course import find_lessons, lessons
from autograder.grading.judge import channel, conversation, judge, messages
from autograder.grading.record import codec, protocol, recorder

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
LESSONS = find_lessons(SOLUTIONS)


def _notebook(lesson: str):
    return nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)


def _namespace(lesson: str) -> dict:
    """The solution's answers, data cells and setup imports, executed here."""
    ns: dict = {"__name__": "__main__"}
    for cell in _notebook(lesson).cells:
        keep = lessons.role(cell) in (lessons.ANSWER, lessons.LOCKED) or "import" in cell.source
        if cell.cell_type != "code" or lessons.role(cell) == lessons.TEST or not keep:
            continue
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
            exec(compile(cell.source, "<cell>", "exec"), ns)  # noqa: S102 - the lesson's own cells
    return ns


def _tests(lesson: str) -> dict[str, str]:
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in _notebook(lesson).cells
        if cell.cell_type == "code" and lessons.role(cell) == lessons.TEST
    }


def one_process(source: str, ns: dict) -> tuple:
    """What the notebook shows for a test cell: (error name, message) or ("ok", result), text."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out = io.StringIO()
    env = dict(ns)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(compile(tree, "<test>", "exec"), env)  # noqa: S102 - the test, as a notebook runs it
            value = (
                eval(compile(ast.Expression(last.value), "<test>", "eval"), env) if last else None
            )  # noqa: S307
    except BaseException as exc:  # noqa: BLE001 - the failing check is the outcome
        return (type(exc).__name__, str(exc)), out.getvalue()
    return ("ok", None if value is None else repr(value)), out.getvalue()


def trusted_path(gid: str, source: str, ns: dict) -> tuple:
    """The same test run in the worker, the kernel side answering from ``ns`` (a thread)."""
    judged = judge.judge_here(source, gid, dict(ns))
    return _outcome(judged), judged.note


def _outcome(judged) -> tuple:
    text = "".join(o["text"] for o in judged.outputs if o["output_type"] == "stream")
    for o in judged.outputs:
        if o["output_type"] == "error":
            return (o["ename"], o["evalue"]), text
        if o["output_type"] == "execute_result":
            return ("ok", o["data"]["text/plain"]), text
    return ("ok", None), text


def _answers(lesson: str) -> list[tuple[str, str, str]]:
    """(grade id, label, answer cell source) for every fixture answer of the lesson."""
    path = ROOT / "tests" / "fixtures" / "answers" / f"{lesson}.py"
    if not path.exists():
        return []
    spec: dict = {}
    exec(path.read_text(), spec)  # noqa: S102 - our own fixture file
    out = []
    for gid, kinds in spec["ANSWERS"].items():
        out += [(gid, f"right {i}", src) for i, src in enumerate(kinds.get("right", []))]
        out += [(gid, f"wrong: {why}", src) for why, src in kinds.get("wrong", {}).items()]
    return out


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_trusted_side_says_what_the_notebook_says(lesson):
    base = _namespace(lesson)
    tests = _tests(lesson)
    cases = [(gid, "solution", None) for gid in tests]
    cases += [(f"test_{gid}", label, src) for gid, label, src in _answers(lesson)]
    differ = []
    for gid, label, answer in cases:
        if gid not in tests:
            continue
        ns = copy.copy(base)
        if answer is not None:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
                exec(compile(answer, "<answer>", "exec"), ns)  # noqa: S102
        want = one_process(tests[gid], ns)
        got, note = trusted_path(gid, tests[gid], ns)
        if got != want or note:
            differ.append(f"{gid} ({label}): notebook {want!r}, trusted {got!r} {note}")
    assert not differ, "\n".join(differ)


def test_every_name_a_test_reads_is_the_courses_or_the_students():
    # Instructor data a test read from a demonstration cell would come from the kernel, where
    # the student can change it: every free name of a test is an answer or a course module.
    for lesson in LESSONS:
        defined = set()
        for cell in _notebook(lesson).cells:
            if cell.cell_type == "code" and lessons.role(cell) == lessons.ANSWER:
                defined |= {
                    t.id
                    for node in ast.walk(ast.parse(cell.source))
                    for t in (
                        [node]
                        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
                        else []
                    )
                }
                defined |= {
                    n.name
                    for n in ast.parse(cell.source).body
                    if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                }
        for gid, source in _tests(lesson).items():
            strangers = set(judge.student_names(source)) - defined
            assert not strangers, f"{lesson} {gid} reads {strangers} from the notebook"


# --------------------------------------------------------------------------- student objects

ENGINE = "07_autodiff"
# A wrong engine (relu's derivative always 1) whose class lies to whoever looks at it: every
# instance equals everything, hashes to 0, has every attribute, and its metaclass claims every
# object is a Value. The record carries only what its methods returned.
LYING_ENGINE = """
class _Lying(type):
    def __instancecheck__(cls, obj):
        return True

_Honest = Value

class Value(_Honest, metaclass=_Lying):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0

    def __getattr__(self, name):
        return 1.0

    def relu(self):
        return Value(max(self.data, 0.0), (self,), (1.0,))
"""


def _student_calls_while(action) -> list[str]:
    """The functions of the student's cells (answers and solution) called during ``action``."""
    import sys

    calls = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename in ("<cell>", "<answer>"):
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("answer", ["solution", "lying engine"])
def test_the_trusted_side_judges_lesson_07_without_calling_student_code(answer):
    # The kernel side answers in its own thread; the profile watches the worker's thread only.
    tests = _tests(ENGINE)
    ns = copy.copy(_namespace(ENGINE))
    if answer != "solution":
        exec(compile(LYING_ENGINE, "<answer>", "exec"), ns)  # noqa: S102 - the attack
    passed = {}
    for gid, source in tests.items():
        judged = []
        calls = _student_calls_while(lambda: judged.append(judge.judge_here(source, gid, dict(ns))))
        assert calls == [], f"{gid}: the trusted side called {calls}"
        want = one_process(source, ns)
        if answer == "solution" or gid != "test_Value":
            assert _outcome(judged[0]) == want, gid
        assert not judged[0].note, judged[0].note
        passed[gid] = judged[0].passed
    assert passed["test_Value"] == (answer == "solution")


# --------------------------------------------------------------------------- hostile kernels


class _SpoilingLink(recorder.Link):
    """The kernel side's link, with one outgoing message spoiled as a hostile kernel would."""

    def __init__(self, sock, spoil):
        super().__init__(sock)
        self.spoil, self.last = spoil, {}

    def recv(self) -> dict:
        self.last = super().recv()
        return self.last

    def send(self, message) -> None:
        spoiled = self.spoil(message, self.last)
        if isinstance(spoiled, bytes):
            self.sock.sendall(spoiled)
        elif spoiled is None:
            self.sock.close()
        else:
            super().send(spoiled)


def _hostile(source: str, gid: str, ns: dict, spoil, seconds: float = 60.0):
    """Judge ``source`` against the real kernel side answering from ``ns``, spoiled by ``spoil``."""
    names = judge.student_names(source)
    ours, theirs = socket.socketpair()

    def kernel_side():
        link = _SpoilingLink(theirs, spoil)
        rec = recorder.Recorder(link)
        hello = {"m": "hello", "v": protocol.VERSION, "nonce": "n"}
        with contextlib.suppress(Exception):
            link.send({**hello, "names": rec.bindings(names, ns)})
            rec.serve()
        with contextlib.suppress(OSError):
            theirs.close()

    threading.Thread(target=kernel_side, daemon=True).start()
    return judge.judge_test(source, gid, channel.Channel(ours, time.monotonic() + seconds), "n")


def _once(kind: str, change, after=None):
    """A spoil that changes the first outgoing message of ``kind`` (answering ``after``)."""
    done = []

    def spoil(message, last):
        if not done and message.get("m") == kind and (after is None or after(message, last)):
            done.append(1)
            return change(dict(message))
        return message

    return spoil


def _renamed(name):
    return _once("cb", lambda m: {**m, "name": name}, lambda m, _: m.get("op") == "getattr")


# What a hostile kernel may send, on the tests of Lesson 07 (student objects both ways) and
# of the toy lesson: (test, spoil). Each must fail its test plainly, with a note.
ZERO = "AAAAAAAAAAA="  # one float64 0.0, as the codec writes arrays
SOURCE = "from helpers.checks import call, check\ncheck('f', call(f, 2.0), 4.0)\n"
SPOILS = {
    "no hello": ("square", _once("hello", lambda m: None)),
    "another nonce": ("square", _once("hello", lambda m: {**m, "nonce": "m"})),
    "other names": ("square", _once("hello", lambda m: {**m, "names": {}})),
    "not JSON": ("square", _once("hello", lambda m: b"\x00\x00\x00\x05hello")),
    "a message over the size limit": ("square", _once("ret", lambda m: b"\x7f\xff\xff\xff")),
    "another kind of answer": ("square", _once("ret", lambda m: {**m, "m": "back"})),
    "a handle never introduced": ("test_Value", _once("ret", lambda m: {**m, "v": {"$h": 10**6}})),
    "isinstance answering a number": (
        "test_Value",
        _once("ret", lambda m: {**m, "v": 1}, lambda m, last: last.get("op") == "isinstance"),
    ),
    "a dunder of a grader object": ("test_zero_grad", _renamed("__dict__")),
    "a private attribute of a grader object": ("test_zero_grad", _renamed("_secret")),
    "a grader object never given": (
        "test_zero_grad",
        _once("cb", lambda m: {**m, "c": 10**6}),
    ),
    "a write the grader's class does not allow": (
        "test_zero_grad",
        _once("cb", lambda m: {**m, "name": "inputs"}, lambda m, _: m.get("op") == "setattr"),
    ),
    "an in-place change of an argument it was not given": (
        "square",
        _once("ret", lambda m: {**m, "mut": [[[5], {"$nd": "<f8", "shape": [1], "b64": ZERO}]]}),
    ),
}


def _spoiled(gid: str, spoil):
    if gid == "square":
        return _hostile(SOURCE, "t", {"f": lambda x: x * x}, spoil)
    source = _tests(ENGINE)[gid]
    return _hostile(source, gid, copy.copy(_namespace(ENGINE)), spoil)


@pytest.mark.parametrize("spoil", sorted(SPOILS))
def test_a_kernel_that_answers_what_no_kernel_side_would_fails_the_test_plainly(spoil):
    gid, change = SPOILS[spoil]
    unspoiled, ended = _spoiled(gid, lambda m, last: m)
    assert unspoiled.passed and not ended, unspoiled.outputs
    judged, _ = _spoiled(gid, change)
    assert judged is not None and not judged.passed
    assert judged.outputs[-1]["ename"] == judge.NOT_RUN_ENAME
    assert judged.outputs[-1]["evalue"] == judge.NOT_RUN_MESSAGE
    assert judged.origin == judge.GRADER and judged.note  # what differed, for the instructor


@pytest.mark.parametrize(
    "guard, where, gid",
    [
        ("MAX_MESSAGES", channel, "test_Value"),
        ("MAX_HANDLES", conversation, "test_Value"),
        ("MAX_NESTING", conversation, "test_autodiff_gradient"),
    ],
)
def test_a_conversation_beyond_a_guard_fails_the_test_plainly(monkeypatch, guard, where, gid):
    # The guards stop a kernel that answers to exhaust the worker; here each is lowered below
    # what the solution needs (autodiff_gradient's f works on Values inside the call).
    monkeypatch.setattr(where, guard, 1)
    judged, _ = _spoiled(gid, lambda m, last: m)
    assert not judged.passed
    assert judged.outputs[-1]["evalue"] == judge.NOT_RUN_MESSAGE
    assert judged.note


def test_a_kernel_that_stops_answering_is_stopped_at_the_cells_deadline():
    t0 = time.monotonic()
    judged, ended = _hostile(SOURCE, "t", {"f": lambda x: time.sleep(30)}, lambda m, last: m, 0.5)
    assert ended == "timeout" and judged is None
    assert time.monotonic() - t0 < 5


def test_a_check_that_would_run_forever_on_the_trusted_side_is_stopped():
    # What the kernel answers may send a check into a loop: the cell's deadline stops it here.
    source = "if f() == 1:\n    while True:\n        pass\n"
    t0 = time.monotonic()
    judged, ended = _hostile(source, "t", {"f": lambda: 1}, lambda m, last: m, 0.5)
    assert ended == "timeout" and judged is None
    assert time.monotonic() - t0 < 5


def test_a_right_value_answered_for_the_call_the_test_makes_is_a_right_answer():
    # The limit of the design, stated by a test: the kernel answers for the student's
    # objects, and a kernel that answers right values is indistinguishable from a right one.
    wrong = {"f": lambda x: 0.0}
    answer = _once("ret", lambda m: {**m, "v": 4.0}, lambda m, last: last.get("op") == "call")
    judged, _ = _hostile(SOURCE, "t", wrong, answer)
    assert judged.passed


def test_a_student_object_never_meets_a_grader_value_in_the_kernel():
    # ``got == expected`` on a student object is decided in the worker (by identity), never
    # sent: an object that equals everything, and would learn the expected value, sees nothing.
    seen = []

    class Liar:
        def __eq__(self, other):
            seen.append(other)
            return True

        __hash__ = object.__hash__

    source = "assert f() == 4.0, 'not equal'\n"
    judged = judge.judge_here(source, "t", {"f": lambda: Liar()})
    assert not judged.passed and judged.message == "not equal"
    assert seen == []
    assert one_process(source, {"f": lambda: Liar()})[0] == ("ok", None)  # the notebook is fooled


def test_the_kernel_receives_neither_the_test_nor_what_the_checker_computed():
    # Every message the kernel side receives while Lesson 01 and the toy lesson are judged.
    received = []

    def tap(message, last):
        received.append(json.dumps(last))
        return message

    toy = TOY_TEST
    _hostile(toy, "test_slope_of_square", {"slope_of_square": lambda x: 2 * x}, tap)
    text = "\n".join(received)
    assert "HIDDEN" not in text and "check" not in text and "14.5" not in text
    assert "7.25" in text  # the hidden input itself: the kernel must make the call


TOY_TEST = next(
    c.source
    for c in nbformat.read(
        ROOT / "tests" / "fixtures" / "toy_course" / "solutions" / "99_toy" / "99_toy.ipynb", 4
    ).cells
    if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_slope_of_square"
)


def test_values_keep_their_types_across_the_socket():
    import numpy as np
    import sympy

    x = sympy.Symbol("x")
    values = [
        1,
        2.5,
        float("nan"),
        True,
        np.bool_(False),
        np.float32(1.5),
        "s",
        None,
        (1, [2, {"a": 3}]),
        {1, 2},
        np.arange(6, dtype=np.int16).reshape(2, 3),
        np.array(0.25),  # 0-d: a shape of its own, never (1,)
        slice(1, None, 2),
        4 * x * sympy.cos(2 * x**2),
    ]
    for value in values:
        back = codec.decode(json.loads(json.dumps(codec.encode(value, None))), None)
        assert type(back) is type(value)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and np.array_equal(back, value)
        elif isinstance(value, sympy.Basic):
            assert sympy.simplify(back - value) == 0
        elif value == value:
            assert back == value


# --------------------------------------------------------------------------- issue 22 classes


def _fixture(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "fixtures" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


attacks = _fixture("attacks")
checker_attacks = _fixture("attacks_checkers")


@pytest.mark.parametrize("name", sorted(checker_attacks.CHECKER_ATTACKS))
def test_an_answer_cannot_change_what_its_checker_compares_against(name):
    source, answer, words = checker_attacks.CHECKER_ATTACKS[name]
    user: dict = {}
    exec(compile(answer, "<answer>", "exec"), user)  # noqa: S102 - the attack's cell
    judged = judge.judge_here(source, "t", user)
    assert not judged.passed and words in judged.message


@pytest.mark.parametrize(
    "name",
    ["error_named_like_the_grader", "check_failure_of_its_own", "type_name_carries_the_input"],
)
def test_a_hidden_failure_says_nothing_the_students_code_chose(name):
    user: dict = {}
    exec(compile(attacks.AROUND[name], "<answer>", "exec"), user)  # noqa: S102 - the attack
    judged = judge.judge_here(TOY_TEST, "test_slope_of_square", user)
    lesson = lessons.load_lesson("99_toy", attacks.TOY)
    cell = next(c for c in lesson.cells if c.grade_id == "test_slope_of_square")
    verdict = messages.verdict(judged, cell)
    assert verdict.where == "hidden" and judged.origin == judge.TEST
    assert "7.25" not in verdict.message and "7_25" not in verdict.message
    assert verdict.message.startswith("A hidden check failed")


def test_the_graders_own_failures_are_known_by_where_they_came_from_not_by_name():
    lesson = lessons.load_lesson("99_toy", attacks.TOY)
    cell = next(c for c in lesson.cells if c.grade_id == "test_slope_of_square")
    # A student's exception bearing the grader's name, from the visible part: its message is
    # the student's own (visible inputs only), shown as a failing check, not as a limit.
    user = {"slope_of_square": _raiser("TimeoutError", "took too long")}
    judged = judge.judge_here(TOY_TEST, "test_slope_of_square", user)
    assert messages.verdict(judged, cell).where == "visible"
    stopped = judge.grader_failure("test_slope_of_square", "Whatever", "stopped after 4 s")
    assert messages.verdict(stopped, cell).where == "limit"


def _raiser(name: str, message: str):
    kind = type(name, (BaseException,), {})

    def slope_of_square(x):
        raise kind(message)

    return slope_of_square
