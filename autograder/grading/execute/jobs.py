"""What crosses between the grader and its workers - as JSON text, never pickled - and the one
"execute a job" both pools run on a worker.

A :class:`Job` is a repaired notebook, the code its kernels run first and its tests; a
:class:`Finished` is the executed notebook with every test judged on the worker
(:class:`~..judge.cells.NotebookJudgement`), or why there is none. Both travel as JSON text
(:meth:`Job.to_text`, :meth:`Finished.to_text`): a notebook is student data, and a pickled
nbformat object looks its attributes up in its own keys, so one key in a student's metadata
could break unpickling - and with it the process pool - for everyone.

:func:`run_job` is the worker's side for the local pool and the Dask cluster alike.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..vocabulary import Blame, CellStatus, Failure, VerdictStatus

if TYPE_CHECKING:
    from ..judge.cells import NotebookJudgement
    from ..settings import WorkerSettings
    from .kernel import ExecutionResult

Key = tuple[str, str]  # (student, lesson)


@dataclass(frozen=True)
class Job:
    """One repaired notebook to execute, the code its kernels run first, the tests judged."""

    key: Key
    notebook: dict[str, Any]
    preload: tuple[str, ...]
    tests: dict[str, str]  # grade id -> the instructor's test source (preload.test_sources)

    def to_text(self) -> str:
        return json.dumps([list(self.key), self.notebook, list(self.preload), self.tests])

    @classmethod
    def from_text(cls, text: str) -> Job:
        key, notebook, preload, tests = json.loads(text)
        return cls(tuple(key), notebook, tuple(preload), tests)


@dataclass(frozen=True)
class Finished:
    """What a worker sends back: the executed, judged notebook, or why there is none."""

    key: Key
    result: ExecutionResult | None  # its test cells hold the trusted outcomes
    failure: Failure | None = None  # None when ``result`` is there
    judgement: NotebookJudgement | None = None

    @classmethod
    def grader_failed(cls, key: Key, reason: str) -> Finished:
        """No result, by the grader's fault (the run exits 1)."""
        return cls(key, None, Failure(reason, Blame.GRADER))

    @classmethod
    def notebook_failed(cls, key: Key, reason: str) -> Finished:
        """No result, by the notebook's own fault (it broke its worker twice)."""
        return cls(key, None, Failure(reason, Blame.NOTEBOOK))

    def to_text(self) -> str:
        data = asdict(self)
        return json.dumps(data, default=str)

    @classmethod
    def from_text(cls, text: str) -> Finished:
        data = json.loads(text)
        return cls(
            tuple(data["key"]),
            _result(data["result"]),
            _failure(data["failure"]),
            _judgement(data["judgement"]),
        )


def _failure(data: dict | None) -> Failure | None:
    return None if data is None else Failure(data["reason"], Blame(data["blame"]))


def _result(data: dict | None) -> ExecutionResult | None:
    import nbformat  # parsed from JSON text here: a NotebookNode is never unpickled

    from .kernel import CellRun, ExecutionResult

    if data is None:
        return None
    cells = [CellRun(**{**c, "status": CellStatus(c["status"])}) for c in data["cells"]]
    notebook = nbformat.from_dict(data["notebook"])
    return ExecutionResult(**{**data, "cells": cells, "notebook": notebook})


def _judgement(data: dict | None) -> NotebookJudgement | None:
    from ..judge.cells import NotebookJudgement
    from ..judge.judge import CellJudgement

    if data is None:
        return None
    cells = {
        gid: CellJudgement(**{**c, "status": VerdictStatus(c["status"])})
        for gid, c in data["cells"].items()
    }
    return NotebookJudgement(cells, tuple(data["notes"]), data["seconds"], data["quiz_answers"])


def execute_job(job: Job, settings: WorkerSettings, spare: bool) -> Finished:
    """Execute one repaired notebook in a sandboxed kernel and judge its tests, here.

    The worker is a process in which no student code runs: the kernel is another process, in
    the sandbox; the tests run here while it answers (:mod:`..judge`).
    """
    from ..judge.cells import TestCells
    from .notebook import execute_notebook

    tests = TestCells(job.tests)
    try:
        result = execute_notebook(
            job.notebook,
            limits=settings.limits,
            sandbox=settings.sandbox,
            preload=job.preload,
            font_cache=settings.font_cache,
            scratch_root=settings.scratch_root,
            spare=spare,
            tests=tests,
        )
    except Exception as exc:  # noqa: BLE001 - reported as the grader's failure on this notebook
        return Finished.grader_failed(job.key, f"{type(exc).__name__}: {exc}")
    return Finished(job.key, result, judgement=tests.judgement())


def run_job(text: str, settings: WorkerSettings, spare: bool) -> str:
    """A worker's whole part: a Job's text in, its Finished's text out (never an exception)."""
    job = Job.from_text(text)
    try:
        return execute_job(job, settings, spare).to_text()
    except Exception as exc:  # noqa: BLE001 - the grader's failure on this notebook, said so
        return Finished.grader_failed(job.key, f"{type(exc).__name__}: {exc}").to_text()
