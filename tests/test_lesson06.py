"""Lesson 06 (a gradient checker): the planted bugs, the graders' references and their diagnoses.

The shared harness (test_lessons.py) runs the notebook and real nbgrader; these tests run in
process, in well under a second each, and pin what the lesson relies on: the three planted bugs
are found parameter by parameter, the checkers' references agree with helpers, and each typical
mistake is named in the feedback.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import answer_sources, read

import helpers
from autograder import course
from helpers.checks import CheckFailure
from helpers.exercises import gradient_checker as ex

LESSON = "06_gradient_checker"
SOLUTION = read(course.solution_path(LESSON))
ANSWERS = answer_sources(SOLUTION)


def notebook_namespace() -> dict:
    """The solutions notebook's definitions.

    Every code cell before the exercises, then the answers.
    """
    ns: dict = {"np": np, "helpers": helpers}
    for cell in SOLUTION.cells:
        if cell.cell_type != "code" or "setup" in cell.metadata.get("tags", []):
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            continue  # test cells
        if meta.get("solution"):
            exec(ANSWERS[meta["grade_id"]], ns)  # noqa: S102 - the course's own solution
        elif "plt." not in cell.source and "helpers.progress" not in cell.source:
            exec(cell.source, ns)  # noqa: S102
    return ns


@pytest.fixture(scope="module")
def nb():
    return notebook_namespace()


def failure(fn, *args) -> str:
    with pytest.raises(CheckFailure) as caught:
        fn(*args)
    return str(caught.value)


def hidden_truth() -> set[str]:
    test = next(
        c
        for c in SOLUTION.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_buggy_parameters"
    )
    found = re.search(r"expect_buggy_parameters\(buggy_parameters, (\{[^}]*\})\)", test.source)
    return eval(found.group(1))  # a set literal from our own notebook


# --------------------------------------------------------------------------- the planted bugs


def parameter_errors(nb, params, X, y) -> dict[str, float]:
    errors = {}
    for name in ex.PARAMETER_NAMES:
        view = nb["parameter_view"](name, nb["backward_with_bugs"], params, X, y)
        errors[name] = helpers.gradient_check(view.f, view.grad_f, view.x, h=1e-5).relative_error
    return errors


def other_networks():
    rng = np.random.default_rng(2024)
    yield ex.lesson_network(seed=11)[0], rng.normal(size=(7, 2)), rng.uniform(size=(7, 1))
    yield ex.lesson_network(seed=3)[0], rng.normal(size=(3, 2)), rng.uniform(size=(3, 1))


def test_each_planted_bug_fails_its_own_parameter_and_b1_passes(nb):
    errors = parameter_errors(nb, nb["params"], nb["X"], nb["y"])
    assert {name for name, e in errors.items() if e > 1e-4} == hidden_truth() == {"W1", "W2", "b2"}
    assert all(errors[name] > 1e-2 for name in hidden_truth()), errors
    assert errors["b1"] < 1e-7, errors


@pytest.mark.parametrize("params, X, y", list(other_networks()))
def test_planted_bugs_show_on_other_batches_too(nb, params, X, y):
    errors = parameter_errors(nb, params, X, y)
    assert {name for name, e in errors.items() if e > 1e-4} == {"W1", "W2", "b2"}, errors


def test_the_notebook_network_is_the_one_the_checker_grades(nb):
    params, X, y = ex.lesson_network()
    for name in ex.PARAMETER_NAMES:
        assert np.array_equal(nb["params"][name], params[name]), name
    assert np.array_equal(nb["X"], X) and np.array_equal(nb["y"], y)
    assert ex.network_loss(params, X, y) == nb["loss"](params, X, y)


@pytest.mark.parametrize("params, X, y", [ex.lesson_network(), *other_networks()])
def test_reference_gradients_agree_with_helpers_mlp_backward(params, X, y):
    net = helpers.MLP(sizes=(2, 4, 1), seed=0)
    for name, value in params.items():
        setattr(net, name, value)
    exact = net.backward(X, y)
    reference = ex.reference_gradients(params, X, y)
    for name in ex.PARAMETER_NAMES:
        assert helpers.relative_error(reference[name], exact[name]) < 1e-8, name


def test_the_solution_fixed_backward_passes_the_whole_network_check(nb):
    params, X, y = nb["params"], nb["X"], nb["y"]
    theta = nb["flatten"](params)
    result = helpers.gradient_check(
        nb["loss_of_theta"],
        lambda t: nb["flatten"](nb["fixed_backward"](nb["unflatten"](t), X, y)),
        theta,
    )
    assert result.verdict == "pass"


# --------------------------------------------------------------------------- the solutions pass


def test_solution_answers_pass_every_visible_check(nb):
    ex.check_relative_error(nb["relative_error"])
    ex.check_gradient_check(nb["gradient_check"])
    ex.check_buggy_parameters(nb["buggy_parameters"])
    ex.expect_buggy_parameters(nb["buggy_parameters"], hidden_truth())
    ex.check_fixed_backward(nb["fixed_backward"])
    ex.check_worst_coordinate(nb["worst_coordinate"])
    ex.check_quiz(*(nb[name] for name in ex.QUIZ))


def test_progress_lists_the_six_exercises(nb):
    report = helpers.progress(LESSON, namespace=nb)
    assert [r.status for r in report.checked] == ["passed"] * 6, str(report)


# --------------------------------------------------------------------------- relative_error


def _norm(v):
    return np.linalg.norm(v)


def test_relative_error_absolute_error_is_named():
    assert "this is the absolute error" in failure(
        ex.check_relative_error, lambda a, b: _norm(a - b)
    )


def test_relative_error_dividing_by_a_only_is_named():
    assert "norm of a only" in failure(
        ex.check_relative_error, lambda a, b: _norm(a - b) / _norm(a)
    )


def test_relative_error_sum_of_norms_is_named():
    assert "||a|| + ||b||" in failure(
        ex.check_relative_error, lambda a, b: _norm(a - b) / (_norm(a) + _norm(b))
    )


def test_relative_error_nan_for_two_zero_vectors_is_named():
    def no_guard(a, b):
        return _norm(a - b) / max(_norm(a), _norm(b))

    message = failure(ex.check_relative_error, no_guard)
    assert "returned nan when both vectors are zero" in message and "return 0.0" in message


def test_relative_error_zero_division_gets_the_zero_hint():
    message = failure(
        ex.check_relative_error, lambda a, b: float(_norm(a - b)) / float(max(_norm(a), _norm(b)))
    )
    assert "ZeroDivisionError" in message and "return 0.0" in message


def test_relative_error_right_answer_that_warns_on_zero_passes_silently(capfd):
    def with_where(a, b):
        scale = np.maximum(_norm(a), _norm(b))
        return np.where(scale == 0, 0.0, _norm(a - b) / scale)

    ex.check_relative_error(with_where)
    assert capfd.readouterr().err == ""  # nbgrader zeroes a test cell that writes to stderr


def test_relative_error_failure_message_shows_call_expected_got_and_relative_error():
    message = failure(ex.check_relative_error, lambda a, b: _norm(a - b))
    for field in ("call", "expected", "got", "relative error", "likely mistake"):
        assert field in message


# --------------------------------------------------------------------------- gradient_check


def _checker(scheme="central", copy=True, coords=None, metric="relative", fixed_h=None):
    def gradient_check(f, grad_f, x, h=1e-5):
        h = fixed_h or h
        work = np.array(x, dtype=float) if copy else x
        analytic = np.array(grad_f(np.array(work, dtype=float)), dtype=float)
        numeric = np.zeros(len(work))
        for i in range(len(work) if coords is None else coords):
            if copy:
                up, down = work.copy(), work.copy()
                up[i] += h
                down[i] -= h
                fu, fd, f0 = f(up), f(down), f(work)
            else:
                f0 = f(work)
                work[i] += h
                fu = f(work)
                work[i] -= 2 * h
                fd = f(work)
            numeric[i] = (fu - fd) / (2 * h) if scheme == "central" else (fu - f0) / h
        if coords is not None:
            analytic, numeric = analytic[:coords], numeric[:coords]
        if metric == "absolute":
            return _norm(analytic - numeric)
        return _norm(analytic - numeric) / max(_norm(analytic), _norm(numeric))

    return gradient_check


def test_gradient_check_reference_implementation_passes():
    ex.check_gradient_check(_checker())


def test_gradient_check_forward_difference_is_named():
    assert "used a forward difference" in failure(
        ex.check_gradient_check, _checker(scheme="forward")
    )


def test_gradient_check_modifying_x_is_caught():
    assert "modified its input array" in failure(ex.check_gradient_check, _checker(copy=False))


def test_gradient_check_one_coordinate_is_named():
    assert "checked only one coordinate" in failure(ex.check_gradient_check, _checker(coords=1))


def test_gradient_check_absolute_error_is_named():
    assert "this is the absolute error" in failure(
        ex.check_gradient_check, _checker(metric="absolute")
    )


def test_gradient_check_ignoring_h_is_named():
    assert "ignored the h" in failure(ex.check_gradient_check, _checker(fixed_h=1e-5))


def test_gradient_check_integer_x_truncation_is_named():
    def truncating(f, grad_f, x, h=1e-5):
        numeric = np.zeros(x.shape)
        for i in range(x.size):
            up, down = x.copy(), x.copy()
            up[i] += h  # integer array: rounds back
            down[i] -= h
            numeric[i] = (f(up) - f(down)) / (2 * h)
        a = grad_f(x)
        return _norm(a - numeric) / max(_norm(a), _norm(numeric))

    message = failure(
        ex.expect_gradient_check,
        truncating,
        lambda x: float(np.sum(x**3)),
        lambda x: 3.0 * x**2 + np.array([0, 0, 1.0]),
        np.array([1, -2, 3]),
    )
    assert "x.astype(float)" in message


def test_gradient_check_accepts_any_value_in_the_rounding_noise():
    def noisy(f, grad_f, x, h=1e-5):
        return 3e-10  # a correct check of a correct gradient, rounded differently

    ex.expect_gradient_check(
        noisy, lambda x: float(np.sum(x**3)), lambda x: 3 * x**2, np.array([0.3, 1.1])
    )


def test_gradient_check_returning_an_array_is_explained():
    message = failure(ex.check_gradient_check, lambda f, g, x, h=1e-5: np.abs(g(x)))
    assert "must return one number" in message


# --------------------------------------------------------------------------- bug hunt


def test_buggy_parameters_visible_check_rejects_a_list_and_unknown_names():
    assert "must be a set" in failure(ex.check_buggy_parameters, ["W1"])
    assert "not parameters" in failure(ex.check_buggy_parameters, {"w1"})
    assert "empty" in failure(ex.check_buggy_parameters, set())


def test_buggy_parameters_visible_check_does_not_reveal_the_answer():
    ex.check_buggy_parameters({"b1"})  # wrong, but only the hidden test says so


def test_buggy_parameters_hidden_check_counts_without_naming():
    message = failure(ex.expect_buggy_parameters, {"W1", "b1"}, {"W1", "W2", "b2"})
    assert "1 of the names you listed" in message and "2 buggy parameter(s) missing" in message
    assert not re.search(r"\b(W1|W2|b1|b2)\b", message)


# --------------------------------------------------------------------------- fixed_backward


def _patched(nb, **changes):
    """The solution's fixed_backward with some gradients replaced by a mistake."""

    def backward(params, X, y):
        grads = nb["fixed_backward"](params, X, y)
        m = X.shape[0]
        a2, cache = nb["forward"](params, X)
        a1 = cache["a1"]
        dz2 = 2 * (a2 - y) / m * a2 * (1 - a2)
        da1 = dz2 @ params["W2"].T
        wrong = {"W1": X.T @ da1, "W2": a1.T @ dz2 / m, "b2": dz2[:1]}
        grads.update({k: wrong[k] for k in changes})
        return grads

    return backward


