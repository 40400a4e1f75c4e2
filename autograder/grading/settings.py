"""The limits a submission runs under, with the defaults an instructor gets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .execute.sandbox import SandboxSpec

from dataclasses import dataclass


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
