"""The shell every explorer shares: the frame of controls and picture, sliders, the static fallback.

An :class:`Explorer` holds the controls, redraws its picture into an ``ipywidgets.Output`` on
every change, and carries a static grid of the same plot in its display bundle for front ends
that cannot render widgets. Every picture carries alternative text (:mod:`helpers.figures`):
what the explorer shows, and for the live picture the current settings. Figures are
:class:`matplotlib.figure.Figure` objects made directly, never through ``pyplot``, so no figure
is registered anywhere.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from . import shipped

__all__ = [
    "BLACK",
    "BLUE",
    "GREEN",
    "GREY",
    "ORANGE",
    "SKY",
    "VERMILLION",
    "Explorer",
    "add_legend",
    "slider",
]

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#7f7f7f"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LIVE_DPI = 90
STATIC_DPI = 80
PLAIN_TEXT = "<{name} explorer: run the cell in Jupyter or Colab to use the sliders>"
STATIC_ALT = "Shown at a few fixed settings: the static version, without sliders."


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
    alt : one sentence saying what the picture shows (its alternative text).
    static_alt : the sentence after :attr:`alt` in the static fallback's alternative text (by
        default :data:`STATIC_ALT`; an explorer whose grid shows particular settings names
        them here).
    picture_key : the key of its shipped pictures in :mod:`.shipped` (None: always drawn).
    controls : ``{parameter: widget}``; changing a widget's ``value`` redraws.
    widget : the ipywidgets box that is displayed.
    output : the ``ipywidgets.Output`` holding the current picture and readout.
    last_png, last_text : the picture and readout shown last.
    redraws : how many pictures have been shown (the first may be the shipped one).
    """

    def __init__(
        self,
        name: str,
        controls: dict[str, Any],
        draw: Callable[..., str],
        static: Callable[[], Figure],
        size: tuple[float, float],
        extra: tuple[Any, ...] = (),
        alt: str = "",
        picture_key: str | None = None,
        static_alt: str = STATIC_ALT,
    ):
        import ipywidgets as widgets

        self.name = name
        self.alt = alt or f"The {name.replace('_', ' ')} explorer's plot."
        self.static_alt = static_alt
        self.controls = controls
        self._draw = draw
        self._static = static
        self._size = size
        self.picture_key = picture_key
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
        first = shipped.load_live(picture_key)
        if first is None:
            self.redraw()
        else:  # the lesson's own call: the picture every student sees first, drawn once
            self.last_png, self.last_text = first
            self.redraws += 1
            self._show()

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
                self.output.outputs = (_printed(self.last_text),)

    def redraw(self) -> None:
        """Draw the picture for the controls' current values and show it in :attr:`output`."""
        fig = Figure(figsize=self._size, layout="constrained")
        try:
            self.last_text = self._draw(fig, **self.values)
            self.last_png = _png(fig, LIVE_DPI)
        finally:
            fig.clear()
        self.redraws += 1
        self._show()

    def _show(self) -> None:
        """Put :attr:`last_png` and :attr:`last_text` into :attr:`output` (in a kernel).

        The Output widget's ``outputs`` are set as one state update rather than captured with
        ``with output:``, whose capture messages a headless client (nbclient) can race with.
        """
        if _in_kernel():
            from ..figures import png_bundle

            settings = ", ".join(f"{k} = {v}" for k, v in self.values.items())
            data, metadata = png_bundle(self.last_png, f"{self.alt} Settings: {settings}.")
            shown = [{"output_type": "display_data", "data": data, "metadata": metadata}]
            if self.last_text:
                shown.append(_printed(self.last_text))
            self.output.outputs = tuple(shown)

    def static_figure(self) -> Figure:
        """The fallback grid: the same plot at a few settings."""
        return self._static()

    def static_png(self) -> bytes:
        """The fallback grid as PNG: the picture shipped for :attr:`picture_key`, or drawn."""
        if self._static_png is None:
            self._static_png = shipped.load(self.picture_key)
        if self._static_png is None:
            fig = self._static()
            self._static_png = _png(fig, STATIC_DPI)
            fig.clear()
        return self._static_png

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        # The widget view first (a live front end renders it), then the static grid, which
        # nbconvert and widget-less front ends fall back to: as text/html, an <img> with its
        # alternative text (nbconvert prefers text/html to image/png), and as image/png.
        from ..figures import png_bundle

        static, _ = png_bundle(self.static_png(), f"{self.alt} {self.static_alt}")
        bundle = {
            "text/plain": PLAIN_TEXT.format(name=self.name),
            "text/html": static["text/html"],
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


def _printed(text: str) -> dict[str, Any]:
    """``text`` as the stdout output an Output widget shows."""
    return {"output_type": "stream", "name": "stdout", "text": text + "\n"}


def slider(kind: str, description: str, value: float, **kwargs: Any):
    """A slider of ``kind`` "float", "int" or "log" that redraws on release, not while dragged."""
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


def add_legend(ax, **kwargs: Any) -> None:
    """The legend style every explorer uses: small and nearly opaque."""
    ax.legend(fontsize=8, framealpha=0.9, **kwargs)
