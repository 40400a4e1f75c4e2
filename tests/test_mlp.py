"""Specification of helpers.mlp: sigmoid, XOR data and the 2-4-1 sigmoid network."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import helpers
from helpers import MLP, gradient, gradient_check, sigmoid, xor_data

NAMES = ("W1", "b1", "W2", "b2")


def flat(net):
    return np.concatenate([net.params[k].ravel() for k in NAMES])


def set_flat(net, theta):
    start = 0
    for k in NAMES:
        p = net.params[k]
        p[...] = theta[start : start + p.size].reshape(p.shape)
        start += p.size


# ---------------------------------------------------------------------------------------
# sigmoid and data
# ---------------------------------------------------------------------------------------


def test_sigmoid_of_zero_is_one_half():
    assert sigmoid(0.0) == 0.5


def test_sigmoid_saturates_without_overflow_warnings_or_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(np.array([-1e308, -1000.0, -710.0, 710.0, 1000.0, 1e308]))
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])


def test_sigmoid_keeps_relative_accuracy_for_very_negative_inputs():
    assert sigmoid(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-13)


def test_sigmoid_is_symmetric():
    z = np.linspace(-30, 30, 121)
    # 1 - sigmoid(z) cancels, so compare absolutely, to a few ulps of 1.
    np.testing.assert_allclose(sigmoid(-z), 1.0 - sigmoid(z), rtol=0, atol=4 * np.finfo(float).eps)


def test_xor_data_shapes_dtypes_and_values():
    X, y = xor_data()
    assert X.shape == (4, 2) and y.shape == (4, 1)
    assert X.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_array_equal(y.ravel(), np.logical_xor(X[:, 0], X[:, 1]))


# ---------------------------------------------------------------------------------------
# Construction
# ---------------------------------------------------------------------------------------


def test_parameters_have_the_documented_shapes():
    net = MLP()
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (2, 4), "b1": (1, 4), "W2": (4, 1), "b2": (1, 1)}


def test_parameters_are_uniform_minus_one_one_drawn_in_order_from_the_seed():
    rng = np.random.default_rng(7)
    expected = [rng.uniform(-1, 1, s) for s in [(3, 5), (1, 5), (5, 2), (1, 2)]]
    net = MLP(sizes=(3, 5, 2), seed=7)
    for name, value in zip(NAMES, expected):
        np.testing.assert_array_equal(net.params[name], value)


def test_params_returns_the_live_arrays():
    net = MLP()
    assert net.params["W1"] is net.W1
    assert list(net.params) == list(NAMES)


@pytest.mark.parametrize("sizes", [(2, 4), (2, 0, 1), (2, 4, 1, 1), (2.0, 4, 1), "241", None])
def test_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes must be three positive integers"):
        MLP(sizes=sizes)


# ---------------------------------------------------------------------------------------
# Forward, loss, predict
# ---------------------------------------------------------------------------------------


def test_forward_matches_the_formula():
    X, _ = xor_data()
    net = MLP(seed=3)
    hidden = 1 / (1 + np.exp(-(X @ net.W1 + net.b1)))
    expected = 1 / (1 + np.exp(-(hidden @ net.W2 + net.b2)))
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-15)


def test_loss_is_the_mean_squared_error():
    X, y = xor_data()
    net = MLP(seed=3)
    assert net.loss(X, y) == pytest.approx(np.mean((net.forward(X) - y) ** 2), rel=1e-15)


def test_predict_thresholds_the_output_at_one_half():
    X, _ = xor_data()
    net = MLP(seed=3)
    np.testing.assert_array_equal(net.predict(X), (net.forward(X) > 0.5).astype(float))


@pytest.mark.parametrize("X", [np.ones((4, 3)), np.ones(2), np.ones((2, 2, 2))])
def test_rejects_inputs_of_the_wrong_shape(X):
    with pytest.raises(ValueError, match=r"X must have shape \(m, 2\)"):
        MLP().forward(X)


def test_rejects_one_dimensional_targets_and_says_how_to_fix_them():
    X, y = xor_data()
    with pytest.raises(ValueError, match=r"y must have shape \(4, 1\).*reshape"):
        MLP().backward(X, y.ravel())


def test_rejects_targets_with_a_different_number_of_rows():
    X, y = xor_data()
    with pytest.raises(ValueError, match=r"y must have shape \(4, 1\)"):
        MLP().loss(X, y[:3])


# ---------------------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------------------


def test_backward_returns_a_gradient_shaped_like_each_parameter():
    X, y = xor_data()
    net = MLP()
    grads = net.backward(X, y)
    assert list(grads) == list(NAMES)
    for k in NAMES:
        assert grads[k].shape == net.params[k].shape


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_matches_a_central_difference_gradient_of_the_loss(seed):
    X, y = xor_data()
    net = MLP(seed=seed)
    theta0 = flat(net)

    def loss_of(theta):
        probe = MLP(seed=seed)
        set_flat(probe, theta)
        return probe.loss(X, y)

    analytic = np.concatenate([net.backward(X, y)[k].ravel() for k in NAMES])
    result = gradient_check(loss_of, lambda theta: analytic, theta0)
    assert result.verdict == "pass", str(result)
    assert result.relative_error < 1e-8
    np.testing.assert_array_equal(flat(net), theta0)  # checking did not move the network


def test_backward_matches_the_gradient_after_training_too():
    X, y = xor_data()
    net = MLP(seed=0)
    net.train(X, y, lr=0.5, epochs=300)

    def loss_of(theta):
        probe = MLP()
        set_flat(probe, theta)
        return probe.loss(X, y)

    analytic = np.concatenate([net.backward(X, y)[k].ravel() for k in NAMES])
    numeric = gradient(loss_of, flat(net))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-10)


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------


def test_seed_0_with_lr_half_solves_xor_within_5000_epochs():
    X, y = xor_data()
    net = MLP(sizes=(2, 4, 1), seed=0)
    net.train(X, y, lr=0.5, epochs=5000)
    out = net.forward(X)
    assert np.all((out > 0.5) == (y > 0.5)), out.ravel()
    np.testing.assert_array_equal(net.predict(X), y)


def test_training_is_bit_reproducible():
    X, y = xor_data()
    a, b = MLP(seed=0), MLP(seed=0)
    losses_a = a.train(X, y, lr=0.5, epochs=1000)
    losses_b = b.train(X, y, lr=0.5, epochs=1000)
    np.testing.assert_array_equal(losses_a, losses_b)
    for k in NAMES:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_different_seeds_give_different_networks():
    assert not np.array_equal(MLP(seed=0).W1, MLP(seed=1).W1)


def test_train_returns_the_loss_before_each_update():
    X, y = xor_data()
    net = MLP(seed=5)
    before = net.loss(X, y)
    losses = net.train(X, y, lr=0.5, epochs=3)
    assert losses.shape == (3,)
    assert losses[0] == pytest.approx(before, rel=1e-14)
    assert net.loss(X, y) < losses[-1]


def test_one_epoch_of_train_is_one_gradient_step_with_backward():
    X, y = xor_data()
    net, reference = MLP(seed=4), MLP(seed=4)
    grads = reference.backward(X, y)
    net.train(X, y, lr=0.5, epochs=1)
    for k in NAMES:
        np.testing.assert_allclose(net.params[k], reference.params[k] - 0.5 * grads[k], 0, 1e-15)


def test_train_updates_the_parameter_arrays_in_place():
    X, y = xor_data()
    net = MLP()
    arrays = dict(net.params)
    before = {k: v.copy() for k, v in arrays.items()}
    net.train(X, y, lr=0.5, epochs=2)
    for k in NAMES:
        assert net.params[k] is arrays[k]
        assert not np.array_equal(arrays[k], before[k])


def test_zero_epochs_returns_an_empty_history_and_changes_nothing():
    X, y = xor_data()
    net = MLP()
    W1 = net.W1.copy()
    assert net.train(X, y, lr=0.5, epochs=0).shape == (0,)
    np.testing.assert_array_equal(net.W1, W1)


@pytest.mark.parametrize("lr", [0.0, -1.0, math.inf, math.nan, "0.5"])
def test_train_rejects_a_bad_learning_rate(lr):
    X, y = xor_data()
    with pytest.raises(ValueError, match="lr must be"):
        MLP().train(X, y, lr=lr, epochs=10)


@pytest.mark.parametrize("epochs", [-1, 2.5, "10"])
def test_train_rejects_bad_epochs(epochs):
    X, y = xor_data()
    with pytest.raises(ValueError, match="epochs must be"):
        MLP().train(X, y, lr=0.5, epochs=epochs)


def test_docstring_examples_run():
    import doctest

    import helpers.mlp

    outcome = doctest.testmod(helpers.mlp)
    assert outcome.attempted > 0
    assert outcome.failed == 0


# --------------------------------------------------------------------------- train_many


def test_train_many_follows_mlp_train_for_every_seed():
    X, y = helpers.xor_data()
    runs = helpers.train_many((2, 3, 1), [0, 5, 11], X, y, lr=2.0, epochs=300)
    for seed, out, loss in zip(runs.seeds, runs.outputs, runs.losses):
        net = helpers.MLP((2, 3, 1), seed=int(seed))
        net.train(X, y, lr=2.0, epochs=300)
        assert np.allclose(out, net.forward(X), rtol=1e-10, atol=1e-13)
        assert loss == pytest.approx(net.loss(X, y), rel=1e-10)


def test_train_many_reports_solved_runs_by_the_half_threshold():
    X, y = helpers.xor_data()
    runs = helpers.train_many((2, 4, 1), [0], X, y, lr=0.5, epochs=5000)
    assert runs.solved.tolist() == [True]
    untrained = helpers.train_many((2, 4, 1), [0], X, y, lr=0.5, epochs=0)
    net = helpers.MLP((2, 4, 1), seed=0)
    assert untrained.solved.tolist() == [bool(np.array_equal(net.predict(X), y))]


def test_train_many_rejects_an_empty_seed_list_and_bad_epochs():
    X, y = helpers.xor_data()
    with pytest.raises(ValueError, match="seeds is empty"):
        helpers.train_many((2, 4, 1), [], X, y, lr=0.5, epochs=10)
    with pytest.raises(ValueError, match="epochs"):
        helpers.train_many((2, 4, 1), [0], X, y, lr=0.5, epochs=-1)


# --------------------------------------------------------------------------- the cross-entropy loss


def test_cross_entropy_loss_is_the_mean_binary_cross_entropy():
    X, y = xor_data()
    net = MLP(seed=4, loss="bce")
    a = net.forward(X)
    expected = -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))
    assert net.loss(X, y) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_loss_stays_finite_when_the_output_saturates():
    X, y = xor_data()
    net = MLP(seed=0, loss="bce")
    net.b2[...] = 800.0  # sigmoid(z2) rounds to exactly 1: log(1 - a) would be -inf
    assert net.loss(X, y) == pytest.approx(800.0 / 2, rel=0.05)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_backward_matches_a_central_difference_gradient(seed):
    X, y = xor_data()
    net = MLP(seed=seed, loss="bce")

    def loss_of(theta):
        probe = MLP(seed=seed, loss="bce")
        set_flat(probe, theta)
        return probe.loss(X, y)

    analytic = np.concatenate([net.backward(X, y)[k].ravel() for k in NAMES])
    result = gradient_check(loss_of, lambda theta: analytic, flat(net))
    assert result.verdict == "pass", str(result)


def test_cross_entropy_output_delta_has_no_sigmoid_derivative():
    X, y = xor_data()
    net = MLP(seed=3, loss="bce")
    a = net.forward(X)
    # b2's gradient is the sum of the output deltas over the batch: sum((a - y) / m).
    assert net.backward(X, y)["b2"][0, 0] == pytest.approx(np.sum(a - y) / len(y), rel=1e-12)


def test_the_two_losses_give_different_gradients_from_the_same_start():
    X, y = xor_data()
    mse, bce = MLP(seed=1).backward(X, y), MLP(seed=1, loss="bce").backward(X, y)
    assert not np.allclose(mse["W2"], bce["W2"])


def test_an_unknown_loss_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="mse"):
        MLP(loss="hinge")
    X, y = xor_data()
    with pytest.raises(ValueError, match="bce"):
        helpers.train_many((2, 4, 1), [0], X, y, lr=1.0, epochs=1, loss="cross-entropy")


def test_train_many_with_cross_entropy_follows_mlp_train_for_every_seed():
    X, y = helpers.xor_data()
    runs = helpers.train_many((2, 3, 1), [0, 5], X, y, lr=2.0, epochs=300, loss="bce")
    for seed, out, loss in zip(runs.seeds, runs.outputs, runs.losses):
        net = helpers.MLP((2, 3, 1), seed=int(seed), loss="bce")
        net.train(X, y, lr=2.0, epochs=300)
        assert np.allclose(out, net.forward(X), rtol=1e-10, atol=1e-13)
        assert loss == pytest.approx(net.loss(X, y), rel=1e-10)


def test_train_many_curves_are_the_mean_squared_error_before_each_update():
    X, y = helpers.xor_data()
    runs = helpers.train_many((2, 2, 1), [3, 8], X, y, lr=1.0, epochs=40, loss="bce", curves=True)
    assert runs.curves.shape == (2, 40)
    for seed, curve in zip(runs.seeds, runs.curves):
        net = helpers.MLP((2, 2, 1), seed=int(seed), loss="bce")
        for epoch in (0, 17):
            net_mse = np.mean((net.forward(X) - y) ** 2)
            assert curve[epoch] == pytest.approx(net_mse, rel=1e-10)
            net.train(X, y, lr=1.0, epochs=17)
    assert helpers.train_many((2, 2, 1), [3], X, y, lr=1.0, epochs=5).curves is None
