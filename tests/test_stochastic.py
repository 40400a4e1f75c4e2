"""Specification of helpers.stochastic: mini-batches and mini-batch SGD."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import helpers
import helpers.stochastic
from helpers.stochastic import SGDResult, minibatch_indices, sgd


def regression(n=40, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = X @ np.array([1.5, -0.7]) + 0.1 * rng.normal(size=n)
    return X, y


def mse_grad(w, Xb, yb):
    return 2 * Xb.T @ (Xb @ w - yb) / len(yb)


def mse(w, X, y):
    return float(np.mean((X @ w - y) ** 2))


@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (7, 1), (5, 9)])
def test_batches_are_consecutive_pieces_of_one_permutation(n, batch_size):
    batches = minibatch_indices(n, batch_size, np.random.default_rng(4))
    order = np.random.default_rng(4).permutation(n)
    np.testing.assert_array_equal(np.concatenate(batches), order)
    assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
    assert len(batches) == -(-n // batch_size)


def test_batches_are_integer_arrays():
    assert all(
        b.dtype.kind == "i" and b.ndim == 1
        for b in minibatch_indices(9, 4, np.random.default_rng(0))
    )


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused(batch_size):
    with pytest.raises((TypeError, ValueError), match="batch_size"):
        minibatch_indices(5, batch_size, np.random.default_rng(0))


def test_sgd_follows_the_update_with_one_generator_for_the_whole_run():
    X, y = regression()
    w0 = np.array([0.0, 0.0])
    rng = np.random.default_rng(3)
    w = w0.copy()
    for _ in range(4):
        for idx in minibatch_indices(len(X), 6, rng):
            w = w - 0.05 * mse_grad(w, X[idx], y[idx])
    run = sgd(mse_grad, w0, X, y, lr=0.05, batch_size=6, epochs=4, seed=3)
    np.testing.assert_allclose(run.w, w, rtol=1e-15)
    assert isinstance(run, SGDResult)


def test_sgd_records_a_path_row_per_step_and_a_loss_per_row():
    X, y = regression()
    run = sgd(mse_grad, [0.0, 0.0], X, y, lr=0.05, batch_size=6, epochs=3, loss_fn=mse)
    assert run.steps_per_epoch == 7
    assert run.path.shape == (3 * 7 + 1, 2)
    assert run.losses.shape == (3 * 7 + 1,)
    assert run.losses[0] == pytest.approx(mse(np.zeros(2), X, y))
    np.testing.assert_array_equal(run.path[-1], run.w)


def test_sgd_without_loss_fn_records_no_losses():
    X, y = regression()
    assert sgd(mse_grad, [0.0, 0.0], X, y, lr=0.05, batch_size=6, epochs=1).losses is None


def test_full_batch_sgd_is_gradient_descent():
    X, y = regression()
    run = sgd(mse_grad, [0.0, 0.0], X, y, lr=0.1, batch_size=len(X), epochs=5)
    w = np.zeros(2)
    for _ in range(5):
        w = w - 0.1 * mse_grad(w, X, y)
    np.testing.assert_allclose(run.w, w, rtol=1e-12)


def test_a_callable_lr_is_the_rate_of_each_step():
    X, y = regression()
    constant = sgd(mse_grad, [0.0, 0.0], X, y, lr=0.05, batch_size=5, epochs=2)
    scheduled = sgd(mse_grad, [0.0, 0.0], X, y, lr=lambda k: 0.05, batch_size=5, epochs=2)
    np.testing.assert_array_equal(constant.path, scheduled.path)


def test_w0_is_not_modified():
    X, y = regression()
    w0 = np.array([0.3, -0.2])
    sgd(mse_grad, w0, X, y, lr=0.05, batch_size=4, epochs=2)
    np.testing.assert_array_equal(w0, [0.3, -0.2])


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    X, y = regression()
    a, b, c = (sgd(mse_grad, [0.0, 0.0], X, y, 0.05, 4, 2, seed=s).w for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("inf"), "0.1"])
def test_a_bad_learning_rate_is_refused(lr):
    X, y = regression()
    with pytest.raises(ValueError, match="lr must be"):
        sgd(mse_grad, [0.0, 0.0], X, y, lr, 4, 1)


def test_mismatched_X_and_y_are_refused():
    X, y = regression()
    with pytest.raises(ValueError, match="same number of examples"):
        sgd(mse_grad, [0.0, 0.0], X, y[:-1], 0.1, 4, 1)


def test_docstring_examples_run():
    assert doctest.testmod(helpers.stochastic).failed == 0


def test_line_data_is_reproducible_and_has_an_intercept_column():
    X, y = helpers.stochastic.line_data(50, seed=3)
    X2, y2 = helpers.stochastic.line_data(50, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (50, 2) and y.shape == (50,)
    np.testing.assert_array_equal(X[:, 0], 1.0)


def test_mean_squared_error_grad_is_the_gradient_of_the_loss():
    X, y = helpers.stochastic.line_data(30, seed=1)
    w = np.array([0.2, -0.4])
    numeric = helpers.gradient(lambda v: helpers.stochastic.mean_squared_error(v, X, y), w)
    exact = helpers.stochastic.mean_squared_error_grad(w, X, y)
    assert helpers.relative_error(numeric, exact) < 1e-8


def test_mean_squared_error_grad_is_the_mean_of_per_example_gradients():
    X, y = helpers.stochastic.line_data(30, seed=1)
    w = np.array([0.2, -0.4])
    per_example = [
        helpers.stochastic.mean_squared_error_grad(w, X[i : i + 1], y[i : i + 1]) for i in range(30)
    ]
    np.testing.assert_allclose(
        np.mean(per_example, axis=0), helpers.stochastic.mean_squared_error_grad(w, X, y)
    )
