"""The trusted side decides what the notebook would have decided, from the record alone.

Batch grading records in the kernel what a test's checker received from the student's
objects (autograder/grading/record/) and re-runs the instructor's test in the grading worker
against that record (autograder/grading/judge/). Here both halves run in this process, on
every lesson's solution and on every right and wrong answer of tests/fixtures/answers: the
trusted outcome (the error and its message, the partial credit, the printed text) must be the
one-process outcome, and a record that does not fit the test must fail it plainly.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import json
from pathlib import Path

import matplotlib
import nbformat
import pytest

from autograder.course import find_lessons, lessons
from autograder.grading.judge import judge, replay
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
    """The same test through a record made here and the trusted replay."""
    names = judge.student_names(source)
    data = recorder.record_test(gid, "nonce", source, names, dict(ns))
    judged = judge.judge_cell(source, gid, [json.dumps(data)], "nonce", "ok")
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


def _record(**names) -> dict:
    return {"v": protocol.VERSION, "grade_id": "t", "nonce": "n", "names": names, "events": []}


SOURCE = "from helpers.checks import call, check\ncheck('f', call(f, 2.0), 4.0)\n"


def _judge(texts: list[str]):
    return judge.judge_cell(SOURCE, "t", texts, "n", "ok")


def _good() -> dict:
    data = recorder.record_test("t", "n", SOURCE, ["f"], {"f": lambda x: x * x})
    assert _judge([json.dumps(data)]).passed
    return data


@pytest.mark.parametrize(
    "spoil",
    [
        "missing",
        "duplicated",
        "truncated",
        "not json",
        "other nonce",
        "extra event",
        "event dropped",
        "other argument",
        "other names",
    ],
)
def test_a_record_that_does_not_fit_fails_the_test_plainly(spoil):
    data = _good()
    text = json.dumps(data)
    texts = {
        "missing": [],
        "duplicated": [text, text],
        "truncated": [text[: len(text) // 2]],
        "not json": ["{'v': 1}"],
        "other nonce": [json.dumps({**data, "nonce": "m"})],
        "extra event": [json.dumps({**data, "events": data["events"] + data["events"]})],
        "event dropped": [json.dumps({**data, "events": data["events"][:1]})],
        "other argument": [
            json.dumps({**data, "events": [{**data["events"][0], "args": {"$t": [3.0]}}]})
        ],
        "other names": [json.dumps({**data, "names": {}})],
    }[spoil]
    judged = _judge(texts)
    assert not judged.passed
    assert judged.outputs[-1]["ename"] == judge.NOT_RUN_ENAME
    assert judged.outputs[-1]["evalue"] == judge.NOT_RUN_MESSAGE
    assert judged.note  # what differed, for the instructor


def test_a_kernel_reply_that_is_an_error_fails_even_with_a_good_record():
    judged = judge.judge_cell(SOURCE, "t", [json.dumps(_good())], "n", "error")
    assert not judged.passed and judged.outputs[-1]["ename"] == judge.NOT_RUN_ENAME


def test_a_right_value_forged_for_the_call_the_test_makes_is_a_right_answer():
    # The limit of the design, stated by a test: the kernel supplies return values, and a
    # record whose values are right is indistinguishable from a right function.
    data = recorder.record_test("t", "n", SOURCE, ["f"], {"f": lambda x: 0.0})
    call = next(k for k, e in enumerate(data["events"]) if e.get("op") == "call")
    data["events"][call + 1]["v"] = 4.0
    assert _judge([json.dumps(data)]).passed


def test_values_keep_their_types_through_the_record():
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


def test_a_record_that_makes_the_check_run_forever_is_stopped():
    source = "import time\nif f() == 1:\n    while True:\n        time.sleep(0.01)\n"
    data = recorder.record_test("t", "n", source, ["f"], {"f": lambda: 0})
    data["events"][1]["v"] = 1  # what a forged record could claim
    judged = judge.judge_cell(source, "t", [json.dumps(data)], "n", "ok", seconds=0.5)
    assert not judged.passed and judged.outputs[-1]["ename"] == "TimeoutError"


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
    tests = _tests(ENGINE)
    ns = copy.copy(_namespace(ENGINE))
    if answer != "solution":
        exec(compile(LYING_ENGINE, "<answer>", "exec"), ns)  # noqa: S102 - the attack
    passed = {}
    for gid, source in tests.items():
        names = judge.student_names(source)
        data = recorder.record_test(gid, "n", source, names, dict(ns))
        judged = []
        calls = _student_calls_while(
            lambda: judged.append(judge.judge_cell(source, gid, [json.dumps(data)], "n", "ok"))
        )
        assert calls == [], f"{gid}: the trusted side called {calls}"
        assert _outcome(judged[0]) == one_process(source, ns), gid
        assert not judged[0].note, judged[0].note
        passed[gid] = judged[0].passed
    assert passed["test_Value"] == (answer == "solution")


def _engine_record(gid: str) -> tuple[str, dict]:
    source = _tests(ENGINE)[gid]
    names = judge.student_names(source)
    return source, recorder.record_test(gid, "n", source, names, dict(_namespace(ENGINE)))


def _first(events: list, **fields) -> int:
    return next(i for i, e in enumerate(events) if all(e.get(k) == v for k, v in fields.items()))


def _spoil(gid: str, spoil) -> judge.Judged:
    source, data = _engine_record(gid)
    assert judge.judge_cell(source, gid, [json.dumps(data)], "n", "ok").passed
    spoil(data["events"])
    return judge.judge_cell(source, gid, [json.dumps(data)], "n", "ok")


def _rename_read(events, name):
    events[_first(events, e="cb", op="getattr")]["name"] = name


ENGINE_SPOILS = {
    # what a forged record asks of the trusted side: (test, change to its events)
    "a dunder of a checker object": ("test_zero_grad", lambda ev: _rename_read(ev, "__dict__")),
    "a private attribute": ("test_zero_grad", lambda ev: _rename_read(ev, "_secret")),
    "a checker object never given": (
        "test_zero_grad",
        lambda ev: ev[_first(ev, e="cb", op="getattr")].update(c=10**6),
    ),
    "a handle never introduced": (
        "test_Value",
        lambda ev: ev[_first(ev, e="ret")].update(v={"$h": 10**6}),
    ),
    "isinstance answering a number": (
        "test_Value",
        lambda ev: ev[_first(ev, e="op", op="isinstance") + 1].update(v=1),
    ),
    "another operation": (
        "test_Value",
        lambda ev: ev[_first(ev, e="op", op="mul")].update(op="add"),
    ),
    "a callback result changed": (
        "test_autodiff_gradient",
        lambda ev: ev[_first(ev, e="cbend")].update(v=0.0),
    ),
    "a checker object set by a private name": (
        "test_zero_grad",
        lambda ev: ev[_first(ev, e="cb", op="setattr")].update(name="__class__"),
    ),
}


@pytest.mark.parametrize("spoil", sorted(ENGINE_SPOILS))
def test_a_forged_record_of_student_objects_fails_the_test_plainly(spoil):
    gid, change = ENGINE_SPOILS[spoil]
    judged = _spoil(gid, change)
    assert not judged.passed
    assert judged.outputs[-1]["evalue"] == judge.NOT_RUN_MESSAGE
    assert judged.note


def test_a_right_engines_record_forged_for_a_wrong_engine_is_a_right_answer():
    # The limit of the design, for objects too: the kernel supplies what the student's code
    # returned, so a wrong engine that ships the events a right engine would give passes.
    source, right = _engine_record("test_Value")
    wrong = copy.copy(_namespace(ENGINE))
    exec(compile(LYING_ENGINE, "<answer>", "exec"), wrong)  # noqa: S102
    forged = recorder.record_test("test_Value", "n", source, ["Value"], wrong)
    assert not judge.judge_cell(source, "test_Value", [json.dumps(forged)], "n", "ok").passed
    forged["events"] = right["events"]
    assert judge.judge_cell(source, "test_Value", [json.dumps(forged)], "n", "ok").passed


@pytest.mark.parametrize(
    "guard, gid",
    [
        ("MAX_EVENTS", "test_Value"),
        ("MAX_HANDLES", "test_Value"),
        ("MAX_NESTING", "test_autodiff_gradient"),
    ],
)
def test_a_record_beyond_a_guard_fails_the_test_plainly(monkeypatch, guard, gid):
    # The guards stop a record made to exhaust the worker; here each is lowered below what
    # the solution's record needs (autodiff_gradient's f works on Values inside the call).
    source, data = _engine_record(gid)
    monkeypatch.setattr(judge if guard == "MAX_EVENTS" else replay, guard, 1)
    judged = judge.judge_cell(source, gid, [json.dumps(data)], "n", "ok")
    assert not judged.passed
    assert judged.outputs[-1]["evalue"] == judge.NOT_RUN_MESSAGE
    assert judged.note
