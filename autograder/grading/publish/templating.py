"""The pages' templates: ``templates/`` beside this module, rendered with Jinja2.

The student's feedback page (``feedback.html.j2``) and the instructor's report
(``report.html.j2``) share one layout (``layout.html.j2``: the head, ``style.css``) and the
wording of results and points (``macros.html.j2``). An instructor restyles or translates the
pages by editing these files; the Python side only prepares plain data and calls :func:`render`.

Everything a template prints is escaped unless it is :class:`markupsafe.Markup` (autoescape on,
never per interpolation): student text is hostile input, so mark nothing safe that was not built
safe. Escaping goes through :func:`html.escape` (``&#x27;`` for ``'``), the entities the pages
always used, through Jinja's ``finalize`` hook; Markup passes it untouched.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

from markupsafe import Markup

from ..vocabulary import ExerciseStatus, NotebookStatus, VerdictStatus

TEMPLATES = Path(__file__).resolve().parent / "templates"


def escaped(value: object) -> Markup:
    """``value`` as HTML text: escaped with :func:`html.escape`, unless it is Markup already."""
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    return Markup(html.escape(str(value)))


def _g(number: float) -> str:
    """A number as ``{:g}`` writes it: ``2``, ``2.5``."""
    return f"{number:g}"


@cache
def environment():
    """The pages' Jinja2 environment: the templates folder, autoescape on, strict names."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=True,
        finalize=escaped,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["g"] = _g
    env.globals.update(
        ExerciseStatus=ExerciseStatus, NotebookStatus=NotebookStatus, VerdictStatus=VerdictStatus
    )
    return env


def render(template: str, **context) -> str:
    """The named template of ``templates/`` rendered with ``context``."""
    return environment().get_template(template).render(context)
