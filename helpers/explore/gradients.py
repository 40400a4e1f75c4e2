"""Lesson 03's explorer: the gradient on a contour plot and the slope in every direction."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from matplotlib.figure import Figure

from ..differentiate import gradient
from . import shipped
from .shell import BLACK, BLUE, GREEN, VERMILLION, Explorer, add_legend, slider

__all__ = ["gradient_field"]


_SURFACES = {
    "valley": ("x² + 2xy + y²", lambda p: p[0] ** 2 + 2 * p[0] * p[1] + p[1] ** 2),
    "bowl": ("x² + y²", lambda p: p[0] ** 2 + p[1] ** 2),  # the round bowl, not the loss bowl
}


def _draw_field(
    ax, surface: str, px: float, py: float, angle: float, legend: bool = True
) -> tuple[np.ndarray, float]:
    formula, f = _SURFACES[surface]
    xs = np.linspace(-2.5, 2.5, 81)
    X, Y = np.meshgrid(xs, xs)
    Z = f((X, Y))
    ax.contourf(X, Y, Z, levels=18, cmap="cividis", alpha=0.35)
    cs = ax.contour(X, Y, Z, levels=9, colors="#555555", linewidths=0.6)
    ax.clabel(cs, fontsize=6, fmt="%.1f")
    point = np.array([px, py], dtype=float)
    g = np.asarray(gradient(lambda p: f(p), point), dtype=float)
    norm = float(np.hypot(*g))
    u = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    slope = float(g @ u)
    scale = 1.0 if norm <= 1.2 else 1.2 / norm  # keep long arrows inside the picture
    arrow = {"angles": "xy", "scale_units": "xy", "scale": 1, "width": 0.012, "zorder": 4}
    if norm > 0:
        ax.quiver(
            px,
            py,
            *(g * scale),
            color=VERMILLION,
            label=f"∇f = ({g[0]:.2f}, {g[1]:.2f})" + (f", drawn ×{scale:.2f}" if scale < 1 else ""),
            **arrow,
        )
        ax.quiver(px, py, *(-g * scale), color=BLUE, label="−∇f: steepest descent", **arrow)
    ax.quiver(px, py, *u, color=GREEN, label=f"u at {angle:.0f}°: ∇f·u = {slope:.3f}", **arrow)
    ax.plot([px], [py], "o", color=BLACK, ms=5, zorder=5)
    ax.set_xlim(-2.5, 2.5)
    ax.set_ylim(-2.5, 2.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"f(x, y) = {formula} at ({px:.2f}, {py:.2f})", fontsize=10)
    if legend:
        add_legend(ax, loc="upper right")
    return g, slope


def _draw_live(fig: Figure, surface: str, x: float, y: float, angle: float) -> str:
    """The field at the chosen point, and the directional derivative for every angle."""
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.15, 1))
    g, slope = _draw_field(ax, surface, x, y, angle)
    thetas = np.linspace(0, 360, 361)
    dirs = np.stack([np.cos(np.radians(thetas)), np.sin(np.radians(thetas))], axis=1)
    ax2.plot(thetas, dirs @ g, color=BLACK, lw=1.8, label="∇f·u for direction u at angle θ")
    ax2.axhline(np.hypot(*g), color=VERMILLION, ls="--", lw=1, label=f"|∇f| = {np.hypot(*g):.3f}")
    ax2.axhline(-np.hypot(*g), color=BLUE, ls="--", lw=1, label="−|∇f|")
    ax2.plot(
        [angle],
        [slope],
        "D",
        color=GREEN,
        mec=BLACK,
        ms=8,
        zorder=5,
        label=f"your u: {slope:.3f}",
    )
    ax2.set_xlim(0, 360)
    ax2.set_xticks(range(0, 361, 60))
    ax2.set_xlabel("direction angle θ (degrees)")
    ax2.set_ylabel("directional derivative ∇f·u")
    ax2.set_title("Slope in every direction", fontsize=10)
    add_legend(ax2, loc="lower left")
    fig.suptitle("Gradient: the direction of steepest ascent", fontweight="bold")
    best = math.degrees(math.atan2(g[1], g[0])) % 360 if np.any(g) else float("nan")
    return (
        f"∇f({x:.2f}, {y:.2f}) = ({g[0]:.4f}, {g[1]:.4f}), |∇f| = {np.hypot(*g):.4f}, "
        f"steepest at θ = {best:.0f}°\n"
        f"u = (cos {angle:.0f}°, sin {angle:.0f}°): directional derivative ∇f·u = {slope:.4f}"
    )


def _grid(px0: float, py0: float) -> Figure:
    """The static fallback: each surface at two points."""
    fig = Figure(figsize=(9, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    settings = [
        ("valley", px0, py0, 0.0),
        ("valley", -1.0, -1.0, 90.0),
        ("bowl", px0, py0, 0.0),
        ("bowl", -1.5, 1.0, 45.0),
    ]
    for ax, (surface, x, y, angle) in zip(axes.ravel(), settings):
        _draw_field(ax, surface, x, y, angle)
    fig.suptitle(
        "Gradient (vermillion), steepest descent (blue) and a direction u (green)",
        fontweight="bold",
    )
    return fig


def _controls(px0: float, py0: float) -> dict:
    import ipywidgets as widgets

    return {
        "surface": widgets.Dropdown(
            options=[
                (f"valley: {_SURFACES['valley'][0]}", "valley"),
                (f"round bowl: {_SURFACES['bowl'][0]}", "bowl"),
            ],
            value="valley",
            description="surface",
            style={"description_width": "initial"},
        ),
        "x": slider("float", "point x", px0, min=-2, max=2, step=0.1),
        "y": slider("float", "point y", py0, min=-2, max=2, step=0.1),
        "angle": slider("float", "direction θ (°)", 0.0, min=0, max=360, step=5),
    }


def gradient_field(point: tuple[float, float] = (1.0, -0.5), static: bool = False):
    """The gradient and its negative at a point on a contour plot, and directional derivatives.

    Choose the surface (valley f = x² + 2xy + y² = (x + y)², or round bowl f = x² + y²), the
    point and a direction angle. The gradient comes from ``helpers.gradient``; the right panel
    shows the directional derivative ∇f·u for every direction: largest, |∇f|, along ∇f; zero
    along the contour; most negative along −∇f.

    Parameters
    ----------
    point : the starting point (x, y).
    static : return the fallback grid (each surface at two points) as a Figure.
    """
    px0, py0 = (float(c) for c in point)
    if static:
        return _grid(px0, py0)
    controls = _controls(px0, py0)
    grid = partial(_grid, px0, py0)
    picture = shipped.key("gradient_field", point=(px0, py0))
    return Explorer(
        "gradient_field",
        controls,
        _draw_live,
        grid,
        size=(10.5, 4.8),
        picture_key=picture,
        alt=(
            "Left: contour plot of the surface with the gradient and the negative gradient "
            "drawn as arrows at the chosen point. Right: the directional derivative for every"
            " direction angle, largest along the gradient and most negative against it."
        ),
        grid_alt=(
            "Contour plots of the valley x² + 2xy + y² and of the round bowl x² + y², each at "
            "two points, with the gradient, the steepest-descent direction −∇f and a direction"
            " u drawn as arrows: the gradient crosses the contours at right angles."
        ),
    )
