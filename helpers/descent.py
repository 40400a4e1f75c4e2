"""Gradient descent, heavy-ball momentum and Adam: each records its path and stops honestly when
it diverges.

:func:`gradient_descent` is Lesson 04's plain update; :func:`momentum_descent` and :func:`adam`
are the references of Exercises 04.5 and 04.7 and of the lesson's comparison of the three (Section
6). All three take ``grad_fn(w)`` and a starting point ``w0`` (copied to float64, never
modified) and return the iterates ``w0, w1, ...`` as the rows of an array.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["DescentResult", "adam", "gradient_descent", "momentum_descent"]


class DescentResult(NamedTuple):
    r"""What :func:`gradient_descent` returns, whatever its arguments.

    It unpacks as ``path, losses = gradient_descent(...)``.

    Attributes
    ----------
    path : ndarray of float64, shape (k + 1, n)
        The iterates :math:`w_0, \dots, w_k` of :math:`w_{k+1} = w_k - \eta \nabla L(w_k)`,
        ``w0`` first; ``k = num_steps`` unless descent diverged and stopped early.
    losses : ndarray of float64, shape (k + 1,), or None
        ``loss_fn`` at each iterate, row for row with ``path``; None when no ``loss_fn`` was
        given.
    """

    path: np.ndarray
    losses: np.ndarray | None = None


def _loss_value(loss_fn: Callable, w: np.ndarray, step: int) -> float:
    value = loss_fn(w.copy())
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"loss_fn must return a real number; at step {step} it returned "
            f"{type(value).__name__}: {err}"
        ) from err
    if arr.ndim != 0:
        raise ValueError(
            f"loss_fn must return a scalar; at step {step} it returned shape {arr.shape}"
        )
    return float(arr)


def gradient_descent(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    w0,
    learning_rate: float,
    num_steps: int,
    loss_fn: Callable[[np.ndarray], float] | None = None,
) -> DescentResult:
    r"""Run gradient descent :math:`w_{k+1} = w_k - \eta \nabla L(w_k)` and record its path.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(w) -> array of shape (n,)``, the gradient at ``w`` (it receives a copy).
    w0 : array_like, shape (n,)
        Starting point; copied to float64, never modified.
    learning_rate : float
        Step size :math:`\eta`, positive and finite. On a quadratic whose largest curvature
        (Hessian eigenvalue) is :math:`\lambda_{\max}`, descent converges for
        :math:`\eta < 2/\lambda_{\max}` and diverges above.
    num_steps : int
        Number of updates, >= 0.
    loss_fn : callable, optional
        ``loss_fn(w) -> float``. When given, the loss is recorded at every iterate.

    Returns
    -------
    DescentResult
        ``path``, shape (num_steps + 1, n), the iterates with ``w0`` first; ``losses``, shape
        (num_steps + 1,), the loss at each iterate when ``loss_fn`` is given, else None.

    Warns
    -----
    RuntimeWarning
        When an iterate, gradient or loss stops being finite (divergence): descent stops,
        says at which step, and returns the path up to the last finite iterate (fewer than
        ``num_steps + 1`` rows).

    Raises
    ------
    TypeError
        If ``grad_fn`` or ``loss_fn`` is not callable, or ``num_steps`` is not an integer.
    ValueError
        If ``w0`` is not 1-D and finite, ``learning_rate`` is not positive and finite,
        ``num_steps`` is negative, or ``grad_fn`` returns the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> run = gradient_descent(lambda w: 2 * w, [1.0, -2.0], learning_rate=0.25, num_steps=3)
    >>> run.path
    array([[ 1.   , -2.   ],
           [ 0.5  , -1.   ],
           [ 0.25 , -0.5  ],
           [ 0.125, -0.25 ]])
    >>> run.losses is None
    True
    >>> path, losses = gradient_descent(lambda w: 2 * w, [1.0], 0.25, 2, loss_fn=lambda w: w @ w)
    >>> losses
    array([1.    , 0.25  , 0.0625])
    """
    w = _checked_arguments(grad_fn, w0, learning_rate, num_steps, loss_fn)
    lr = float(learning_rate)
    num_steps = int(num_steps)

    path = np.empty((num_steps + 1, w.size))
    path[0] = w
    losses = np.empty(num_steps + 1) if loss_fn is not None else None
    if losses is not None:
        losses[0] = _loss_value(loss_fn, w, 0)
        if not np.isfinite(losses[0]):
            raise ValueError(f"loss_fn(w0) is {losses[0]}: start from a point with a finite loss")

    last = num_steps
    for step in range(1, num_steps + 1):
        grad = _gradient_at(grad_fn, path[step - 1], step - 1)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            path[step] = path[step - 1] - lr * grad
        problem = None
        if not np.all(np.isfinite(grad)):
            problem = "the gradient"
        elif not np.all(np.isfinite(path[step])):
            problem = "the iterate"
        elif losses is not None:
            losses[step] = _loss_value(loss_fn, path[step], step)
            if not np.isfinite(losses[step]):
                problem = "the loss"
        if problem is not None:
            warnings.warn(
                f"gradient_descent stopped at step {step} of {num_steps}: {problem} became "
                f"non-finite (overflow or nan), so descent diverged. The learning rate "
                f"{lr:g} is probably too large; try a smaller one (e.g. {lr / 10:g}). "
                f"Returning the {step} finite iterates.",
                RuntimeWarning,
                stacklevel=2,
            )
            last = step - 1
            break

    if last < num_steps:  # copy, so the unused rows of the buffer are freed
        path = path[: last + 1].copy()
        losses = None if losses is None else losses[: last + 1].copy()
    return DescentResult(path=path, losses=losses)


def _checked_arguments(grad_fn, w0, learning_rate, num_steps, loss_fn) -> np.ndarray:
    """``w0`` as a fresh float64 vector, after every argument is checked (clear errors)."""
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be callable; got {type(grad_fn).__name__}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None; got {type(loss_fn).__name__}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(f"learning_rate must be a real number; got {learning_rate!r}")
    if not (0.0 < learning_rate < np.inf):
        raise ValueError(f"learning_rate must be positive and finite; got {learning_rate!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, numbers.Integral):
        raise TypeError(f"num_steps must be an integer; got {num_steps!r}")
    if num_steps < 0:
        raise ValueError(f"num_steps must be >= 0; got {num_steps}")
    try:
        w = np.array(w0, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"w0 must be a 1-D array of real numbers: {err}") from err
    if w.ndim != 1:
        raise ValueError(
            f"w0 must be 1-D, shape (n,); got shape {w.shape}"
            + (" - wrap a scalar as [w0]" if w.ndim == 0 else " - flatten it first")
        )
    if not np.all(np.isfinite(w)):
        raise ValueError(f"w0 must be finite; got {w}")
    return w


def _gradient_at(grad_fn, w: np.ndarray, step: int) -> np.ndarray:
    """``grad_fn`` at a copy of ``w``, required to be a real array shaped like ``w``."""
    value = grad_fn(w.copy())
    try:
        grad = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"grad_fn must return a real array shaped like w {w.shape}; at step {step} "
            f"it returned {type(value).__name__}: {err}"
        ) from err
    if grad.shape != w.shape:
        raise ValueError(
            f"grad_fn must return an array shaped like w {w.shape}; at step {step} it "
            f"returned shape {grad.shape}"
        )
    return grad


def _fraction(name: str, value) -> float:
    """``value`` as a float in [0, 1), or a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1); got {value!r}")
    if not (0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return float(value)


def _stop_warning(method: str, step: int, num_steps: int, lr: float) -> None:
    warnings.warn(
        f"{method} stopped at step {step} of {num_steps}: the iterate or the gradient became "
        f"non-finite (overflow or nan), so the iteration diverged. The learning rate {lr:g} "
        f"is probably too large; try a smaller one (e.g. {lr / 10:g}). Returning the {step} "
        "finite iterates.",
        RuntimeWarning,
        stacklevel=3,
    )


def momentum_descent(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    w0,
    learning_rate: float,
    momentum: float,
    num_steps: int,
) -> np.ndarray:
    r"""Heavy-ball momentum: a velocity that accumulates past gradients moves the iterate.

    With :math:`v_0 = 0`, for :math:`k = 0, 1, \dots`

    .. math::

        v_{k+1} = \beta v_k - \eta \nabla L(w_k), \qquad w_{k+1} = w_k + v_{k+1}.

    :math:`\beta = 0` is plain gradient descent. Along a direction where the gradient keeps its
    sign the velocity grows to about :math:`\eta/(1 - \beta)` times the gradient; where it
    alternates, the terms cancel. On a quadratic with curvatures between :math:`\mu` and
    :math:`\lambda_{\max}` (condition number :math:`\kappa`) the choice
    :math:`\eta = 4/(\sqrt{\lambda_{\max}} + \sqrt{\mu})^2`,
    :math:`\beta = ((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^2` makes the error shrink by about
    :math:`(\sqrt\kappa - 1)/(\sqrt\kappa + 1)` per step, against :math:`(\kappa - 1)/(\kappa + 1)`
    for the best plain rate.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(w) -> array of shape (n,)``, called once per step (on a copy of ``w``).
    w0 : array_like, shape (n,)
        Starting point; copied to float64 (integers and lists are fine), never modified.
    learning_rate : float
        :math:`\eta`, positive and finite.
    momentum : float
        :math:`\beta`, in [0, 1).
    num_steps : int
        Number of updates, >= 0.

    Returns
    -------
    ndarray of float64, shape (num_steps + 1, n)
        The iterates :math:`w_0, \dots, w_{\text{num\_steps}}`, ``w0`` first (fewer rows if the
        iteration diverged, see Warns).

    Warns
    -----
    RuntimeWarning
        When an iterate or gradient stops being finite: the iteration stops there and the
        finite iterates are returned.

    Raises
    ------
    TypeError
        If ``grad_fn`` is not callable, ``num_steps`` is not an integer, or ``learning_rate`` or
        ``momentum`` is not a real number.
    ValueError
        If ``w0`` is not 1-D and finite, ``learning_rate`` is not positive and finite,
        ``momentum`` is not in [0, 1), ``num_steps`` is negative, or ``grad_fn`` returns the
        wrong shape.

    Examples
    --------
    >>> momentum_descent(lambda w: 2 * w, [1.0], learning_rate=0.25, momentum=0.5, num_steps=3)
    array([[ 1.  ],
           [ 0.5 ],
           [ 0.  ],
           [-0.25]])
    """
    w = _checked_arguments(grad_fn, w0, learning_rate, num_steps, None)
    beta = _fraction("momentum", momentum)
    lr, num_steps = float(learning_rate), int(num_steps)
    path = np.empty((num_steps + 1, w.size))
    path[0] = w
    v = np.zeros_like(w)
    for step in range(1, num_steps + 1):
        grad = _gradient_at(grad_fn, path[step - 1], step - 1)
        with np.errstate(over="ignore", invalid="ignore"):
            v = beta * v - lr * grad
            path[step] = path[step - 1] + v
        if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(path[step]))):
            _stop_warning("momentum_descent", step, num_steps, lr)
            return path[:step].copy()
    return path


