"""Interactive explorers for the lessons, with a static picture for when widgets cannot render.

Each explorer is a function returning an :class:`Explorer`. Shown as the last expression of a
cell it is a live widget (core ipywidgets: sliders, checkboxes, a dropdown, a button and an
``Output`` holding an inline matplotlib picture that is redrawn on every change). Its display
bundle also carries ``image/png``: a small grid of the same plot at a few settings. nbconvert
(exported HTML, nbgrader feedback) skips the widget view when no widget state was saved and shows
that picture instead; so does any front end without a widget manager.

``static=True`` returns the grid itself as a matplotlib :class:`~matplotlib.figure.Figure`.

Figures are made with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``: no
figure is registered anywhere, so redrawing a thousand times holds no memory, and nothing is
shown twice by the inline backend. Every number comes from the ``helpers`` core (finite
differences, gradient descent, the MLP), never from a student's code.

Works with ipywidgets 7.7 (Google Colab) and 8.x.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .descent import gradient_descent
from .differentiate import central_difference, forward_difference, gradient
from .mlp import MLP, sigmoid, xor_data

__all__ = [
    "Explorer",
    "chain_rule_graph",
    "gradient_field",
    "learning_rate",
    "secant_to_tangent",
    "step_size_error",
    "xor_training",
]

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#7f7f7f"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LIVE_DPI = 90
STATIC_DPI = 80


# --------------------------------------------------------------------------- the widget shell


def _png(fig: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    # No bbox_inches="tight": it draws the figure twice; constrained layout already fits it.
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets needs IPython
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Explorer:
    """A live explorer: controls, a picture redrawn on every change, and a static fallback.

    Attributes
    ----------
    name : the explorer's function name, e.g. ``"secant_to_tangent"``.
    controls : ``{parameter: widget}``; changing a widget's ``value`` redraws.
    widget : the ipywidgets box that is displayed.
    output : the ``ipywidgets.Output`` holding the current picture and readout.
    last_png, last_text : the picture and readout of the latest redraw.
    redraws : how many times the picture has been drawn.
    """

    def __init__(
        self,
        name: str,
        controls: dict[str, Any],
        draw: Callable[..., str],
        static: Callable[[], Figure],
        size: tuple[float, float],
        extra: tuple[Any, ...] = (),
    ):
        import ipywidgets as widgets

        self.name = name
        self.controls = controls
        self._draw = draw
        self._static = static
        self._size = size
        self._static_png: bytes | None = None
        self.last_png = b""
        self.last_text = ""
        self.redraws = 0
        self.output = widgets.Output()
        boxes = [
            widgets.HBox(list(controls.values())[i : i + 3]) for i in range(0, len(controls), 3)
        ]
        self.widget = widgets.VBox(boxes + list(extra) + [self.output])
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    @property
    def values(self) -> dict[str, Any]:
        return {key: control.value for key, control in self.controls.items()}

    def _on_change(self, change: dict) -> None:
        # An exception in a widget callback would only reach the kernel's log; say it where
        # the student is looking instead.
        try:
            self.redraw()
        except Exception as exc:  # noqa: BLE001 - any failure of a redraw is reported, not raised
            self.last_text = f"could not redraw with {self.values}: {type(exc).__name__}: {exc}"
            if _in_kernel():
                self.output.clear_output(wait=True)
                with self.output:
                    print(self.last_text)

    def redraw(self) -> None:
        """Draw the picture for the controls' current values and show it in :attr:`output`."""
        fig = Figure(figsize=self._size, layout="constrained")
        try:
            self.last_text = self._draw(fig, **self.values)
            self.last_png = _png(fig, LIVE_DPI)
        finally:
            fig.clear()
        self.redraws += 1
        if _in_kernel():
            from IPython.display import Image, display

            self.output.clear_output(wait=True)
            with self.output:
                display(Image(data=self.last_png, format="png"))
                if self.last_text:
                    print(self.last_text)

    def static_figure(self) -> Figure:
        """The fallback grid: the same plot at a few settings."""
        return self._static()

    def static_png(self) -> bytes:
        if self._static_png is None:
            fig = self._static()
            self._static_png = _png(fig, STATIC_DPI)
            fig.clear()
        return self._static_png

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        # The widget view first (a live front end renders it), then the static grid, which
        # nbconvert and widget-less front ends fall back to. No text/html: nbconvert would
        # prefer it to the picture.
        bundle = {
            "text/plain": f"<{self.name} explorer: run the cell in Jupyter or Colab to use the sliders>",
            "image/png": base64.b64encode(self.static_png()).decode("ascii"),
            WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id},
        }
        handle_displayed = getattr(self.widget, "_handle_displayed", None)
        if handle_displayed is not None:  # ipywidgets 7 runs its on_displayed callbacks here
            handle_displayed()
        return bundle

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"<{self.name} explorer ({settings})>"


