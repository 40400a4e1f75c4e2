"""Plain gradient descent that records its path, and stops honestly when it diverges."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["DescentResult", "gradient_descent"]


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
        Step size :math:`\eta`, positive and finite. On a quadratic with largest curvature L
        descent converges for :math:`\eta < 2/L` and diverges above.
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
