"""The check API (helpers.checks) and Lesson 01's checkers: verdicts and what they say."""

from __future__ import annotations

import ast
import builtins
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import checks
from helpers.checks import CheckFailure, call, check, check_bool, describe_call, exercise, progress
from helpers.exercises import derivatives as ex

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- check


def test_check_accepts_a_value_within_rtol():
    check("f", 1.0 + 1e-12, 1.0, rtol=1e-9)


def test_check_message_gives_call_expected_got_and_relative_error():
    with pytest.raises(CheckFailure) as info:
        check("f", 2.5, 2.0, call="f(1.0)")
    text = str(info.value)
    assert "call           : f(1.0)" in text
    assert "expected       : 2" in text and "got            : 2.5" in text
    assert "relative error : 2.00e-01" in text


def test_check_names_the_mistake_the_wrong_value_matches():
    with pytest.raises(CheckFailure) as info:
        check("f", 4.0, 2.0, mistakes={"doubled it": 4.0, "halved it": 1.0})
    assert "likely mistake : doubled it" in str(info.value)


def test_check_gives_the_hint_when_no_mistake_matches():
    with pytest.raises(CheckFailure) as info:
        check("f", 7.0, 2.0, mistakes={"doubled it": 4.0}, hint="try again")
    assert "likely mistake" not in str(info.value) and "hint           : try again" in str(
        info.value
    )


def test_check_says_a_none_result_probably_lacks_return():
    with pytest.raises(CheckFailure, match="returned None") as info:
        check("f", None, 1.0)
    assert "forget `return`" in str(info.value)


def test_check_rejects_the_wrong_shape():
    with pytest.raises(CheckFailure, match="wrong shape"):
        check("g", np.zeros(3), np.zeros(2))


def test_check_rejects_non_finite_values():
    with pytest.raises(CheckFailure, match="not finite"):
        check("g", np.array([1.0, np.nan]), np.array([1.0, 2.0]))


def test_check_summary_reveals_no_input_values():
    with pytest.raises(CheckFailure) as info:
        check("f", 3.25, 1.5, call="f(0.123456)")
    assert "0.123456" not in info.value.summary and "3.25" not in info.value.summary


# What a student could run after the setup cell to make every answer "pass": each liar, if
# check() used it, would turn the error of a wrong value into 0 or the tolerance into infinity.
REBIND_EVERYTHING_CHECK_USES = """
import builtins, math
import numpy as np
from helpers.checks import CheckFailure, check

builtins.max = lambda *a, **k: math.inf
builtins.min = lambda *a, **k: math.inf
builtins.abs = lambda v: 0.0
builtins.sum = lambda *a, **k: 0.0
builtins.len = lambda v: 0
builtins.zip = lambda *a: iter(())
math.sqrt = lambda v: 0.0
np.sqrt = lambda v: 0.0
np.allclose = lambda *a, **k: True
np.linalg.norm = lambda *a, **k: 0.0

check("f", 1.0, 1.0)
try:
    check("f", 3.0, 1.0, mistakes={"tripled it": 3.0})
except CheckFailure as failure:
    print(failure)
else:
    print("PASSED A WRONG VALUE")
"""


