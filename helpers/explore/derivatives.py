"""Lesson 01's explorers: the secant turning into the tangent, and the V of error against step h."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..differentiate import central_difference, forward_difference
from . import shipped
from .shell import BLACK, BLUE, GREY, ORANGE, VERMILLION, Explorer, add_legend, slider

__all__ = ["secant_to_tangent", "step_size_error"]


def _default_function() -> tuple[Callable[[Any], Any], Callable[[Any], Any], str]:
    return (lambda x: np.sin(x * x)), (lambda x: 2 * x * np.cos(x * x)), "sin(x²)"


def _reference_derivative(f: Callable, x0: float) -> tuple[float, str]:
    """f'(x0) for a function given without its derivative.

    The complex step Im f(x0 + ih)/h has no subtractive cancellation, so it is exact to rounding
    for any numpy-built f; a function that cannot take complex input falls back to helpers'
    central difference (about 1e-10 relative error).
    """
    try:
        value = complex(f(complex(x0, 1e-30))).imag / 1e-30
        if math.isfinite(value) and complex(f(complex(x0, 0.0))).imag == 0.0:
            return value, "complex step"
    except (TypeError, ValueError, OverflowError):
        pass
    return float(central_difference(f, x0)), "central difference"


def _function_and_derivative(f, df, label):
    if f is None:
        return _default_function()
    if not callable(f):
        raise TypeError(f"f must be a function of one variable, got {type(f).__name__}")
    return f, df, label or getattr(f, "__name__", "f")


def _draw_secant(
    ax, f, df_x0: float, x0: float, h: float, label: str, legend: bool = True
) -> tuple[float, float]:
    xs = np.linspace(x0 - 1.25, x0 + 1.25, 400)
    ys = np.array([f(x) for x in xs], dtype=float)
    fx0 = float(f(x0))
    slope = float(forward_difference(f, x0, h))
    ax.plot(xs, ys, color=BLACK, lw=2, label=f"f(x) = {label}")
    ax.plot(
        xs,
        fx0 + df_x0 * (xs - x0),
        color=BLUE,
        lw=1.8,
        ls="--",
        label=f"tangent, slope f'(x₀) = {df_x0:.4f}",
    )
    ax.plot(xs, fx0 + slope * (xs - x0), color=ORANGE, lw=1.8, label=f"secant, slope = {slope:.4f}")
    ax.plot(
        [x0, x0 + h],
        [fx0, float(f(x0 + h))],
        "o",
        color=VERMILLION,
        ms=6,
        zorder=5,
        label="(x₀, f(x₀)), (x₀+h, f(x₀+h))",
    )
    pad = 0.15 * (ys.max() - ys.min() + 1e-12)
    ax.set_ylim(ys.min() - pad, ys.max() + pad)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    err = abs(slope - df_x0) / max(abs(df_x0), 1e-300)
    ax.set_title(f"h = {h:.3g}: secant slope {slope:.4f}, relative error {err:.1e}", fontsize=10)
    if legend:
        add_legend(ax, loc="best")
    return slope, err


def secant_to_tangent(
    f=None, x0: float = 1.0, static: bool = False, *, df=None, label: str | None = None
):
    """The secant through x0 and x0 + h turning into the tangent as h shrinks.

    Parameters
    ----------
    f : function of one variable, default ``sin(x**2)``.
    x0 : the point where the derivative is taken.
    static : return the fallback grid (h = 1, 0.5, 0.1, 0.01) as a Figure instead of the widget.
    df : the exact derivative of ``f``, when known. Otherwise the reference slope is a complex
        step (exact to rounding for numpy-built f) or a central difference.
    label : how to name ``f`` in the legend.

    The secant slope is ``helpers.forward_difference(f, x0, h)``, the forward difference
    (f(x0 + h) - f(x0)) / h; its error shrinks like h.
    """
    picture = shipped.key("secant_to_tangent", x0=x0, label=label) if f is df is None else None
    f, df, label = _function_and_derivative(f, df, label)
    x0 = float(x0)
    exact, how = (float(df(x0)), "exact") if df is not None else _reference_derivative(f, x0)

    def draw(fig: Figure, h: float) -> str:
        ax = fig.subplots()
        slope, err = _draw_secant(ax, f, exact, x0, h, label)
        fig.suptitle(f"Secant → tangent at x₀ = {x0:g} as h → 0", fontweight="bold")
        return (
            f"h = {h:.3g}   secant slope = {slope:.10f}   f'(x₀) = {exact:.10f} ({how})   "
            f"relative error = {err:.2e}"
        )

    def grid() -> Figure:
        fig = Figure(figsize=(10, 6.4), layout="constrained")
        for i, (ax, h) in enumerate(zip(fig.subplots(2, 2).ravel(), (1.0, 0.5, 0.1, 0.01))):
            _draw_secant(ax, f, exact, x0, h, label, legend=(i == 0))
        fig.suptitle(
            f"Secant → tangent at x₀ = {x0:g}: the forward-difference slope for four step sizes",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    controls = {
        "h": slider("log", "step h", 0.5, base=10, min=-4, max=0, step=0.25, readout_format=".1e")
    }
    return Explorer(
        "secant_to_tangent",
        controls,
        draw,
        grid,
        size=(7.5, 4.6),
        picture_key=picture,
        alt=(
            "The curve f near x0 with the secant line through x0 and x0 + h and the tangent "
            "line at x0: as h shrinks the secant turns into the tangent."
        ),
        grid_alt=(
            "The curve f with the secant through x0 and x0 + h and the tangent at x0, for four "
            "step sizes h from 1 down to 0.01: as h shrinks the secant turns into the tangent."
        ),
    )


# --------------------------------------------------------------------------- 01: the V


_STEPS = np.logspace(-15, 0, 61)
_FLOOR = 1e-17  # a zero error is drawn here: log axes cannot show 0


def _errors(f, x0: float, exact: float, dtype) -> dict[str, np.ndarray]:
    """Relative error of forward and central differences over _STEPS, in float64 or float32."""
    scale = max(abs(exact), 1e-300)
    if dtype == np.float64:
        with warnings.catch_warnings():  # sweeping h into round-off on purpose
            warnings.simplefilter("ignore")
            fwd = np.array([forward_difference(f, x0, h) for h in _STEPS], dtype=float)
            cen = np.array([central_difference(f, x0, h) for h in _STEPS], dtype=float)
    else:
        # helpers upcasts to float64 (rightly); to show float32's round-off we evaluate f and the
        # textbook formulas in float32 here.
        x = np.float32(x0)

        def f32(t):
            return np.float32(f(np.float32(t)))

        with np.errstate(all="ignore"):
            fwd = np.array(
                [(f32(x + np.float32(h)) - f32(x)) / np.float32(h) for h in _STEPS], dtype=float
            )
            cen = np.array(
                [
                    (f32(x + np.float32(h)) - f32(x - np.float32(h)))
                    / (np.float32(2) * np.float32(h))
                    for h in _STEPS
                ],
                dtype=float,
            )
    return {
        "forward": np.maximum(np.abs(fwd - exact) / scale, _FLOOR),
        "central": np.maximum(np.abs(cen - exact) / scale, _FLOOR),
    }


def _guide(
    ax,
    h_anchor: float,
    err_anchor: float,
    slope: int,
    span: tuple[float, float],
    text: str,
    at: float,
    offset: tuple[float, float],
) -> None:
    hs = np.logspace(np.log10(span[0]), np.log10(span[1]), 10)
    ax.plot(hs, err_anchor * (hs / h_anchor) ** slope, color=GREY, lw=1.2, ls=":")
    ax.annotate(
        text,
        (at, err_anchor * (at / h_anchor) ** slope),
        fontsize=8,
        color="#333333",
        xytext=offset,
        textcoords="offset points",
        ha="center",
        arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.8},
    )


def _draw_v(
    ax, curves: dict[tuple[str, str], np.ndarray], h: float | None, title: str, guides: bool = True
) -> list[str]:
    styles = {
        ("forward", "float64"): (ORANGE, "-"),
        ("central", "float64"): (BLUE, "-"),
        ("forward", "float32"): (ORANGE, "--"),
        ("central", "float32"): (BLUE, "--"),
    }
    lines = []
    for (method, dtype), err in curves.items():
        colour, ls = styles[(method, dtype)]
        ax.loglog(
            _STEPS,
            err,
            color=colour,
            ls=ls,
            lw=1.8,
            marker="o" if method == "central" else "s",
            ms=3,
            label=f"{method} difference, {dtype}",
        )
        best = int(np.argmin(err))
        line = f"{method:>7} {dtype}: best h ≈ {_STEPS[best]:.0e} (error {err[best]:.1e})"
        if h is not None:
            at = float(np.interp(np.log10(h), np.log10(_STEPS), np.log10(err)))
            ax.plot([h], [10**at], "D", color=colour, mec=BLACK, ms=7, zorder=5)
            line += f", at h = {h:.0e}: error {10**at:.1e}"
        lines.append(line)
    if guides and ("forward", "float64") in curves:
        fwd = curves[("forward", "float64")]
        cen = curves[("central", "float64")]
        i1, i2, i0 = (
            np.searchsorted(_STEPS, 1e-2),
            np.searchsorted(_STEPS, 1e-1),
            np.searchsorted(_STEPS, 1e-12),
        )
        _guide(
            ax, _STEPS[i1], fwd[i1] * 4, 1, (1e-6, 1), "slope 1:\ntruncation ∝ h", 1e-4, (-30, 30)
        )
        _guide(
            ax, _STEPS[i2], cen[i2] / 4, 2, (1e-4, 1), "slope 2:\ntruncation ∝ h²", 1e-3, (35, -30)
        )
        _guide(
            ax,
            _STEPS[i0],
            fwd[i0] * 4,
            -1,
            (1e-15, 1e-7),
            "slope −1:\nround-off ∝ ε/h",
            1e-11,
            (25, 30),
        )
    if h is not None:
        ax.axvline(h, color=GREY, lw=1, alpha=0.6)
    ax.set_xlabel("step h")
    ax.set_ylabel("relative error of f'(x₀)")
    ax.set_ylim(1e-16, 1e3)
    ax.set_title(title, fontsize=10)
    add_legend(ax, loc="lower left")
    return lines


def step_size_error(
    f=None, x0: float = 1.0, static: bool = False, *, df=None, label: str | None = None
):
    """Error against step size on log-log axes: "the V" of numerical differentiation.

    Truncation error falls like h (forward) or h² (central) as h shrinks; round-off grows like
    eps/h. The best h sits at the bottom of the V: about 1e-8 (forward) and 1e-5 (central) in
    float64, far larger in float32 (eps 1.2e-7 instead of 2.2e-16).

    Parameters
    ----------
    f : function of one variable, default ``sin(x**2)``; must accept numpy float32 scalars.
    x0 : the point where the derivative is taken.
    static : return the fallback grid (float64 and float32 side by side) as a Figure.
    df, label : the exact derivative and the name of ``f`` (see :func:`secant_to_tangent`).
    """
    picture = shipped.key("step_size_error", x0=x0, label=label) if f is df is None else None
    f, df, label = _function_and_derivative(f, df, label)
    x0 = float(x0)
    exact, how = (float(df(x0)), "exact") if df is not None else _reference_derivative(f, x0)
    cache = {
        dtype: _errors(f, x0, exact, np.float64 if dtype == "float64" else np.float32)
        for dtype in ("float64", "float32")
    }

    def curves(dtypes):
        return {(m, d): cache[d][m] for d in dtypes for m in ("forward", "central")}

    def draw(fig: Figure, h: float, float64: bool, float32: bool) -> str:
        ax = fig.subplots()
        dtypes = [d for d, on in (("float64", float64), ("float32", float32)) if on]
        if not dtypes:
            ax.text(
                0.5,
                0.5,
                "tick float64 or float32 to see a curve",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set_axis_off()
            return ""
        lines = _draw_v(
            ax,
            curves(dtypes),
            h,
            f"f(x) = {label} at x₀ = {x0:g} (reference f'(x₀): {how})",
            guides=float64,
        )
        fig.suptitle("Error of a finite difference against the step h: the V", fontweight="bold")
        return "\n".join(lines)

    def grid() -> Figure:
        fig = Figure(figsize=(11, 4.6), layout="constrained")
        ax64, ax32 = fig.subplots(1, 2, sharey=True)
        _draw_v(ax64, curves(["float64"]), None, "float64 (ε ≈ 2.2e-16)")
        _draw_v(ax32, curves(["float32"]), None, "float32 (ε ≈ 1.2e-7)", guides=False)
        fig.suptitle(f"The V: error against h for f(x) = {label} at x₀ = {x0:g}", fontweight="bold")
        return fig

    if static:
        return grid()
    import ipywidgets as widgets

    controls = {
        "h": slider(
            "log", "step h", 1e-5, base=10, min=-15, max=0, step=0.25, readout_format=".0e"
        ),
        "float64": widgets.Checkbox(value=True, description="float64", indent=False),
        "float32": widgets.Checkbox(value=False, description="float32", indent=False),
    }
    return Explorer(
        "step_size_error",
        controls,
        draw,
        grid,
        size=(8, 5),
        picture_key=picture,
        alt=(
            "Log-log plot of the error of the forward and central differences against the "
            "step size h: the error falls as h shrinks until round-off makes it rise again, a"
            " V shape."
        ),
        grid_alt=(
            "The error of the forward and central differences against the step h on log-log "
            "axes, in float64 and in float32: each falls as h shrinks until round-off makes it"
            " rise again, and the bottom of the V is far higher in float32."
        ),
    )
