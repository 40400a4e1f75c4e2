"""A two-layer sigmoid network small enough to read in one sitting, and the XOR data it learns.

The network is :math:`\\hat y = \\sigma(\\sigma(X W_1 + b_1) W_2 + b_2)` trained by full-batch
gradient descent on one of two losses (``loss=``): the mean squared error
:math:`\\operatorname{mean}((\\hat y - y)^2)` (``"mse"``, the default) or the mean binary
cross-entropy :math:`\\operatorname{mean}(-y \\log \\hat y - (1 - y) \\log(1 - \\hat y))`
(``"bce"``), whose output delta is :math:`(\\hat y - y)/N`: the sigmoid's derivative cancels.
Its backward pass is the chain rule written out by hand; ``tests/test_mlp.py`` checks it
against :func:`helpers.gradient`.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

__all__ = ["LOSSES", "MLP", "ManyRuns", "sigmoid", "train_many", "xor_data"]

_PARAMETER_NAMES = ("W1", "b1", "W2", "b2")

#: The losses a network can be trained on: mean squared error, mean binary cross-entropy.
LOSSES = ("mse", "bce")


def _loss_name(loss) -> str:
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    return loss


def _loss_value(loss: str, z2, error, y):
    """The mean loss over the last two axes, from the output pre-activation ``z2``.

    Cross-entropy is computed as ``mean(softplus(z2) - y z2)``, which equals
    ``-mean(y log a + (1 - y) log(1 - a))`` for ``a = sigmoid(z2)`` and never takes the log
    of a rounded 0 or 1 (``np.logaddexp(0, z) = log(1 + e^z)`` without overflow).
    """
    if loss == "bce":
        return np.mean(np.logaddexp(0.0, z2) - y * z2, axis=(-2, -1))
    return np.mean(error * error, axis=(-2, -1))


def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, stable for any real ``z``.

    For very negative ``z``, :math:`e^{-z}` overflows to ``inf`` (below about -709) and
    :math:`1/(1 + \infty) = 0`, the correctly rounded limit; everywhere else the formula is
    accurate to a few ulps in relative terms (no cancellation: both terms of ``1 + e^{-z}`` are
    positive). The overflow is therefore harmless and its warning is silenced, so the function
    never warns or returns ``nan`` for finite input.

    Parameters
    ----------
    z : float or array_like
        Pre-activation(s).

    Returns
    -------
    float or ndarray of float64
        Values in [0, 1], same shape as ``z``.

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> sigmoid([-1000.0, 1000.0])
    array([0., 1.])
    """
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        out = 1.0 / (1.0 + np.exp(-z))
    return out


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR examples.

    Returns
    -------
    X : ndarray of float64, shape (4, 2)
        Inputs ``[0, 0], [0, 1], [1, 0], [1, 1]``.
    y : ndarray of float64, shape (4, 1)
        Targets ``0, 1, 1, 0``.
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, y