def test_check_is_not_fooled_by_rebound_builtins():
    run = subprocess.run(
        [sys.executable, "-c", REBIND_EVERYTHING_CHECK_USES],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert "f gave a wrong value" in run.stdout, run.stdout
    assert "relative error : 6.67e-01" in run.stdout
    assert "likely mistake : tripled it" in run.stdout


def test_relative_error_of_tiny_values_does_not_underflow_to_a_zero_norm():
    # 1.5e-162 squared underflows to 0: unscaled norms would make this 0/0 or x/0.
    assert checks.trusted_relative_error([1.5e-162], [-1.5e-162]) == 2.0
    assert checks.trusted_relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0


def _builtins_looked_up_at_run_time(source: str) -> dict[str, list[int]]:
    """Builtin names read inside function bodies (annotations aside): {name: line numbers}."""
    tree = ast.parse(source)
    defined = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    found: dict[str, list[int]] = {}
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        body = function.body if isinstance(function.body, list) else [function.body]
        for statement in body:
            for node in ast.walk(statement):
                if (
                    isinstance(node, ast.Name)
                    and isinstance(node.ctx, ast.Load)
                    and hasattr(builtins, node.id)
                    and not node.id.startswith("__")
                    and node.id not in defined
                    and not _inside_annotation(node, statement)
                ):
                    found.setdefault(node.id, []).append(node.lineno)
    return found


def _inside_annotation(node: ast.AST, root: ast.AST) -> bool:
    for parent in ast.walk(root):
        annotations = []
        if isinstance(parent, ast.AnnAssign):
            annotations = [parent.annotation]
        elif isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = parent.args.args + parent.args.kwonlyargs + parent.args.posonlyargs
            annotations = [a.annotation for a in arguments if a.annotation] + [parent.returns]
        if any(node in ast.walk(a) for a in annotations if a is not None):
            return True
    return False


def test_checks_bind_every_builtin_they_use_at_import():
    source = (ROOT / "helpers" / "checks.py").read_text(encoding="utf-8")
    assert _builtins_looked_up_at_run_time(source) == {}


# --------------------------------------------------------------------------- call


def test_call_turns_not_implemented_into_not_written_yet():
    def todo(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailure, match="todo is not written yet"):
        call(todo, 1.0)


def test_call_names_the_unwritten_function_an_answer_calls():
    def relative_error(a, b):
        raise NotImplementedError()

    def gradient_check(a, b):
        return relative_error(a, b) < 1e-7

    with pytest.raises(CheckFailure) as info:
        call(gradient_check, 1.0, 2.0)
    assert info.value.summary == ("gradient_check calls relative_error, which is not written yet.")


def test_call_names_the_unwritten_function_the_grader_s_replay_reports():
    # On the grader's trusted side the exception comes from the record, with no student
    # frames; the replay says which function raised it.
    replayed = NotImplementedError()
    replayed.raised_in = "relative_error"

    def gradient_check(a, b):
        raise replayed

    with pytest.raises(CheckFailure, match="gradient_check calls relative_error"):
        call(gradient_check, 1.0, 2.0)


def test_call_reports_a_crash_with_the_call():
    with pytest.raises(CheckFailure, match="raised ZeroDivisionError") as info:
        call(lambda x: 1 / x, 0.0, name="inverse")
    assert "inverse(0)" in str(info.value)


def test_call_catches_an_input_array_modified_in_place():
    def scale_in_place(v):
        v *= 2
        return v

    with pytest.raises(CheckFailure, match="modified its input array"):
        call(scale_in_place, np.array([1.0, 2.0]))


def test_call_refuses_something_that_is_not_a_function():
    with pytest.raises(CheckFailure, match="is not a function"):
        call(3.0, 1.0, name="forward_difference")


def test_describe_call_renders_functions_by_name():
    assert describe_call("d", np.sin, 0.5, h=0.1) == "d(sin, 0.5, h=0.1)"


# --------------------------------------------------------------------------- check_bool


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_bool_accepts_booleans(value):
    check_bool("q1", value)


@pytest.mark.parametrize("value", [None, "True", 1, 0.0])
def test_check_bool_rejects_everything_else(value):
    with pytest.raises(CheckFailure, match="must be True or False"):
        check_bool("q1", value)


# --------------------------------------------------------------------------- progress


def test_progress_reports_each_exercise_status_from_the_namespace(monkeypatch):
    lesson = "99_test_progress"

    @exercise(lesson, "Doubling", "double")
    def check_double(double):
        check("double", call(double, 2.0), 4.0)

    @exercise(lesson, "Tripling", "triple")
    def check_triple(triple):
        check("triple", call(triple, 2.0), 6.0)

    @exercise(lesson, "Halving", "half")
    def check_half(half):
        check("half", call(half, 2.0), 1.0)

    @exercise(lesson, "Negating", "negate")
    def check_negate(negate):
        check("negate", call(negate, 2.0), -2.0)

    def not_yet(x):
        raise NotImplementedError()

    # progress() imports helpers.exercises.<topic> first; this made-up lesson has no module
    monkeypatch.setattr(checks, "exercises_module", lambda lesson: None)
    namespace = {"double": lambda x: 2 * x, "triple": lambda x: x, "half": not_yet}
    report = progress(lesson, namespace)
    status = {row.title: row.status for row in report.rows}
    assert status == {
        "Doubling": "passed",
        "Tripling": "failing",
        "Halving": "not started",
        "Negating": "not run",
    }
    assert report.passed == 1
    assert "1 of 4 exercises" in str(report)


def test_progress_says_answered_not_passed_when_the_check_sees_only_the_form(monkeypatch):
    lesson = "99_form"

    @exercise(lesson, "Quiz 99", "q1", form_only=True)
    def check_quiz(q1):
        check_bool("q1", q1)

    monkeypatch.setattr(checks, "exercises_module", lambda lesson: None)
    report = progress(lesson, {"q1": False})
    (row,) = report.rows
    assert row.status == "answered" and "marked when you submit" in row.detail
    assert report.passed == 0 and "1 of 1 answered" in str(report)
    assert "0 of 0 exercises" in str(report)
    assert progress(lesson, {"q1": None}).rows[0].status == "failing"


def test_a_quiz_is_never_shown_as_passed_by_progress():
    report = progress("01_derivatives", {name: True for name in ex.QUIZ})
    quiz = next(r for r in report.rows if r.title.startswith("Quiz"))
    assert quiz.status == "answered"


def test_the_courses_own_implementation_as_the_answer_is_refused_by_name():
    import helpers

    with pytest.raises(CheckFailure) as caught:
        ex.check_forward_difference(helpers.forward_difference)
    assert "course's own implementation" in str(caught.value)
    assert "helpers" in str(caught.value).splitlines()[0]


def test_an_own_function_that_calls_nothing_of_the_course_is_not_refused():
    ex.check_forward_difference(lambda f, x, h: (f(x + h) - f(x)) / h)


def test_progress_of_lesson_01_runs_its_registered_checks():
    namespace = {"forward_difference": lambda f, x, h: (f(x + h) - f(x)) / h}
    report = progress("01_derivatives", namespace)
    status = {row.title: row.status for row in report.rows}
    assert status["Exercise 01.1 · Forward difference"] == "passed"
    assert status["Exercise 01.5 · Central difference"] == "not run"
    assert len(report.checked) == len([n for n in ex.__all__ if n.startswith("check_")])


@pytest.mark.parametrize("lesson", ["02_chain_rule", "04_gradient_descent"])
def test_progress_shows_the_lessons_titles_and_points_in_lesson_order(lesson):
    from autograder.course import solution_path
    from autograder.course.lessons import TEST, load_lesson

    model = load_lesson(lesson, solution_path(lesson))
    cells = model.by_grade_id()
    report = progress(lesson, {})
    assert [r.title for r in report.rows] == [h.short for h in model.headings]
    assert [r.points for r in report.rows] == [
        sum(cells[g].points for g in h.grade_ids) for h in model.headings
    ]
    autograded = [h for h in model.headings if any(cells[g].role == TEST for g in h.grade_ids)]
    assert [r.title for r in report.checked] == [h.short for h in autograded]
    assert f"{autograded[0].short}  " in str(report) and " points  " in str(report)
    assert "<th scope='col'>points</th>" in report._repr_html_()


def test_progress_lists_written_answers_as_graded_by_hand():
    report = progress("04_gradient_descent", {})
    by_hand = [r.title for r in report.rows if r.status == checks.BY_HAND]
    assert by_hand == [
        "Exercise 04.6 · Why momentum helps",
        "Question 04.1 · Zig-zag or crawl",
        "Question 04.2 · Choosing a stopping rule",
        "Question 04.3 · The Rosenbrock valley",
    ]
    assert "4 written answers graded by hand" in str(report)
    values = [r for r in report.checked if not r.form_only]  # the quiz is counted apart
    assert f"0 of {len(values)} exercises pass" in str(report) and "0 of 1 answered" in str(report)


# --------------------------------------------------------------------------- Lesson 01 checkers


def _diagnosis(check_fn, answer) -> str:
    with pytest.raises(CheckFailure) as info:
        check_fn(answer)
    return str(info.value)


def test_forward_difference_check_names_a_central_difference():
    text = _diagnosis(ex.check_forward_difference, lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h))
    assert "this looks like a central difference" in text


