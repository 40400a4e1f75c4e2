"""The Lesson 05 checkers (helpers.exercises.backprop_xor): right forms pass, mistakes are named.

These run the checkers in process (fast); tests/test_lessons.py runs the same answers through
real nbgrader. The reference network here is helpers.MLP, independent of the checkers' own code.
"""

from __future__ import annotations

import numpy as np
import pytest

import helpers
from helpers.checks import CheckFailure
from helpers.exercises import backprop_xor as ex


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(params, X):
    z1 = X @ params["W1"] + params["b1"]
    a1 = sigmoid(z1)
    z2 = a1 @ params["W2"] + params["b2"]
    a2 = sigmoid(z2)
    return a2, {"X": X, "z1": z1, "a1": a1, "z2": z2, "a2": a2}


def backward(
    params, cache, y, two=2.0, mean=True, out_prime=True, hidden_prime=True, keepdims=True
):
    X, a1, a2 = cache["X"], cache["a1"], cache["a2"]
    d2 = two * (a2 - y) / (X.shape[0] if mean else 1) * (a2 * (1 - a2) if out_prime else a2)
    d1 = (d2 @ params["W2"].T) * (a1 * (1 - a1) if hidden_prime else a1)
    return {
        "W1": X.T @ d1,
        "b1": d1.sum(axis=0, keepdims=keepdims),
        "W2": a1.T @ d2,
        "b2": d2.sum(axis=0, keepdims=True),
    }


def train(params, X, y, learning_rate, epochs, in_place=False, sign=-1.0):
    p = params if in_place else {k: v.copy() for k, v in params.items()}
    losses = []
    for _ in range(epochs):
        a2, cache = forward(p, X)
        losses.append(float(np.mean((a2 - y) ** 2)))
        grads = backward(p, cache, y)
        for k in p:
            p[k] += sign * learning_rate * grads[k]
    return p, losses


def failure(checker, fn, *inputs) -> str:
    with pytest.raises(CheckFailure) as info:
        checker(fn, *inputs)
    return str(info.value)


def curve_case():
    X, y = helpers.xor_data()
    return ex.initial_params(ex.TRAIN_SEED + 1), X, y, 1.5, 400


def bce_loss(a, y):
    return float(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))


def bce_delta(a, y):
    return (a - y) / len(a)


def test_reference_answers_pass_every_check():
    ex.check_sigmoid(sigmoid)
    ex.check_forward(forward)
    ex.check_backward(backward)
    ex.check_train(train)
    ex.expect_train_curve(train, *curve_case())
    ex.check_predict(lambda params, X: (forward(params, X)[0] > 0.5).astype(int))


def test_sigmoid_accepts_the_tanh_form_and_names_a_flipped_sign():
    ex.check_sigmoid(lambda z: 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=float))))
    assert "sign of the exponent" in failure(ex.check_sigmoid, lambda z: 1 / (1 + np.exp(z)))


def test_the_checkers_reference_backward_agrees_with_helpers_mlp():
    X, y = helpers.xor_data()
    net = helpers.MLP((2, 4, 1), seed=3)
    _, cache = ex._forward(net.params, X)
    ours = ex._backward(net.params, cache, y)
    for k, v in net.backward(X, y).items():
        assert helpers.relative_error(ours[k], v) < 1e-12


@pytest.mark.parametrize(
    "options, diagnosis",
    [
        ({"two": 1.0}, "dropped the 2"),
        ({"mean": False}, "not averaged over the batch"),
        ({"out_prime": False}, "used sigma(z2) = a2 where sigma'(z2)"),
        ({"hidden_prime": False}, "used sigma(z1) = a1 where sigma'(z1)"),
    ],
)
def test_backward_names_the_mistake(options, diagnosis):
    message = failure(ex.check_backward, lambda p, c, y: backward(p, c, y, **options))
    assert diagnosis in message
    assert "relative error" in message


