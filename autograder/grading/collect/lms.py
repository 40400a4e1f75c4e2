"""An LMS's "download all submissions" zip, as downloaded: Canvas's and Moodle's.

**Canvas** ("Download Submissions", ``lib/content_zipper.rb``) writes one flat zip; each entry is
``<name>[_LATE]_<user id>_<attachment id>_<original file name>``, where ``<name>`` is the
student's sortable name ("Last, First") in lower case without non-word characters, and
``LATE`` says Canvas counted the submission late. Under anonymous grading the entry is
``[LATE_]anon_<5 characters>_<attachment id>_<name>`` and names no student.

**Moodle** ("Download all submissions", ``mod/assign``) writes a folder per participant,
``<Full Name>_<participant id>_assignsubmission_file_`` up to Moodle 4.0 and without the last
``_`` from 4.1 (with "download as folders" off, the same prefix and ``_`` before each file
name). The participant id belongs to the assignment and is not the user id; the assignment's
grading worksheet ("Download grading worksheet": ``Identifier`` = ``Participant <id>``, ``Full
name``, the identity fields such as ``Email address``, and ``Last modified (submission)``) maps
one to the other and gives the submission time.

Files are matched to the roster's students (:func:`..rules.roster.match`: the LMS user id, the
e-mail address, the username, the name, in that order). A file that matches no one, or more than
one, is listed (report and stderr) and never graded under a guess.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..rules.roster import Identity, RosterStudent, match
from ..vocabulary import GraderError
from .ingest import LINK_REFUSED, Found, Notebook, Origin, _mtime, read_notebook
from .times import ZIP_TIME, file_time

CANVAS_ANON = re.compile(
    r"^(?P<late>LATE_)?anon_(?P<anon>[1-9A-HJ-NP-Za-km-z]{5})_(?P<attachment>\d+)_(?P<original>.+)$"
)
CANVAS_NAMED = re.compile(
    r"^(?P<name>.*?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<original>.+)$"
)
MOODLE_FOLDER = re.compile(
    r"^(?P<name>[^_/]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>file|onlinetext)_?$"
)
MOODLE_FLAT = re.compile(
    r"^(?P<name>[^_/]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>file|onlinetext)_(?P<rest>.+)$"
)
SKIP = {".ipynb_checkpoints", "__MACOSX", "__pycache__"}


def layout(root: Path) -> str:
    """``canvas``, ``moodle`` or ``folders`` (one sub-folder per student)."""
    entries = [p for p in root.iterdir() if p.name not in SKIP and not p.name.startswith(".")]
    if any(MOODLE_FOLDER.match(p.name) for p in entries if p.is_dir()) or any(
        MOODLE_FLAT.match(p.name) for p in entries if p.is_file()
    ):
        return "moodle"
    files = [p for p in entries if p.is_file() and not p.is_symlink()]
    dirs = [p for p in entries if p.is_dir()]
    if files and not dirs and any(_canvas_parts(p.name) for p in files):
        return "canvas"
    return "folders"


def _canvas_parts(name: str) -> tuple[Identity, bool, str] | None:
    """(who, LATE, the original file name) of a Canvas entry, None if not Canvas's."""
    anon = CANVAS_ANON.match(name)
    if anon:
        return Identity(), bool(anon["late"]), anon["original"]
    named = CANVAS_NAMED.match(name)
    if named:
        who = Identity(lms_user_id=named["user"], canvas_name=named["name"])
        return who, bool(named["late"]), named["original"]
    return None


@dataclass(frozen=True)
class Worksheet:
    """Moodle's grading worksheets: participant id -> who, and when they handed in."""

    people: dict[str, Identity]
    times: dict[str, dt.datetime]


def read_worksheets(paths: tuple[Path, ...]) -> Worksheet:
    people: dict[str, Identity] = {}
    times: dict[str, dt.datetime] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise GraderError(f"--moodle-worksheet {path}: cannot read it ({exc})") from None
        rows = list(csv.DictReader(text.splitlines()))
        if not rows or "Identifier" not in rows[0]:
            raise GraderError(
                f"{path}:1: not a Moodle grading worksheet (no Identifier column; download it "
                "from the assignment: Grading action > Download grading worksheet)"
            )
        for number, row in enumerate(rows, start=2):
            pid = (row.get("Identifier") or "").removeprefix("Participant").strip()
            if not pid.isdigit():
                raise GraderError(f"{path}:{number}: Identifier {row.get('Identifier')!r}")
            people[pid] = Identity(
                email=row.get("Email address") or "",
                username=row.get("Username") or "",
                name=row.get("Full name") or "",
            )
            when = moodle_time(row.get("Last modified (submission)") or "")
            if when is not None:
                times[pid] = when
    return Worksheet(people, times)


