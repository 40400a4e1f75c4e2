"""The words every phase uses: the statuses, the executor's error names, a notebook's
:class:`Failure`, and GraderError.

One ``str`` enum per level, so a status's type says which words apply to it:

- :class:`CellStatus` - a code cell after execution (:class:`~.execute.kernel.CellRun`);
- :class:`VerdictStatus` - a test cell's verdict (:class:`~.judge.messages.Verdict`, from the
  judge's :class:`~.judge.judge.CellJudgement`);
- :class:`ExerciseStatus` - an exercise in exercises.csv;
- :class:`NotebookStatus` - a notebook in grades.csv.

Their members are the very words written to grades.csv, exercises.csv, the outcome records and
the HTML class names, so ``f"{VerdictStatus.PASSED}"`` is ``"passed"`` and a value read back from
a file compares equal to its member. A word shared by two levels (``failed``, ``not_run``,
``needs_manual``, ``passed``) is the same string in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CellStatus(StrEnum):
    """A code cell after execution; each stop decided from the grader's own facts (nbclient's
    timeout, the process's exit, its peak memory in /proc)."""

    OK = "ok"
    ERROR = "error"  # the cell raised: an ordinary wrong answer or failing check
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    MEMORY = "memory"
    NOT_RUN = "not_run"  # the notebook's time budget ran out first


class VerdictStatus(StrEnum):
    """A test cell's verdict."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not_run"  # the notebook's time budget ran out first


class ExerciseStatus(StrEnum):
    """An exercise in exercises.csv."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    NEEDS_MANUAL = "needs_manual"  # a written answer waits for a person


class NotebookStatus(StrEnum):
    """A notebook in grades.csv."""

    GRADED = "graded"
    NEEDS_MANUAL = "needs_manual"  # written answers wait for a person
    FAILED = "failed"
    MISSING = "missing"  # on the roster, nothing handed in


# A cell stopped for one of these reasons: the grader replaced or skipped its kernel's work.
STOPPED = frozenset({CellStatus.TIMEOUT, CellStatus.KERNEL_DIED, CellStatus.MEMORY})


class GraderErrorName(StrEnum):
    """``ename`` of the error outputs the grader itself writes; each carries a plain message.

    Only nbgrader and formgrader read them (any error output scores 0). The grader never
    recognises its own errors by these names - a student's exception may bear any of them -
    but by where they came from (``judge.CellJudgement.origin``).
    """

    TIMEOUT = "TimeoutError"
    KERNEL_DIED = "KernelDied"
    NOT_RUN = "NotRun"
    NOT_RUN_AS_WRITTEN = "NotRunAsWritten"  # the kernel's answers did not fit the test


class Blame(StrEnum):
    """Whose fault it is that a notebook has no grade."""

    NOTEBOOK = "notebook"  # unreadable, or it broke its grading worker twice: its row says why
    GRADER = "grader"  # a kernel that never started, a broken pool, nbgrader: the run exits 1


@dataclass(frozen=True)
class Failure:
    """Why a notebook has no grade: ``reason`` for grades.csv and the log, and whose fault.

    The one failure type of the pipeline (:class:`~.execute.jobs.Finished`,
    :class:`~.outcomes.Outcome`): a run that lost a notebook by its own fault exits 1, and it
    knows which by ``blame``, never by reading the words.
    """

    reason: str
    blame: Blame = Blame.NOTEBOOK

    @property
    def by_grader(self) -> bool:
        return self.blame == Blame.GRADER

    def __str__(self) -> str:
        return self.reason


# How the reason begins when the grader failed the notebook, by where it failed.
NOT_EXECUTED = "could not be executed"
NOT_PREPARED = "could not be prepared for grading"
AUTOGRADE_FAILED = "nbgrader autograde failed"
GRADER_FAILED = "the grader failed on it"


class GraderError(Exception):
    """The grader itself cannot run (exit status 2); the message says why."""
