"""Specification of helpers.gradcheck: the normwise metric, the verdict bands, the report."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import GradientCheckResult, gradient, gradient_check, relative_error
from helpers.gradcheck import FAIL_ABOVE, PASS_BELOW


def cubic(w):
    return float(np.sum(w**3) + w[0] * w[-1])


def cubic_grad(w):
    g = 3 * w**2
    g[0] += w[-1]
    g[-1] += w[0]
    return g


X = np.array([0.5, -1.0, 2.0, 1.5])


def perturbed_grad(relative):
    """An analytic gradient whose normwise relative error is about ``relative``."""

    def grad(w):
        g = cubic_grad(w)
        return g + relative * np.linalg.norm(g) * np.eye(w.size)[2]

    return grad


# ---------------------------------------------------------------------------------------
# relative_error
# ---------------------------------------------------------------------------------------


def test_relative_error_is_normwise():
    a, b = np.array([3.0, 4.0]), np.array([3.0, 4.5])
    expected = 0.5 / math.hypot(3.0, 4.5)
    assert relative_error(a, b) == pytest.approx(expected, rel=1e-15)


def test_relative_error_of_equal_arrays_is_zero():
    assert relative_error([1.0, -2.0], [1.0, -2.0]) == 0.0


def test_relative_error_of_two_zero_arrays_is_zero_not_nan():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_relative_error_against_zero_is_one():
    assert relative_error([0.0, 0.0], [1e-30, 0.0]) == 1.0


def test_relative_error_works_on_scalars():
    assert relative_error(2.0, 2.5) == pytest.approx(0.2)


def test_relative_error_works_on_matrices():
    assert relative_error(np.eye(2), 2 * np.eye(2)) == pytest.approx(0.5)


def test_relative_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        relative_error(np.ones(3), np.ones((3, 1)))


def test_relative_error_of_non_finite_input_is_nan():
    assert math.isnan(relative_error([1.0, math.nan], [1.0, 2.0]))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6).flatmap(
        lambda a: st.tuples(
            st.just(np.array(a)),
            st.lists(st.floats(-1e3, 1e3), min_size=len(a), max_size=len(a)).map(np.array),
            st.floats(1e-3, 1e3),
        )
    )
)
def test_relative_error_is_symmetric_bounded_and_scale_invariant(args):
    a, b, scale = args
    err = relative_error(a, b)
    assert err == relative_error(b, a)
    assert 0.0 <= err <= 2.0
    assert relative_error(scale * a, scale * b) == pytest.approx(err, rel=1e-12, abs=1e-300)


# ---------------------------------------------------------------------------------------
# gradient_check: verdicts
# ---------------------------------------------------------------------------------------


def test_band_thresholds_are_1e_7_and_1e_4():
    assert (PASS_BELOW, FAIL_ABOVE) == (1e-7, 1e-4)


def test_correct_gradient_passes_at_the_float64_floor():
    result = gradient_check(cubic, cubic_grad, X)
    assert result.verdict == "pass"
    assert result.relative_error < 1e-9


@pytest.mark.parametrize(
    ("injected", "verdict"),
    [(1e-8, "pass"), (1e-6, "warn"), (5e-5, "warn"), (1e-3, "fail"), (1e-1, "fail")],
)
def test_verdict_follows_the_bands(injected, verdict):
    result = gradient_check(cubic, perturbed_grad(injected), X)
    # ||d|| / max(||g||, ||g + d||) with ||d|| = injected * ||g||: injected / (1 + O(injected)).
    assert result.relative_error == pytest.approx(injected, rel=0.1, abs=2e-10)
    assert result.verdict == verdict


def test_missing_factor_bug_fails():
    result = gradient_check(cubic, lambda w: cubic_grad(w) / 3, X)
    assert result.verdict == "fail"


def test_non_finite_analytic_gradient_fails():
    result = gradient_check(cubic, lambda w: np.full(w.size, np.nan), X)
    assert result.verdict == "fail"


def test_worst_index_is_the_coordinate_with_the_largest_difference():
    assert gradient_check(cubic, perturbed_grad(1e-3), X).worst_index == 2


def test_forward_method_is_used_when_asked():
    result = gradient_check(cubic, cubic_grad, X, method="forward")
    assert result.method == "forward"
    np.testing.assert_array_equal(result.numeric, gradient(cubic, X, method="forward"))


def test_explicit_step_is_passed_to_the_numeric_gradient():
    result = gradient_check(cubic, cubic_grad, X, h=1e-2)
    np.testing.assert_array_equal(result.numeric, gradient(cubic, X, h=1e-2))


# ---------------------------------------------------------------------------------------
# gradient_check: the result object
# ---------------------------------------------------------------------------------------


def test_result_holds_both_gradients():
    result = gradient_check(cubic, cubic_grad, X)
    np.testing.assert_array_equal(result.analytic, cubic_grad(X))
    np.testing.assert_array_equal(result.numeric, gradient(cubic, X))


def test_result_is_frozen():
    result = gradient_check(cubic, cubic_grad, X)
    assert isinstance(result, GradientCheckResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verdict = "pass"
    with pytest.raises(ValueError, match="read-only"):
        result.analytic[0] = 0.0


def test_table_has_one_row_per_coordinate():
    result = gradient_check(cubic, perturbed_grad(1e-3), X)
    table = result.table
    assert [row.index for row in table] == [0, 1, 2, 3]
    row = table[2]
    assert row.analytic == result.analytic[2]
    assert row.numeric == result.numeric[2]
    assert row.abs_difference == abs(result.analytic[2] - result.numeric[2])


def test_text_report_shows_verdict_error_rows_and_explains_the_bands():
    result = gradient_check(cubic, perturbed_grad(1e-3), X)
    text = str(result)
    assert "FAIL" in text
    assert f"relative error {result.relative_error:.2e}" in text
    assert "<- worst" in text
    assert len([line for line in text.splitlines() if line.strip()[:1].isdigit()]) == 4
    assert "pass below 1e-07" in text and "fail above 1e-04" in text
    assert "1e-10" in text and "1e-2" in text  # why the bands sit where they do


def test_html_report_is_a_table_with_the_verdict_and_the_bands():
    html = gradient_check(cubic, cubic_grad, X)._repr_html_()
    assert "<table>" in html and html.count("<tr") == 1 + 4
    assert "PASS" in html
    assert "pass below 1e-07" in html


def test_long_reports_show_the_largest_differences():
    n = 60
    w = np.linspace(-1, 1, n)
    bug = np.zeros(n)
    bug[37] = 1.0
    result = gradient_check(lambda v: float(np.sum(v**2)), lambda v: 2 * v + bug, w)
    text = str(result)
    assert "showing the 10 largest differences of 60" in text
    assert "    37 " in text
    assert result.worst_index == 37
    assert len(result.table) == n


# ---------------------------------------------------------------------------------------
# gradient_check: input handling
# ---------------------------------------------------------------------------------------


def test_gradient_check_never_modifies_x():
    x = X.copy()

    def careless_grad(w):
        w *= 2.0
        return cubic_grad(w / 2.0)

    gradient_check(cubic, careless_grad, x)
    np.testing.assert_array_equal(x, X)


def test_gradient_check_accepts_lists_and_integers():
    result = gradient_check(lambda v: float(v @ v), lambda v: 2 * v, [1, 2, 3])
    assert result.verdict == "pass"


def test_gradient_check_rejects_wrong_gradient_shape():
    with pytest.raises(ValueError, match=r"shaped like x \(4,\).*\(4, 1\)"):
        gradient_check(cubic, lambda w: cubic_grad(w)[:, None], X)


def test_gradient_check_rejects_non_callable_grad_f():
    with pytest.raises(TypeError, match="grad_f"):
        gradient_check(cubic, cubic_grad(X), X)


def test_gradient_check_rejects_non_callable_f():
    with pytest.raises(TypeError, match="callable"):
        gradient_check(1.0, cubic_grad, X)


def test_gradient_check_warns_on_float32_x():
    with pytest.warns(UserWarning, match="1e-4"):
        gradient_check(cubic, cubic_grad, X.astype(np.float32))


def test_docstring_examples_run():
    import doctest

    import helpers.gradcheck

    outcome = doctest.testmod(helpers.gradcheck)
    assert outcome.attempted > 0
    assert outcome.failed == 0