def test_backward_names_a_lost_bias_dimension():
    assert "keepdims=True" in failure(
        ex.check_backward, lambda p, c, y: backward(p, c, y, keepdims=False)
    )


def test_backward_must_not_modify_the_cache():
    def scribbles(params, cache, y):
        grads = backward(params, cache, y)
        cache["a1"] *= 0
        return grads

    message = failure(ex.check_backward, scribbles)
    assert "modified its input cache (entry 'a1')" in message
    assert "params" not in message  # it changed the cache, not the parameters


def test_forward_names_a_missing_output_sigmoid():
    def linear_output(params, X):
        _a2, cache = forward(params, X)
        return cache["z2"], cache

    assert "forgot the sigmoid on the output layer" in failure(ex.check_forward, linear_output)


def test_train_names_modified_params():
    message = failure(ex.check_train, lambda *a: train(*a, in_place=True))
    assert "modified params in place" in message


def test_train_names_an_added_gradient():
    message = failure(ex.check_train, lambda *a: train(*a, sign=1.0))
    assert "params + learning_rate * gradient" in message


def test_train_with_one_forward_pass_is_not_told_the_loss_grew():
    # The issue-24 misdiagnosis: a forward pass run once, before the loop, was reported as
    # "the loss grew". The evidence is that every recorded loss is the same number.
    def forward_once(params, X, y, learning_rate, epochs):
        p = {k: v.copy() for k, v in params.items()}
        a2, cache = forward(p, X)
        losses = []
        for _ in range(epochs):
            losses.append(float(np.mean((a2 - y) ** 2)))
            grads = backward(p, cache, y)
            p = {k: p[k] - learning_rate * grads[k] for k in p}
        return p, losses

    message = failure(ex.check_train, forward_once)
    assert "every recorded loss is the same number" in message
    assert "loss grew" not in message and "against the gradient" not in message


def test_train_that_reuses_the_first_gradient_is_named_from_two_short_runs():
    def stale(params, X, y, learning_rate, epochs):
        p = {k: v.copy() for k, v in params.items()}
        grads = backward(p, forward(p, X)[1], y)
        losses = []
        for _ in range(epochs):
            losses.append(float(np.mean((forward(p, X)[0] - y) ** 2)))
            p = {k: p[k] - learning_rate * grads[k] for k in p}
        return p, losses

    assert "reused the first epoch's gradient" in failure(ex.check_train, stale)


def test_train_that_ignores_its_learning_rate_fails_the_visible_check():
    def fixed_rate(params, X, y, learning_rate, epochs):
        return train(params, X, y, ex.TRAIN_LEARNING_RATE, epochs)

    assert "train: losses gave a wrong value" in failure(ex.check_train, fixed_rate)


def test_train_may_return_a_list_pair():
    ex.check_train(lambda *a: list(train(*a)))


def test_train_curve_names_a_summed_gradient():
    def summed(params, X, y, lr, epochs):
        return train(params, X, y, lr * X.shape[0], epochs)

    X, y = helpers.xor_data()
    params = ex.initial_params(ex.TRAIN_SEED)
    ex.expect_train(summed, params, X, y, ex.TRAIN_LEARNING_RATE, ex.TRAIN_EPOCHS)  # it learns XOR
    assert "not averaged over the batch" in failure(ex.check_train, summed)  # ... but too fast
    assert "not averaged over the batch" in failure(ex.expect_train_curve, summed, *curve_case())


def test_predict_names_thresholding_z2_at_one_half():
    def z2_threshold(params, X):
        return (forward(params, X)[1]["z2"] > 0.5).astype(int)

    assert "thresholded z2 at 0.5" in failure(ex.check_predict, z2_threshold)


def test_predict_with_argmax_is_not_told_it_thresholded_z2():
    # The issue-24 misdiagnosis: argmax over a2's one column (all zeros) was named as
    # thresholding z2. The evidence is only that every label is 0.
    message = failure(ex.check_predict, lambda p, X: np.argmax(forward(p, X)[0], axis=1)[:, None])
    assert "every label is 0" in message and "thresholded z2" not in message


