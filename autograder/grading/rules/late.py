"""Deadlines, extensions and late penalties, applied through nbgrader's own late-submission step.

Where each fact lives, so that the gradebook, formgrader and ``nbgrader export`` agree with
grades.csv:

- a lesson's deadline is the gradebook's ``Assignment.duedate`` (set from ``--due`` or the
  ``[tool.course.deadlines]`` table of pyproject.toml; a lesson given neither keeps the
  deadline the gradebook already has, e.g. from ``nbgrader db assignment add --duedate``);
- a student's extension is the gradebook's ``SubmittedAssignment.extension`` (nbgrader stores
  the extra time; the extensions CSV gives the new due time and this module takes the
  difference);
- the submission time is nbgrader's ``timestamp.txt`` in ``submitted/<student>/<lesson>/``,
  which the grader always writes (:mod:`..collect.times` decides it, from a source the student
  does not control);
- the penalty is computed by nbgrader's ``AssignLatePenalties`` preprocessor during autograde,
  which asks the plugin configured as ``AssignLatePenalties.plugin_class``: here
  :class:`LatePenalty`, a :class:`nbgrader.plugins.LateSubmissionPlugin` with the course's
  policy, and nbgrader stores it as ``SubmittedNotebook.late_submission_penalty``.

The policy arithmetic (:class:`Policy`) and the parsing are pure and need no nbgrader.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..vocabulary import GraderError

UTC = dt.timezone.utc
METHODS = ("none", "zero", "per-hour", "per-day")
_UNIT_SECONDS = {"per-hour": 3600, "per-day": 86400}


# --------------------------------------------------------------------------- times


def parse_when(text: str, what: str) -> dt.datetime:
    """An ISO 8601 date and time WITH a time zone, as an aware datetime in UTC.

    ``what`` names the value in the error (``--due 04_gradient_descent=...``, ``file:line``).
    """
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise GraderError(
            f"{what}: {text!r} is not an ISO 8601 date and time (write e.g. 2026-12-01T23:59+01:00)"
        ) from None
    if when.tzinfo is None:
        raise GraderError(
            f"{what}: {text!r} has no time zone; add one, e.g. {text.strip()}+01:00 or "
            f"{text.strip()}Z for UTC"
        )
    return when.astimezone(UTC)


def show_time(when: dt.datetime) -> str:
    """A time as grades.csv and the pages show it: UTC, to the minute (seconds when there).

    A naive time is UTC already (the gradebook keeps its times so).
    """
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    fmt = "%Y-%m-%d %H:%M UTC" if when.second == 0 else "%Y-%m-%d %H:%M:%S UTC"
    return when.strftime(fmt)


def show_duration(seconds: float) -> str:
    """``late_by`` in grades.csv: days, hours, minutes, seconds, leaving out zero parts."""
    left = int(math.ceil(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


# --------------------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class Deadlines:
    """The deadlines of a run, the first that names a lesson winning: ``--due LESSON=WHEN``
    (``lessons``), ``--due WHEN`` for every lesson of the batch (``batch``), then what the course
    folder was graded with or the course's table (``kept``)."""

    batch: dt.datetime | None = None
    lessons: dict[str, dt.datetime] = field(default_factory=dict)
    kept: dict[str, dt.datetime] = field(default_factory=dict)

    def due(self, lesson: str) -> dt.datetime | None:
        return self.lessons.get(lesson, self.batch or self.kept.get(lesson))


def parse_due(values: list[str], kept: dict[str, dt.datetime] | None = None) -> Deadlines:
    """``--due WHEN`` and ``--due LESSON=WHEN`` arguments over the deadlines ``kept``."""
    lessons = {}
    batch = None
    for value in values:
        lesson, sep, when = value.partition("=")
        if sep:
            lessons[lesson.strip()] = parse_when(when, f"--due {value}")
        elif batch is not None:
            raise GraderError("--due without a lesson given twice: give one batch deadline")
        else:
            batch = parse_when(value, f"--due {value}")
    return Deadlines(batch, lessons, dict(kept or {}))


def parse_table(table: dict, where: str) -> dict[str, dt.datetime]:
    """A deadlines table (``[tool.course.deadlines]``, settings.json): lesson -> aware UTC."""
    return {lesson: parse_when(str(when), f"{where} {lesson}") for lesson, when in table.items()}


@dataclass(frozen=True)
class Extension:
    student: str
    lesson: str
    due: dt.datetime
    where: str  # "file:line", for messages


EXTENSION_COLUMNS = ("student_id", "lesson", "due")


