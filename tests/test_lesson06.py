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
    ex.check_direction_check(nb["direction_check"])
    ex.check_locate(nb["locate"])
    ex.check_buggy_parameters(nb["buggy_parameters"])
    ex.expect_buggy_parameters(nb["buggy_parameters"], hidden_truth())
    ex.check_fixed_backward(nb["fixed_backward"])
    ex.check_worst_coordinate(nb["worst_coordinate"])
    ex.check_quiz(*(nb[name] for name in ex.QUIZ))


def test_progress_lists_the_six_exercises(nb):
    report = helpers.progress(LESSON, namespace=nb)
    statuses = {r.title.split(" ·")[0]: r.status for r in report.checked}
    # the quiz's and the bug hunt's values are marked on submission: "answered", not "passed"
    answered = {"Quiz 06", "Exercise 06.3"}
    assert len(statuses) == 6, str(report)
    assert all(s == ("answered" if t in answered else "passed") for t, s in statuses.items())


# --------------------------------------------------------------------------- direction_check


def _direction(draw="standard_normal", unit=True, scheme="central", fixed_h=None, ratio=False):
    """A student-style direction_check; each keyword is one way of writing it, or one mistake."""

    def direction_check(f, grad_f, x, rng, h=1e-5):
        h = fixed_h or h
        if draw == "standard_normal":
            v = rng.standard_normal(x.shape)
        elif draw == "normal":
            v = rng.normal(size=x.size)  # the same numbers, the same state afterwards
        elif draw == "twice":
            rng.standard_normal(x.shape)
            v = rng.standard_normal(x.shape)
        elif draw == "uniform":
            v = rng.uniform(-1, 1, x.shape)
        else:
            v = np.random.default_rng(123).standard_normal(x.shape)
        u = v / _norm(v) if unit else v
        slope = grad_f(x) @ u
        if scheme == "central":
            numeric = (f(x + h * u) - f(x - h * u)) / (2 * h)
        else:
            numeric = (f(x + h * u) - f(x)) / h
        if ratio:
            return float(abs(slope - numeric) / max(abs(slope), abs(numeric)))
        return helpers.relative_error(slope, numeric)

    return direction_check


def _norm(v):
    return np.linalg.norm(v)


def test_direction_check_reference_passes_the_visible_and_hidden_inputs():
    # As a student would hand it in: the course's own function itself is refused by name.
    def direction_check(f, grad_f, x, rng, h=1e-5):
        return helpers.gradcheck.direction_check(f, grad_f, x, rng, h)

    ex.check_direction_check(direction_check)
    for seed in (21, 22, 23, 24):
        ex.expect_direction_check(
            direction_check, ex._wavy, ex._wavy_grad_one_wrong, ex._POINT, seed
        )


@pytest.mark.parametrize("options", [{}, {"draw": "normal"}], ids=["standard_normal", "normal"])
def test_direction_check_right_ways_pass(options):
    ex.check_direction_check(_direction(**options))


@pytest.mark.parametrize(
    "options, words",
    [
        ({"unit": False}, "not a unit vector"),
        ({"draw": "twice"}, "rng drew twice"),
        ({"draw": "uniform"}, "drew v uniformly"),
        ({"draw": "own"}, "rng was not used"),
        ({"scheme": "forward"}, "used a forward difference"),
        ({"fixed_h": 1e-5}, "ignored the h"),
        ({"ratio": True}, "0 / 0"),
    ],
    ids=["not normalised", "twice", "uniform", "own generator", "forward", "h ignored", "0/0"],
)
def test_direction_check_mistakes_are_named(options, words):
    assert words in failure(ex.check_direction_check, _direction(**options))


def test_direction_check_counts_the_evaluations_of_f():
    def full_gradient(f, grad_f, x, rng, h=1e-5):
        v = rng.standard_normal(x.shape)
        u = v / _norm(v)
        numeric = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
        return helpers.relative_error(grad_f(x) @ u, numeric @ u)

    message = failure(ex.check_direction_check, full_gradient)
    assert "evaluated f 12 times" in message and "whole central-difference gradient" in message


def test_direction_check_in_place_steps_are_caught_with_a_word_on_rounding():
    def in_place(f, grad_f, x, rng, h=1e-5):
        v = rng.standard_normal(x.shape)
        u = v / _norm(v)
        x += h * u
        up = f(x)
        x -= 2 * h * u
        down = f(x)
        x += h * u
        return helpers.relative_error(grad_f(x) @ u, (up - down) / (2 * h))

    message = failure(ex.check_direction_check, in_place)
    assert "modified its input array" in message and "last digit" in message
    # the before and after arrays print alike: the changed entries are shown to full precision
    assert re.search(r"entry \[\d\] : before -?[\d.]+, after -?[\d.]+", message), message
    assert "last digits" in message


def test_direction_check_wants_a_float():
    def array_out(f, grad_f, x, rng, h=1e-5):
        return np.array([helpers.gradcheck.direction_check(f, grad_f, x, rng, h)])

    assert "must return a float" in failure(ex.check_direction_check, array_out)


