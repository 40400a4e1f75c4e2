"""Specification of the cell-by-cell executor's kernel hand-over (autograder.grading.execute).

The grading command itself is specified in test_grade.py; these tests drive
``execute_notebook`` directly, without a sandbox, to reach the one case a batch cannot
provoke on purpose: a kernel spawned ahead that is dead by the time its notebook arrives.
"""

from __future__ import annotations

import nbformat
import pytest

from autograder.grading.execute import kernel
from autograder.grading.settings import Limits
from autograder.grading.vocabulary import Status

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
    kernel.discard_spare()


def test_a_notebook_runs_in_the_kernel_booted_ahead_for_it(tmp_path, no_spare):
    assert kernel.boot_spare(limits=LIMITS, sandbox=None, scratch_root=tmp_path)
    result = kernel.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=tmp_path, spare=True
    )
    assert result.booted_ahead
    assert _printed(result) == "42\n"


def test_a_kernel_booted_ahead_that_died_is_replaced_and_the_notebook_still_runs(
    tmp_path, no_spare
):
    assert kernel.boot_spare(limits=LIMITS, sandbox=None, scratch_root=tmp_path)
    kernel._SPARE.km.provisioner.process.kill()
    kernel._SPARE.km.provisioner.process.wait()
    result = kernel.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=tmp_path, spare=True
    )
    assert not result.booted_ahead
    assert _printed(result) == "42\n"
    assert [c.status for c in result.cells] == [Status.OK, Status.OK]


def test_without_spare_no_kernel_is_left_booted_for_later(tmp_path, no_spare):
    result = kernel.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=tmp_path, spare=False
    )
    assert not result.booted_ahead
    assert kernel._SPARE is None


def test_a_kernel_starts_under_a_folder_too_deep_for_a_socket_path(tmp_path, no_spare, monkeypatch):
    # Unix socket paths are capped near 107 bytes; the kernel's sockets must go elsewhere.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    made = []
    original = kernel._runtime_dir

    def recorded(work):
        made.append(original(work))
        return made[-1]

    # Record this kernel's socket folder: other tests may use /tmp at the same time.
    monkeypatch.setattr(kernel, "_runtime_dir", recorded)
    result = kernel.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=deep, spare=False
    )
    assert _printed(result) == "42\n"
    assert made and all(deep not in folder.parents for folder in made)
    assert not any(folder.exists() for folder in made)  # its socket folder was removed


def test_a_result_crosses_from_a_worker_to_the_grader_as_it_is(tmp_path, no_spare):
    import pickle

    result = kernel.execute_notebook(
        _notebook(), limits=LIMITS, sandbox=None, scratch_root=tmp_path
    )
    back = pickle.loads(pickle.dumps(result))
    assert back == result
    assert _printed(back) == "42\n"
    assert back.cells[0].status is Status.OK