def test_central_difference_check_names_a_forward_difference():
    text = _diagnosis(ex.check_central_difference, lambda f, x, h: (f(x + h) - f(x)) / h)
    assert "this looks like a forward difference" in text


def test_central_difference_check_names_division_by_h_instead_of_2h():
    text = _diagnosis(ex.check_central_difference, lambda f, x, h: (f(x + h) - f(x - h)) / h)
    assert "divided by h instead of 2h" in text


def test_central_difference_check_accepts_the_average_of_one_sided_differences():
    ex.check_central_difference(lambda f, x, h: ((f(x + h) - f(x)) / h + (f(x) - f(x - h)) / h) / 2)


def test_second_derivative_check_names_a_missing_factor_two():
    text = _diagnosis(
        ex.check_second_derivative, lambda f, x, h: (f(x + h) - f(x) + f(x - h)) / h**2
    )
    assert "forgot the factor 2" in text


def test_cube_slope_check_names_the_exact_derivative():
    assert "this is the exact derivative" in _diagnosis(ex.check_cube_slope, lambda h: 12.0)


def test_make_derivative_check_says_a_value_is_not_a_function():
    text = _diagnosis(ex.check_make_derivative, lambda f, h=1e-5: (f(1 + h) - f(1 - h)) / (2 * h))
    assert "must return a function" in text