def adam(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    w0,
    learning_rate: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    num_steps: int = 100,
) -> np.ndarray:
    r"""Adam: momentum on the gradient, divided per coordinate by a running size of it.

    With :math:`m_0 = v_0 = 0` and, for :math:`t = 1, 2, \dots`, :math:`g_t = \nabla L(w_{t-1})`:

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
        w_t = w_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},

    every operation element-wise. :math:`m_t` and :math:`v_t` start at 0, so they are too small
    in the first steps; dividing by :math:`1 - \beta^t` (the bias correction) removes that: at
    :math:`t = 1`, :math:`\hat m_1 = g_1` and :math:`\hat v_1 = g_1^2`, so the first step moves
    every coordinate by about :math:`\eta`, whatever the size of the gradient (as long as it is
    well above :math:`\epsilon`). The constant
    :math:`\epsilon` only keeps the division finite where :math:`\hat v_t = 0` (it is neither
    machine epsilon nor a stopping tolerance).

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(w) -> array of shape (n,)``, called once per step (on a copy of ``w``).
    w0 : array_like, shape (n,)
        Starting point; copied to float64 (integers and lists are fine), never modified.
    learning_rate : float, default 0.01
        :math:`\eta`, positive and finite: about the largest move of a coordinate per step.
    beta1 : float, default 0.9
        Decay of the gradient average :math:`m`, in [0, 1).
    beta2 : float, default 0.999
        Decay of the squared-gradient average :math:`v`, in [0, 1).
    eps : float, default 1e-8
        :math:`\epsilon`, >= 0, added to :math:`\sqrt{\hat v_t}`.
    num_steps : int, default 100
        Number of updates, >= 0.

    Returns
    -------
    ndarray of float64, shape (num_steps + 1, n)
        The iterates :math:`w_0, \dots, w_{\text{num\_steps}}`, ``w0`` (as float) first (fewer
        rows if the gradient stops being finite, see Warns).

    Warns
    -----
    RuntimeWarning
        When an iterate or gradient stops being finite: the iteration stops there and the
        finite iterates are returned.

    Raises
    ------
    TypeError
        If ``grad_fn`` is not callable, ``num_steps`` is not an integer, or a rate, decay or
        ``eps`` is not a real number.
    ValueError
        If ``w0`` is not 1-D and finite, ``learning_rate`` is not positive and finite,
        ``beta1`` or ``beta2`` is not in [0, 1), ``eps`` is negative or not finite,
        ``num_steps`` is negative, or ``grad_fn`` returns the wrong shape.

    Examples
    --------
    The first step moves each coordinate by about the learning rate, however small the
    gradient (the bias correction at work):

    >>> adam(lambda w: 1e-6 * w, [3.0, -2.0], learning_rate=0.1, num_steps=1).round(2)
    array([[ 3. , -2. ],
           [ 2.9, -1.9]])
    """
    w = _checked_arguments(grad_fn, w0, learning_rate, num_steps, None)
    b1, b2 = _fraction("beta1", beta1), _fraction("beta2", beta2)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a real number; got {eps!r}")
    if not (0.0 <= eps < np.inf):
        raise ValueError(f"eps must be >= 0 and finite; got {eps!r}")
    lr, num_steps = float(learning_rate), int(num_steps)
    path = np.empty((num_steps + 1, w.size))
    path[0] = w
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, num_steps + 1):
        grad = _gradient_at(grad_fn, path[t - 1], t - 1)
        with np.errstate(over="ignore", invalid="ignore"):
            m = b1 * m + (1.0 - b1) * grad
            v = b2 * v + (1.0 - b2) * grad * grad
            m_hat = m / (1.0 - b1**t)
            v_hat = v / (1.0 - b2**t)
            path[t] = path[t - 1] - lr * m_hat / (np.sqrt(v_hat) + eps)
        if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(path[t]))):
            _stop_warning("adam", t, num_steps, lr)
            return path[:t].copy()
    return path