def _slider(kind: str, description: str, value: float, **kwargs: Any):
    import ipywidgets as widgets

    cls = {"float": widgets.FloatSlider, "int": widgets.IntSlider, "log": widgets.FloatLogSlider}[
        kind
    ]
    return cls(
        value=value,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="300px"),
        **kwargs,
    )


def _legend(ax, **kwargs: Any) -> None:
    ax.legend(fontsize=8, framealpha=0.9, **kwargs)


# --------------------------------------------------------------------------- 01: secant to tangent


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
        _legend(ax, loc="best")
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
        "h": _slider("log", "step h", 0.5, base=10, min=-4, max=0, step=0.25, readout_format=".1e")
    }
    return Explorer("secant_to_tangent", controls, draw, grid, size=(7.5, 4.6))


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
    _legend(ax, loc="lower left")
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
        "h": _slider(
            "log", "step h", 1e-5, base=10, min=-15, max=0, step=0.25, readout_format=".0e"
        ),
        "float64": widgets.Checkbox(value=True, description="float64", indent=False),
        "float32": widgets.Checkbox(value=False, description="float32", indent=False),
    }
    return Explorer("step_size_error", controls, draw, grid, size=(8, 5))


# --------------------------------------------------------------------------- 02: chain rule graph


def _chain_values(x: float, w1: float, w2: float, y: float) -> dict[str, float]:
    z1 = w1 * x
    a1 = float(sigmoid(z1))
    pred = w2 * a1
    loss = (pred - y) ** 2
    local = {
        "dz1/dx": w1,
        "dz1/dw1": x,
        "da1/dz1": a1 * (1 - a1),
        "dpred/da1": w2,
        "dpred/dw2": a1,
        "dL/dpred": 2 * (pred - y),
    }
    back = {"L": 1.0, "pred": local["dL/dpred"]}
    back["a1"] = back["pred"] * local["dpred/da1"]
    back["w2"] = back["pred"] * local["dpred/dw2"]
    back["z1"] = back["a1"] * local["da1/dz1"]
    back["w1"] = back["z1"] * local["dz1/dw1"]
    back["x"] = back["z1"] * local["dz1/dx"]
    return {"z1": z1, "a1": a1, "pred": pred, "L": loss, "local": local, "back": back}


def _chain_loss(x: float, w1: float, w2: float, y: float) -> float:
    return float((w2 * float(sigmoid(w1 * x)) - y) ** 2)


