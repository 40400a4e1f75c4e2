"""The words every phase uses: the statuses, the executor's error names, and GraderError.

:class:`Status` is a ``str`` enum: its members are the very words written to grades.csv,
exercises.csv, the outcome records and the HTML class names, so ``f"{Status.PASSED}"`` is
``"passed"`` and a value read back from a file compares equal to its member. Which words apply
where:

- a code cell after execution (:class:`~.execute.kernel.CellRun`): ``ok``, ``error``, ``timeout``,
  ``kernel_died``, ``memory``, ``not_run``;
- a test cell's verdict (:class:`~.judge.messages.Verdict`): ``passed``, ``failed``, ``not_run``;
- an exercise in exercises.csv: ``passed``, ``partial``, ``failed``, ``needs_manual``;
- a notebook in grades.csv: ``graded``, ``needs_manual``, ``failed``, ``missing`` (a roster
  student who handed in nothing for the lesson).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"  # the cell raised: an ordinary wrong answer or failing check
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    MEMORY = "memory"
    NOT_RUN = "not_run"  # the notebook's time budget ran out first
    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    NEEDS_MANUAL = "needs_manual"  # a written answer waits for a person
    GRADED = "graded"
    MISSING = "missing"  # on the roster, nothing handed in


# A cell stopped for one of these reasons: the grader replaced or skipped its kernel's work.
STOPPED = frozenset({Status.TIMEOUT, Status.KERNEL_DIED, Status.MEMORY})


class GraderErrorName(StrEnum):
    """``ename`` of the error outputs the executor itself writes; each carries a plain message."""

    TIMEOUT = "TimeoutError"
    KERNEL_DIED = "KernelDied"
    NOT_RUN = "NotRun"
    NOT_RUN_AS_WRITTEN = "NotRunAsWritten"  # trusted.py: the test's record is missing or wrong


class GraderError(Exception):
    """The grader itself cannot run (exit status 2); the message says why."""