# userdate() with strftimedatetime: "Monday, 7 December 2026, 9:05 AM", and close forms.
_MOODLE_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p")


def moodle_time(text: str) -> dt.datetime | None:
    """A worksheet time, read in this machine's time zone (Moodle writes it without one)."""
    text = " ".join(text.split())
    for fmt in _MOODLE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).astimezone(dt.timezone.utc)
        except ValueError:
            continue
    return None


def read_canvas(root: Path, roster: list[RosterStudent]) -> tuple[Found, list[str]]:
    """Canvas's flat download: (the notebooks matched to students, the files not matched)."""
    notebooks, unmatched, seen = [], [], {}
    for path in sorted(p for p in root.iterdir() if p.is_file() or p.is_symlink()):
        parts = _canvas_parts(path.name)
        if parts is None or path.is_symlink():
            why = LINK_REFUSED if path.is_symlink() else "not named as Canvas names a file"
            unmatched.append(f"{path.name}: {why}; not graded")
            continue
        who, late_mark, original = parts
        student, why = match(who, roster) if who != Identity() else (None, "anonymous")
        if student is None:
            unmatched.append(f"{path.name}: {_why(why)}")
            continue
        seen.setdefault(student.id, set()).add(who.lms_user_id)
        if not path.name.endswith(".ipynb"):
            continue  # Canvas zips every attachment; only notebooks are graded
        origin = Origin("canvas", file_time(path), ZIP_TIME, late_mark=late_mark)
        notebooks.append(_notebook(student.id, original, path, origin))
    return _one_account(notebooks, seen, unmatched, "Canvas users")


def read_moodle(
    root: Path, roster: list[RosterStudent], sheet: Worksheet
) -> tuple[Found, list[str]]:
    """Moodle's download (folders or flat): the notebooks matched, the entries not matched."""
    notebooks, unmatched, seen = [], [], {}
    for entry in sorted(p for p in root.iterdir() if p.name not in SKIP):
        folder = entry.is_dir() and not entry.is_symlink()
        found = MOODLE_FOLDER.match(entry.name) if folder else MOODLE_FLAT.match(entry.name)
        if found is None or entry.is_symlink():
            why = LINK_REFUSED if entry.is_symlink() else "not named as Moodle names a submission"
            unmatched.append(f"{entry.name}: {why}; not graded")
            continue
        pid, name = found["pid"], found["name"]
        who = sheet.people.get(pid, Identity(name=name))
        student, why = match(who, roster)
        if student is None:
            unmatched.append(f"{entry.name}: {_why(why)}")
            continue
        seen.setdefault(student.id, set()).add(pid)
        files = _notebooks_below(entry) if folder else [entry]
        for path in files:
            if not path.name.endswith(".ipynb"):
                continue
            origin = _moodle_origin(path, pid, name, sheet)
            label = str(path.relative_to(entry)) if folder else found["rest"]
            if path.is_symlink():
                notebooks.append(Notebook(student.id, label, path, 0.0, None, LINK_REFUSED))
                continue
            notebooks.append(_notebook(student.id, label, path, origin))
    return _one_account(notebooks, seen, unmatched, "Moodle participants")


def _one_account(notebooks, accounts: dict[str, set[str]], unmatched: list[str], what: str):
    """Found, with every student whom two LMS accounts matched left out and named: one of
    them is someone else, and the grader cannot tell which."""
    clash = {student: ids for student, ids in accounts.items() if len(ids) > 1}
    for student, ids in sorted(clash.items()):
        unmatched.append(
            f"{len(ids)} {what} ({', '.join(sorted(ids))}) match roster student {student}: "
            "none of their files was graded (fix the roster's lms_user_id, e-mail or name)"
        )
    kept = [n for n in notebooks if n.student not in clash]
    empty = sorted(set(accounts) - set(clash) - {n.student for n in kept})
    return Found(kept, empty, []), unmatched


def _moodle_origin(path: Path, pid: str, name: str, sheet: Worksheet) -> Origin:
    folder = f"{name}_{pid}"
    if pid in sheet.times:
        return Origin("moodle", sheet.times[pid], "Moodle's grading worksheet", None, folder)
    note = "Moodle's download names no submission time: give its grading worksheet for one"
    return Origin("moodle", file_time(path), ZIP_TIME, None, folder, note)


def _notebooks_below(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if not (set(p.relative_to(folder).parts) & SKIP) and (p.is_file() or p.is_symlink())
    )


def _notebook(student: str, label: str, path: Path, origin: Origin) -> Notebook:
    content, problem = read_notebook(path)
    return Notebook(student, label, path, _mtime(path), content, problem, origin)


def _why(reason: str) -> str:
    if reason == "anonymous":
        return "anonymous grading: the download names no student (turn anonymity off to grade)"
    return f"{reason}; not graded"