def test_numerical_gradient_check_catches_x_modified_and_restored():
    def sneaky(f, x, h=1e-5):
        grad = np.zeros(len(x))
        for i in range(len(x)):
            old = x[i]
            x[i] = old + h
            up = f(x)
            x[i] = old - h
            down = f(x)
            x[i] = old
            grad[i] = (up - down) / (2 * h)
        return grad

    assert "modified x in place" in _diagnosis(ex.check_numerical_gradient, sneaky)


def test_numerical_gradient_check_names_integer_truncation():
    def no_cast(f, x, h=1e-5):
        grad = np.zeros(len(x))
        for i in range(len(x)):
            xp, xm = np.copy(x), np.copy(x)
            xp[i] = xp[i] + h
            xm[i] = xm[i] - h
            grad[i] = (f(xp) - f(xm)) / (2 * h)
        return grad

    with pytest.raises(CheckFailure) as info:
        ex.expect_numerical_gradient(no_cast, lambda v: np.sum(v**2), np.array([1, -2, 3]))
    assert "x holds integers" in str(info.value)


def test_gradients_agree_check_rejects_an_absolute_error_test():
    def absolute(f, grad_f, x, tol=1e-6):
        from helpers import gradient

        return bool(np.linalg.norm(grad_f(np.asarray(x)) - gradient(f, np.asarray(x))) <= tol)

    assert "the absolute error grows" in _diagnosis(ex.check_gradients_agree, absolute)


def test_quiz_score_counts_only_boolean_right_answers(capsys):
    assert checks.quiz_score([False, True, "False", 1], key=[False, True, False, True]) == 2.0
    assert "2 of 4" in capsys.readouterr().out


def test_call_keeps_a_warning_of_student_code_off_stderr(capfd):
    # nbgrader scores a test cell 0 when anything reaches stderr: a right answer that warns
    # must not lose its points.
    def noisy(x):
        return np.float64(1.0) / np.float64(0.0) if x < 0 else x

    assert call(noisy, -1.0) == np.inf
    assert capfd.readouterr().err == ""


def test_quiz_score_gives_no_point_to_an_object_that_claims_to_equal_everything(capsys):
    class Agreeable:
        def __eq__(self, other):
            return True

        def __bool__(self):
            return False

    assert checks.quiz_score([Agreeable(), True], key=[False, True]) == 1.0


def test_check_quiz_answers_wants_one_answer_per_name():
    with pytest.raises(CheckFailure, match="takes the 3 quiz answers, got 2"):
        checks.check_quiz_answers(("q1", "q2", "q3"), (True, False))


def test_a_failure_names_its_cause_in_fields_not_only_in_its_message():
    from helpers.checks import NOT_WRITTEN, RAISED, CheckFailure, call

    def unfinished(x):
        raise NotImplementedError()

    def crashing(x):
        raise TypeError("only length-1 arrays can be converted")

    with pytest.raises(CheckFailure) as not_written:
        call(unfinished, 1.0)
    with pytest.raises(CheckFailure) as raised:
        call(crashing, 1.0)
    assert (not_written.value.cause, not_written.value.error) == (NOT_WRITTEN, "")
    assert (raised.value.cause, raised.value.error) == (RAISED, "TypeError")


def test_a_step_put_back_shows_which_entry_changed_and_by_how_little():
    def restored(x):
        x[2] += 1 / 3  # a step of 1/3 taken back: 0.4 comes back as 0.4000000000000001
        x[2] -= 1 / 3
        return 0.0

    with pytest.raises(CheckFailure) as caught:
        call(restored, np.array([0.7, -1.2, 0.4]))
    message = str(caught.value)
    assert "entry [2] : before 0.4, after 0.4000000000000001" in message
    assert "last digits" in message
