"""When each notebook was handed in, from a source the student does not control.

A student's own folder is the student's: a ``timestamp.txt`` in it, a time in a notebook's
metadata or in a file name says whatever the student wrote, so none is read. The time comes
from, in this order:

1. nbgrader's ``timestamp.txt`` - only in an nbgrader ``submitted/<student>/<lesson>/`` tree
   (written there by nbgrader's exchange, ``nbgrader collect``, or by ``nbgrader zip_collect``)
   and only when the instructor asks for it (``--exchange-timestamps``);
2. the LMS: Moodle's grading worksheet ("Last modified (submission)"), or Canvas's ``LATE``
   mark in its download's file names (Canvas names no time: :func:`resolve`);
3. the file's time, or the zip entry's time when SUBMISSIONS is a zip the instructor made.

``detail`` in grades.csv says which was used, and why a source was passed over.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..rules.late import CANVAS_LATE, TIMESTAMP, SubmissionTime
from .ingest import Origin

UTC = dt.timezone.utc
FILE_TIME = "the file's time"
ZIP_TIME = "the zip entry's time"
EXCHANGE_TIME = "timestamp.txt of nbgrader's exchange"
NOT_READ = (
    "a timestamp.txt in the student's folder was not read (the student can write it); "
    "only nbgrader's own, in an nbgrader submitted/ tree with --exchange-timestamps, is"
)
EXCHANGE_OFF = "nbgrader's timestamp.txt was not read: give --exchange-timestamps to use it"


def file_time(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)


def folder_time(path: Path, folder: Path, layout: str, exchange_times: bool) -> Origin:
    """The time of a notebook found in a student's folder (:func:`.ingest.find_notebooks`)."""
    source = ZIP_TIME if layout == "zip" else FILE_TIME
    stamp = path.parent / TIMESTAMP
    present = stamp.is_file() and not stamp.is_symlink()
    # nbgrader's layout: submitted/<student>/<lesson>/<notebook> beside its timestamp.txt.
    exchange = layout == "nbgrader" and path.parent.parent == folder
    if not present:
        return Origin(layout, file_time(path), source)
    if not exchange:
        return Origin(layout, file_time(path), source, note=NOT_READ)
    if not exchange_times:
        return Origin(layout, file_time(path), source, note=EXCHANGE_OFF)
    text = stamp.read_text(errors="replace").strip()
    try:
        from nbgrader.utils import parse_utc  # nbgrader's own reading of the file

        return Origin(layout, parse_utc(text).replace(tzinfo=UTC), EXCHANGE_TIME)
    except (ValueError, OverflowError):
        note = f"{TIMESTAMP} unreadable ({text[:40]!r}): used {source}"
        return Origin(layout, file_time(path), source, note=note)


def resolve(origin: Origin, due: dt.datetime | None) -> SubmissionTime:
    """The submission time nbgrader is given for a notebook of ``origin``.

    Canvas's download says only whether Canvas counted a file late (``LATE`` in its name),
    never when it was handed in: an unmarked file is taken as handed in at the lesson's
    deadline (on time), a marked one one second after it (late by the least the policy
    charges: one started hour or day), and the source says so. Without a deadline the
    download's own time is kept (nothing is late then).
    """
    if origin.late_mark is None or due is None:
        when = origin.when if origin.when is not None else dt.datetime.now(UTC)
        return SubmissionTime(when.replace(microsecond=0), origin.time_source, origin.note)
    if origin.late_mark:
        return SubmissionTime(due + dt.timedelta(seconds=1), CANVAS_LATE, origin.note)
    return SubmissionTime(due, "Canvas: not marked LATE, counted as on time", origin.note)
