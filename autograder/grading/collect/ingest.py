"""Find the students' notebooks and read them, whatever shape the batch arrived in.

SUBMISSIONS may be

- a folder with one sub-folder per student holding that student's notebooks, under any file
  names ("Copy of 01_derivatives (2).ipynb" is what Colab downloads);
- a zip of such a folder (with or without the top folder inside);
- an nbgrader course's ``submitted/<student>/<lesson>/`` tree, or the course folder itself.

All three reduce to the same list of (student, notebook file): every ``.ipynb`` below a
student's folder, at any depth. A file that cannot be read becomes a :class:`Notebook` with a
reason instead of content - never a silent zero.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..course_dir import CoursePaths

_SKIP_PARTS = {".ipynb_checkpoints", "__MACOSX", "__pycache__"}


class SubmissionsError(Exception):
    """SUBMISSIONS cannot be used at all (missing, unreadable, a bad zip)."""


@dataclass(frozen=True)
class Origin:
    """Where a notebook came from, and when it was handed in as far as that source tells.

    ``when`` and ``time_source`` are the submission time and where it came from (never a
    file the student wrote: see :mod:`.times`); a Canvas download names no time, only whether
    Canvas counted the file late (``late_mark``), resolved against the deadline when staged.
    """

    layout: str = "folders"  # folders, zip, nbgrader, canvas or moodle
    when: _dt.datetime | None = None  # aware UTC; None for Canvas
    time_source: str = "the file's time"
    late_mark: bool | None = None  # Canvas: LATE in the file name (None: not a Canvas file)
    moodle_folder: str = ""  # "<Full Name>_<participant id>": where Moodle takes feedback back
    note: str = ""  # a time source passed over, and why


@dataclass(frozen=True)
class Notebook:
    student: str
    name: str  # path inside the student's folder (or the LMS's file name), for messages
    path: Path
    mtime: float
    content: dict[str, Any] | None  # None when unreadable
    problem: str = ""  # why content is None
    origin: Origin = Origin()


def unpack(submissions: Path, workdir: Path) -> Path:
    """The folder whose sub-folders are students (extracting a zip into ``workdir``)."""
    if not submissions.exists():
        raise SubmissionsError(f"SUBMISSIONS not found: {submissions}")
    if submissions.is_file():
        if not zipfile.is_zipfile(submissions):
            raise SubmissionsError(
                f"SUBMISSIONS must be a folder or a .zip file; {submissions} is neither"
            )
        target = workdir / "unzipped"
        try:
            _safe_extract(submissions, target)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SubmissionsError(f"cannot read the zip {submissions}: {exc}") from None
        root = target
        entries = [p for p in root.iterdir() if p.name not in _SKIP_PARTS]
        if (
            len(entries) == 1
            and entries[0].is_dir()
            and not entries[0].is_symlink()
            and not _looks_like_students(root)
        ):
            root = entries[0]
    else:
        root = submissions
    if not os.access(root, os.R_OK | os.X_OK):
        raise SubmissionsError(f"cannot read the folder {root}")
    course = CoursePaths(root)
    if course.submitted_root.is_dir() and course.config_file.exists():
        root = course.submitted_root
    return root


def _looks_like_students(root: Path) -> bool:
    dirs = [
        p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and p.name not in _SKIP_PARTS
    ]
    return len(dirs) == 1 and any(f.suffix == ".ipynb" for f in dirs[0].iterdir() if f.is_file())


def _safe_extract(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts or info.is_dir():
                continue
            dest = target.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                # A link stays a link (never followed): find_notebooks refuses it by name.
                if not dest.exists() and not dest.is_symlink():
                    os.symlink(zf.read(info).decode("utf-8", "replace"), dest)
                continue
            with zf.open(info) as src, open(dest, "wb") as out:
                out.write(src.read())
            stamp = _dt.datetime(*info.date_time).timestamp()
            os.utime(dest, (stamp, stamp))


LINK_REFUSED = "refused: a symbolic link (the grader reads no file through a link)"


@dataclass(frozen=True)
class Found:
    """What a folder of student folders holds."""

    notebooks: list[Notebook]
    empty: list[str]  # students whose folder holds no notebook
    refused: list[str]  # folders not graded, and why (a name that cannot be a student id)


def find_notebooks(root: Path, layout: str = "folders", exchange_times: bool = False) -> Found:
    """Every notebook under each student folder, read; the students with no notebook; the
    folders whose name cannot be a student id (reported, never graded: nbgrader would read
    ``*`` or ``[ab]*`` as a pattern of other students).

    A symbolic link - a notebook, a folder holding notebooks, or the student's folder itself -
    is never followed: it becomes a :class:`Notebook` refused with :data:`LINK_REFUSED`.
    ``layout`` says where the times come from (:func:`.times.folder_time`).
    """
    from ..rules.roster import student_id_problem
    from .times import folder_time

    found: list[Notebook] = []
    empty: list[str] = []
    refused: list[str] = []
    for folder in _student_folders(root):
        student = folder.name
        problem = student_id_problem(student)
        if problem:  # a failed row names the folder; nothing in it reaches nbgrader
            why = f"refused: the folder name {problem}; nothing in it was graded"
            refused.append(f"folder {student!r}: {problem}; nothing in it was graded")
            found.append(Notebook(student, ".", folder, 0.0, None, why))
            continue
        if folder.is_symlink():
            found.append(Notebook(student, ".", folder, 0.0, None, LINK_REFUSED))
            continue
        files, links = _walk(folder)
        if not files and not links:
            empty.append(student)
        for path in links:
            found.append(
                Notebook(student, str(path.relative_to(folder)), path, 0.0, None, LINK_REFUSED)
            )
        for path in files:
            content, problem = read_notebook(path)
            origin = folder_time(path, folder, layout, exchange_times)
            name = str(path.relative_to(folder))
            found.append(Notebook(student, name, path, _mtime(path), content, problem, origin))
    return Found(found, empty, refused)


def _student_folders(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.iterdir()
        if (p.is_dir() or p.is_symlink())
        and p.name not in _SKIP_PARTS
        and not p.name.startswith(".")
    )


def _walk(folder: Path) -> tuple[list[Path], list[Path]]:
    """The notebooks below ``folder`` (links not followed), and the links that were skipped."""
    files, links = [], []
    for here, dirs, names in os.walk(folder, followlinks=False):
        base = Path(here)
        keep = []
        for d in sorted(dirs):
            if d in _SKIP_PARTS or d.startswith("."):
                continue
            if (base / d).is_symlink():
                links.append(base / d)
            else:
                keep.append(d)
        dirs[:] = keep
        for name in sorted(names):
            path = base / name
            if name.startswith(".") or not name.endswith(".ipynb"):
                continue
            if path.is_symlink():
                links.append(path)
            elif path.is_file():
                files.append(path)
    return sorted(files), sorted(links)


def _mtime(path: Path) -> float:
    # Whole seconds, rounded down to even: a zip stores no finer, and the choice between two
    # copies of a lesson must be the same from a zip and from the folder it was made of.
    return float(int(path.stat().st_mtime) // 2 * 2)


MAX_NESTING = 100  # levels of JSON a notebook may nest (real ones: about 10)


def _deeper_than(data, limit: int) -> bool:
    """Whether ``data`` nests more than ``limit`` lists and objects deep (no recursion)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]
    return False