def read_extensions(path: Path) -> list[Extension]:
    """The extensions CSV: a header ``student_id,lesson,due`` and one row per extension.

    Every problem names the file and line; one student and lesson may appear only once.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GraderError(f"--extensions {path}: cannot read the file ({exc})") from None
    rows = list(csv.reader(text.splitlines()))
    header = [h.strip() for h in rows[0]] if rows else []
    if header != list(EXTENSION_COLUMNS):
        raise GraderError(
            f"{path}:1: the header must be {','.join(EXTENSION_COLUMNS)} (found {','.join(header)})"
        )
    found: dict[tuple[str, str], Extension] = {}
    for number, row in enumerate(rows[1:], start=2):
        where = f"{path}:{number}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(EXTENSION_COLUMNS):
            raise GraderError(
                f"{where}: expected 3 fields (student_id,lesson,due), found {len(row)}"
            )
        student, lesson, due = (cell.strip() for cell in row)
        if not student or not lesson:
            raise GraderError(f"{where}: student_id and lesson must not be empty")
        if (student, lesson) in found:
            first = found[(student, lesson)].where
            raise GraderError(f"{where}: a second extension for {student} {lesson} ({first})")
        found[(student, lesson)] = Extension(student, lesson, parse_when(due, where), where)
    return list(found.values())


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class Policy:
    """What a late submission costs, as a share of the score the notebook earned.

    ``none``: nothing; ``zero``: everything; ``per-hour`` / ``per-day``: ``rate`` percent for
    every started hour or day late, at most ``cap`` percent.
    """

    method: str = "none"
    rate: float = 0.0  # percent per started hour or day
    cap: float = 100.0  # percent

    def __post_init__(self):
        if self.method not in METHODS:
            raise GraderError(f"late policy {self.method!r}: use one of {', '.join(METHODS)}")
        if self.method in _UNIT_SECONDS and not 0 < self.rate <= 100:
            raise GraderError(f"late policy {self.method}: the rate must be in (0, 100] percent")
        if not 0 <= self.cap <= 100:
            raise GraderError("late policy: the cap must be between 0 and 100 percent")

    def percent(self, seconds_late: float) -> float:
        """The share of the score taken, in percent."""
        if seconds_late <= 0 or self.method == "none":
            return 0.0
        if self.method == "zero":
            return 100.0
        units = math.ceil(seconds_late / _UNIT_SECONDS[self.method])
        return min(self.cap, self.rate * units)

    def penalty(self, score: float, seconds_late: float) -> float:
        """Points taken from ``score``."""
        return round(max(score, 0.0) * self.percent(seconds_late) / 100.0, 6)

    def short(self) -> str:
        """The policy in a few words, for what changed: ``per-day 10% (at most 50%)``."""
        if self.method in ("none", "zero"):
            return self.method
        return f"{self.method} {self.rate:g}% (at most {self.cap:g}%)"

    def describe(self) -> str:
        if self.method in ("none", "zero"):
            return {"none": "no penalty", "zero": "a late notebook scores zero"}[self.method]
        unit = self.method.removeprefix("per-")
        return f"{self.rate:g}% of the score per started {unit} late, at most {self.cap:g}%"


def policy_from(method: str | None, rate: float | None, cap: float | None, base: Policy) -> Policy:
    """The command line's policy: each value given replaces that of ``base``."""
    return Policy(
        method=method or base.method,
        rate=float(rate if rate is not None else base.rate),
        cap=float(cap if cap is not None else base.cap),
    )


def policy_table(table: dict, where: str) -> Policy:
    """``[tool.course.late]`` (policy, rate, cap) as a Policy; errors name ``where``."""
    try:
        return Policy(
            str(table.get("policy", "none")),
            float(table.get("rate", 0.0)),
            float(table.get("cap", 100.0)),
        )
    except (TypeError, ValueError, GraderError) as exc:
        raise GraderError(f"{where}: {exc}") from None


def _plugin_class():
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets import Enum, Float

    class LatePenalty(LateSubmissionPlugin):
        """nbgrader's late-submission plugin with the course's per-hour and per-day rates."""

        penalty_method = Enum(METHODS, default_value="none").tag(config=True)
        rate = Float(0.0, help="percent of the score per started hour or day").tag(config=True)
        cap = Float(100.0, help="the most a penalty takes, in percent").tag(config=True)

        def late_submission_penalty(self, student_id, score, total_seconds_late):
            policy = Policy(self.penalty_method, self.rate, self.cap)
            return policy.penalty(score or 0.0, total_seconds_late)

    return LatePenalty


def plugin_config(policy: Policy):
    """The traitlets config that makes nbgrader's AssignLatePenalties use ``policy``."""
    from traitlets.config import Config

    c = Config()
    c.AssignLatePenalties.plugin_class = _plugin_class()
    c.LatePenalty.penalty_method = policy.method
    c.LatePenalty.rate = policy.rate
    c.LatePenalty.cap = policy.cap
    return c


# --------------------------------------------------------------------------- submission time


@dataclass(frozen=True)
class SubmissionTime:
    when: dt.datetime  # aware, UTC
    source: str  # where it came from (collect.times: the exchange, the LMS, the file)
    note: str = ""  # a source passed over, and why