def test_direction_check_accepts_any_value_in_the_rounding_noise():
    def noisy(f, grad_f, x, rng, h=1e-5):
        rng.standard_normal(x.shape)
        for sign in (1, -1):
            f(x + sign * h)
        return 3e-9  # a right answer rounded differently

    ex.expect_direction_check(
        noisy, lambda x: float(np.sum(x**3)), lambda x: 3 * x**2, [0.3, 1.1], 5
    )


def test_direction_check_messages_carry_no_address():
    """A verdict is replayed outside the kernel: its message must not depend on the process."""
    message = failure(ex.check_direction_check, _direction(draw="twice"))
    assert "0x" not in message and "np.random.default_rng(2)" in message


# --------------------------------------------------------------------------- locate


def _locate(order="groups", coords="arange", scheme="central", everything=False, sort=False):
    """A student-style locate; each keyword is one way of writing it, or one mistake."""

    def locate(f, grad_f, x, groups, h=1e-5):
        analytic = grad_f(x)
        eye = np.eye(x.size)
        if everything:
            numeric_all = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in eye])
        out = {}
        for name in sorted(groups) if order == "sorted" else groups:
            idx = groups[name]
            if sort and isinstance(idx, np.ndarray):
                idx.sort()
            if coords == "arange":
                where = np.arange(x.size)[idx]
            elif coords == "indices":
                where = list(range(*idx.indices(x.size))) if isinstance(idx, slice) else list(idx)
            elif coords == "sorted":
                where = np.sort(np.arange(x.size)[idx])
            else:
                where = range(idx.start, idx.stop) if isinstance(idx, slice) else idx
            if everything:
                numeric = numeric_all[where]
            elif scheme == "central":
                numeric = [(f(x + h * eye[i]) - f(x - h * eye[i])) / (2 * h) for i in where]
            else:
                numeric = [(f(x + h * eye[i]) - f(x)) / h for i in where]
            out[name] = helpers.relative_error(analytic[idx], np.array(numeric))
        return out

    return locate


def test_locate_reference_passes_the_visible_and_the_network_inputs():
    def locate(f, grad_f, x, groups, h=1e-5):  # as a student would hand it in
        return helpers.gradcheck.locate(f, grad_f, x, groups, h)

    ex.check_locate(locate)
    params, X, y = ex.lesson_network(seed=3)
    ex.expect_locate(locate, *ex.network_problem(params, X, y))


def test_locate_right_ways_pass():
    ex.check_locate(_locate(coords="indices"))


@pytest.mark.parametrize(
    "options, words",
    [
        ({"everything": True}, "every coordinate of x"),
        ({"order": "sorted"}, "the same keys in another order"),
        ({"sort": True}, "modified its input dict (argument 4, entry 'b')"),
        ({"coords": "sorted"}, "another order than the group lists them"),
        ({"coords": "start-stop"}, "may leave out its start or stop"),
        ({"scheme": "forward"}, "forward difference"),
    ],
    ids=["every coordinate", "key order", "sorted in place", "pairing", "None slice", "forward"],
)
def test_locate_mistakes_are_named(options, words):
    assert words in failure(ex.check_locate, _locate(**options))


def test_locate_ignoring_h_is_named():
    def fixed_h(f, grad_f, x, groups, h=1e-5):
        return helpers.gradcheck.locate(f, grad_f, x, groups)

    assert "ignored the h" in failure(ex.check_locate, fixed_h)


def test_the_network_problem_is_the_notebooks_bug_hunt(nb):
    f, grad_f, theta, groups = ex.network_problem(nb["params"], nb["X"], nb["y"])
    assert np.array_equal(theta, nb["theta0"]) and groups == nb["GROUPS"]
    assert f(theta) == nb["loss_of_theta"](theta)
    notebook = nb["flatten"](nb["backward_with_bugs"](nb["params"], nb["X"], nb["y"]))
    assert np.array_equal(grad_f(theta), notebook)
    errors = helpers.gradcheck.locate(f, grad_f, theta, groups)
    assert {name for name, e in errors.items() if e > 1e-4} == hidden_truth()


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

    # helpers.checks.call sees arrays changed inside the dict, entry by entry, before the checker
    assert "modified its input dict (argument 1, entry 'W1')" in failure(
        ex.check_fixed_backward, updating
    )


def test_fixed_backward_with_a_batch_of_four_written_in_fails_the_visible_check(nb):
    def quarter(params, X, y):
        grads = nb["fixed_backward"](params, X, y)
        return {k: v * X.shape[0] / 4 for k, v in grads.items()}

    assert "X of shape (5, 2)" in failure(ex.check_fixed_backward, quarter)


