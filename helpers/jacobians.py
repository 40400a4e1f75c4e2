r"""Softmax, its Jacobian, and the vector-Jacobian product that never forms the Jacobian.

For scores :math:`z \in \mathbb{R}^n` the softmax is :math:`s_i = e^{z_i} / \sum_k e^{z_k}` and its
Jacobian is :math:`J = \partial s / \partial z = \operatorname{diag}(s) - s s^\top`, an
:math:`n \times n` matrix. Backpropagation never needs :math:`J` itself, only the row vector
:math:`g^\top J` for the upstream gradient :math:`g = \partial L / \partial s`:

.. math::

    g^\top J = g^\top \operatorname{diag}(s) - (g^\top s)\, s^\top = s \odot (g - g\cdot s),

which costs :math:`O(n)` time and memory where forming :math:`J` costs :math:`O(n^2)` (Lesson 03,
Section 4; Exercise 03.4 asks for :func:`softmax_vjp`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax", "softmax_jacobian", "softmax_vjp"]


def _vector(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a 1-D array of real numbers: {err}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, shape (n,); got shape {arr.shape}")
    return arr


def softmax(z) -> np.ndarray:
    r"""The softmax of a score vector: :math:`s_i = e^{z_i - \max z} / \sum_k e^{z_k - \max z}`.

    Subtracting :math:`\max z` changes nothing mathematically and keeps every exponential at
    most 1, so large scores cannot overflow.

    Parameters
    ----------
    z : array_like, shape (n,)
        Scores (logits).

    Returns
    -------
    ndarray of float64, shape (n,)
        Positive probabilities that sum to 1.

    Raises
    ------
    TypeError
        If ``z`` is not numeric.
    ValueError
        If ``z`` is not a non-empty 1-D array.

    Examples
    --------
    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    >>> softmax([1000.0, 0.0]).round(6).tolist()
    [1.0, 0.0]
    """
    z = _vector("z", z)
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_jacobian(s) -> np.ndarray:
    r"""The softmax Jacobian :math:`J = \operatorname{diag}(s) - s s^\top` at a softmax output.

    Entry :math:`(i, j)` is :math:`\partial s_i / \partial z_j = s_i(\delta_{ij} - s_j)`. It is
    symmetric and every row and column sums to 0. It holds :math:`n^2` numbers: use
    :func:`softmax_vjp` when only :math:`g^\top J` is needed.

    Parameters
    ----------
    s : array_like, shape (n,)
        A softmax output (the function does not check that it sums to 1).

    Returns
    -------
    ndarray of float64, shape (n, n)

    Raises
    ------
    TypeError, ValueError
        As :func:`softmax` for ``s``.

    Examples
    --------
    >>> softmax_jacobian([0.5, 0.5]).tolist()
    [[0.25, -0.25], [-0.25, 0.25]]
    """
    s = _vector("s", s)
    return np.diag(s) - np.outer(s, s)


def softmax_vjp(s, g) -> np.ndarray:
    r"""The vector-Jacobian product :math:`g^\top J` of softmax, without forming :math:`J`.

    With :math:`J = \operatorname{diag}(s) - s s^\top`,

    .. math::

        g^\top J = s \odot (g - g\cdot s),

    one dot product and two element-wise operations: :math:`O(n)` time and memory. In
    backpropagation ``s`` is the softmax output of the forward pass and ``g`` the gradient of
    the loss with respect to ``s``; the result is the gradient with respect to the scores.
    (:math:`J` is symmetric, so this is also :math:`J g`.)

    Parameters
    ----------
    s : array_like, shape (n,)
        A softmax output.
    g : array_like, shape (n,)
        The upstream gradient :math:`\partial L / \partial s`.

    Returns
    -------
    ndarray of float64, shape (n,)
        :math:`g^\top J`, as a 1-D array. Neither input is modified.

    Raises
    ------
    TypeError
        If ``s`` or ``g`` is not numeric.
    ValueError
        If either is not a non-empty 1-D array (``s`` checked first), or their lengths differ.

    Examples
    --------
    >>> s = softmax([1.0, 2.0, 0.5])
    >>> g = [0.3, -1.0, 2.0]
    >>> bool(np.allclose(softmax_vjp(s, g), np.asarray(g) @ softmax_jacobian(s)))
    True
    >>> softmax_vjp([0.5, 0.5], [1.0, 1.0]).tolist()   # a constant g changes nothing
    [0.0, 0.0]
    """
    s = _vector("s", s)
    g = _vector("g", g)
    if s.shape != g.shape:
        raise ValueError(f"s and g must have the same length; got {s.size} and {g.size}")
    return s * (g - g @ s)
