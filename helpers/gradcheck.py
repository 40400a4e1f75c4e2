"""Gradient checking: compare an analytic gradient with a finite-difference one.

The metric is the normwise relative error ``||a - b|| / max(||a||, ||b||)``. It does not depend
on the scale of f (unlike scipy's ``check_grad``, an absolute norm) and does not false-alarm on
near-zero components (unlike a per-element relative error). With float64 central differences
a correct gradient agrees to about 1e-10 and every bug the course has measured (a missing
sigma', a bias gradient from one sample) shows up at 1e-2 or more, so the bands

    pass  < 1e-7 <= warn <= 1e-4 <  fail

leave three orders of magnitude of margin on each side.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .differentiate import _as_vector_point, _check_callable, gradient

__all__ = [
    "CoordinateCheck",
    "GradientCheckResult",
    "direction_check",
    "gradient_check",
    "locate",
    "relative_error",
]

PASS_BELOW = 1e-7
FAIL_ABOVE = 1e-4

BANDS_EXPLAINED = (
    f"Verdict bands for the normwise relative error: pass below {PASS_BELOW:.0e}, fail above "
    f"{FAIL_ABOVE:.0e}, warn in between - because float64 central differences agree with a "
    f"correct gradient to about 1e-10 while real bugs give 1e-2 or more (a warn usually means "
    f"a kink, float32 arithmetic or forward differences, not a bug)."
)

# Tables list every coordinate up to this many; beyond, the largest differences.
_MAX_ROWS = 20


def relative_error(a, b) -> float:
    r"""Normwise relative error between two arrays (or scalars).

    .. math::

        \mathrm{err}(a, b)
        = \frac{\lVert a - b \rVert_2}{\max(\lVert a \rVert_2, \lVert b \rVert_2)}

    and 0 when both are zero. Symmetric in ``a`` and ``b``, between 0 and 2, and independent
    of a common scale factor.

    Parameters
    ----------
    a, b : float or array_like
        Same shape.

    Returns
    -------
    float
        The relative error (``nan`` if either input contains ``nan`` or ``inf``).

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> relative_error([3.0, 4.0], [3.0, 4.0])
    0.0
    >>> relative_error(1.0, 1.1)  # doctest: +ELLIPSIS
    0.0909...
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error needs equal shapes; got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("nan")
    scale = max(np.linalg.norm(a.ravel()), np.linalg.norm(b.ravel()))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm((a - b).ravel()) / scale)


class CoordinateCheck(NamedTuple):
    """One row of a gradient check: coordinate ``index``, both values and their difference."""

    index: int
    analytic: float
    numeric: float
    abs_difference: float


def _verdict(error: float) -> str:
    if not np.isfinite(error) or error > FAIL_ABOVE:
        return "fail"
    return "pass" if error < PASS_BELOW else "warn"