TIMESTAMP = "timestamp.txt"
# Canvas's download says whether a file was late, never when (collect.times.resolve): such a
# notebook is counted one second late, and grades.csv says so instead of "1s".
CANVAS_LATE = "Canvas marked it LATE without saying when: counted as 1 second late"
LATE_UNKNOWN = "late (Canvas)"


def write_timestamp(folder: Path, time: SubmissionTime) -> None:
    """nbgrader's timestamp.txt in a staged submission folder (read by its autograde)."""
    (folder / TIMESTAMP).write_text(time.when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


# --------------------------------------------------------------------------- the gradebook


def set_deadlines(db_url: str, deadlines: dict[str, dt.datetime]) -> None:
    """Give each lesson named its deadline in the gradebook (other lessons keep theirs)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        for lesson, due in sorted(deadlines.items()):
            gb.update_or_create_assignment(lesson, duedate=due.replace(tzinfo=None))


def gradebook_deadlines(db_url: str) -> dict[str, dt.datetime | None]:
    """Every lesson of the gradebook and its deadline (aware UTC, or None)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {
            a.name: a.duedate.replace(tzinfo=UTC) if a.duedate else None for a in gb.assignments
        }


def rescore(
    db_url: str, policy: Policy, lessons: set[str] | None, extensions
) -> list[tuple[str, str]]:
    """Apply ``extensions`` (None: leave them) and compute again, with nbgrader's own late
    step and ``policy``, the penalty of every notebook of ``lessons`` (None: all) in the
    gradebook; return the (student, lesson) whose penalty changed."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    step = AssignLatePenalties(config=plugin_config(policy))
    step.init_plugin()
    by_pair = {(e.student, e.lesson): e for e in extensions or ()}
    changed = []
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            if lessons is not None and assignment.name not in lessons:
                continue
            for sub in assignment.submissions:
                if extensions is not None:
                    e = by_pair.get((sub.student.id, assignment.name))
                    late_due = assignment.duedate
                    sub.extension = (
                        e.due.replace(tzinfo=None) - late_due if e and late_due else None
                    )
                if _penalise(step, sub):
                    changed.append((sub.student.id, assignment.name))
        gb.db.commit()
    return changed


def _penalise(step, sub) -> int:
    """nbgrader's AssignLatePenalties on each notebook of one submission; the count changed."""
    changed = 0
    for nb in sub.notebooks:
        penalty = None
        if sub.total_seconds_late > 0:
            found = step.plugin_inst.late_submission_penalty(
                sub.student.id, nb.score, sub.total_seconds_late
            )
            penalty = None if found is None else step._check_late_penalty(nb, found)
        if (penalty or 0.0) != (nb.late_submission_penalty or 0.0):
            changed += 1
        nb.late_submission_penalty = penalty
    return changed


def set_extensions(
    db_url: str, extensions: list[Extension], pairs: set[tuple[str, str]]
) -> list[str]:
    """Record each extension for the (student, lesson) pairs graded now; clear the others'.

    Returns the extensions that name nobody in this run, for the log.
    """
    from nbgrader.api import Gradebook

    by_pair = {(e.student, e.lesson): e for e in extensions}
    with Gradebook(db_url) as gb:
        for student, lesson in sorted(pairs):
            e = by_pair.get((student, lesson))
            assignment = gb.find_assignment(lesson)
            if e is not None and assignment.duedate is None:
                raise GraderError(f"{e.where}: an extension for {lesson}, which has no deadline")
            gb.update_or_create_student(student)
            extra = None
            if e is not None:
                extra = e.due.replace(tzinfo=None) - assignment.duedate
            gb.update_or_create_submission(lesson, student, extension=extra)
    return [
        f"{e.where}: {e.student} {e.lesson}"
        for e in extensions
        if (e.student, e.lesson) not in pairs
    ]


@dataclass(frozen=True)
class Lateness:
    """What grades.csv says about one graded notebook's time."""

    late_by: str  # "" when on time or when the lesson has no deadline
    penalty: float
    note: str  # for the detail column; "" when the lesson has no deadline


def lateness(submission, time_source: str) -> Lateness:
    """Read one gradebook submission's deadline, time and nbgrader's penalty."""
    due = submission.duedate
    if due is None or submission.timestamp is None:
        return Lateness("", 0.0, "")
    penalty = float(submission.late_submission_penalty or 0.0)
    submitted = show_time(submission.timestamp)
    where = f" ({time_source})" if time_source else ""
    extended = " with an extension" if submission.extension else ""
    seconds = submission.total_seconds_late
    if seconds <= 0:
        note = f"submitted {submitted}{where}, on time (due {show_time(due)}{extended})"
        return Lateness("", 0.0, note)
    late_by = LATE_UNKNOWN if time_source == CANVAS_LATE else show_duration(seconds)
    note = (
        f"submitted {submitted}{where}, {late_by} after the deadline "
        f"{show_time(due)}{extended}: late penalty {penalty:g} pt"
    )
    return Lateness(late_by, round(penalty, 6), note)
