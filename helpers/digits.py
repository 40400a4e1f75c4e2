r"""Lesson 08's reference: handwritten digits classified by a network whose gradients are by hand.

The data are scikit-learn's bundled digits (:func:`sklearn.datasets.load_digits`): 1,797
images of 8 x 8 pixels with 17 grey levels (0 to 16), ten classes. :func:`load_digits` scales
the pixels to [0, 1] (divided by 16) and :func:`split` cuts them once, with a fixed seed, into
1,437 training and 360 test images: the lesson, its tests and the grader all use these rows.

The network, in the course's layer convention (a batch ``X`` of shape (m, n) as rows, ``W`` of
shape (n_in, n_out)):

.. math::

    Z_1 = X W_1 + b_1,\quad A_1 = \tanh(Z_1),\quad Z_2 = A_1 W_2 + b_2,\quad
    P = \operatorname{softmax}(Z_2),

and the loss is the mean softmax cross-entropy :math:`L = \frac1m \sum_i -\log P_{i, y_i}`.
Its gradients are the four equations of backpropagation: :math:`\partial L / \partial Z_2 =
(P - Y)/m` (:func:`softmax_cross_entropy`), a dense layer's :math:`dX = dZ\,W^\top`,
:math:`dW = X^\top dZ`, :math:`db = \sum_{\text{rows}} dZ` (:func:`dense_backward`) and
:math:`dZ_1 = dA_1 \odot (1 - A_1^2)` through the tanh. :func:`train_digits` is the training
loop of Exercise 08.4: mini-batch SGD with Lesson 04's
:func:`helpers.stochastic.minibatch_indices`.

Every function copies what it reads and returns new arrays: no input is ever modified.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
import numbers
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .stochastic import minibatch_indices

__all__ = [
    "N_CLASSES",
    "N_TEST",
    "N_TRAIN",
    "PARAMETER_NAMES",
    "SPLIT_SEED",
    "DigitsSplit",
    "TrainingRun",
    "accuracy",
    "confusion_matrix",
    "dense_backward",
    "fit",
    "flatten",
    "forward",
    "init_params",
    "input_gradient",
    "load_digits",
    "log_softmax",
    "loss",
    "loss_and_grads",
    "one_hot",
    "predict",
    "predict_proba",
    "softmax",
    "softmax_cross_entropy",
    "split",
    "train_digits",
    "unflatten",
]

N_CLASSES = 10
N_TRAIN = 1437
N_TEST = 360
SPLIT_SEED = 0
PARAMETER_NAMES = ("W1", "b1", "W2", "b2")

_N_IMAGES = N_TRAIN + N_TEST
_N_PIXELS = 64


# --------------------------------------------------------------------------- data


@functools.lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 rows of scikit-learn's ``digits.csv.gz``: pixels 0-16 and labels, read-only."""
    table = _read_bundled_csv()
    if table is None:  # an unusual scikit-learn layout: ask scikit-learn itself
        from sklearn.datasets import load_digits as _sklearn_load_digits

        pixels, labels = _sklearn_load_digits(return_X_y=True)
    else:
        pixels, labels = table[:, :_N_PIXELS], table[:, _N_PIXELS]
    pixels = np.array(pixels, dtype=np.float64)
    labels = np.array(labels, dtype=np.int64)
    if pixels.shape != (_N_IMAGES, _N_PIXELS) or labels.shape != (_N_IMAGES,):
        raise RuntimeError(f"unexpected digits data: pixels {pixels.shape}, labels {labels.shape}")
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def _read_bundled_csv() -> np.ndarray | None:
    """scikit-learn's own data file, read without importing scikit-learn (2 s saved per lesson).

    The file is the one ``sklearn.datasets.load_digits`` reads (``datasets/data/digits.csv.gz``
    inside the installed package); tests/test_lesson08.py checks that both give the same arrays.
    None when scikit-learn is not installed or keeps the file elsewhere.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rb") as handle:
                text = handle.read().replace(b"\n", b",").split(b",")
            values = np.array([v for v in text if v.strip()], dtype=np.float64)
            if values.size != _N_IMAGES * (_N_PIXELS + 1):
                return None
            return values.reshape(_N_IMAGES, _N_PIXELS + 1)
    return None


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits in file order: pixels scaled to [0, 1] and integer labels.

    The same images as ``sklearn.datasets.load_digits(return_X_y=True)``, with every pixel
    divided by 16 (the largest grey level), so that the inputs of the network are in [0, 1].

    Returns
    -------
    X : ndarray of float64, shape (1797, 64)
        One image per row, its 8 x 8 pixels row by row (``X[i].reshape(8, 8)`` is the image).
    y : ndarray of int64, shape (1797,)
        The digit shown, 0 to 9.

    Both are new arrays on every call.

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, y.shape, float(X.min()), float(X.max()), sorted(set(y.tolist())) == list(range(10))
    ((1797, 64), (1797,), 0.0, 1.0, True)
    """
    pixels, labels = _raw_digits()
    return pixels / 16.0, labels.copy()