@dataclass(frozen=True, eq=False)
class GradientCheckResult:
    """Outcome of :func:`gradient_check`.

    Attributes
    ----------
    relative_error : float
        Normwise relative error between ``analytic`` and ``numeric``.
    verdict : {"pass", "warn", "fail"}
        ``"pass"`` below 1e-7, ``"fail"`` above 1e-4 (or when the analytic gradient is not
        finite), ``"warn"`` in between. See :data:`BANDS_EXPLAINED`.
    worst_index : int
        Coordinate with the largest absolute difference.
    analytic, numeric : ndarray, shape (n,)
        The two gradients (read-only copies).
    method : str
        Finite-difference scheme used for ``numeric``.
    """

    relative_error: float
    verdict: str
    worst_index: int
    analytic: np.ndarray
    numeric: np.ndarray
    method: str = "central"

    @property
    def passed(self) -> bool:
        """True when the verdict is ``"pass"``."""
        return self.verdict == "pass"

    @property
    def differences(self) -> np.ndarray:
        """Absolute difference per coordinate, ``|analytic - numeric|``."""
        with np.errstate(invalid="ignore"):
            return np.abs(self.analytic - self.numeric)

    @property
    def table(self) -> list[CoordinateCheck]:
        """Per-coordinate rows (index, analytic, numeric, abs_difference), in index order."""
        diff = self.differences
        return [
            CoordinateCheck(i, float(a), float(n), float(d))
            for i, (a, n, d) in enumerate(zip(self.analytic, self.numeric, diff))
        ]

    def _shown_rows(self) -> tuple[list[CoordinateCheck], str]:
        rows = self.table
        if len(rows) <= _MAX_ROWS:
            return rows, ""
        order = np.argsort(-np.nan_to_num(self.differences, nan=np.inf), kind="stable")
        keep = sorted(int(i) for i in order[:10])
        return [rows[i] for i in keep], f"(showing the 10 largest differences of {len(rows)})"

    def _headline(self) -> str:
        return (
            f"gradient check: {self.verdict.upper()} - relative error {self.relative_error:.2e} "
            f"({self.method} differences, n = {self.analytic.size}, worst coordinate "
            f"{self.worst_index})"
        )

    def __str__(self) -> str:
        rows, note = self._shown_rows()
        lines = [self._headline(), ""]
        lines.append(f"{'index':>6}  {'analytic':>14}  {'numeric':>14}  {'|difference|':>12}")
        for r in rows:
            mark = "  <- worst" if r.index == self.worst_index else ""
            lines.append(
                f"{r.index:>6}  {r.analytic:>14.6e}  {r.numeric:>14.6e}  "
                f"{r.abs_difference:>12.2e}{mark}"
            )
        if note:
            lines.append(note)
        lines += ["", BANDS_EXPLAINED]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {"pass": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e"}[self.verdict]
        rows, note = self._shown_rows()
        body = "".join(
            "<tr{style}><td>{i}</td><td>{a:.6e}</td><td>{n:.6e}</td><td>{d:.2e}</td></tr>".format(
                style=' style="font-weight:bold"' if r.index == self.worst_index else "",
                i=r.index,
                a=r.analytic,
                n=r.numeric,
                d=r.abs_difference,
            )
            for r in rows
        )
        return (
            '<div class="gradient-check">'
            f'<p><b style="color:{colour}">{html.escape(self.verdict.upper())}</b> - relative '
            f"error {self.relative_error:.2e} ({html.escape(self.method)} differences, "
            f"n = {self.analytic.size}, worst coordinate {self.worst_index})</p>"
            "<table><thead><tr><th>index</th><th>analytic</th><th>numeric</th>"
            f"<th>|difference|</th></tr></thead><tbody>{body}</tbody></table>"
            + (f"<p><i>{html.escape(note)}</i></p>" if note else "")
            + f"<p><small>{html.escape(BANDS_EXPLAINED)}</small></p></div>"
        )


def gradient_check(
    f: Callable[[np.ndarray], float],
    grad_f: Callable[[np.ndarray], np.ndarray],
    x,
    h=None,
    method: str = "central",
) -> GradientCheckResult:
    r"""Compare ``grad_f(x)`` with a finite-difference gradient of ``f`` at ``x``.

    The numeric gradient is :func:`helpers.gradient` (central by default: 2n evaluations of
    ``f``, error O(h^2), default step :math:`\varepsilon^{1/3}\max(1, |x_i|)`), and the
    comparison is the normwise :func:`relative_error`.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (n,).
    grad_f : callable
        ``grad_f(x) -> array of shape (n,)``, the gradient under test.
    x : array_like, shape (n,)
        Point; copied to float64, never modified (each function gets its own copy).
    h : float or array_like, optional
        Step(s) for the numeric gradient; see :func:`helpers.gradient`.
    method : {"central", "forward"}
        Finite-difference scheme. Forward differences reach only ~1e-8 - 1e-7, so a correct
        gradient may land in "warn".

    Returns
    -------
    GradientCheckResult
        ``relative_error``, ``verdict`` ("pass" < 1e-7 <= "warn" <= 1e-4 < "fail"),
        ``worst_index``, ``analytic``, ``numeric`` and a per-coordinate ``table``; prints as a
        text table and renders as HTML in a notebook.

    Raises
    ------
    TypeError
        If ``f`` or ``grad_f`` is not callable.
    ValueError
        If ``x`` is not 1-D or ``grad_f`` returns the wrong shape (and see
        :func:`helpers.gradient`).

    Examples
    --------
    >>> import numpy as np
    >>> result = gradient_check(lambda w: np.sum(w**3), lambda w: 3 * w**2, [1.0, 2.0])
    >>> result.verdict
    'pass'
    """
    _check_callable(f)
    _check_callable(grad_f, "grad_f")
    x = _as_vector_point(x, "gradient_check")
    value = grad_f(x.copy())
    try:
        analytic = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"grad_f must return a real array of shape {x.shape}; it returned "
            f"{type(value).__name__}: {err}"
        ) from err
    if analytic.shape != x.shape:
        raise ValueError(
            f"grad_f must return an array shaped like x {x.shape}; it returned shape "
            f"{analytic.shape}" + (" (flatten it)" if analytic.size == x.size else "")
        )
    numeric = gradient(f, x.copy(), h=h, method=method)
    error = relative_error(analytic, numeric)
    with np.errstate(invalid="ignore"):
        diff = np.abs(analytic - numeric)
    worst = int(np.argmax(np.nan_to_num(diff, nan=np.inf)))
    analytic.flags.writeable = False
    numeric.flags.writeable = False
    return GradientCheckResult(
        relative_error=error,
        verdict=_verdict(error),
        worst_index=worst,
        analytic=analytic,
        numeric=numeric,
        method=method,
    )