def read_notebook(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The notebook as a dict, or None and a reason a person can act on."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            raw = f.read()
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not text (UTF-8)"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return (
            None,
            f"unreadable notebook: invalid JSON at line {exc.lineno}, "
            f"column {exc.colno} ({exc.msg})",
        )
    except RecursionError:
        data = None
    if data is None or _deeper_than(data, MAX_NESTING):
        # Every later step (the workers, nbformat, nbgrader) walks the notebook recursively:
        # one nested beyond reason is refused here, as unreadable, not carried to them.
        return None, f"unreadable notebook: its JSON nests deeper than {MAX_NESTING} levels"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a Jupyter notebook: the JSON has no list of cells"
    if int(data.get("nbformat", 4) or 4) < 4:
        import nbformat

        try:
            data = dict(nbformat.convert(nbformat.from_dict(data), 4))
        except Exception as exc:  # noqa: BLE001 - any conversion failure is the finding
            return None, f"old notebook format that could not be converted: {exc}"
    for cell in data["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return None, "not a Jupyter notebook: a cell has no valid cell_type"
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else str(source)
        cell.setdefault("metadata", {})
        if not isinstance(cell["metadata"], dict):
            cell["metadata"] = {}
        if cell["cell_type"] == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    data.setdefault("metadata", {})
    data["nbformat"] = 4
    data.setdefault("nbformat_minor", 5)
    return data, ""