def _draw_chain(ax, x: float, w1: float, w2: float, y: float) -> dict:
    v = _chain_values(x, w1, w2, y)
    local, back = v["local"], v["back"]
    nodes = {
        "x": (0.0, 0.0, f"x\n= {x:.3g}"),
        "z1": (2.4, 0.0, f"z₁ = w₁·x\n= {v['z1']:.4g}"),
        "a1": (4.8, 0.0, f"a₁ = σ(z₁)\n= {v['a1']:.4g}"),
        "pred": (7.2, 0.0, f"ŷ = w₂·a₁\n= {v['pred']:.4g}"),
        "L": (9.6, 0.0, f"L = (ŷ − y)²\n= {v['L']:.4g}"),
        "w1": (2.4, 1.55, f"w₁ = {w1:.3g}"),
        "w2": (7.2, 1.55, f"w₂ = {w2:.3g}"),
        "y": (9.6, 1.55, f"y = {y:.3g}"),
    }
    for key, (px, py, text) in nodes.items():
        param = key in ("w1", "w2", "y")
        ax.text(
            px,
            py,
            text,
            ha="center",
            va="center",
            fontsize=9,
            bbox={
                "boxstyle": "round,pad=0.35",
                "fc": "#eef5fb" if param else "white",
                "ec": BLUE if param else BLACK,
            },
        )
    edges = [
        ("x", "z1", f"∂z₁/∂x = w₁\n= {local['dz1/dx']:.3g}"),
        ("z1", "a1", f"∂a₁/∂z₁ = σ(1−σ)\n= {local['da1/dz1']:.3g}"),
        ("a1", "pred", f"∂ŷ/∂a₁ = w₂\n= {local['dpred/da1']:.3g}"),
        ("pred", "L", f"∂L/∂ŷ = 2(ŷ−y)\n= {local['dL/dpred']:.3g}"),
    ]
    for a, b, text in edges:
        (xa, ya, _), (xb, yb, _) = nodes[a], nodes[b]
        ax.annotate(
            "",
            (xb - 0.78, yb),
            (xa + 0.78, ya),
            arrowprops={"arrowstyle": "-|>", "color": BLACK, "lw": 1.4},
        )
        ax.text((xa + xb) / 2, 0.42, text, ha="center", va="bottom", fontsize=7.5, color=BLUE)
    for a, b, text in [
        ("w1", "z1", f"∂z₁/∂w₁ = x = {local['dz1/dw1']:.3g}"),
        ("w2", "pred", f"∂ŷ/∂w₂ = a₁ = {local['dpred/dw2']:.3g}"),
        ("y", "L", ""),
    ]:
        (xa, ya, _), (xb, yb, _) = nodes[a], nodes[b]
        ax.annotate(
            "",
            (xb, yb + 0.42),
            (xa, ya - 0.25),
            arrowprops={"arrowstyle": "-|>", "color": BLUE, "lw": 1.2},
        )
        if text:
            ax.text(xa + 0.12, 0.95, text, ha="left", va="center", fontsize=7.5, color=BLUE)
    for key in ("x", "z1", "a1", "pred", "L"):
        px, _, _ = nodes[key]
        ax.text(
            px,
            -0.62,
            f"∂L/∂{_pretty(key)}\n= {back[key]:.4g}",
            ha="center",
            va="top",
            fontsize=8.5,
            color=VERMILLION,
            fontweight="bold",
        )
    ax.annotate(
        "",
        (0.0, -1.42),
        (9.6, -1.42),
        arrowprops={"arrowstyle": "-|>", "color": VERMILLION, "lw": 1.2, "ls": "--"},
    )
    ax.text(
        4.8,
        -1.5,
        "backward pass: multiply the local derivatives from L back to each node",
        ha="center",
        va="top",
        fontsize=8,
        color=VERMILLION,
    )
    for key in ("w1", "w2"):
        px, py, _ = nodes[key]
        ax.text(
            px - 0.72,
            py,
            f"∂L/∂{_pretty(key)} = {back[key]:.4g}",
            ha="right",
            va="center",
            fontsize=8.5,
            color=VERMILLION,
            fontweight="bold",
        )
    from matplotlib.patches import Patch

    key = [
        Patch(fc="white", ec=BLACK, label="node: forward value"),
        Patch(fc=BLUE, ec=BLUE, label="edge: local derivative"),
        Patch(fc=VERMILLION, ec=VERMILLION, label="∂L/∂node: backward product"),
    ]
    _legend(ax, handles=key, loc="lower center", ncol=3)
    ax.set_xlim(-1.1, 10.7)
    ax.set_ylim(-2.55, 2.0)
    ax.set_axis_off()
    return v


def _pretty(key: str) -> str:
    return {"x": "x", "z1": "z₁", "a1": "a₁", "pred": "ŷ", "L": "L", "w1": "w₁", "w2": "w₂"}[key]