@pytest.mark.parametrize(
    "name, words",
    [("W1", "sigma' is still missing"), ("W2", "divided by m twice"), ("b2", "first sample only")],
)
def test_fixed_backward_names_each_planted_bug_left_in(nb, name, words):
    message = failure(ex.check_fixed_backward, _patched(nb, **{name: True}))
    assert f'["{name}"]' in message and words in message


def test_fixed_backward_missing_factor_two_is_named(nb):
    def halved(params, X, y):
        return {k: v / 2 for k, v in nb["fixed_backward"](params, X, y).items()}

    assert "factor 2" in failure(ex.check_fixed_backward, halved)


def test_fixed_backward_that_updates_params_in_place_is_caught(nb):
    def updating(params, X, y):
        grads = nb["fixed_backward"](params, X, y)
        params["W1"] -= 0.1 * grads["W1"]
        return grads

    assert "modified params" in failure(ex.check_fixed_backward, updating)


def test_fixed_backward_missing_key_is_named(nb):
    def partial(params, X, y):
        grads = nb["fixed_backward"](params, X, y)
        del grads["b1"]
        return grads

    assert "missing : b1" in failure(ex.check_fixed_backward, partial)


# ------------------------------------------------------------------------ worst coordinate and quiz


def test_worst_coordinate_signed_difference_is_named():
    def signed(f, grad_f, x, h=1e-5):
        n = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
        return int(np.argmax(grad_f(x) - n))

    assert "absolute value" in failure(ex.check_worst_coordinate, signed)


def test_worst_coordinate_returning_the_difference_is_named():
    assert "integer index" in failure(ex.check_worst_coordinate, lambda f, g, x, h=1e-5: 0.4)


def test_quiz_strings_are_rejected():
    assert "True or False" in failure(ex.check_quiz, *(["True"] * len(ex.QUIZ)))


def test_a_missing_return_is_named_by_the_one_guard():
    message = failure(ex.check_relative_error, lambda a, b: None)
    assert "relative_error returned None" in message
    assert "forget `return`" in message


def test_the_lesson_network_uses_the_course_xor_data():
    _, X, y = ex.lesson_network()
    X_ref, y_ref = helpers.xor_data()
    assert np.array_equal(X, X_ref) and np.array_equal(y, y_ref)


def test_checker_titles_follow_the_heading_convention():
    titles = [e.title for e in helpers.checks._REGISTRY[LESSON]]
    assert "Quiz 06" in titles and "Challenge 06 · Worst coordinate" in titles
    assert all(t.startswith(("Exercise 06.", "Quiz 06", "Challenge 06")) for t in titles), titles