class DigitsSplit(NamedTuple):
    """The lesson's fixed split of :func:`load_digits` (new arrays on every call of :func:`split`).

    Attributes
    ----------
    X_train : ndarray, shape (1437, 64)
    y_train : ndarray of int64, shape (1437,)
    X_test : ndarray, shape (360, 64)
    y_test : ndarray of int64, shape (360,)
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def split(seed: int = SPLIT_SEED) -> DigitsSplit:
    """The lesson's one split: a seeded shuffle, then 1,437 training and 360 test images.

    The rows of :func:`load_digits` are put in the order ``np.random.default_rng(seed)
    .permutation(1797)``; the first 1,437 are the training set, the last 360 the test set. A
    shuffle, because the file's last 360 rows were written by other people than most of the
    rest and are harder (Lesson 08 measures it). The default ``seed`` is the lesson's split,
    the one its tests and the grader use.

    Returns
    -------
    DigitsSplit
        ``(X_train, y_train, X_test, y_test)``, new arrays on every call.

    Examples
    --------
    >>> data = split()
    >>> data.X_train.shape, data.y_train.shape, data.X_test.shape, data.y_test.shape
    ((1437, 64), (1437,), (360, 64), (360,))
    """
    _require_integer("seed", seed, minimum=0)
    X, y = load_digits()
    order = np.random.default_rng(int(seed)).permutation(_N_IMAGES)
    train, test = order[:N_TRAIN], order[N_TRAIN:]
    return DigitsSplit(X[train], y[train], X[test], y[test])


# --------------------------------------------------------------------------- softmax and its loss


def softmax(Z) -> np.ndarray:
    r"""Row-wise softmax, :math:`P_{ij} = e^{Z_{ij}} / \sum_l e^{Z_{il}}`, computed stably.

    Each row's maximum is subtracted first: the softmax of a row does not change when the same
    number is added to every entry, and then the largest exponent is :math:`e^0 = 1`, so
    nothing overflows and the denominator is at least 1. Finite for any finite input.

    Parameters
    ----------
    Z : array_like, shape (..., k)
        Logits; the softmax is taken along the last axis (each row of an (m, k) matrix).

    Returns
    -------
    ndarray of float64, the shape of ``Z``
        Every row non-negative and summing to 1.

    Raises
    ------
    ValueError
        If ``Z`` is a scalar, has an empty last axis, or holds a non-finite value.

    Examples
    --------
    >>> softmax([[0.0, 0.0], [1000.0, 1000.0 + np.log(3.0)]]).round(6).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    """
    Z = _logits(Z)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def log_softmax(Z) -> np.ndarray:
    r"""Row-wise :math:`\log \operatorname{softmax}(Z) = Z - \operatorname{logsumexp}(Z)`, stably.

    With :math:`c_i = \max_l Z_{il}`, :math:`\operatorname{logsumexp}(Z_i) = c_i + \log \sum_l
    e^{Z_{il} - c_i}`: the sum holds a term equal to 1, so its log is between 0 and
    :math:`\log k`. Unlike ``np.log(softmax(Z))`` it stays finite where a probability
    underflows to 0 (a logit 800 below its row's maximum).

    Parameters
    ----------
    Z : array_like, shape (..., k)

    Returns
    -------
    ndarray of float64, the shape of ``Z``
        Every entry at most 0.

    Raises
    ------
    ValueError
        As :func:`softmax`.

    Examples
    --------
    >>> log_softmax([[0.0, -1000.0]]).tolist()
    [[0.0, -1000.0]]
    """
    return _log_softmax(_logits(Z))


def one_hot(y, k: int = N_CLASSES) -> np.ndarray:
    """The one-hot matrix ``Y`` of labels ``y``: ``Y[i, y[i]] = 1``, every other entry 0.

    Parameters
    ----------
    y : array_like of int, shape (m,)
        Labels in ``0 .. k-1``.
    k : int
        Number of classes.

    Returns
    -------
    ndarray of float64, shape (m, k)

    Raises
    ------
    TypeError, ValueError
        As :func:`softmax_cross_entropy` for its ``y``.

    Examples
    --------
    >>> one_hot([2, 0], k=3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    _require_integer("k", k, minimum=1)
    y = _labels(y, int(k))
    Y = np.zeros((y.size, int(k)))
    Y[np.arange(y.size), y] = 1.0
    return Y


def softmax_cross_entropy(Z, y) -> tuple[float, np.ndarray]:
    r"""The mean softmax cross-entropy of logits ``Z`` for labels ``y``, and its gradient.

    .. math::

        L = \frac1m \sum_{i=1}^m -\log P_{i, y_i}, \qquad
        \frac{\partial L}{\partial Z} = \frac{P - Y}{m},

    with :math:`P = \operatorname{softmax}(Z)` row by row and :math:`Y` the one-hot matrix of
    ``y``. The loss is computed from :func:`log_softmax` (log-sum-exp), so it is finite even
    where :math:`P_{i, y_i}` underflows to 0 (logits up to about 1e300 in absolute value).

    Parameters
    ----------
    Z : array_like, shape (m, k)
        Logits, one row per example.
    y : array_like of int, shape (m,)
        The right class of each example, in ``0 .. k-1``.

    Returns
    -------
    loss : float
        The mean over the m examples.
    dZ : ndarray, shape (m, k)
        :math:`\partial L / \partial Z = (P - Y) / m`.

    Raises
    ------
    ValueError
        If ``Z`` is not 2-D with at least one row and column, or holds a non-finite value; if
        ``y`` is not of shape (m,) or a label is outside ``0 .. k-1``.
    TypeError
        If ``y`` holds non-integers.

    Examples
    --------
    >>> loss, dZ = softmax_cross_entropy(np.zeros((2, 10)), [3, 7])
    >>> round(loss, 6) == round(math.log(10), 6), dZ.shape, float(dZ[0, 3])
    (True, (2, 10), -0.45)
    """
    Z = _matrix("Z", Z)
    m, k = Z.shape
    y = _labels(y, k)
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},), one label per row of Z; got {y.shape}")
    return _softmax_cross_entropy(Z, y)


