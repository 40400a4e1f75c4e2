"""The feedback pages, packed for the students' hands (``export --format moodle-feedback|pages``).

- ``moodle-feedback``: one zip per lesson for Moodle's "Upload multiple feedback files in a
  zip" (``mod/assign/feedback/file/importziplib.php``): each page in the folder the student's
  submission came in, ``<Full Name>_<participant id>_assignsubmission_file/``, which Moodle
  reads as that participant's feedback file. The participant id is the one of that lesson's
  Moodle download (it differs from assignment to assignment); a student whose notebook did not
  come from a Moodle download is left out and named.
- ``pages``: one zip per student holding their pages, ``<lesson>.html``, for any other LMS
  (Canvas has no bulk upload of feedback files: attach each zip, or use its API).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..course_dir import CoursePaths
from ..outcomes import load_outcomes

FORMATS = ("moodle-feedback", "pages")
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed entry times: the same pages give the same zip


def write_returns(
    out: Path, fmt: str, lessons: list[str] | None, to: Path | None
) -> tuple[list[Path], list[str]]:
    """Write the zips of ``fmt``; return them and the warnings (who was left out, and why)."""
    course = CoursePaths(out.resolve())
    folder = to if to is not None else course.exports_dir / fmt
    folder.mkdir(parents=True, exist_ok=True)
    pages = {
        (o.student, o.lesson): o
        for o in load_outcomes(course)
        if o.lesson and not o.failure and course.feedback_page(o.student, o.lesson).is_file()
    }
    wanted = set(lessons) if lessons else {lesson for _, lesson in pages}
    if fmt == "pages":
        return _pages(course, folder, pages, wanted), []
    return _moodle(course, folder, pages, wanted)


def _pages(course: CoursePaths, folder: Path, pages: dict, wanted: set[str]) -> list[Path]:
    written = []
    for student in sorted({s for s, lesson in pages if lesson in wanted}):
        path = folder / f"{student}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for (who, lesson), _ in sorted(pages.items()):
                if who == student and lesson in wanted:
                    _add(zf, f"{lesson}.html", course.feedback_page(student, lesson))
        written.append(path)
    return written


def _moodle(course: CoursePaths, folder: Path, pages: dict, wanted: set[str]):
    written, left_out, skipped = [], [], []
    for lesson in sorted(wanted):
        theirs = sorted((s, o) for (s, x), o in pages.items() if x == lesson)
        entries = [(s, o.moodle_folder) for s, o in theirs if o.moodle_folder]
        if not entries:
            skipped.append(lesson)
            continue
        left_out += [f"{s} {lesson}" for s, o in theirs if not o.moodle_folder]
        path = folder / f"{lesson}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for student, where in entries:
                name = f"{where}_assignsubmission_file/{lesson}-feedback.html"
                _add(zf, name, course.feedback_page(student, lesson))
        written.append(path)
    warnings = []
    if skipped:
        warnings.append(f"no notebook of {', '.join(skipped)} came from a Moodle download: no zip")
    if left_out:
        warnings.append(
            "left out, not collected from a Moodle download (no participant id): "
            + ", ".join(left_out)
        )
    return written, warnings


def _add(zf: zipfile.ZipFile, name: str, page: Path) -> None:
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, page.read_bytes())
