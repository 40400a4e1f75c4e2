"""The shell every explorer shares: the frame of controls and picture, sliders, the static fallback.

An :class:`Explorer` holds the controls, redraws its picture into an ``ipywidgets.Output`` on
every change, and carries a static grid of the same plot in its display bundle for front ends
that cannot render widgets. Every picture carries alternative text (:mod:`helpers.figures`).
The live picture's says what the explorer shows and the current settings. The static grid is
another picture - several panels at fixed settings - so its alternative text is its own: a
sentence on what the grid shows, then a description read off the grid's figure itself by
:func:`describe_grid` (its title, its rows and columns of panels, each panel's title and axes),
so it stays true to the grid whatever an explorer draws. Figures are
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
    "describe_grid",
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
# The static grid's alternative text, when an explorer gives no sentence of its own for it.
GRID_LEAD = "The {title} explorer at a few fixed settings, without its sliders."
_ROW_NAMES = {1: ("",), 2: ("top row", "bottom row"), 3: ("top row", "middle row", "bottom row")}


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
    alt : one sentence saying what the live picture shows (its alternative text).
    grid_alt : one sentence saying what the static grid shows - the grid, not the live layout
        (optional: :meth:`static_alt` always adds a description read off the grid itself).
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
        grid_alt: str = "",
    ):
        import ipywidgets as widgets

        self.name = name
        self.alt = alt or f"The {name.replace('_', ' ')} explorer's plot."
        self.controls = controls
        self._draw = draw
        self._static = static
        self._size = size
        self.picture_key = picture_key
        self.grid_alt = grid_alt
        self._static_png: bytes | None = None
        self._static_alt: str | None = None
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

    def describe_static(self, fig: Figure) -> str:
        """The alternative text of the fallback grid ``fig``: :attr:`grid_alt` (or a sentence
        naming the explorer), then :func:`describe_grid` of the figure."""
        lead = self.grid_alt or GRID_LEAD.format(title=self.name.replace("_", " "))
        return f"{lead} {describe_grid(fig)}"

    def static_png(self) -> bytes:
        """The fallback grid as PNG: the picture shipped for :attr:`picture_key`, or drawn."""
        self._fallback()
        return self._static_png

    def static_alt(self) -> str:
        """The fallback grid's alternative text: shipped beside its picture, or read off it."""
        self._fallback()
        return self._static_alt

    def _fallback(self) -> None:
        """Load (or draw once) the fallback grid's picture and its alternative text together."""
        if self._static_png is not None and self._static_alt is not None:
            return
        png, alt = shipped.load(self.picture_key), shipped.load_alt(self.picture_key)
        if png is None or alt is None:
            fig = self._static()
            try:
                png, alt = _png(fig, STATIC_DPI), self.describe_static(fig)
            finally:
                fig.clear()
        self._static_png, self._static_alt = png, alt

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        # The widget view first (a live front end renders it), then the static grid, which
        # nbconvert and widget-less front ends fall back to: as text/html, an <img> with its
        # alternative text (nbconvert prefers text/html to image/png), and as image/png.
        from ..figures import png_bundle

        static, _ = png_bundle(self.static_png(), self.static_alt())
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


def describe_grid(fig: Figure) -> str:
    """What a static grid is, read off the figure: its title, its panels row by row.

    For a screen reader and an exported page: "Titled “…”. 8 panels in 2 rows of 4. Top row,
    w₂ against w₁: lr = 0.01: …; lr = 0.1: …. Bottom row, …". A panel is described by its
    title, and by "y-label against x-label" (said once for a row whose panels share them).
    Colour bars and hidden axes are not panels.
    """
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    parts = [f"Titled “{_oneline(title)}”." if title else ""]
    if not panels:
        return " ".join(p for p in parts if p) or "An empty figure."
    specs = [ax.get_subplotspec() for ax in panels]
    if any(spec is None for spec in specs):
        rows = [panels]
        parts.append(f"{_count(len(panels))}.")
    else:
        nrows, ncols = specs[0].get_gridspec().get_geometry()
        starts = sorted({spec.rowspan.start for spec in specs})
        rows = [
            [
                ax
                for ax, spec in sorted(zip(panels, specs), key=lambda pair: pair[1].colspan.start)
                if spec.rowspan.start == start
            ]
            for start in starts
        ]
        whole = all(len(s.rowspan) == 1 and len(s.colspan) == 1 for s in specs)
        if len(rows) == 1:
            parts.append(f"{_count(len(panels))}" + (" side by side." if len(panels) > 1 else "."))
        elif all(len(row) == 1 for row in rows) and ncols == 1:
            parts.append(f"{_count(len(panels))} one above the other.")
        elif whole and len(panels) == nrows * ncols:
            parts.append(f"{_count(len(panels))} in {nrows} rows of {ncols}.")
        else:
            sizes = ", ".join(
                _count(len(row)).lower() + (" across the width" if _spans_width(row, ncols) else "")
                for row in rows
            )
            parts.append(f"{_count(len(panels))} in {len(rows)} rows: {sizes}.")
    if len(rows) == 1:
        names = ("from left to right" if len(panels) > 1 else "",)
    else:
        one_column = all(len(row) == 1 for row in rows) and not any(
            _spans_width(row, 2) for row in rows
        )
        names = _ROW_NAMES.get(len(rows)) or tuple(f"row {i + 1}" for i in range(len(rows)))
        if one_column:
            names = tuple(name.removesuffix(" row") for name in names)
    for name, row in zip(names, rows):
        axes_text = {_axes_of(ax) for ax in row}
        shared = axes_text.pop() if len(axes_text) == 1 else ""
        items = [_panel(ax, with_axes=not shared) for ax in row]
        head = ", ".join(p for p in (name, shared) if p)
        body = "; ".join(i for i in items if i)
        if head and body:
            text = f"{head}: {body}"
        else:
            text = head or body
        if text:
            parts.append(text[0].upper() + text[1:] + ".")
    return " ".join(p for p in parts if p)


def _oneline(text: str) -> str:
    return " ".join(str(text).split())


def _count(n: int) -> str:
    return "One panel" if n == 1 else f"{n} panels"


def _spans_width(row: list, ncols: int) -> bool:
    spec = row[0].get_subplotspec()
    return len(row) == 1 and ncols > 1 and len(spec.colspan) == ncols


def _axes_of(ax) -> str:
    """ "y against x" for a panel with axis labels; "" for one drawn without axes."""
    if not ax.axison:
        return ""
    x, y = _oneline(ax.get_xlabel()), _oneline(ax.get_ylabel())
    return f"{y} against {x}" if x and y else (x or y)


def _panel(ax, with_axes: bool) -> str:
    title = next(
        (
            _oneline(ax.get_title(loc))
            for loc in ("center", "left", "right")
            if ax.get_title(loc).strip()
        ),
        "",
    )
    axes = _axes_of(ax) if with_axes else ""
    if title and axes:
        return f"{title} ({axes})"
    return title or axes


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
