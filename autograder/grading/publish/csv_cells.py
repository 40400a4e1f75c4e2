"""Every CSV file the grader writes, with no cell a spreadsheet would run as a formula.

Student ids, file names, names from the LMS, comments and details reach these cells. Excel,
LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return as a formula (``=HYPERLINK(...)``, ``=cmd|...``). As OWASP's CSV injection
guidance says, each such cell is prefixed with a single quote (the spreadsheet shows the text
as typed), every field is wrapped in double quotes with embedded ones doubled (so a separator
inside a cell cannot start a new one), and numbers are left as they are (``-0.5`` is a number,
not a formula), and so is a lone ``-`` (Moodle's "no grade", which nothing can follow). Line
feeds, NUL and the full-width forms of the four signs are treated alike.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

_FORMULA_START = tuple("=+-@\t\r\n\0＝＋－＠")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def cell(value: object) -> str:
    """``value`` as a CSV cell no spreadsheet runs: text that could start a formula gets a
    leading single quote; numbers and everything else stay as they are."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and text != "-" and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def as_written(text: str) -> str:
    """A cell read back from a file :func:`write` wrote: the text before :func:`cell`."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def write(path: Path, rows: Iterable[Iterable[object]]) -> None:
    """Write ``rows`` to ``path`` (UTF-8), every cell through :func:`cell`, every field quoted."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        for row in rows:
            w.writerow([cell(value) for value in row])