def chain_rule_graph(
    x: float = 2.0, w1: float = 0.5, w2: float = 0.8, y_true: float = 1.0, static: bool = False
):
    """The computation graph x → z₁ = w₁x → a₁ = σ(z₁) → ŷ = w₂a₁ → L = (ŷ − y)², forward and backward.

    Forward values sit in the nodes, local derivatives on the edges (blue), and the backward
    products ∂L/∂node under the nodes (vermillion). The readout checks ∂L/∂w₁ and ∂L/∂w₂ against
    ``helpers.central_difference`` of the loss.

    Parameters
    ----------
    x, w1, w2 : the input and the two weights (sliders).
    y_true : the target.
    static : return the fallback grid (w₁ = 0.5, 1.5, 3: the sigmoid saturating and ∂L/∂w₁
        vanishing) as a Figure.
    """
    y = float(y_true)

    def draw(fig: Figure, x: float, w1: float, w2: float) -> str:
        ax = fig.subplots()
        v = _draw_chain(ax, x, w1, w2, y)
        fig.suptitle(
            "Chain rule on a computation graph: forward values, local derivatives, backward products",
            fontweight="bold",
            fontsize=11,
        )
        back = v["back"]
        num_w1 = float(central_difference(lambda t: _chain_loss(x, t, w2, y), w1))
        num_w2 = float(central_difference(lambda t: _chain_loss(x, w1, t, y), w2))
        rel = [
            abs(a - b) / max(abs(a), abs(b), 1e-300) if (a or b) else 0.0
            for a, b in ((back["w1"], num_w1), (back["w2"], num_w2))
        ]
        return (
            f"∂L/∂w₁ = ∂L/∂ŷ · ∂ŷ/∂a₁ · ∂a₁/∂z₁ · ∂z₁/∂w₁ = {back['w1']:.8g}   "
            f"(central difference {num_w1:.8g}, relative error {rel[0]:.1e})\n"
            f"∂L/∂w₂ = ∂L/∂ŷ · ∂ŷ/∂w₂ = {back['w2']:.8g}   (central difference {num_w2:.8g}, relative error {rel[1]:.1e})"
        )

    def grid() -> Figure:
        fig = Figure(figsize=(10, 11.5), layout="constrained")
        for ax, w1_ in zip(fig.subplots(3, 1), (0.5, 1.5, 3.0)):
            v = _draw_chain(ax, float(x), w1_, float(w2), y)
            ax.set_title(
                f"w₁ = {w1_:g}: z₁ = {v['z1']:.3g}, σ'(z₁) = {v['local']['da1/dz1']:.3g}, "
                f"∂L/∂w₁ = {v['back']['w1']:.3g}",
                fontsize=10,
            )
        fig.suptitle(
            "Chain rule graph at three values of w₁: as σ saturates, ∂L/∂w₁ vanishes",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    controls = {
        "x": _slider("float", "input x", float(x), min=-3, max=3, step=0.1),
        "w1": _slider("float", "weight w₁", float(w1), min=-3, max=3, step=0.1),
        "w2": _slider("float", "weight w₂", float(w2), min=-3, max=3, step=0.1),
    }
    return Explorer("chain_rule_graph", controls, draw, grid, size=(10, 4.4))


# --------------------------------------------------------------------------- 03: gradient field


_SURFACES = {
    "valley": ("x² + 2xy + y²", lambda p: p[0] ** 2 + 2 * p[0] * p[1] + p[1] ** 2),
    "bowl": ("x² + y²", lambda p: p[0] ** 2 + p[1] ** 2),
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
        _legend(ax, loc="upper right")
    return g, slope


def gradient_field(point: tuple[float, float] = (1.0, -0.5), static: bool = False):
    """The gradient and the negative gradient at a point on a contour plot, and directional derivatives.

    Choose the surface (valley f = x² + 2xy + y² = (x + y)², or bowl f = x² + y²), the point and a
    direction angle. The gradient comes from ``helpers.gradient``; the right panel shows the
    directional derivative ∇f·u for every direction: largest, |∇f|, along ∇f; zero along the
    contour; most negative along −∇f.

    Parameters
    ----------
    point : the starting point (x, y).
    static : return the fallback grid (each surface at two points) as a Figure.
    """
    px0, py0 = (float(c) for c in point)

    def draw(fig: Figure, surface: str, x: float, y: float, angle: float) -> str:
        ax, ax2 = fig.subplots(1, 2, width_ratios=(1.15, 1))
        g, slope = _draw_field(ax, surface, x, y, angle)
        thetas = np.linspace(0, 360, 361)
        dirs = np.stack([np.cos(np.radians(thetas)), np.sin(np.radians(thetas))], axis=1)
        ax2.plot(thetas, dirs @ g, color=BLACK, lw=1.8, label="∇f·u for direction u at angle θ")
        ax2.axhline(
            np.hypot(*g), color=VERMILLION, ls="--", lw=1, label=f"|∇f| = {np.hypot(*g):.3f}"
        )
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
        _legend(ax2, loc="lower left")
        fig.suptitle("Gradient: the direction of steepest ascent", fontweight="bold")
        best = math.degrees(math.atan2(g[1], g[0])) % 360 if np.any(g) else float("nan")
        return (
            f"∇f({x:.2f}, {y:.2f}) = ({g[0]:.4f}, {g[1]:.4f}), |∇f| = {np.hypot(*g):.4f}, steepest at θ = {best:.0f}°\n"
            f"u = (cos {angle:.0f}°, sin {angle:.0f}°): directional derivative ∇f·u = {slope:.4f}"
        )

    def grid() -> Figure:
        fig = Figure(figsize=(9, 9), layout="constrained")
        axes = fig.subplots(2, 2)
        settings = [
            ("valley", px0, py0, 0.0),
            ("valley", -1.0, -1.0, 90.0),
            ("bowl", px0, py0, 0.0),
            ("bowl", -1.5, 1.0, 45.0),
        ]
        for i, (ax, (surface, x, y, angle)) in enumerate(zip(axes.ravel(), settings)):
            _draw_field(ax, surface, x, y, angle)
        fig.suptitle(
            "Gradient (vermillion), steepest descent (blue) and a direction u (green)",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    import ipywidgets as widgets

    controls = {
        "surface": widgets.Dropdown(
            options=[
                (f"valley: {_SURFACES['valley'][0]}", "valley"),
                (f"bowl: {_SURFACES['bowl'][0]}", "bowl"),
            ],
            value="valley",
            description="surface",
            style={"description_width": "initial"},
        ),
        "x": _slider("float", "point x", px0, min=-2, max=2, step=0.1),
        "y": _slider("float", "point y", py0, min=-2, max=2, step=0.1),
        "angle": _slider("float", "direction θ (°)", 0.0, min=0, max=360, step=5),
    }
    return Explorer("gradient_field", controls, draw, grid, size=(10.5, 4.8))


# --------------------------------------------------------------------------- 04: learning rate


_LOSSES = {
    "round": ("(w₁ − 1)² + (w₂ + 0.5)²", 1.0),
    "narrow": ("(w₁ − 1)² + 10·(w₂ + 0.5)²", 10.0),
}


def _quadratic(c: float):
    def loss(w):
        w = np.asarray(w, dtype=float)
        return float((w[0] - 1.0) ** 2 + c * (w[1] + 0.5) ** 2)

    def grad(w):
        w = np.asarray(w, dtype=float)
        return np.array([2.0 * (w[0] - 1.0), 2.0 * c * (w[1] + 0.5)])

    return loss, grad


def _descent(kind: str, lr: float, start: tuple[float, float], steps: int):
    loss, grad = _quadratic(_LOSSES[kind][1])
    with warnings.catch_warnings():  # a diverging run is shown on purpose
        warnings.simplefilter("ignore")
        result = gradient_descent(grad, np.array(start, dtype=float), lr, steps, loss_fn=loss)
    path = np.asarray(result.path, dtype=float)
    losses = (
        np.asarray(result.losses, dtype=float)
        if getattr(result, "losses", None) is not None
        else np.array([loss(w) for w in path])
    )
    return path, losses


def _verdict(lr: float, kind: str) -> str:
    smooth = 2.0 * _LOSSES[kind][1]  # the largest curvature L
    limit = 2.0 / smooth
    if lr < limit * 0.999:
        word = "converges"
    elif lr <= limit * 1.001:
        word = "oscillates without shrinking"
    else:
        word = "diverges"
    return f"largest curvature L = {smooth:g}, so steps converge only for lr < 2/L = {limit:g}: lr = {lr:.3g} {word}"


def _draw_descent(
    ax_path,
    ax_loss,
    kind: str,
    lr: float,
    start: tuple[float, float],
    steps: int,
    legend: bool = True,
):
    formula, c = _LOSSES[kind]
    _loss, _ = _quadratic(c)
    path, losses = _descent(kind, lr, start, steps)
    ws = np.linspace(-2.5, 3.0, 80)
    W1, W2 = np.meshgrid(ws, ws)
    Z = (W1 - 1.0) ** 2 + c * (W2 + 0.5) ** 2
    ax_path.contourf(W1, W2, Z, levels=np.geomspace(1e-3, Z.max(), 16), cmap="cividis", alpha=0.35)
    ax_path.contour(
        W1, W2, Z, levels=np.geomspace(1e-2, Z.max(), 8), colors="#555555", linewidths=0.5
    )
    finite = np.all(np.isfinite(path), axis=1)
    ax_path.plot(
        path[finite, 0],
        path[finite, 1],
        "-o",
        color=ORANGE,
        ms=3.5,
        lw=1.4,
        mec=BLACK,
        mew=0.4,
        label=f"path, lr = {lr:.3g}",
    )
    ax_path.plot(*path[0], "s", color=BLUE, mec=BLACK, ms=8, zorder=5, label="start")
    ax_path.plot(
        1.0, -0.5, "*", color=VERMILLION, mec=BLACK, ms=13, zorder=5, label="minimum (1, −0.5)"
    )
    ax_path.set_xlim(ws[0], ws[-1])
    ax_path.set_ylim(ws[0], ws[-1])
    ax_path.set_aspect("equal")
    ax_path.set_xlabel("w₁")
    ax_path.set_ylabel("w₂")
    ax_path.set_title(f"L(w) = {formula}", fontsize=9)
    keep = np.isfinite(losses)
    # An exact 0 (lr = 1/curvature lands on the minimum) cannot sit on a log axis: drawn at 1e-16.
    ax_loss.semilogy(
        np.arange(len(losses))[keep],
        np.maximum(losses[keep], 1e-16),
        "-o",
        color=BLUE,
        ms=3,
        lw=1.4,
        label="loss L(w_k)",
    )
    ax_loss.set_xlabel("step k")
    ax_loss.set_ylabel("loss (log scale)")
    ax_loss.set_title(
        f"lr = {lr:.3g}: final loss {losses[keep][-1]:.2e}" if keep.any() else f"lr = {lr:.3g}",
        fontsize=9,
    )
    if legend:
        _legend(ax_path, loc="upper right")
        _legend(ax_loss, loc="best")
    return path, losses


def learning_rate(lr: float = 0.1, start: tuple[float, float] = (-1.5, 1.5), static: bool = False):
    """Gradient descent on a quadratic loss: the path on the contours and the loss per step.

    ``helpers.gradient_descent`` runs w ← w − lr·∇L(w) on L(w₁, w₂) = (w₁ − 1)² + (w₂ + 0.5)²
    (round) or (w₁ − 1)² + 10(w₂ + 0.5)² (narrow, ill-conditioned). With largest curvature L
    (2 and 20), the steps converge only for lr < 2/L: the slider reaches beyond that limit.

    Parameters
    ----------
    lr : the learning rate.
    start : the starting point (w₁, w₂).
    static : return the fallback grid (lr = 0.01 crawls, 0.1 converges, 0.9 oscillates, 1.05
        diverges, on the round loss) as a Figure.
    """
    w0 = tuple(float(c) for c in start)

    def draw(fig: Figure, loss: str, lr: float, w1: float, w2: float, steps: int) -> str:
        ax_path, ax_loss = fig.subplots(1, 2)
        path, losses = _draw_descent(ax_path, ax_loss, loss, lr, (w1, w2), steps)
        fig.suptitle(
            "Gradient descent: too small crawls, too large oscillates or diverges",
            fontweight="bold",
        )
        keep = np.isfinite(losses)
        stopped = (
            ""
            if keep.all() and len(losses) == steps + 1
            else f" (stopped after {int(keep.sum()) - 1} steps: values overflowed)"
        )
        return f"{_verdict(lr, loss)}\nafter {steps} steps: w = ({path[keep][-1][0]:.4g}, {path[keep][-1][1]:.4g}), loss {losses[keep][-1]:.3e}{stopped}"

    def grid() -> Figure:
        rates = (0.01, 0.1, 0.9, 1.05)
        # A fixed layout: constrained layout costs half the render time of these eight panels.
        fig = Figure(figsize=(13, 6.6))
        fig.subplots_adjust(left=0.065, right=0.99, bottom=0.08, top=0.9, wspace=0.38, hspace=0.38)
        axes = fig.subplots(2, 4)
        stories = ("too small: crawls", "converges", "zig-zags, converges", "above 2/L: diverges")
        for i, (r, story) in enumerate(zip(rates, stories)):
            _draw_descent(axes[0, i], axes[1, i], "round", r, w0, 30, legend=(i == 0))
            axes[0, i].set_title(f"lr = {r:g}: {story}", fontsize=10)
        fig.suptitle(
            "Gradient descent on (w₁ − 1)² + (w₂ + 0.5)² for four learning rates (2/L = 1)",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    import ipywidgets as widgets

    controls = {
        "loss": widgets.Dropdown(
            options=[
                (f"round: {_LOSSES['round'][0]}", "round"),
                (f"narrow: {_LOSSES['narrow'][0]}", "narrow"),
            ],
            value="round",
            description="loss",
            style={"description_width": "initial"},
        ),
        "lr": _slider(
            "log",
            "learning rate",
            float(lr),
            base=10,
            min=-3,
            max=math.log10(2.0),
            step=0.05,
            readout_format=".3f",
        ),
        "steps": _slider("int", "steps", 30, min=1, max=100, step=1),
        "w1": _slider("float", "start w₁", w0[0], min=-2, max=2.5, step=0.1),
        "w2": _slider("float", "start w₂", w0[1], min=-2, max=2.5, step=0.1),
    }
    return Explorer("learning_rate", controls, draw, grid, size=(10.5, 4.8))


# --------------------------------------------------------------------------- 05: XOR training


def _xor() -> tuple[np.ndarray, np.ndarray]:
    data = xor_data()
    if isinstance(data, tuple):
        X, y = data
    else:
        X, y = data.X, data.y
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float).reshape(-1, 1)


def _outputs(model, X: np.ndarray) -> np.ndarray:
    out = model.forward(X)
    if isinstance(out, tuple):
        out = out[-1]
    return np.asarray(getattr(out, "output", out), dtype=float).reshape(-1)


class _Trainer:
    """Trains one network incrementally, so "train 100 more" costs 100 epochs, not all of them."""

    def __init__(self):
        self.key = None
        self.model = None
        self.history: list[float] = []

    def at(self, seed: int, hidden: int, lr: float, epochs: int):
        X, y = _xor()
        key = (seed, hidden, lr)
        if key != self.key or epochs < len(self.history):
            self.key, self.model, self.history = key, MLP(sizes=(2, hidden, 1), seed=seed), []
        more = epochs - len(self.history)
        if more > 0:
            self.history.extend(
                float(v) for v in np.asarray(self.model.train(X, y, lr, more), dtype=float).ravel()
            )
        return self.model, np.asarray(self.history), X, y


def _draw_boundary(ax, model, X: np.ndarray, y: np.ndarray, title: str):
    grid = np.linspace(-0.5, 1.5, 61)
    G1, G2 = np.meshgrid(grid, grid)
    out = _outputs(model, np.column_stack([G1.ravel(), G2.ravel()])).reshape(G1.shape)
    filled = ax.contourf(G1, G2, out, levels=np.linspace(0, 1, 11), cmap="PuOr_r", alpha=0.75)
    ax.contour(G1, G2, out, levels=[0.5], colors=BLACK, linewidths=2)
    labels = y.ravel()
    ax.scatter(
        X[labels == 0, 0],
        X[labels == 0, 1],
        marker="o",
        s=110,
        c=SKY,
        edgecolors=BLACK,
        zorder=5,
        label="XOR = 0",
    )
    ax.scatter(
        X[labels == 1, 0],
        X[labels == 1, 1],
        marker="^",
        s=130,
        c=VERMILLION,
        edgecolors=BLACK,
        zorder=5,
        label="XOR = 1",
    )
    ax.plot([], [], color=BLACK, lw=2, label="boundary: output 0.5")
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title, fontsize=9)
    return filled


def xor_training(seed: int = 0, hidden: int = 4, lr: float = 0.5, static: bool = False):
    """A 2-hidden-1 sigmoid MLP (``helpers.MLP``) learning XOR: decision boundary and loss curve.

    Parameters
    ----------
    seed : the initialisation seed of ``helpers.MLP``.
    hidden : the number of hidden units (2 gets stuck for some seeds; 4 solves XOR reliably).
    lr : the learning rate of full-batch gradient descent.
    static : return the fallback grid (the boundary after 0, 300, 1000 and 5000 epochs, and the
        loss curve) as a Figure.

    The epochs slider trains from the seed's initialisation; "train 100 more" continues training.
    """

    trainer = _Trainer()

    def draw(fig: Figure, seed: int, hidden: int, lr: float, epochs: int) -> str:
        model, history, X, y = trainer.at(seed, hidden, lr, epochs)
        ax_b, ax_l = fig.subplots(1, 2, width_ratios=(1, 1.3))
        filled = _draw_boundary(ax_b, model, X, y, f"2-{hidden}-1 network after {epochs} epochs")
        fig.colorbar(filled, ax=ax_b, label="network output", shrink=0.8, pad=0.02)
        fig.get_layout_engine().set(wspace=0.12)
        if len(history):
            ax_l.semilogy(
                np.arange(1, len(history) + 1), history, color=BLUE, lw=1.8, label="training loss"
            )
        # The points' legend sits with the loss: inside the boundary panel it would hide a corner.
        _legend(
            ax_l,
            handles=ax_b.get_legend_handles_labels()[0] + ax_l.get_legend_handles_labels()[0],
            loc="upper right",
        )
        ax_l.set_xlim(0, max(epochs, 100))
        ax_l.set_xlabel("epoch")
        ax_l.set_ylabel("loss (log scale)")
        ax_l.set_title(f"seed {seed}, lr = {lr:.3g}", fontsize=9)
        fig.suptitle("Backpropagation learning XOR", fontweight="bold")
        out = _outputs(model, X)
        solved = bool(np.all((out > 0.5) == (y.ravel() > 0.5)))
        loss_text = f"loss {history[-1]:.4g}" if len(history) else "untrained"
        return (
            f"epochs {epochs}: {loss_text}; outputs for (0,0), (0,1), (1,0), (1,1): "
            + ", ".join(f"{o:.3f}" for o in out)
            + ("  → XOR solved" if solved else "  → not solved yet")
        )

    def grid() -> Figure:
        fig = Figure(figsize=(13, 6.8), layout="constrained")
        spec = fig.add_gridspec(2, 4, height_ratios=(1.25, 1))
        local = _Trainer()
        marks = (0, 300, 1000, 5000)
        for i, epochs in enumerate(marks):
            model, history, X, y = local.at(int(seed), int(hidden), float(lr), epochs)
            loss_text = f", loss {history[-1]:.3g}" if len(history) else ""
            ax_b = fig.add_subplot(spec[0, i])
            _draw_boundary(ax_b, model, X, y, f"after {epochs} epochs{loss_text}")
        ax = fig.add_subplot(spec[1, :])
        ax.semilogy(
            np.arange(1, len(history) + 1), history, color=BLUE, lw=1.8, label="training loss"
        )
        for epochs in marks[1:]:
            ax.axvline(epochs, color=GREY, ls=":", lw=1)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (log scale)")
        ax.set_title(f"2-{hidden}-1 sigmoid network, seed {seed}, lr = {lr:g}", fontsize=9)
        _legend(
            ax,
            handles=ax_b.get_legend_handles_labels()[0] + ax.get_legend_handles_labels()[0],
            loc="upper right",
        )
        fig.suptitle(
            "Backpropagation learning XOR: the decision boundary as training goes on",
            fontweight="bold",
        )
        return fig

    if static:
        return grid()
    import ipywidgets as widgets

    controls = {
        "seed": _slider("int", "seed", int(seed), min=0, max=20, step=1),
        "hidden": _slider("int", "hidden units", int(hidden), min=2, max=8, step=1),
        "lr": _slider(
            "log",
            "learning rate",
            float(lr),
            base=10,
            min=-2,
            max=1,
            step=0.1,
            readout_format=".2f",
        ),
        "epochs": _slider("int", "epochs", 1000, min=0, max=10000, step=100),
    }
    more = widgets.Button(description="train 100 more", button_style="info", icon="play")

    def train_more(_button) -> None:
        epochs = controls["epochs"]
        epochs.max = max(epochs.max, epochs.value + 100)
        epochs.value += 100

    more.on_click(train_more)
    explorer = Explorer("xor_training", controls, draw, grid, size=(10.5, 4.6), extra=(more,))
    explorer.train_more = more  # the button, for tests and for callers who want to click it
    return explorer