# --------------------------------------------------------------------------- a dense layer


def dense_backward(X, W, dZ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The backward pass of a dense layer :math:`Z = XW + b`, given dZ = dL/dZ.

    .. math::

        dX = dZ\,W^\top \ \ (m, n), \qquad dW = X^\top dZ \ \ (n, k), \qquad
        db = \textstyle\sum_{\text{rows}} dZ \ \ (1, k).

    Each gradient has the shape of what it is the gradient of; the sum over the rows is there
    because ``b`` is added to every row (the 1/m of a mean loss is already inside ``dZ``).

    Parameters
    ----------
    X : array_like, shape (m, n)
        The layer's input.
    W : array_like, shape (n, k)
        Its weights (``b`` is not needed).
    dZ : array_like, shape (m, k)
        The gradient of the loss with respect to the layer's output.

    Returns
    -------
    (dX, dW, db) : tuple of ndarray
        Shapes (m, n), (n, k) and (1, k).

    Raises
    ------
    ValueError
        If an input is not 2-D or the shapes do not fit together.

    Examples
    --------
    >>> dX, dW, db = dense_backward(np.ones((3, 2)), np.ones((2, 4)), np.ones((3, 4)))
    >>> dX.shape, dW.shape, db.tolist()
    ((3, 2), (2, 4), [[3.0, 3.0, 3.0, 3.0]])
    """
    X, W, dZ = _matrix("X", X), _matrix("W", W), _matrix("dZ", dZ)
    (m, n), (n_w, k) = X.shape, W.shape
    if n_w != n or dZ.shape != (m, k):
        raise ValueError(
            f"for X {X.shape} and W {W.shape}, Z = XW + b has shape ({m}, {W.shape[1]}): "
            f"W needs {n} rows and dZ shape ({m}, {W.shape[1]}); got W {W.shape}, dZ {dZ.shape}"
        )
    return _dense_backward(X, W, dZ)


# --------------------------------------------------------------------------- the network


def init_params(n: int, hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    r"""Exercise 08.4's start: ``W1`` then ``W2`` drawn from ``rng``, biases at 0.

    ``W1 = rng.normal(0, 1/sqrt(n), (n, hidden))``, then ``W2 = rng.normal(0, 1/sqrt(hidden),
    (hidden, 10))``: each unit's pre-activation starts with a variance about the mean square of
    its inputs (LeCun's scaling), so the tanh is neither saturated nor flat and the logits are
    small: every class starts near probability 1/10, the loss near :math:`\ln 10`.

    Returns
    -------
    dict
        ``{"W1": (n, hidden), "b1": (1, hidden), "W2": (hidden, 10), "b2": (1, 10)}``.
    """
    _require_integer("n", n, minimum=1)
    _require_integer("hidden", hidden, minimum=1)
    n, hidden = int(n), int(hidden)
    W1 = rng.normal(0.0, 1.0 / math.sqrt(n), (n, hidden))
    W2 = rng.normal(0.0, 1.0 / math.sqrt(hidden), (hidden, N_CLASSES))
    return {"W1": W1, "b1": np.zeros((1, hidden)), "W2": W2, "b2": np.zeros((1, N_CLASSES))}


def forward(params: dict, X) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The forward pass: the logits ``Z2`` of shape (m, 10) and the values the backward pass needs.

    Returns
    -------
    Z2 : ndarray, shape (m, 10)
    cache : dict
        ``{"X", "Z1", "A1", "Z2"}`` of this pass (``A1 = tanh(Z1)``).

    Raises
    ------
    KeyError
        If ``params`` lacks one of ``"W1"``, ``"b1"``, ``"W2"``, ``"b2"``.
    ValueError
        If ``X`` is not a finite 2-D array with ``W1.shape[0]`` columns.
    """
    weights = _params(params)
    return _forward(*weights, _inputs(X, weights[0]))


def loss(params: dict, X, y) -> float:
    """The mean cross-entropy of the network on ``(X, y)``, without its gradient.

    The cheapest evaluation of the loss, for a gradient check (which evaluates it twice per
    parameter). Raises as :func:`loss_and_grads`.
    """
    weights = _params(params)
    X = _inputs(X, weights[0])
    y = _labels_for(y, X)
    Z2 = _forward(*weights, X)[0]
    return float(-_log_softmax(Z2)[np.arange(len(y)), y].mean())


def loss_and_grads(params: dict, X, y) -> tuple[float, dict[str, np.ndarray]]:
    r"""The mean cross-entropy of the network on ``(X, y)`` and its gradient for every parameter.

    The four equations: :math:`dZ_2 = (P - Y)/m` (:func:`softmax_cross_entropy`);
    :math:`dA_1`, :math:`dW_2` and :math:`db_2` from :func:`dense_backward`;
    :math:`dZ_1 = dA_1 \odot (1 - A_1^2)` (the tanh's derivative); :math:`dW_1` and :math:`db_1`
    from :func:`dense_backward` again.

    Returns
    -------
    loss : float
    grads : dict
        One array per parameter, of its shape.

    Raises
    ------
    KeyError, ValueError, TypeError
        As :func:`forward`, and for ``y`` as :func:`softmax_cross_entropy`.
    """
    weights = _params(params)
    X = _inputs(X, weights[0])
    return _loss_and_grads(*weights, X, _labels_for(y, X))


def input_gradient(params: dict, X, y) -> np.ndarray:
    r"""The gradient of the mean cross-entropy with respect to the input images ``X``.

    The backward pass carried one layer further than training needs: :math:`dX = dZ_1 W_1^\top`.
    Row ``i`` says how each pixel of image ``i`` would change the loss (divided by m, as the loss
    is a mean). Challenge 08's reference.

    Returns
    -------
    ndarray, shape of ``X``
    """
    W1, b1, W2, b2 = _params(params)
    X = _inputs(X, W1)
    y = _labels_for(y, X)
    Z2, cache = _forward(W1, b1, W2, b2, X)
    _, dZ2 = _softmax_cross_entropy(Z2, y)
    dZ1 = (dZ2 @ W2.T) * (1.0 - cache["A1"] ** 2)
    return dZ1 @ W1.T


def predict_proba(params: dict, X) -> np.ndarray:
    """The network's ten probabilities for each row of ``X``: shape (m, 10), rows summing to 1."""
    return softmax(forward(params, X)[0])


def predict(params: dict, X) -> np.ndarray:
    """The most probable class of each row of ``X``: int64 labels of shape (m,).

    The largest logit is the largest probability (softmax keeps the order), so no softmax is
    needed; ties go to the smallest label (``argmax``).
    """
    return forward(params, X)[0].argmax(axis=1)


def accuracy(params: dict, X, y) -> float:
    """The share of rows of ``X`` whose :func:`predict` equals ``y``, between 0 and 1."""
    labels = _labels(y, N_CLASSES)
    guess = predict(params, X)
    if labels.shape != guess.shape:
        raise ValueError(f"y must have shape {guess.shape}; got {labels.shape}")
    return float(np.mean(guess == labels))


def confusion_matrix(y_true, y_pred, k: int = N_CLASSES) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of class ``i`` predicted as ``j``: shape (k, k), int64.

    The diagonal holds the right answers; row ``i`` sums to the number of examples of class i.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], k=2).tolist()
    [[1, 0], [1, 1]]
    """
    _require_integer("k", k, minimum=1)
    t, p = _labels(y_true, int(k)), _labels(y_pred, int(k))
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have one shape; got {t.shape}, {p.shape}")
    counts = np.zeros((int(k), int(k)), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def flatten(params: dict) -> np.ndarray:
    """All parameters in one vector, in the order W1, b1, W2, b2 (for a gradient check)."""
    return np.concatenate(
        [np.asarray(params[k], dtype=np.float64).ravel() for k in PARAMETER_NAMES]
    )


def unflatten(theta, n: int, hidden: int) -> dict[str, np.ndarray]:
    """The parameter dict of an n-``hidden``-10 network from :func:`flatten`'s vector."""
    shapes = {"W1": (n, hidden), "b1": (1, hidden), "W2": (hidden, N_CLASSES), "b2": (1, N_CLASSES)}
    theta = np.asarray(theta, dtype=np.float64)
    sizes = [math.prod(shapes[k]) for k in PARAMETER_NAMES]
    if theta.shape != (sum(sizes),):
        raise ValueError(f"theta must have shape ({sum(sizes)},); got {theta.shape}")
    parts = np.split(theta, np.cumsum(sizes)[:-1])
    return {k: part.reshape(shapes[k]).copy() for k, part in zip(PARAMETER_NAMES, parts)}


