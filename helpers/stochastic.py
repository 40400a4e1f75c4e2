"""Stochastic and mini-batch gradient descent on a loss that is a mean over examples.

When the loss is a mean over ``n`` examples, ``L(w) = (1/n) sum_i l(w; x_i, y_i)``, the mean
gradient over a random mini-batch of ``B`` examples is an unbiased, noisy estimate of the full
gradient. :func:`sgd` shuffles the examples once per epoch (:func:`minibatch_indices`) and takes
one step per batch, so an epoch is ``ceil(n / B)`` steps and touches every example once.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = [
    "SGDResult",
    "line_data",
    "mean_squared_error",
    "mean_squared_error_grad",
    "minibatch_indices",
    "sgd",
]


class SGDResult(NamedTuple):
    """What an :func:`sgd` run did.

    Attributes
    ----------
    w : ndarray, shape (d,)
        The final weights.
    path : ndarray, shape (steps + 1, d)
        ``w0``, then the weights after every update.
    losses : ndarray, shape (steps + 1,), or None
        ``loss_fn(w, X, y)`` on the whole data set at every row of ``path`` (None without
        ``loss_fn``).
    steps_per_epoch : int
        ``ceil(n / batch_size)``: row ``e * steps_per_epoch`` of ``path`` ends epoch ``e``.
    """

    w: np.ndarray
    path: np.ndarray
    losses: np.ndarray | None
    steps_per_epoch: int


def minibatch_indices(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's batches: ``rng.permutation(n)`` cut into consecutive pieces.

    Parameters
    ----------
    n : number of examples.
    batch_size : examples per batch; the last batch holds the ``n % batch_size`` left over,
        when there are any.
    rng : a :class:`numpy.random.Generator`; one permutation is drawn from it.

    Returns
    -------
    list of 1-D integer arrays, ``ceil(n / batch_size)`` of them, together a permutation of
    ``range(n)``.

    Examples
    --------
    >>> import numpy as np
    >>> [b.tolist() for b in minibatch_indices(5, 2, np.random.default_rng(0))]
    [[2, 4], [3, 0], [1]]
    """
    _require_count("n", n, minimum=1)
    _require_count("batch_size", batch_size, minimum=1)
    order = rng.permutation(int(n))
    return [order[start : start + batch_size] for start in range(0, int(n), int(batch_size))]


def sgd(
    grad_fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    w0,
    X,
    y,
    lr: float | Callable[[int], float],
    batch_size: int,
    epochs: int,
    seed: int = 0,
    loss_fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float] | None = None,
) -> SGDResult:
    r"""Mini-batch stochastic gradient descent, :math:`w \leftarrow w - \eta_k g_B(w)`.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(w, X_batch, y_batch)``: the **mean** gradient over the batch, shape (d,).
    w0 : array_like, shape (d,)
        Starting weights; copied, never modified.
    X, y : arrays with ``len(X) == len(y) = n`` examples (rows).
    lr : float or callable
        The learning rate :math:`\eta`, or ``lr(k)`` giving the rate of step ``k`` (0-based)
        for a schedule such as :math:`\eta_0 / (1 + k / \tau)`.
    batch_size : int
        ``1`` is stochastic gradient descent, ``n`` (or more) full-batch gradient descent.
    epochs : int
        Passes over the data; each draws a fresh shuffle from one generator,
        ``numpy.random.default_rng(seed)``, made once per run.
    loss_fn : callable, optional
        ``loss_fn(w, X, y)``, recorded on the whole data set after every step.

    Returns
    -------
    SGDResult
        ``w``, ``path``, ``losses`` and ``steps_per_epoch``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0], [2.0], [3.0]]); y = 2 * X[:, 0]
    >>> def grad(w, Xb, yb):
    ...     return 2 * Xb.T @ (Xb @ w - yb) / len(yb)
    >>> run = sgd(grad, [0.0], X, y, lr=0.05, batch_size=1, epochs=30)
    >>> round(float(run.w[0]), 6), run.steps_per_epoch, run.path.shape
    (2.0, 3, (91, 1))
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of examples; got {len(X)}, {len(y)}")
    _require_count("epochs", epochs, minimum=0)
    rate = lr if callable(lr) else _constant_rate(lr)
    w = np.array(w0, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"w0 must be 1-D, shape (d,); got shape {w.shape}")
    rng = np.random.default_rng(seed)
    path, losses = [w.copy()], []
    if loss_fn is not None:
        losses.append(float(loss_fn(w.copy(), X, y)))
    k = 0
    for _ in range(int(epochs)):
        for idx in minibatch_indices(len(X), batch_size, rng):
            g = np.asarray(grad_fn(w.copy(), X[idx], y[idx]), dtype=np.float64)
            if g.shape != w.shape:
                raise ValueError(f"grad_fn must return shape {w.shape}; got {g.shape}")
            w = w - rate(k) * g
            k += 1
            path.append(w)
            if loss_fn is not None:
                losses.append(float(loss_fn(w.copy(), X, y)))
    return SGDResult(
        w=w,
        path=np.array(path),
        losses=np.array(losses) if loss_fn is not None else None,
        steps_per_epoch=math.ceil(len(X) / batch_size),
    )


def line_data(n: int = 200, seed: int = 0, noise: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """A small regression problem: ``y = 0.5 + 2 x + noise`` for ``x`` uniform in [-1, 1].

    Returns ``X`` of shape (n, 2), rows ``(1, x_i)`` (so ``w = (intercept, slope)``), and ``y``
    of shape (n,). The same ``seed`` gives the same data.
    """
    _require_count("n", n, minimum=1)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    X = np.column_stack([np.ones(n), x])
    return X, 0.5 + 2.0 * x + noise * rng.normal(size=n)


def mean_squared_error(w, X, y) -> float:
    """``(1/m) sum_i (x_i . w - y_i)^2`` over the m rows of ``X``."""
    r = np.asarray(X) @ np.asarray(w, dtype=float) - np.asarray(y)
    return float(r @ r / len(r))


def mean_squared_error_grad(w, X, y) -> np.ndarray:
    """The gradient of :func:`mean_squared_error`, ``(2/m) X^T (X w - y)``.

    It is the mean of the per-example gradients ``2 (x_i . w - y_i) x_i``.
    """
    X = np.asarray(X)
    return 2.0 * X.T @ (X @ np.asarray(w, dtype=float) - np.asarray(y)) / len(X)


def _constant_rate(lr) -> Callable[[int], float]:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a positive, finite number or a callable; got {lr!r}")
    value = float(lr)
    return lambda k: value


def _require_count(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