def direction_check(
    f: Callable[[np.ndarray], float],
    grad_f: Callable[[np.ndarray], np.ndarray],
    x,
    rng: np.random.Generator,
    h: float = 1e-5,
) -> float:
    r"""Check a gradient along one random direction: two evaluations of ``f``, whatever n is.

    Draws :math:`v` = ``rng.standard_normal(x.shape)`` (one call, nothing else drawn from
    ``rng``), takes the unit vector :math:`u = v / \lVert v \rVert_2` and compares the
    directional derivative the gradient predicts with a central difference along :math:`u`:

    .. math::

        \mathrm{err}\Big(\nabla f(x) \cdot u,\;
        \frac{f(x + h u) - f(x - h u)}{2h}\Big)

    with :func:`relative_error` (0 when both are zero). Every coordinate of the gradient enters
    :math:`\nabla f(x) \cdot u` with a random weight, so a wrong entry anywhere moves it; for a
    correct gradient the result is rounding and truncation noise, about 1e-10 at ``h = 1e-5``
    when :math:`\nabla f(x) \cdot u` is of order 1 (higher when it happens to be small: draw
    again before calling it a bug).

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (n,). Called exactly twice.
    grad_f : callable
        ``grad_f(x) -> array of shape (n,)``, the gradient under test. Called once.
    x : ndarray, shape (n,)
        A 1-D float array; not modified (``f`` and ``grad_f`` get new arrays).
    rng : numpy.random.Generator
        Source of the direction; advanced by exactly one ``standard_normal(x.shape)`` draw.
    h : float, default 1e-5
        Step along ``u``.

    Returns
    -------
    float
        The relative error, a Python float.

    See Also
    --------
    locate : the check per named group of coordinates, to find where a failing gradient is
        wrong.

    Examples
    --------
    >>> import numpy as np
    >>> error = direction_check(
    ...     lambda w: np.sum(w**3), lambda w: 3 * w**2, np.array([1.0, 2.0]),
    ...     np.random.default_rng(0))
    >>> error < PASS_BELOW
    True
    """
    x = np.asarray(x, dtype=np.float64)
    v = rng.standard_normal(x.shape)
    u = v / np.linalg.norm(v)
    slope = float(np.asarray(grad_f(x.copy()), dtype=np.float64) @ u)
    numeric = (float(f(x + h * u)) - float(f(x - h * u))) / (2 * h)
    return relative_error(slope, numeric)


def locate(
    f: Callable[[np.ndarray], float],
    grad_f: Callable[[np.ndarray], np.ndarray],
    x,
    groups,
    h: float = 1e-5,
) -> dict:
    r"""The relative error of a gradient per named group of coordinates: where is it wrong?

    For each ``name, idx`` of ``groups`` (``idx`` a slice or an integer index array into the
    1-D ``x``, e.g. the part of a flattened parameter vector that holds one weight matrix)
    compare ``grad_f(x)[idx]`` with the central differences of ``f`` for those coordinates
    only,

    .. math::

        n_i = \frac{f(x + h e_i) - f(x - h e_i)}{2h}, \qquad i \in \texttt{idx},

    in the order ``idx`` lists them, by :func:`relative_error` (0 when both are zero).
    Coordinates in no group cost nothing: ``f`` is evaluated twice per coordinate of each
    group, never elsewhere.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (n,).
    grad_f : callable
        ``grad_f(x) -> array of shape (n,)``, the gradient under test. Called once.
    x : ndarray, shape (n,)
        A 1-D float array; not modified.
    groups : dict
        ``{name: slice or integer index array}``; not modified.
    h : float, default 1e-5
        The finite-difference step.

    Returns
    -------
    dict
        ``{name: relative error}`` (Python floats), with the keys of ``groups`` in their order.

    See Also
    --------
    direction_check : two evaluations for the whole gradient, to find out *whether* it is
        wrong.

    Examples
    --------
    >>> import numpy as np
    >>> def grad_with_a_bug(w):
    ...     g = 3 * w**2
    ...     g[2] += 1.0
    ...     return g
    >>> errors = locate(lambda w: np.sum(w**3), grad_with_a_bug, np.array([1.0, 2.0, 3.0]),
    ...                 {"first two": slice(0, 2), "last": np.array([2])})
    >>> [name for name, error in errors.items() if error > FAIL_ABOVE]
    ['last']
    """
    x = np.asarray(x, dtype=np.float64)
    analytic = np.asarray(grad_f(x.copy()), dtype=np.float64)
    positions = np.arange(x.size)
    errors = {}
    for name, idx in groups.items():
        coords = positions[idx]
        numeric = np.empty(coords.size)
        for k, i in enumerate(coords):
            step = np.zeros_like(x)
            step[i] = h
            numeric[k] = (float(f(x + step)) - float(f(x - step))) / (2 * h)
        errors[name] = relative_error(analytic[idx], numeric)
    return errors