# --------------------------------------------------------------------------- training


class TrainingRun(NamedTuple):
    """What :func:`fit` did.

    Attributes
    ----------
    params : dict
        The trained ``{"W1", "b1", "W2", "b2"}``.
    losses : list of float
        Per epoch, the plain mean of that epoch's mini-batch losses.
    test_accuracy : list of float
        Per epoch, the accuracy on ``(X_test, y_test)`` after it (empty without a test set).
    snapshots : list of dict
        With ``keep=True``: the parameters before training and after each epoch
        (``epochs + 1`` dicts); otherwise empty.
    """

    params: dict
    losses: list
    test_accuracy: list
    snapshots: list


def fit(
    X,
    y,
    hidden: int = 32,
    lr: float = 0.1,
    epochs: int = 30,
    batch_size: int = 32,
    seed: int = 0,
    X_test=None,
    y_test=None,
    keep: bool = False,
) -> TrainingRun:
    r"""Train the n-``hidden``-10 tanh network by mini-batch SGD, recording what happened.

    ``rng = np.random.default_rng(seed)`` draws, in this order, ``W1`` and ``W2``
    (:func:`init_params`), then each epoch's batches
    (``minibatch_indices(m, batch_size, rng)``, Lesson 04). Each batch takes one step
    :math:`\theta \leftarrow \theta - \eta\,\partial L_B / \partial \theta` on its mean
    cross-entropy :math:`L_B` (:func:`loss_and_grads`).

    Parameters
    ----------
    X : array_like, shape (m, n)
        Training inputs, already scaled (as :func:`load_digits` gives them).
    y : array_like of int, shape (m,)
        Labels 0-9.
    hidden, lr, epochs, batch_size, seed
        Hidden units, learning rate :math:`\eta`, passes over the data, examples per step, and
        the seed of the one generator.
    X_test, y_test : optional
        Scored after every epoch (:attr:`TrainingRun.test_accuracy`).
    keep : bool
        Keep a copy of the parameters before training and after every epoch.

    Returns
    -------
    TrainingRun

    Raises
    ------
    TypeError, ValueError
        If ``hidden``, ``epochs`` or ``batch_size`` is not a positive integer (``epochs`` may
        be 0), ``lr`` is not a positive number, or ``X`` and ``y`` do not fit.
    """
    X = _matrix("X", X)
    y = _labels(y, N_CLASSES)
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},), one label per row of X; got {y.shape}"
        )
    _require_integer("epochs", epochs, minimum=0)
    _require_integer("batch_size", batch_size, minimum=1)
    _require_integer("seed", seed, minimum=0)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a positive, finite number; got {lr!r}")
    rng = np.random.default_rng(int(seed))
    params = init_params(X.shape[1], hidden, rng)
    snapshots = [_copy(params)] if keep else []
    losses, scores = [], []
    for _ in range(int(epochs)):
        batch_losses = []
        for idx in minibatch_indices(X.shape[0], int(batch_size), rng):
            weights = (params[k] for k in PARAMETER_NAMES)
            batch_loss, grads = _loss_and_grads(*weights, X[idx], y[idx])
            params = {k: params[k] - lr * grads[k] for k in PARAMETER_NAMES}
            batch_losses.append(batch_loss)
        losses.append(float(np.mean(batch_losses)))
        if X_test is not None:
            scores.append(accuracy(params, X_test, y_test))
        if keep:
            snapshots.append(_copy(params))
    return TrainingRun(params, losses, scores, snapshots)