@pytest.mark.parametrize(
    "labels, summary",
    [
        (lambda a2: a2 > 0.5, "must return integer labels"),
        (lambda a2: (a2 > 0.5) * 1.0, "must return integer labels"),
        (lambda a2: np.round(a2), "must return integer labels"),
        (lambda a2: (a2 > 0.5).astype(int).tolist(), "must return a NumPy array"),
    ],
)
def test_predict_returns_an_integer_array_as_its_text_says(labels, summary):
    assert summary in failure(ex.check_predict, lambda p, X: labels(forward(p, X)[0]))


def test_predict_labels_an_output_of_exactly_one_half_zero():
    message = failure(ex.check_predict, lambda p, X: (forward(p, X)[0] >= 0.5).astype(int))
    assert "exactly 0.5" in message and "flipped" not in message
    ex.check_predict(lambda p, X: np.where(forward(p, X)[1]["z2"] > 0, 1, 0))


def test_forward_may_return_a_list_pair():
    ex.check_forward(lambda params, X: list(forward(params, X)))


def test_sigmoid_in_float32_is_told_so():
    message = failure(ex.check_sigmoid, lambda z: sigmoid(np.asarray(z, dtype=np.float32)))
    assert "float32" in message


def test_the_training_check_starts_from_a_point_that_converges_with_a_margin():
    X, y = helpers.xor_data()
    params, _losses = ex._train(
        ex.initial_params(ex.TRAIN_SEED), X, y, ex.TRAIN_LEARNING_RATE, ex.TRAIN_EPOCHS // 3
    )
    a2 = ex._forward(params, X)[0]
    assert np.array_equal(a2 > 0.5, y > 0.5)


# --------------------------------------------------------------------------- cross-entropy


def test_cross_entropy_reference_answers_pass():
    ex.check_bce_loss(bce_loss)
    ex.check_bce_delta(bce_delta)
    a = np.array([[0.9], [0.2], [0.6]])
    y = np.array([[1.0], [0.0], [0.0]])
    ex.expect_bce_loss(lambda a, y: np.mean(-np.log(np.where(y == 1, a, 1 - a))), a, y)
    ex.expect_bce_delta(lambda a, y: np.subtract(a, y) / a.shape[0], a, y)


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda a, y: len(a) * bce_loss(a, y), "summed over the examples"),
        (lambda a, y: -bce_loss(a, y), "the minus sign is missing"),
        (lambda a, y: bce_loss(a, 1 - y), "swapped y and 1 - y"),
        (
            lambda a, y: float(-np.mean(y * np.log(a) + (1 - y) * (1 - np.log(a)))),
            "1 - log(a) where log(1 - a)",
        ),
        (lambda a, y: float(-np.mean(y * np.log(a))), "left out the (1 - y) log(1 - a) term"),
    ],
)
def test_bce_loss_names_the_mistake(wrong, diagnosis):
    assert diagnosis in failure(ex.check_bce_loss, wrong)


def test_bce_loss_must_return_one_number():
    message = failure(ex.check_bce_loss, lambda a, y: -(y * np.log(a) + (1 - y) * np.log(1 - a)))
    assert "must return one number" in message


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda a, y: a - y, "not divided by m"),
        (lambda a, y: (a - y) / len(a) * a * (1 - a), "kept sigma'(z2)"),
        (lambda a, y: (y - a) / len(a), "the sign is flipped"),
        (lambda a, y: 2 * (a - y) / len(a) * a * (1 - a), "mean-squared-error delta"),
    ],
)
def test_bce_delta_names_the_mistake(wrong, diagnosis):
    assert diagnosis in failure(ex.check_bce_delta, wrong)


def test_bce_delta_must_keep_the_shape_of_a():
    assert "wrong shape" in failure(ex.check_bce_delta, lambda a, y: ((a - y) / len(a)).ravel())


