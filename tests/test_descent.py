"""Specification of helpers.gradient_descent."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from helpers import DescentResult, gradient_descent

# The divergence tests overflow inside their own grad and loss functions: numpy's warning
# about that is expected; gradient_descent's own RuntimeWarning is asserted with pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


def quadratic_grad(w):
    return 2.0 * w  # gradient of ||w||^2


def quadratic_loss(w):
    return float(w @ w)


def test_path_has_num_steps_plus_one_rows_with_w0_first():
    path = gradient_descent(quadratic_grad, [1.0, -2.0], learning_rate=0.1, num_steps=7).path
    assert path.shape == (8, 2)
    assert path.dtype == np.float64
    np.testing.assert_array_equal(path[0], [1.0, -2.0])


def test_path_follows_the_update_rule():
    # w_k = (1 - 2 lr)^k w0 for the gradient 2 w.
    w0 = np.array([1.0, -2.0, 0.5])
    path = gradient_descent(quadratic_grad, w0, learning_rate=0.1, num_steps=5).path
    expected = np.array([(0.8**k) * w0 for k in range(6)])
    np.testing.assert_allclose(path, expected, rtol=1e-15)


def test_zero_steps_returns_only_w0():
    path = gradient_descent(quadratic_grad, [3.0], learning_rate=0.1, num_steps=0).path
    np.testing.assert_array_equal(path, [[3.0]])


def test_without_loss_fn_the_result_is_a_descent_result_with_no_losses():
    result = gradient_descent(quadratic_grad, [1.0, 1.0], learning_rate=0.25, num_steps=4)
    assert isinstance(result, DescentResult)
    assert result.path.shape == (5, 2)
    assert result.losses is None


def test_loss_fn_gives_a_descent_result_that_unpacks_as_path_and_losses():
    result = gradient_descent(
        quadratic_grad, [1.0, 1.0], learning_rate=0.25, num_steps=4, loss_fn=quadratic_loss
    )
    assert isinstance(result, DescentResult)
    path, losses = result
    assert path is result.path and losses is result.losses
    assert losses.shape == (5,)
    np.testing.assert_array_equal(losses, [quadratic_loss(w) for w in path])


def test_w0_is_copied_and_never_modified():
    w0 = np.array([1.0, 2.0])

    def careless_grad(w):
        w += 1.0  # modifies its argument: must not reach the caller or the path
        return np.zeros_like(w)

    path = gradient_descent(careless_grad, w0, learning_rate=0.1, num_steps=3).path
    np.testing.assert_array_equal(w0, [1.0, 2.0])
    np.testing.assert_array_equal(path, np.tile([1.0, 2.0], (4, 1)))


def test_integer_and_list_w0_are_upcast_to_float64():
    path = gradient_descent(quadratic_grad, [1, 3], learning_rate=0.25, num_steps=1).path
    np.testing.assert_array_equal(path, [[1.0, 3.0], [0.5, 1.5]])


def test_converges_on_an_ill_conditioned_quadratic_within_the_textbook_bound():
    # kappa = 10, lr = 2 / (L + mu): ||w_k|| <= ((kappa - 1) / (kappa + 1))^k ||w_0||,
    # so 1e-8 needs at most 92 steps (the notes measure 84).
    curvatures = np.linspace(1.0, 10.0, 50)
    w0 = np.ones(50)
    path = gradient_descent(lambda w: curvatures * w, w0, 2 / (1.0 + 10.0), 92).path
    assert np.linalg.norm(path[-1]) <= 1e-8 * np.linalg.norm(w0)


# ---------------------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------------------


def test_divergence_stops_with_a_warning_naming_the_step_and_a_smaller_learning_rate():
    with pytest.warns(RuntimeWarning, match=r"stopped at step \d+ of 5000.*smaller"):
        gradient_descent(quadratic_grad, [1.0], learning_rate=1.5, num_steps=5000)


def test_divergence_returns_the_path_up_to_the_last_finite_iterate():
    # lr = 1.5 on ||w||^2 gives w_k = (-2)^k: (-2)^1023 is finite, (-2)^1024 overflows.
    with pytest.warns(RuntimeWarning, match="stopped at step 1024 of 5000"):
        path = gradient_descent(quadratic_grad, [1.0], learning_rate=1.5, num_steps=5000).path
    assert path.shape == (1024, 1)
    assert path[-1, 0] == (-2.0) ** 1023


def test_divergence_of_the_loss_truncates_path_and_losses_together():
    # The loss w^2 = 4^k overflows first, at k = 512.
    with pytest.warns(RuntimeWarning, match="stopped at step 512 .* the loss"):
        path, losses = gradient_descent(
            quadratic_grad, [1.0], learning_rate=1.5, num_steps=5000, loss_fn=quadratic_loss
        )
    assert path.shape == (512, 1)
    assert losses.shape == (512,)
    assert np.all(np.isfinite(losses))


def test_non_finite_gradient_stops_descent():
    def grad(w):
        return np.array([math.nan]) if w[0] < 0.5 else np.array([1.0])

    with pytest.warns(RuntimeWarning, match="the gradient became non-finite"):
        path = gradient_descent(grad, [1.0], learning_rate=0.3, num_steps=10).path
    np.testing.assert_allclose(path.ravel(), [1.0, 0.7, 0.4])


def test_no_warning_when_descent_converges():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradient_descent(quadratic_grad, [1.0], learning_rate=0.1, num_steps=100)


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.0, -0.1, math.inf, math.nan])
def test_rejects_learning_rate_that_is_not_positive_and_finite(lr):
    with pytest.raises(ValueError, match="learning_rate"):
        gradient_descent(quadratic_grad, [1.0], learning_rate=lr, num_steps=3)


@pytest.mark.parametrize("lr", ["0.1", True, None])
def test_rejects_learning_rate_that_is_not_a_number(lr):
    with pytest.raises(TypeError, match="learning_rate"):
        gradient_descent(quadratic_grad, [1.0], learning_rate=lr, num_steps=3)


def test_rejects_negative_num_steps():
    with pytest.raises(ValueError, match="num_steps"):
        gradient_descent(quadratic_grad, [1.0], learning_rate=0.1, num_steps=-1)


@pytest.mark.parametrize("steps", [2.5, 10.0, "10"])
def test_rejects_num_steps_that_is_not_an_integer(steps):
    with pytest.raises(TypeError, match="num_steps"):
        gradient_descent(quadratic_grad, [1.0], learning_rate=0.1, num_steps=steps)


def test_accepts_numpy_integer_num_steps():
    path = gradient_descent(quadratic_grad, [1.0], learning_rate=0.1, num_steps=np.int64(2)).path
    assert path.shape == (3, 1)


def test_rejects_non_callable_grad_fn():
    with pytest.raises(TypeError, match="grad_fn"):
        gradient_descent(np.zeros(2), [1.0, 2.0], learning_rate=0.1, num_steps=3)


def test_rejects_non_callable_loss_fn():
    with pytest.raises(TypeError, match="loss_fn"):
        gradient_descent(quadratic_grad, [1.0], 0.1, 3, loss_fn=1.0)


def test_rejects_gradient_that_is_not_numeric():
    with pytest.raises(TypeError, match="grad_fn must return a real array"):
        gradient_descent(lambda w: ["up", "down"], [1.0, 2.0], learning_rate=0.1, num_steps=3)


def test_rejects_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"shaped like w \(2,\).*\(2, 1\)"):
        gradient_descent(lambda w: w[:, None], [1.0, 2.0], learning_rate=0.1, num_steps=3)


@pytest.mark.parametrize(("w0", "hint"), [(3.0, r"\[w0\]"), (np.ones((2, 2)), "flatten")])
def test_rejects_w0_that_is_not_1d(w0, hint):
    with pytest.raises(ValueError, match=rf"w0 must be 1-D.*{hint}"):
        gradient_descent(quadratic_grad, w0, learning_rate=0.1, num_steps=3)


def test_rejects_non_finite_w0():
    with pytest.raises(ValueError, match="finite"):
        gradient_descent(quadratic_grad, [math.nan], learning_rate=0.1, num_steps=3)


def test_rejects_loss_fn_returning_a_vector():
    with pytest.raises(ValueError, match="scalar"):
        gradient_descent(quadratic_grad, [1.0, 2.0], 0.1, 3, loss_fn=lambda w: w**2)


def test_docstring_examples_run():
    import doctest

    import helpers.descent

    outcome = doctest.testmod(helpers.descent)
    assert outcome.attempted > 0
    assert outcome.failed == 0


# --------------------------------------------------------------------------- momentum and Adam

from helpers.descent import adam, momentum_descent  # noqa: E402


def test_momentum_with_beta_zero_is_gradient_descent():
    w0 = [1.0, -2.0, 0.5]
    np.testing.assert_allclose(
        momentum_descent(quadratic_grad, w0, 0.1, 0.0, 6),
        gradient_descent(quadratic_grad, w0, 0.1, 6).path,
        rtol=1e-15,
    )


def test_momentum_follows_the_heavy_ball_update():
    # v1 = -0.5, w1 = 0.5; v2 = 0.5 * -0.5 - 0.25 * 1 = -0.5, w2 = 0; v3 = -0.25, w3 = -0.25
    np.testing.assert_allclose(
        momentum_descent(quadratic_grad, [1.0], 0.25, 0.5, 3), [[1.0], [0.5], [0.0], [-0.25]]
    )


def test_heavy_ball_at_its_optimal_parameters_beats_the_best_plain_rate():
    curv = np.array([1.0, 10.0])
    grad = lambda w: curv * w  # noqa: E731
    root = np.sqrt(10.0)
    hb = momentum_descent(
        grad, [-2.0, 1.0], 4 / (root + 1) ** 2, ((root - 1) / (root + 1)) ** 2, 60
    )
    gd = gradient_descent(grad, [-2.0, 1.0], 2 / 11, 60).path
    assert np.linalg.norm(hb[-1]) < 1e-9 < np.linalg.norm(gd[-1])


def test_adam_first_step_moves_every_coordinate_by_about_the_learning_rate():
    for scale in (1e-4, 1.0, 1e6):  # gradients well above eps = 1e-8
        path = adam(lambda w: scale * (w - 3.0), [0.0, 1.0], learning_rate=0.1, num_steps=1)
        np.testing.assert_allclose(path[1] - path[0], [0.1, 0.1], rtol=0.02)


def test_adam_follows_the_bias_corrected_update():
    def reference(grad_fn, w, lr, b1, b2, eps, steps):
        m = v = 0.0
        out = [w]
        for t in range(1, steps + 1):
            g = grad_fn(w)
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            w = w - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)) ** 0.5 + eps)
            out.append(w)
        return out

    got = adam(lambda w: 4 * w**3, [1.1], 0.05, 0.8, 0.99, 1e-6, 12)[:, 0]
    np.testing.assert_allclose(got, reference(lambda w: 4 * w**3, 1.1, 0.05, 0.8, 0.99, 1e-6, 12))


@pytest.mark.parametrize("method", ["momentum", "adam"])
def test_momentum_and_adam_copy_w0_upcast_integers_and_call_grad_once_per_step(method):
    calls = []

    def grad(w):
        calls.append(w.copy())
        w += 1.0  # a grad_fn that scribbles on its argument changes nothing
        return 2.0 * (w - 1.0)

    w0 = np.array([3, -2])
    path = (
        momentum_descent(grad, w0, 0.1, 0.5, 4)
        if method == "momentum"
        else adam(grad, w0, learning_rate=0.1, num_steps=4)
    )
    assert path.shape == (5, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(w0, [3, -2])
    np.testing.assert_array_equal(path[0], [3.0, -2.0])
    assert len(calls) == 4


@pytest.mark.parametrize(
    "kwargs",
    [{"beta1": 1.0}, {"beta2": -0.1}, {"eps": -1e-8}, {"learning_rate": 0.0}, {"num_steps": -1}],
)
def test_adam_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        adam(quadratic_grad, [1.0], **kwargs)


def test_momentum_rejects_a_momentum_outside_0_1():
    with pytest.raises(ValueError):
        momentum_descent(quadratic_grad, [1.0], 0.1, 1.0, 3)
    with pytest.raises(TypeError):
        momentum_descent(quadratic_grad, [1.0], 0.1, "0.9", 3)


def test_momentum_divergence_stops_with_a_warning():
    with pytest.warns(RuntimeWarning, match="momentum_descent stopped at step"):
        path = momentum_descent(quadratic_grad, [1.0], 5.0, 0.9, 2000)
    assert len(path) < 2001 and np.all(np.isfinite(path))