def train_digits(
    X, y, hidden: int = 32, lr: float = 0.1, epochs: int = 30, batch_size: int = 32, seed: int = 0
) -> tuple[dict, list]:
    """Exercise 08.4's reference: :func:`fit` without the record, returning ``(params, losses)``.

    Examples
    --------
    >>> data = split()
    >>> params, losses = train_digits(data.X_train, data.y_train, epochs=3)
    >>> params["W1"].shape, len(losses), losses[-1] < losses[0]
    ((64, 32), 3, True)
    """
    run = fit(X, y, hidden=hidden, lr=lr, epochs=epochs, batch_size=batch_size, seed=seed)
    return run.params, run.losses


# --------------------------------------------------------------------------- unchecked kernels
# The public functions validate their inputs once and then call these.


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax_cross_entropy(Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    m = Z.shape[0]
    log_p = _log_softmax(Z)
    rows = np.arange(m)
    value = float(-log_p[rows, y].mean())
    dZ = np.exp(log_p)
    dZ[rows, y] -= 1.0
    return value, dZ / m


def _dense_backward(X: np.ndarray, W: np.ndarray, dZ: np.ndarray) -> tuple[np.ndarray, ...]:
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0, keepdims=True)


def _forward(W1, b1, W2, b2, X) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    Z1 = X @ W1 + b1
    A1 = np.tanh(Z1)
    Z2 = A1 @ W2 + b2
    return Z2, {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2}


