"""What the grader did with each notebook: the :class:`Outcome`, kept in ``OUT/.grader/outcomes/``.

Every phase adds to it (collect: a notebook that could not be read; autograde: the verdicts;
publish reads them all back), so a run with ``--student`` or ``--lesson`` leaves everyone
else's outcomes as they were.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .judge.messages import Verdict
from .vocabulary import (
    AUTOGRADE_FAILED,
    GRADER_FAILED,
    NOT_EXECUTED,
    NOT_PREPARED,
    Blame,
    Failure,
)

if TYPE_CHECKING:
    from .course_dir import CoursePaths

# How the reason of a grader's failure began in records written before ``failed_by``.
_GRADER_REASONS = (NOT_EXECUTED, NOT_PREPARED, AUTOGRADE_FAILED, GRADER_FAILED)


@dataclass
class Outcome:
    """What the grader did with one notebook of one student."""

    student: str
    lesson: str  # "" when no lesson was recognised
    file: str
    failure: Failure | None = None  # why it could not be graded; None when it was
    notes: list[str] = field(default_factory=list)  # faults and repairs, for detail and feedback
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # grade id -> its verdict
    timings: dict[str, float] = field(default_factory=dict)
    time_source: str = ""  # where the submission time came from (collect.times.resolve)
    moodle_folder: str = ""  # "<Full Name>_<participant id>" of a Moodle download (feedback zip)
    # answer cell grade id -> the student's code as graded (clipped), for the feedback page
    answers: dict[str, str] = field(default_factory=dict)
    # quiz test grade id -> item -> the student's True/False (None: not a bool), from the record
    quiz: dict[str, dict[str, bool | None]] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The outcome as JSON data (its verdicts too).

        The failure is ``failed`` (its reason, "" when graded) and, only when the grader is to
        blame, ``failed_by``: a record of a graded notebook or of the notebook's own failure is
        as it was before the :class:`Failure` type.
        """
        data = asdict(self)
        failure = data.pop("failure")
        data["failed"] = failure["reason"] if failure else ""
        if self.failure is not None and self.failure.by_grader:
            data["failed_by"] = str(Blame.GRADER)
        return data

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Outcome:
        data = dict(data)
        reason, blame = data.pop("failed", ""), data.pop("failed_by", None)
        if blame is None:  # written before ``failed_by``: its reason's first words said whose
            blame = Blame.GRADER if reason.startswith(_GRADER_REASONS) else Blame.NOTEBOOK
        verdicts = {g: Verdict.from_record(v) for g, v in data.get("verdicts", {}).items()}
        failure = Failure(reason, Blame(blame)) if reason else None
        return cls(**{**data, "verdicts": verdicts, "failure": failure})


def save_outcomes(course: CoursePaths, student: str, outcomes: list[Outcome]) -> None:
    course.outcomes_dir.mkdir(parents=True, exist_ok=True)
    course.outcome_record(student).write_text(
        json.dumps([o.to_record() for o in outcomes], indent=1, sort_keys=True)
    )


def load_outcomes(course: CoursePaths) -> list[Outcome]:
    folder = course.outcomes_dir
    out: list[Outcome] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        out += [Outcome.from_record(d) for d in json.loads(path.read_text())]
    return sorted(out, key=lambda o: (o.student, o.lesson, o.file))