class MLP:
    r"""Sigmoid network ``sizes = (n_in, n_hidden, n_out)`` with one hidden layer.

    .. math::

        A_1 = \sigma(X W_1 + b_1), \qquad \hat y = \sigma(A_1 W_2 + b_2), \qquad
        L = \frac{1}{m\,n_{out}} \sum (\hat y - y)^2 \quad \text{(or the cross-entropy)}

    Parameters
    ----------
    sizes : tuple of three positive ints, default (2, 4, 1)
        Input, hidden and output widths.
    seed : int, default 0
        Seed for ``np.random.default_rng``. The parameters are drawn from U(-1, 1) in the order
        W1, b1, W2, b2, so a seed fixes the whole run bit for bit.
    loss : {"mse", "bce"}, default "mse"
        The loss that :meth:`loss`, :meth:`backward` and :meth:`train` use: the mean squared
        error or the mean binary cross-entropy (targets in [0, 1]).

    Attributes
    ----------
    W1 : ndarray, shape (n_in, n_hidden)
    b1 : ndarray, shape (1, n_hidden)
    W2 : ndarray, shape (n_hidden, n_out)
    b2 : ndarray, shape (1, n_out)

    Examples
    --------
    >>> X, y = xor_data()
    >>> net = MLP(seed=0)
    >>> losses = net.train(X, y, lr=0.5, epochs=5000)
    >>> bool((net.predict(X) == y).all())
    True
    """

    def __init__(self, sizes=(2, 4, 1), seed=0, loss="mse"):
        sizes = tuple(sizes) if isinstance(sizes, (tuple, list)) else sizes
        if (
            not isinstance(sizes, tuple)
            or len(sizes) != 3
            or not all(
                isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes
            )
        ):
            raise ValueError(
                "sizes must be three positive integers (inputs, hidden units, outputs), e.g. "
                f"(2, 4, 1); got {sizes!r}"
            )
        self.sizes = tuple(int(s) for s in sizes)
        self.seed = seed
        self.loss_name = _loss_name(loss)
        n_in, n_hidden, n_out = self.sizes
        rng = np.random.default_rng(seed)
        self.W1 = rng.uniform(-1.0, 1.0, size=(n_in, n_hidden))
        self.b1 = rng.uniform(-1.0, 1.0, size=(1, n_hidden))
        self.W2 = rng.uniform(-1.0, 1.0, size=(n_hidden, n_out))
        self.b2 = rng.uniform(-1.0, 1.0, size=(1, n_out))

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, seed={self.seed!r}, loss={self.loss_name!r})"

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameter arrays themselves (not copies), keyed ``"W1", "b1", "W2", "b2"``."""
        return {name: getattr(self, name) for name in _PARAMETER_NAMES}

    # -- input checks --------------------------------------------------------------------

    def _inputs(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(
                f"X must have shape (m, {self.sizes[0]}) - one row per example; got shape {X.shape}"
            )
        return X

    def _targets(self, X: np.ndarray, y) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        expected = (X.shape[0], self.sizes[2])
        if y.shape != expected:
            raise ValueError(
                f"y must have shape {expected} to match X (one row per example); got shape "
                f"{y.shape}" + (" - reshape it with y.reshape(-1, 1)" if y.ndim == 1 else "")
            )
        return y

    # -- the network ---------------------------------------------------------------------

    def forward(self, X) -> np.ndarray:
        r"""Network output :math:`\sigma(\sigma(X W_1 + b_1) W_2 + b_2)`, shape (m, n_out)."""
        X = self._inputs(X)
        return sigmoid(sigmoid(X @ self.W1 + self.b1) @ self.W2 + self.b2)

    def loss(self, X, y) -> float:
        r"""The loss over all outputs: the mean squared error, or the mean binary cross-entropy.

        The cross-entropy is :math:`-\operatorname{mean}(y \log \hat y + (1 - y) \log(1 - \hat y))`,
        computed from the output's pre-activation so that it stays finite when the sigmoid
        rounds to 0 or 1.
        """
        X = self._inputs(X)
        y = self._targets(X, y)
        z2 = sigmoid(X @ self.W1 + self.b1) @ self.W2 + self.b2
        return float(_loss_value(self.loss_name, z2, sigmoid(z2) - y, y))

    def predict(self, X) -> np.ndarray:
        """Class labels: 1.0 where the output is above 0.5, else 0.0 (shape (m, n_out))."""
        return (self.forward(X) > 0.5).astype(np.float64)

    def backward(self, X, y) -> dict[str, np.ndarray]:
        r"""Gradients of the loss by backpropagation.

        With :math:`\sigma' = \sigma(1 - \sigma)` and N the number of output entries,
        :math:`\delta_2 = \partial L / \partial z_2` is :math:`(\hat y - y)/N` for the
        cross-entropy (the sigmoid's derivative cancels) and, for the mean squared error,

        .. math::

            \delta_2 = \tfrac{2}{N}(\hat y - y)\,\hat y (1 - \hat y), \quad
            \nabla W_2 = A_1^\top \delta_2, \quad \nabla b_2 = \textstyle\sum_{rows} \delta_2,

            \delta_1 = (\delta_2 W_2^\top)\,A_1 (1 - A_1), \quad
            \nabla W_1 = X^\top \delta_1, \quad \nabla b_1 = \textstyle\sum_{rows} \delta_1.

        Returns
        -------
        dict
            Keys ``"W1", "b1", "W2", "b2"``, each shaped like its parameter.
        """
        X = self._inputs(X)
        y = self._targets(X, y)
        A1 = sigmoid(X @ self.W1 + self.b1)
        out = sigmoid(A1 @ self.W2 + self.b2)
        if self.loss_name == "bce":
            delta2 = (out - y) / y.size
        else:
            delta2 = (2.0 / y.size) * (out - y) * out * (1.0 - out)
        delta1 = (delta2 @ self.W2.T) * A1 * (1.0 - A1)
        return {
            "W1": X.T @ delta1,
            "b1": delta1.sum(axis=0, keepdims=True),
            "W2": A1.T @ delta2,
            "b2": delta2.sum(axis=0, keepdims=True),
        }

    def train(self, X, y, lr, epochs) -> np.ndarray:
        """Full-batch gradient descent on the network's loss, updating the parameters in place.

        Parameters
        ----------
        X : array_like, shape (m, n_in)
        y : array_like, shape (m, n_out)
        lr : float
            Learning rate, positive and finite (0.5 solves XOR from seed 0).
        epochs : int
            Number of updates, >= 0.

        Returns
        -------
        ndarray of float64, shape (epochs,)
            The loss before each update.
        """
        X = self._inputs(X)
        y = self._targets(X, y)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not (0 < lr < np.inf):
            raise ValueError(f"lr must be a positive finite number; got {lr!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer; got {epochs!r}")
        losses = np.empty(int(epochs))
        _descend(X, y, self.params, float(lr), int(epochs), self.loss_name, losses)
        return losses


def _descend(X, y, params, lr, epochs, loss="mse", losses=None, errors=None):
    """``epochs`` full-batch updates of ``params`` in place.

    This is backward() inlined: the same arithmetic, without per-epoch validation, dictionaries
    and method calls, so it costs what a plain numpy loop costs. The parameters may carry a
    leading axis (one network per entry, see :func:`train_many`): transposes and row sums act
    on the last two axes, so a single network gets exactly the arithmetic of the 2-D case.
    ``losses`` (if given) receives the loss before each update and ``errors`` the mean squared
    error before each update, one row per epoch (a scalar, or one entry per network).
    """
    W1, b1, W2, b2 = (params[name] for name in _PARAMETER_NAMES)
    cross_entropy = loss == "bce"
    scale = (1.0 if cross_entropy else 2.0) / (y.shape[-2] * y.shape[-1])
    XT = X.T
    with np.errstate(over="ignore"):  # see sigmoid(): exp overflow is harmless here
        for epoch in range(epochs):
            A1 = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
            z2 = A1 @ W2 + b2
            out = 1.0 / (1.0 + np.exp(-z2))
            error = out - y
            if losses is not None:
                losses[epoch] = _loss_value(loss, z2, error, y)
            if errors is not None:
                errors[epoch] = np.mean(error * error, axis=(-2, -1))
            # Cross-entropy: dL/dz2 = (out - y) / N, the sigmoid's derivative has cancelled.
            delta2 = scale * error if cross_entropy else scale * error * out * (1.0 - out)
            delta1 = (delta2 @ W2.swapaxes(-1, -2)) * A1 * (1.0 - A1)
            W2 -= lr * (A1.swapaxes(-1, -2) @ delta2)
            b2 -= lr * delta2.sum(axis=-2, keepdims=True)
            W1 -= lr * (XT @ delta1)
            b1 -= lr * delta1.sum(axis=-2, keepdims=True)


class ManyRuns(NamedTuple):
    """What :func:`train_many` returns: one entry per seed, in the order of ``seeds``."""

    seeds: np.ndarray  #: (k,) the seeds
    outputs: np.ndarray  #: (k, m, n_out) the network outputs after training
    losses: np.ndarray  #: (k,) the final loss (the one trained on)
    solved: np.ndarray  #: (k,) True where every output is on the right side of 0.5
    #: (k, epochs) the mean squared error before each update, whatever the training loss (one
    #: yardstick for comparing losses), or None unless ``curves=True``
    curves: np.ndarray | None = None


def train_many(sizes, seeds, X, y, lr, epochs, loss="mse", curves=False) -> ManyRuns:
    """Train one :class:`MLP` per seed, all at once, and report how each run ended.

    Each network starts from ``MLP(sizes, seed, loss)`` and takes the updates of
    :meth:`MLP.train` (the same loop, on arrays with a leading axis for the seed), so hundreds
    of runs cost about as much as a few. Used to count how often training gets stuck.

    Parameters
    ----------
    sizes : tuple of three positive ints
    seeds : iterable of int
    X : array_like, shape (m, n_in)
    y : array_like, shape (m, n_out)
    lr : float
        Learning rate, positive and finite.
    epochs : int
        Number of full-batch updates, >= 0.
    loss : {"mse", "bce"}, default "mse"
        The loss trained on (see :class:`MLP`).
    curves : bool, default False
        Also record every run's mean squared error before each update (``ManyRuns.curves``).

    Returns
    -------
    ManyRuns
        ``seeds``, ``outputs`` (k, m, n_out), final ``losses`` (k,), ``solved`` (k,) and
        ``curves`` (k, epochs) or None.
    """
    seeds = np.asarray(list(seeds), dtype=np.int64)
    if seeds.size == 0:
        raise ValueError("seeds is empty: give at least one seed")
    nets = [MLP(sizes, seed=int(s), loss=loss) for s in seeds]
    X = nets[0]._inputs(X)
    y = nets[0]._targets(X, y)
    nets[0].train(X, y, lr, 0)  # validates lr and epochs with MLP.train's own messages
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer; got {epochs!r}")
    params = {name: np.stack([getattr(n, name) for n in nets]) for name in _PARAMETER_NAMES}
    errors = np.empty((int(epochs), seeds.size)) if curves else None
    _descend(X, y, params, float(lr), int(epochs), loss, errors=errors)
    with np.errstate(over="ignore"):  # see sigmoid(): exp overflow is harmless here
        hidden = 1.0 / (1.0 + np.exp(-(X @ params["W1"] + params["b1"])))
        z2 = hidden @ params["W2"] + params["b2"]
        outputs = 1.0 / (1.0 + np.exp(-z2))
    losses = _loss_value(loss, z2, outputs - y, y)
    solved = np.all((outputs > 0.5) == (y > 0.5), axis=(1, 2))
    return ManyRuns(seeds, outputs, losses, solved, None if errors is None else errors.T.copy())