def test_a_missing_return_is_named_for_every_exercise():
    def nothing(*args):
        return None

    for checker in (ex.check_sigmoid, ex.check_bce_loss, ex.check_bce_delta, ex.check_predict):
        assert "returned None" in failure(checker, nothing)


def test_the_bce_delta_is_the_gradient_of_bce_loss_with_respect_to_z2():
    # The identity the lesson derives, checked with finite differences in z2.
    rng = np.random.default_rng(0)
    z2 = rng.normal(size=(6, 1))
    y = rng.integers(0, 2, size=(6, 1)).astype(float)
    numeric = helpers.gradient(lambda z: bce_loss(helpers.sigmoid(z.reshape(6, 1)), y), z2.ravel())
    assert helpers.relative_error(numeric, bce_delta(helpers.sigmoid(z2), y).ravel()) < 1e-8


def test_quiz_has_five_named_items_and_rejects_strings():
    assert len(ex.QUIZ) == 5
    assert "True or False" in failure(ex.check_quiz, *(["False"] * 5))


def test_checker_titles_follow_the_heading_convention():
    titles = [e.title for e in helpers.checks._REGISTRY[ex.LESSON]]
    assert "Quiz 05" in titles and "Challenge 05 · Predict labels" in titles
    assert all(t.startswith(("Exercise 05.", "Quiz 05", "Challenge 05")) for t in titles), titles
    assert len(titles) == 8  # six exercises, the challenge and the quiz


def test_bce_loss_of_a_zero_dimensional_array_is_told_to_return_a_number():
    message = failure(ex.check_bce_loss, lambda a, y: np.array(bce_loss(a, y)))
    assert "not an array" in message
    ex.check_bce_loss(lambda a, y: -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))


# --------------------------------------------------------------------------- student report 05


def test_backward_names_the_cross_entropy_delta_pasted_into_the_mse_backward():
    def bce_in_mse(params, cache, y):
        X, a1, a2 = cache["X"], cache["a1"], cache["a2"]
        d2 = (a2 - y) / X.shape[0]
        d1 = (d2 @ params["W2"].T) * a1 * (1 - a1)
        return {
            "W1": X.T @ d1,
            "b1": d1.sum(axis=0, keepdims=True),
            "W2": a1.T @ d2,
            "b2": d2.sum(axis=0, keepdims=True),
        }

    assert "cross-entropy delta" in failure(ex.check_backward, bce_in_mse)


def test_train_without_bias_updates_is_told_the_biases_never_change():
    def no_biases(params, X, y, learning_rate, epochs):
        p = {k: v.copy() for k, v in params.items()}
        losses = []
        for _ in range(epochs):
            a2, cache = forward(p, X)
            losses.append(float(np.mean((a2 - y) ** 2)))
            grads = backward(p, cache, y)
            p = {k: p[k] - learning_rate * grads[k] if k.startswith("W") else p[k] for k in p}
        return p, losses

    message = failure(ex.check_train, no_biases)
    assert "b1, b2 are unchanged" in message and "biases too" in message


def test_forward_with_a_transposed_weight_is_told_the_shapes_not_the_arrays():
    def transposed(params, X):
        z1 = X @ params["W1"].T + params["b1"]
        a1 = sigmoid(z1)
        z2 = a1 @ params["W2"] + params["b2"]
        return sigmoid(z2), {"X": X, "z1": z1, "a1": a1, "z2": z2, "a2": sigmoid(z2)}

    message = failure(ex.check_forward, transposed)
    assert "X of shape (5, 2)" in message and "no transpose" in message
    assert "array([" not in message


def test_forward_returning_cache_then_a2_is_told_the_order():
    def swapped(params, X):
        a2, cache = forward(params, X)
        return cache, a2

    assert "the order is (a2, cache)" in failure(ex.check_forward, swapped)


def test_forward_changing_params_is_not_told_about_new_parameters():
    def in_place(params, X):
        params["W1"] *= 1.0 + 1e-3
        return forward(params, X)

    message = failure(ex.check_forward, in_place)
    assert "modified its input params" in message and "new parameters" not in message