def _loss_and_grads(W1, b1, W2, b2, X, y) -> tuple[float, dict[str, np.ndarray]]:
    Z2, cache = _forward(W1, b1, W2, b2, X)
    value, dZ2 = _softmax_cross_entropy(Z2, y)
    A1 = cache["A1"]
    dA1, dW2, db2 = _dense_backward(A1, W2, dZ2)
    _, dW1, db1 = _dense_backward(X, W1, dA1 * (1.0 - A1 * A1))
    return value, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# --------------------------------------------------------------------------- validation


def _inputs(X, W1: np.ndarray) -> np.ndarray:
    X = _matrix("X", X)
    if X.shape[1] != W1.shape[0]:
        raise ValueError(f"X has {X.shape[1]} columns; W1 expects {W1.shape[0]}")
    return X


def _labels_for(y, X: np.ndarray) -> np.ndarray:
    labels = _labels(y, N_CLASSES)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), one label per row of X")
    return labels


def _copy(params: dict) -> dict:
    return {k: np.array(v, dtype=np.float64) for k, v in params.items()}


def _params(params: dict) -> tuple[np.ndarray, ...]:
    missing = [k for k in PARAMETER_NAMES if k not in params]
    if missing:
        raise KeyError(f"params lacks {missing}; it needs {list(PARAMETER_NAMES)}")
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in PARAMETER_NAMES)
    if W1.ndim != 2 or W2.ndim != 2 or W2.shape != (W1.shape[1], N_CLASSES):
        raise ValueError(
            f"W1 must have shape (n, hidden) and W2 (hidden, {N_CLASSES}); got {W1.shape}, "
            f"{W2.shape}"
        )
    if b1.shape != (1, W1.shape[1]) or b2.shape != (1, N_CLASSES):
        raise ValueError(
            f"b1 and b2 must be rows (1, hidden) and (1, 10); got {b1.shape}, {b2.shape}"
        )
    return W1, b1, W2, b2


def _logits(Z) -> np.ndarray:
    Z = np.asarray(Z, dtype=np.float64)  # never written to: no copy needed
    if Z.ndim == 0 or Z.shape[-1] == 0:
        raise ValueError(f"logits need a non-empty last axis; got shape {Z.shape}")
    if not np.isfinite(Z).all():
        raise ValueError("logits must be finite")
    return Z


def _matrix(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)  # never written to: no copy needed
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def _labels(y, k: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"labels must be integers 0..{k - 1}; got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"labels must be a 1-D array; got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise ValueError(f"labels must be in 0..{k - 1}; got {int(arr.min())}..{int(arr.max())}")
    return arr.astype(np.int64)


def _require_integer(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
