"""Figures with alternative text: what a screen reader says, and what an exported page keeps.

:func:`show` displays a matplotlib figure with a sentence saying what it shows, and closes it.
The display bundle holds the picture twice: as ``text/html`` (an ``<img>`` with its ``alt``
attribute, which JupyterLab, Colab and ``jupyter nbconvert --to html`` render as it is) and as
``image/png`` with the text in its ``alt`` metadata (what nbconvert's classic template reads),
for front ends that show images only.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

__all__ = ["figure_bundle", "png_bundle", "show"]

# A sentence is needed; these say nothing about the figure.
_EMPTY = {"", "figure", "image", "plot", "graph", "chart", "picture"}


def _checked(alt: str) -> str:
    text = " ".join(str(alt).split())
    if text.lower().rstrip(".") in _EMPTY:
        raise ValueError(
            f"alt text {alt!r} does not say what the figure shows: describe it in a sentence, "
            'e.g. "The forward-difference error falls like h until round-off takes over."'
        )
    return text


def png_bundle(png: bytes, alt: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The display data and metadata for PNG bytes ``png`` described by ``alt``."""
    alt = _checked(alt)
    encoded = base64.b64encode(png).decode("ascii")
    data = {
        "text/plain": f"<figure: {alt}>",
        "text/html": f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">',
        "image/png": encoded,
    }
    return data, {"image/png": {"alt": alt}}


def figure_bundle(fig: Any, alt: str, dpi: float | None = None) -> tuple[dict, dict]:
    """:func:`png_bundle` of a matplotlib figure, drawn as the inline backend draws it.

    A figure with a layout (``tight_layout()`` or a layout engine) fits its labels already and
    is drawn once; any other is cropped to what it draws (``bbox_inches="tight"``, the inline
    backend's default), which costs a second layout pass.
    """
    buffer = io.BytesIO()
    crop = None if _laid_out(fig) else "tight"
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, bbox_inches=crop, facecolor="white")
    return png_bundle(buffer.getvalue(), alt)


def _laid_out(fig: Any) -> bool:
    import matplotlib as mpl

    if fig.get_layout_engine() is not None:
        return True
    # tight_layout() leaves no engine behind, only subplot margins other than the defaults.
    pars = fig.subplotpars
    return any(
        getattr(pars, side) != mpl.rcParams[f"figure.subplot.{side}"]
        for side in ("left", "right", "bottom", "top")
    )


def show(fig: Any, alt: str) -> None:
    """Display ``fig`` with the alternative text ``alt`` (what it shows), then close it.

    Use it instead of ``plt.show()``: ``helpers.show(fig, "The loss falls ...")``. Closing
    the figure keeps the inline backend from showing it a second time without the text.
    """
    from IPython.display import display

    data, metadata = figure_bundle(fig, alt)
    import matplotlib.pyplot as plt

    plt.close(fig)
    display(data, metadata=metadata, raw=True)