@pytest.mark.parametrize(
    "name, reshape",
    [
        ("b2", lambda g: g.sum()),  # shape ()
        ("b2", lambda g: g.reshape(1)),  # shape (1,)
        ("b1", lambda g: g.ravel()),  # shape (4,)
    ],
    ids=["b2 ()", "b2 (1,)", "b1 (4,)"],
)
def test_fixed_backward_bias_without_keepdims_is_named(nb, name, reshape):
    def dropped_axis(params, X, y):
        grads = nb["fixed_backward"](params, X, y)
        grads[name] = reshape(grads[name])
        return grads

    message = failure(ex.check_fixed_backward, dropped_axis)
    assert f'["{name}"] has the wrong shape' in message and "keepdims=True" in message
    assert "likely mistake" in message


def test_fixed_backward_weight_of_the_wrong_shape_is_not_blamed_on_keepdims(nb):
    def flat_w2(params, X, y):
        grads = nb["fixed_backward"](params, X, y)
        grads["W2"] = grads["W2"].ravel()
        return grads

    message = failure(ex.check_fixed_backward, flat_w2)
    assert "has the wrong shape" in message and "likely mistake" not in message


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


def test_worst_coordinate_ignoring_h_is_named():
    def fixed_step(f, grad_f, x, h=1e-5):
        n = np.array([(f(x + 1e-5 * e) - f(x - 1e-5 * e)) / 2e-5 for e in np.eye(x.size)])
        return int(np.argmax(np.abs(grad_f(x) - n)))

    assert "not taken with the h passed" in failure(ex.check_worst_coordinate, fixed_step)


def test_worst_coordinate_elementwise_relative_difference_is_named_as_such():
    def per_element(f, grad_f, x, h=1e-5):
        a = grad_f(x)
        n = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
        return int(np.argmax(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n))))

    message = failure(ex.check_worst_coordinate, per_element)
    assert "elementwise relative difference" in message
    assert "signed" not in message


def test_worst_coordinate_names_a_slip_only_when_no_other_gives_the_index():
    def signed_the_other_way(f, grad_f, x, h=1e-5):
        n = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
        return int(np.argmax(grad_f(x) - n))

    # On the visible h = 0.1 case a - d and argmin |a - d| give the same index: no name.
    x = np.array([1.5, 1.2, -0.7])
    message = failure(
        ex.expect_worst_coordinate, signed_the_other_way, ex._steps, ex._steps_grad_buggy, x, 0.1
    )
    assert "likely mistake" not in message and "several slips" in message


def test_worst_coordinate_with_helpers_gradient_does_not_claim_a_step_of_1e5():
    def default_step(f, grad_f, x, h=1e-5):
        return int(np.argmax(np.abs(grad_f(x) - helpers.gradient(f, x))))

    message = failure(ex.check_worst_coordinate, default_step)
    assert "not taken with the h passed (h = 0.1)" in message
    assert "used 1e-5" not in message


def test_worst_coordinate_returning_the_difference_is_named():
    assert "integer index" in failure(ex.check_worst_coordinate, lambda f, g, x, h=1e-5: 0.4)


def test_quiz_strings_are_rejected():
    assert "True or False" in failure(ex.check_quiz, *(["True"] * len(ex.QUIZ)))


def test_a_missing_return_is_named_by_the_one_guard():
    message = failure(ex.check_direction_check, lambda f, g, x, rng, h=1e-5: None)
    assert "direction_check returned None" in message
    assert "forget `return`" in message


def test_the_lesson_network_uses_the_course_xor_data():
    _, X, y = ex.lesson_network()
    X_ref, y_ref = helpers.xor_data()
    assert np.array_equal(X, X_ref) and np.array_equal(y, y_ref)


def test_checker_titles_follow_the_heading_convention():
    titles = [e.title for e in helpers.checks._REGISTRY[LESSON]]
    assert "Quiz 06" in titles and "Challenge 06 · Worst coordinate" in titles
    assert all(t.startswith(("Exercise 06.", "Quiz 06", "Challenge 06")) for t in titles), titles


# --------------------------------------------------------------------------- the references


class _Counting:
    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


def test_reference_direction_check_draws_once_and_evaluates_twice():
    rng, twin = np.random.default_rng(3), np.random.default_rng(3)
    f = _Counting(lambda w: float(np.sum(w**3)))
    x = np.array([0.5, -1.0, 2.0])
    error = helpers.gradcheck.direction_check(f, lambda w: 3 * w**2, x, rng)
    twin.standard_normal(x.shape)
    assert rng.bit_generator.state == twin.bit_generator.state
    assert f.calls == 2 and isinstance(error, float) and error < 1e-9
    assert helpers.gradcheck.direction_check(lambda w: 1.0, np.zeros_like, x, rng) == 0.0


def test_reference_locate_evaluates_only_the_groups_in_their_order():
    f = _Counting(lambda w: float(np.sum(np.sin(w))))
    x = np.linspace(-1, 1, 9)
    groups = {"z": np.array([7, 2]), "a": slice(None, 2), "m": slice(4, 6)}
    errors = helpers.gradcheck.locate(f, np.cos, x, groups)
    assert list(errors) == ["z", "a", "m"] and f.calls == 2 * 6
    assert all(isinstance(e, float) and e < 1e-9 for e in errors.values())
