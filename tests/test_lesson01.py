"""Lesson 01's checkers (helpers.exercises.derivatives): every condition of an exercise's text
has a test, no test is stricter than its text, and a mistake is named only on evidence.

tests/test_lessons.py grades the answer fixtures through nbgrader; these pin the contract down
quickly, in process.
"""

from __future__ import annotations

import numpy as np
import pytest

import helpers
from helpers.checks import CheckFailure
from helpers.exercises import derivatives as ex
from helpers.exercises import evidence


def failure(checker, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as caught:
        checker(*args, **kwargs)
    return str(caught.value)


def numerical_gradient(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def gradients_agree(f, grad_f, x, tol=1e-7):
    return bool(
        helpers.relative_error(grad_f(np.asarray(x, dtype=float)), numerical_gradient(f, x)) <= tol
    )


def test_reference_answers_pass():
    ex.check_numerical_gradient(numerical_gradient)
    ex.check_gradients_agree(gradients_agree)
    ex.check_make_derivative(lambda f, h=1e-5: lambda x: (f(x + h) - f(x - h)) / (2 * h))
    ex.check_difference_errors(
        lambda f, df, x, h: (
            abs((f(x + h) - f(x)) / h - df(x)),
            abs((f(x + h) - f(x - h)) / (2 * h) - df(x)),
        )
    )


# --------------------------------------------------------------------------- gradients_agree


def test_gradients_agree_takes_the_error_as_zero_when_both_gradients_are_zero():
    def nan_when_both_zero(f, grad_f, x, tol=1e-7):
        a, n = np.asarray(grad_f(np.asarray(x, float))), numerical_gradient(f, x)
        with np.errstate(all="ignore"):
            return bool(np.linalg.norm(a - n) / max(np.linalg.norm(a), np.linalg.norm(n)) <= tol)

    message = failure(ex.check_gradients_agree, nan_when_both_zero)
    assert "both gradients are zero" in message


def test_gradients_agree_visible_test_passes_tol_and_catches_allclose():
    def ignores_tol(f, grad_f, x, tol=1e-7):
        return gradients_agree(f, grad_f, x)

    assert "tol=0.001" in failure(ex.check_gradients_agree, ignores_tol)

    def allclose(f, grad_f, x, tol=1e-7):
        return bool(np.allclose(grad_f(np.asarray(x, float)), numerical_gradient(f, x), rtol=tol))

    assert "tiny function" in failure(ex.check_gradients_agree, allclose)


def test_gradients_agree_message_describes_the_case_not_a_guessed_mistake():
    message = failure(ex.check_gradients_agree, lambda f, g, x, tol=1e-7: True)
    # The only evidence: neither f nor grad_f was called.
    assert "this case" in message and "grad_f was never called" in message


# --------------------------------------------------------------------------- numerical_gradient


def test_numerical_gradient_returns_a_numpy_array():
    message = failure(
        ex.check_numerical_gradient, lambda f, x, h=1e-5: list(numerical_gradient(f, x, h))
    )
    assert "must return a NumPy array" in message


def test_numerical_gradient_default_step_is_tested():
    def default_1e3(f, x, h=1e-3):
        return numerical_gradient(f, x, h)

    assert "h = 0.001" in failure(ex.check_numerical_gradient, default_1e3)


def test_numerical_gradient_in_float32_is_told_so():
    def in_float32(f, x, h=1e-5):
        x = np.asarray(x, dtype=np.float32)
        out = np.zeros(x.size)
        for i in range(x.size):
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            out[i] = (f(xp) - f(xm)) / (2 * h)
        return out

    assert "float32" in failure(ex.check_numerical_gradient, in_float32)


def test_numerical_gradient_step_left_in_place_fails_the_visible_test():
    def never_restored(f, x, h=1e-5):
        z = np.array(x, dtype=float)
        out = np.zeros_like(z)
        for i in range(z.size):
            z[i] += h
            up = f(z)
            z[i] -= 2 * h
            out[i] = (up - f(z)) / (2 * h)
        return out

    assert "gave a wrong value" in failure(ex.check_numerical_gradient, never_restored)


def test_numerical_gradient_with_an_integer_copy_fails_the_visible_test():
    def integer_copy(f, x, h=1e-5):
        out = np.zeros(len(x))
        for i in range(len(x)):
            xp, xm = np.copy(x), np.copy(x)
            xp[i] = xp[i] + h
            xm[i] = xm[i] - h
            out[i] = (f(xp) - f(xm)) / (2 * h)
        return out

    assert "x holds integers" in failure(ex.check_numerical_gradient, integer_copy)


# --------------------------------------------------------------------------- the others


def test_difference_errors_must_use_the_exact_derivative_it_is_given():
    def estimates_df(f, df, x, h):
        d = (f(x + 1e-6) - f(x - 1e-6)) / 2e-6
        return abs((f(x + h) - f(x)) / h - d), abs((f(x + h) - f(x - h)) / (2 * h) - d)

    assert "never called df" in failure(ex.check_difference_errors, estimates_df)


def test_make_derivative_default_step_is_tested():
    def default_1e3(f, h=1e-3):
        return lambda x: (f(x + h) - f(x - h)) / (2 * h)

    assert "the default step is h=1e-5" in failure(ex.check_make_derivative, default_1e3)


def test_second_derivative_names_a_flipped_sign():
    message = failure(
        ex.check_second_derivative, lambda f, x, h: (2 * f(x) - f(x + h) - f(x - h)) / h**2
    )
    assert "the sign is flipped" in message


# --------------------------------------------------------------------------- evidence


def test_distinct_drops_a_mistake_too_close_to_the_right_value():
    kept = evidence.distinct({"near": 1.0 + 1e-6, "far": 2.0}, 1.0, 1e-7)
    assert list(kept) == ["far"]


def test_distinct_keeps_a_close_mistake_that_the_answer_matches_far_better():
    kept = evidence.distinct({"near": 1.0 + 1e-6}, 1.0, 1e-8, got=1.0 + 1e-6 + 1e-12)
    assert list(kept) == ["near"]


def test_quadratic_derivative_by_finite_differences_fails_where_digits_are_lost():
    def estimate(x):
        def f(t):
            return t**2 + 3 * t + 5

        return (f(x + 1e-6) - f(x - 1e-6)) / 2e-6

    assert "rounding" in failure(ex.check_quadratic_derivative, estimate)
    ex.check_quadratic_derivative(lambda x: 2.0 * (x + 1.5))


# --------------------------------------------------------------------------- student report 01


def _agree_with(compare, numerical=numerical_gradient):
    def agree(f, grad_f, x, tol=1e-7):
        a = np.asarray(grad_f(np.asarray(x, dtype=float)), dtype=float)
        return bool(compare(a, numerical(f, x), tol))

    return agree


def _per_coordinate(a, n):
    d = np.maximum(np.abs(a), np.abs(n))
    return np.where(d == 0, 0.0, np.abs(a - n) / np.where(d == 0, 1.0, d))


def _normwise(a, n, scale):
    return 0.0 if scale == 0 else np.linalg.norm(a - n) / scale


@pytest.mark.parametrize(
    ("compare", "named"),
    [
        (lambda a, n, tol: np.all(_per_coordinate(a, n) <= tol), "per coordinate"),
        (lambda a, n, tol: np.mean(_per_coordinate(a, n)) <= tol, "mean of the per-coordinate"),
        (
            lambda a, n, tol: _normwise(a, n, min(np.linalg.norm(a), np.linalg.norm(n))) <= tol,
            "min(||a||, ||n||)",
        ),
        (
            lambda a, n, tol: _normwise(a, n, np.linalg.norm(a) + np.linalg.norm(n)) <= tol,
            "||a|| + ||n||",
        ),
        (lambda a, n, tol: np.linalg.norm(a - n) <= tol, "absolute error"),
    ],
)
def test_gradients_agree_visible_test_refuses_the_wrong_comparisons_and_names_them(compare, named):
    message = failure(ex.check_gradients_agree, _agree_with(compare))
    assert "gives" in message and named in message


def test_gradients_agree_names_the_numerical_side_from_the_points_f_was_evaluated_at():
    def forward(f, x, h=1e-5):
        x = np.asarray(x, dtype=float)
        return np.array([(f(x + h * e) - f(x)) / h for e in np.eye(x.size)])

    right = lambda a, n, tol: _normwise(a, n, max(np.linalg.norm(a), np.linalg.norm(n))) <= tol  # noqa: E731
    message = failure(ex.check_gradients_agree, _agree_with(right, forward))
    assert "forward difference" in message and "large function" not in message
    message = failure(
        ex.check_gradients_agree,
        _agree_with(right, lambda f, x: numerical_gradient(f, x, 1e-3)),
    )
    assert "steps of about 1e-03" in message


def test_gradients_agree_right_gradient_with_a_coordinate_near_zero_passes():
    ex.expect_gradients_agree(
        gradients_agree, ex.cos_plus_square, ex.cos_plus_square_grad, [1.0, 1e-9], True
    )


def test_forward_difference_refuses_a_string():
    message = failure(ex.check_forward_difference, lambda f, x, h: str((f(x + h) - f(x)) / h))
    assert "not a string" in message


def test_quadratic_derivative_names_truncation_for_a_forward_difference():
    def forward(x):
        return ((x + 1e-5) ** 2 + 3 * (x + 1e-5) - x**2 - 3 * x) / 1e-5

    message = failure(ex.check_quadratic_derivative, forward)
    assert "forward difference with h = 1.0e-05" in message and "truncation" in message

    def central(x):
        h = 1e-6
        return ((x + h) ** 2 + 3 * (x + h) - (x - h) ** 2 - 3 * (x - h)) / (2 * h)

    message = failure(ex.check_quadratic_derivative, central)
    assert "rounding" in message and "truncation" not in message


def test_untouched_numerical_gradient_is_not_written_not_failing():
    def untouched(f, x, h=1e-5):
        raise NotImplementedError()

    with pytest.raises(CheckFailure) as caught:
        ex.check_numerical_gradient(untouched)
    assert caught.value.cause == "not written"
