"""What a run goes by: the limits a submission runs under (with the defaults an instructor
gets), the instructor's rules, and the one frozen :class:`RunSettings` of a ``grade`` run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..course import CourseSettings
    from .execute.sandbox import SandboxSpec
    from .remembered import Remembered
    from .rules.late import Deadlines, Extension, Policy
    from .rules.roster import RosterStudent


@dataclass(frozen=True)
class Limits:
    """Resource limits for grading one submission.

    cell_seconds : a cell running longer is interrupted (and its kernel replaced if it ignores
        the interrupt).
    submission_seconds : wall-clock budget of one notebook; cells left when it runs out are
        not run and score nothing.
    memory_mb : address-space limit of each kernel (RLIMIT_AS).
    output_bytes : text and data kept per cell; the rest is cut with a note.
    """

    cell_seconds: float = 60.0  # the one source; nbgrader_config.py agrees (a test checks)
    submission_seconds: float = 600.0
    memory_mb: int = 2048
    output_bytes: int = 1_000_000

    def describe(self) -> str:
        return (
            f"{self.cell_seconds:g} s per cell, {self.submission_seconds:g} s per notebook, "
            f"{self.memory_mb} MB per kernel, {self.output_bytes:,} bytes of output per cell"
        )


@dataclass(frozen=True)
class WorkerSettings:
    """What every kernel of a run shares; sent to each worker once, when it starts."""

    limits: Limits
    sandbox: SandboxSpec | None  # None: kernels run without isolation
    font_cache: Path  # matplotlib's font cache, copied into each kernel's scratch folder
    scratch_root: Path  # every kernel's scratch folder goes in here; removed with the run


@dataclass(frozen=True)
class Rules:
    """The instructor's rules of a run: deadlines, extensions, the late policy, the roster."""

    deadlines: Deadlines
    extensions: tuple[Extension, ...] | None  # None: never given (the gradebook's stay)
    policy: Policy
    roster: tuple[RosterStudent, ...] | None  # None: never given
    exchange_timestamps: bool = False  # trust nbgrader's timestamp.txt in a submitted/ tree


@dataclass(frozen=True)
class RunSettings:
    """Everything one ``grade`` run goes by, decided once by the command before anything runs:
    its arguments over what OUT remembers of earlier runs (:mod:`.remembered`) over the
    course's ``[tool.course]``. Passed down; nothing below the command reads the arguments."""

    submissions: tuple[Path, ...]  # each resolved
    out: Path
    solutions: Path
    site: CourseSettings  # [tool.course] of the course folder (links on the feedback pages)
    private: tuple[Path, ...]  # the course's folders kernels must not see (with OUT, SUBMISSIONS)
    limits: Limits
    rules: Rules
    before: Remembered  # what OUT remembered when the run started (for what changed)
    lesson: str | None = None
    students: tuple[str, ...] | None = None
    jobs: int = 1
    quiet: bool = False
    no_sandbox: bool = False
    worksheets: tuple[Path, ...] = ()  # Moodle's grading worksheets
    scheduler: str | None = None
    scheduler_file: Path | None = None
    db_url: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)  # said at the start (stderr, report)
