"""LMS downloads built exactly as Canvas and Moodle name them, for the demo and the tests.

Each follows the LMS's own code, not the grader's reading of it, so that a test fails when the
grader reads a name otherwise than the LMS writes it:

- Canvas, ``lib/content_zipper.rb``: one flat zip; an entry is
  ``sanitize_file_name([name, "LATE" if late, user_id].join("_")) + "_<attachment id>_" +
  sanitize_attachment_filename(display_name)``, where ``name`` is the sortable name ("Last,
  First") with ``_<digits>_`` runs joined, in lower case; ``sanitize_file_name`` drops every
  non-word character and ``sanitize_attachment_filename`` turns runs of ``NUL / \\ : * ? " < >
  |`` into ``_``. Entry times are the time of zipping (rubyzip's default).
- Moodle, ``mod/assign``: a folder per participant, ``<Full Name>_<participant id>
  _assignsubmission_file`` (4.1 and later; up to 4.0 with a trailing ``_``), underscores of the
  name turned into spaces; and the assignment's grading worksheet (``Identifier`` is
  ``Participant <id>``).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

WORKSHEET_COLUMNS = (
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
)


@dataclass(frozen=True)
class Upload:
    """One student's file in an LMS download."""

    first_name: str
    last_name: str
    file_name: str  # as the student uploaded it
    content: bytes
    user_id: int = 0  # Canvas: the user id; Moodle: the participant id of the assignment
    late: bool = False  # Canvas: counted late by Canvas
    email: str = ""
    handed_in: dt.datetime | None = None  # Moodle's worksheet: "Last modified (submission)"


def canvas_entry(u: Upload, attachment_id: int) -> str:
    """The name Canvas gives ``u`` in its "Download Submissions" zip."""
    sortable = re.sub(r"_(\d+)_", r"\1", f"{u.last_name}, {u.first_name}").lower()
    parts = [sortable, *(["LATE"] if u.late else []), str(u.user_id)]
    prefix = re.sub(r"[^\w]", "", "_".join(parts))
    display = re.sub(r'[\x00/\\:*?"<>|]+', "_", u.file_name)
    return f"{prefix}_{attachment_id}_{display}"


def canvas_zip(path: Path, uploads: list[Upload], first_attachment: int = 52700) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for number, u in enumerate(uploads):
            zf.writestr(canvas_entry(u, first_attachment + number), u.content)
    return path


def moodle_folder(u: Upload, version: str = "4.1") -> str:
    """The folder Moodle's "Download all submissions" puts ``u``'s files in."""
    full_name = f"{u.first_name} {u.last_name}".replace("_", " ")
    folder = re.sub(r'[\x00-\x1f/\\:*?"<>|]', "", f"{full_name}_{u.user_id}")
    return f"{folder}_assignsubmission_file" + ("_" if version < "4.1" else "")


def moodle_zip(path: Path, uploads: list[Upload], version: str = "4.1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for u in uploads:
            zf.writestr(f"{moodle_folder(u, version)}/{u.file_name}", u.content)
    return path


def moodle_worksheet(path: Path, uploads: list[Upload], maximum: float = 100.0) -> Path:
    """The assignment's grading worksheet; times in this machine's zone, as Moodle shows them
    to a user of that zone ("Monday, 7 December 2026, 9:05 AM")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(WORKSHEET_COLUMNS)
        for u in uploads:
            when = u.handed_in.astimezone() if u.handed_in else None
            shown = when.strftime("%A, %d %B %Y, %I:%M %p").replace(" 0", " ") if when else "-"
            w.writerow(
                [
                    f"Participant {u.user_id}",
                    f"{u.first_name} {u.last_name}",
                    u.email,
                    "Submitted for grading",
                    "",
                    f"{maximum:.2f}",
                    "Yes",
                    shown,
                    "-",
                    "",
                ]
            )
    return path
