"""Notebook normal form: how every notebook of the course is stored.

A stored notebook has no outputs and no execution counts, the python3 kernelspec, only the
metadata that means something to the course (nbgrader's, tags, and the locks nbgrader sets),
unique cell ids, a Colab cell id (``metadata.id``, what a ``#scrollTo=`` link names) on each
numbered section heading (``section-3`` for ``## 3. ...``), and is written as deterministic JSON
(sorted keys, one-space indent, a trailing newline). Writing a notebook that is already in
normal form gives back the same bytes, so a release run twice changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat
from nbformat import NotebookNode

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}

# Cell metadata worth keeping; JupyterLab's timing, scroll and collapse state is dropped.
CELL_METADATA_KEPT = ("nbgrader", "tags", "editable", "deletable")

_VALID_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# A numbered section's heading cell: ``## 3. An ill-conditioned quadratic``.
SECTION_HEADING = re.compile(r"^##\s+(?P<number>\d+)\.\s+(?P<title>\S.*?)\s*$")


def grade_id(cell: Any) -> str | None:
    """The nbgrader ``grade_id`` of ``cell`` (a ``NotebookNode`` or plain JSON data), or None.

    The one reader of a cell's grade id: a handed-in cell's metadata is anything a student's
    editor wrote, so what is not a dict, or an id that is not a string, reads as None.
    """
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return gid if isinstance(gid, str) else None


def section_number(cell: NotebookNode) -> str | None:
    """``"3"`` for a markdown cell whose first line is ``## 3. ...``; None otherwise."""
    if cell.cell_type != "markdown" or not cell.source.strip():
        return None
    match = SECTION_HEADING.match(cell.source.strip().splitlines()[0].strip())
    return match["number"] if match else None


def colab_section_id(number: str) -> str:
    """The Colab cell id of section ``number``'s heading: ``...ipynb#scrollTo=section-3``."""
    return f"section-{number}"


def normalise(nb: NotebookNode) -> NotebookNode:
    """Put ``nb`` in normal form, in place, and return it."""
    nb.nbformat = 4
    nb.nbformat_minor = 5
    nb.metadata = nbformat.from_dict(
        {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    )
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if isinstance(cell.source, list):
            cell.source = "".join(cell.source)
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in CELL_METADATA_KEPT if k in cell.metadata}
        )
        if (number := section_number(cell)) is not None:
            cell.metadata["id"] = colab_section_id(number)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            if cell.cell_type == "markdown" and not cell.get("attachments"):
                cell.pop("attachments", None)
        cell.id = _stable_id(cell, index, seen)
        seen.add(cell.id)
    return nb


def _stable_id(cell: NotebookNode, index: int, seen: set[str]) -> str:
    """Keep a cell's id when it is valid and unused; otherwise derive one from its place.

    Graded cells are named after their ``grade_id`` so that their ids say what they are.
    """
    current = cell.get("id")
    if isinstance(current, str) and _VALID_ID.match(current) and current not in seen:
        return current
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    candidates = []
    if isinstance(grade_id, str) and _VALID_ID.match(grade_id):
        candidates.append(grade_id)
    candidates.append(f"cell-{index:03d}")
    for candidate in candidates:
        if candidate not in seen:
            return candidate
    n = 1
    while f"cell-{index:03d}-{n}" in seen:
        n += 1
    return f"cell-{index:03d}-{n}"


def dumps(nb: NotebookNode) -> str:
    """The stored text of a notebook in normal form (deterministic, trailing newline)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def reads(text: str, *, where: str = "notebook") -> NotebookNode:
    """Parse a notebook, naming the file in the error when it is not one."""
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several unrelated types
        raise ValueError(f"{where} is not a readable notebook: {exc}") from None


def is_normal(text: str) -> bool:
    """True when ``text`` is exactly how :func:`dumps` would store it."""
    try:
        return dumps(normalise(reads(text))) == text
    except ValueError:
        return False
