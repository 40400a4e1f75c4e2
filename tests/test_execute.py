"""Specification of the cell-by-cell executor (autograder.grading.execute), without a sandbox.

The grading command itself is specified in test_grade.py; these tests drive
``execute_notebook`` directly, to reach what a batch cannot provoke on purpose (a kernel
spawned ahead that is dead by the time its notebook arrives) and to pin down that a cell's
stop reason comes from the grader's own facts, never from what the kernel says.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.grading.execute import boot, jobs, notebook
from autograder.grading.outcomes import Outcome
from autograder.grading.settings import Limits
from autograder.grading.vocabulary import Blame, CellStatus, Failure

LIMITS = Limits(cell_seconds=30, submission_seconds=120)


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 6 * 7"), nbformat.v4.new_code_cell("print(x)")]
    return nb


def _printed(result) -> str:
    outputs = result.notebook.cells[1].outputs
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


@pytest.fixture
def no_spare():
    yield
    boot.discard_spare()


def test_a_notebook_runs_in_the_kernel_booted_ahead_for_it(tmp_path, no_spare):
    assert boot.boot_spare(limits=LIMITS, sandbox=None, scratch_root=tmp_path)
    result = notebook.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=tmp_path, spare=True
    )
    assert result.booted_ahead
    assert _printed(result) == "42\n"


def test_a_kernel_booted_ahead_that_died_is_replaced_and_the_notebook_still_runs(
    tmp_path, no_spare
):
    assert boot.boot_spare(limits=LIMITS, sandbox=None, scratch_root=tmp_path)
    boot.spare().km.provisioner.process.kill()
    boot.spare().km.provisioner.process.wait()
    result = notebook.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=tmp_path, spare=True
    )
    assert not result.booted_ahead
    assert _printed(result) == "42\n"
    assert [c.status for c in result.cells] == [CellStatus.OK, CellStatus.OK]


def test_without_spare_no_kernel_is_left_booted_for_later(tmp_path, no_spare):
    result = notebook.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=tmp_path, spare=False
    )
    assert not result.booted_ahead
    assert boot.spare() is None


def test_a_kernel_starts_under_a_folder_too_deep_for_a_socket_path(tmp_path, no_spare, monkeypatch):
    # Unix socket paths are capped near 107 bytes; the kernel's sockets must go elsewhere.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    made = []
    original = boot.runtime_dir

    def recorded(work):
        made.append(original(work))
        return made[-1]

    # Record this kernel's socket folder: other tests may use /tmp at the same time.
    monkeypatch.setattr(boot, "runtime_dir", recorded)
    result = notebook.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=deep, spare=False
    )
    assert _printed(result) == "42\n"
    assert made and all(deep not in folder.parents for folder in made)
    assert not any(folder.exists() for folder in made)  # its socket folder was removed


def test_a_result_crosses_from_a_worker_to_the_grader_as_json_text(tmp_path, no_spare):
    # Student data crosses processes as JSON, never pickled: a key in a notebook's metadata
    # that a pickled nbformat object would look its attributes up in changes nothing.
    nb = _notebook()
    nb.metadata["__setstate__"] = "x"
    nb.cells[0].metadata["__reduce_ex__"] = {"__class__": 1}
    job = jobs.Job(("ada", "01"), nb, (), {})
    assert jobs.Job.from_text(job.to_text()) == job
    result = notebook.execute_notebook(nb, limits=LIMITS, sandbox=None, scratch_root=tmp_path)
    back = jobs.Finished.from_text(jobs.Finished(job.key, result).to_text())
    assert back.result == result
    assert _printed(back.result) == "42\n"
    assert back.result.cells[0].status is CellStatus.OK


def test_a_failure_crosses_from_a_worker_with_whose_fault_it_is():
    for finished in (
        jobs.Finished.grader_failed(("ada", "01"), "worker refused: no sandbox"),
        jobs.Finished.notebook_failed(("ben", "01"), "it broke its grading worker twice"),
    ):
        back = jobs.Finished.from_text(finished.to_text())
        assert back == finished and back.result is None
    assert back.failure == Failure("it broke its grading worker twice", Blame.NOTEBOOK)
    assert not back.failure.by_grader


def test_an_outcome_record_keeps_whose_fault_a_failure_is_and_reads_older_records():
    lost = Outcome(
        "ada", "01", "a.ipynb", failure=Failure("could not be executed: x", Blame.GRADER)
    )
    own = Outcome("ben", "01", "b.ipynb", failure=Failure("unreadable notebook: not JSON"))
    graded = Outcome("cleo", "01", "c.ipynb")
    for outcome in (lost, own, graded):
        assert Outcome.from_record(json.loads(json.dumps(outcome.to_record()))) == outcome
    # The record of a notebook's own failure, or of none, is as it was before the Failure type.
    assert own.to_record()["failed"] == "unreadable notebook: not JSON"
    assert "failed_by" not in own.to_record() and graded.to_record()["failed"] == ""
    assert lost.to_record()["failed_by"] == "grader"


def test_an_outcome_record_from_before_failed_by_says_whose_fault_by_its_reason():
    old = {"student": "ada", "lesson": "01", "file": "a.ipynb", "notes": [], "verdicts": {}}
    lost = Outcome.from_record({**old, "failed": "could not be executed: worker refused: x"})
    own = Outcome.from_record({**old, "failed": "not graded: it broke its grading worker twice"})
    assert lost.failure.by_grader and not own.failure.by_grader


def test_a_notebook_the_grader_lost_is_not_taken_from_the_checkpoint(tmp_path):
    from autograder.grading.autograde.checkpoint import Checkpoint
    from autograder.grading.course_dir import CoursePaths

    checkpoint = Checkpoint(CoursePaths(tmp_path))
    checkpoint.path.parent.mkdir(parents=True)
    by_grader = Failure("could not be executed: x", Blame.GRADER)
    lost = Outcome("ada", "01", "a.ipynb", failure=by_grader)
    own = Outcome("ben", "01", "b.ipynb", failure=Failure("not graded: it broke its worker"))
    graded = Outcome("cleo", "01", "c.ipynb")
    for outcome in (lost, own, graded):
        checkpoint.add("digest", outcome, graded=outcome is graded)
    assert set(checkpoint.load()) == {("ben", "01"), ("cleo", "01")}


def _cells(*sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


@pytest.mark.parametrize(
    "source, status",
    [
        (
            "class CellTimeoutError(Exception): pass\nraise CellTimeoutError('cell timed out')",
            "error",
        ),
        ("raise MemoryError('ran out')", "error"),
        ("raise TimeoutError('stopped')", "error"),
        (
            "import numpy as np\nhog = [np.empty(64 * 1024**2, np.uint8) for _ in range(200)]",
            "memory",
        ),
        ("import time\ntime.sleep(30)", "timeout"),
        ("import os\nos._exit(0)", "kernel_died"),
    ],
)
def test_a_cells_stop_reason_is_the_graders_fact_not_the_kernels_word(
    tmp_path, no_spare, source, status
):
    limits = Limits(cell_seconds=2, submission_seconds=120, memory_mb=1024)
    result = notebook.execute_notebook(
        _cells(source, "print(6 * 7)"), limits=limits, sandbox=None, scratch_root=tmp_path
    )
    assert result.cells[0].status == status, result.notebook.cells[0].outputs
    assert [c.status for c in result.cells[1:]] == [CellStatus.OK]
