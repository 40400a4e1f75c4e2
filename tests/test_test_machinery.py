"""The suite's own machinery (tests/support/): it must be able to fail.

- ``--dist loadgroup`` keeps a group on one worker with the pytest and pytest-xdist installed
  (pytest-dev/pytest-xdist#1386), and the grouping check of conftest fails a group seen on two;
- ``shared_once`` builds once and hands every caller the same JSON, failures included;
- the autograde cache is keyed by every input of a lesson's run and keeps only clean runs;
- the packing of answer variants keeps apart what the code says may interact.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support import autograde_cache, packing, shared, xdist_groups

# --------------------------------------------------------------------------- xdist groups


GROUPED = """
import pytest

@pytest.mark.xdist_group("together")
@pytest.mark.parametrize("i", range(12))
def test_grouped(i):
    pass

@pytest.mark.parametrize("i", range(12))
def test_free(i):
    pass
"""

# What pytest-xdist#1386 does: the worker's `@group` suffix of the node ids is lost.
UNGROUPING_CONFTEST = """
import pytest

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        item._nodeid = item._nodeid.split("@")[0]
"""


def _two_workers(folder: Path) -> subprocess.CompletedProcess:
    """``pytest -n 2 --dist loadgroup`` in ``folder``, with the suite's grouping check."""
    tests = Path(__file__).resolve().parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(tests)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p"]
        + ["no:cacheprovider", "-p", "support.xdist_groups", "test_grouped.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path):
    """Twelve tests of one group and twelve free ones on two workers: the group stays on one."""
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    done = _two_workers(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    workers = set(re.findall(r"\[(gw\d+)\] .*PASSED test_grouped\.py::test_grouped", done.stdout))
    assert len(workers) == 1, (
        f"the group ran on {sorted(workers)} ({xdist_groups.ISSUE}): bound pytest as "
        f"pyproject.toml's dev extra says\n{done.stdout[-3000:]}"
    )


class _Item:
    def __init__(self, *groups):
        self.marks = [pytest.mark.xdist_group(g).mark for g in groups]

    def iter_markers(self, name):
        return [m for m in self.marks if m.name == name]


def test_the_grouping_check_fails_the_run_when_loadgroup_does_not_group(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "conftest.py").write_text(UNGROUPING_CONFTEST)
    done = _two_workers(tmp_path)
    workers = set(re.findall(r"\[(gw\d+)\] .* test_grouped\.py::test_grouped", done.stdout))
    assert workers == {"gw0", "gw1"}, done.stdout[-3000:]  # the bug, reproduced
    assert done.returncode == 1, done.stdout[-3000:]
    assert "is not grouping" in done.stdout and xdist_groups.ISSUE in done.stdout


def test_the_grouping_check_fails_a_group_seen_on_a_second_worker(tmp_path):
    item = _Item("browser")
    assert xdist_groups.problem(tmp_path, item, "gw0") is None
    assert xdist_groups.problem(tmp_path, item, "gw0") is None  # the same worker again
    found = xdist_groups.problem(tmp_path, item, "gw1")
    assert found and "'browser'" in found and "gw0" in found and xdist_groups.ISSUE in found
    assert xdist_groups.problem(tmp_path, _Item("other"), "gw1") is None


# --------------------------------------------------------------------------- shared_once


class _Factory:
    def __init__(self, base: Path):
        self.base = base

    def getbasetemp(self) -> Path:
        return self.base


def test_shared_once_builds_once_and_gives_json(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID", raising=False)
    monkeypatch.setattr(shared, "_DONE", {})
    calls = []

    def build(folder: Path):
        calls.append(folder)
        (folder / "made").write_text("x")
        return {"path": folder / "made", "n": (1, 2)}

    first = shared.shared_once(_Factory(tmp_path), "thing", build)
    monkeypatch.setattr(shared, "_DONE", {})  # as another worker: nothing in memory
    second = shared.shared_once(_Factory(tmp_path), "thing", build)
    assert len(calls) == 1
    assert first == second == {"path": str(calls[0] / "made"), "n": [1, 2]}


def test_shared_once_reports_a_failed_build_to_every_caller(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID", raising=False)
    monkeypatch.setattr(shared, "_DONE", {})

    def build(folder):
        raise ValueError("no luck")

    for _ in range(2):
        with pytest.raises(pytest.fail.Exception, match="no luck"):
            shared.shared_once(_Factory(tmp_path), "broken", build)
        monkeypatch.setattr(shared, "_DONE", {})
    with pytest.raises(pytest.fail.Exception, match="no luck"):  # not built again
        shared.shared_once(_Factory(tmp_path), "broken", lambda f: 1)


# --------------------------------------------------------------------------- autograde cache


def _course_copy(tmp_path: Path, lesson: str) -> Path:
    """The files a lesson's autograde run reads, copied under ``tmp_path``."""
    root = tmp_path / "course"
    for path in autograde_cache.inputs(lesson):
        if not path.is_relative_to(autograde_cache.ROOT) or not path.is_file():
            continue  # Jupyter's config path: the same for both keys
        target = root / path.relative_to(autograde_cache.ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    return root


@pytest.mark.parametrize(
    "changed",
    [
        "solutions/01_derivatives/01_derivatives.ipynb",
        "lessons/01_derivatives/01_derivatives.ipynb",
        "tests/fixtures/answers/01_derivatives.py",
        "helpers/checks.py",
        "tests/support/packing.py",
        "tests/conftest.py",
        "nbgrader_config.py",
    ],
)
def test_the_autograde_cache_key_changes_with_each_input(tmp_path, changed):
    root = _course_copy(tmp_path, "01_derivatives")
    before = autograde_cache.key("01_derivatives", root)
    assert autograde_cache.key("01_derivatives", root) == before  # the same content, the same key
    with open(root / changed, "a") as f:
        f.write("\n")
    assert autograde_cache.key("01_derivatives", root) != before, f"{changed} is not in the key"


@pytest.mark.parametrize("name", ["MPLBACKEND", "PYTHONPATH", "JUPYTER_PATH"])
def test_the_autograde_cache_key_changes_with_the_kernels_environment(monkeypatch, name):
    monkeypatch.delenv(name, raising=False)
    before = autograde_cache.key("01_derivatives")
    monkeypatch.setenv(name, "/somewhere/else")
    assert autograde_cache.key("01_derivatives") != before


def test_the_autograde_cache_hashes_the_helpers_a_kernel_imports():
    helpers = autograde_cache.kernel_helpers()
    assert (helpers / "checks.py").is_file()
    assert helpers / "checks.py" in autograde_cache.inputs("01_derivatives", helpers=helpers)


def test_the_autograde_cache_key_of_a_lesson_ignores_another_lessons_files(tmp_path):
    root = _course_copy(tmp_path, "01_derivatives")
    before = autograde_cache.key("01_derivatives", root)
    other = root / "solutions" / "02_chain_rule" / "02_chain_rule.ipynb"
    other.parent.mkdir(parents=True)
    other.write_text("{}")
    assert autograde_cache.key("01_derivatives", root) == before


def _run_result(tmp_path: Path, log: str = "", returncodes=(0, 0)) -> dict:
    notebook = tmp_path / "run" / "solved.ipynb"
    notebook.parent.mkdir(exist_ok=True)
    notebook.write_text("{}")
    return {
        "grades": {"s0": {}},
        "log": log,
        "returncodes": list(returncodes),
        "notebooks": {"solved": str(notebook)},
    }


def test_the_autograde_cache_reads_a_kept_run_back_without_running_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_AUTOGRADE_CACHE", str(tmp_path / "cache"))
    runs = []

    def run():
        runs.append(1)
        return _run_result(tmp_path)

    first = autograde_cache.cached("01_derivatives", run, into=tmp_path / "run")
    (tmp_path / "second").mkdir()
    second = autograde_cache.cached("01_derivatives", run, into=tmp_path / "second")
    assert len(runs) == 1
    assert second["grades"] == first["grades"]
    # The kept notebook is copied into the reading run's own folder: a prune cannot take it.
    copied = Path(second["notebooks"]["solved"])
    assert copied == tmp_path / "second" / "solved.ipynb" and copied.read_text() == "{}"


@pytest.mark.parametrize(
    "log, returncodes",
    [
        ("[AutogradeApp | ERROR] Timeout waiting for execute reply (60s).", (0, 0)),
        ("DeadKernelError: Kernel died", (0, 0)),
        ("RuntimeError: Kernel didn't respond in 60 seconds", (0, 0)),
        ("", (0, 1)),
    ],
    ids=["a cell timed out", "a kernel died", "a kernel never answered", "nbgrader exited 1"],
)
def test_the_autograde_cache_keeps_no_run_with_a_fault(tmp_path, monkeypatch, log, returncodes):
    monkeypatch.setenv("COURSE_AUTOGRADE_CACHE", str(tmp_path / "cache"))
    runs = []

    def run():
        runs.append(1)
        return _run_result(tmp_path, log, returncodes)

    autograde_cache.cached("01_derivatives", run, into=tmp_path / "run")
    autograde_cache.cached("01_derivatives", run, into=tmp_path / "run")
    assert len(runs) == 2


def test_the_autograde_cache_keeps_the_most_recently_used_runs_of_a_lesson(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("COURSE_AUTOGRADE_CACHE", str(cache))
    for n in range(autograde_cache.KEPT_PER_LESSON + 2):
        (cache / f"01_derivatives-old{n}").mkdir(parents=True)
        (cache / f"01_derivatives-old{n}" / "result.json").write_text("{}")
        os.utime(cache / f"01_derivatives-old{n}" / "result.json", (n, n))
    autograde_cache.cached("01_derivatives", lambda: _run_result(tmp_path), into=tmp_path / "run")
    left = sorted(p.name for p in cache.glob("01_derivatives-*") if p.is_dir())
    assert len(left) == autograde_cache.KEPT_PER_LESSON
    assert "01_derivatives-old0" not in left and "01_derivatives-old4" in left


def test_the_autograde_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_AUTOGRADE_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    runs = []
    for _ in range(2):
        result = _run_result(tmp_path)
        autograde_cache.cached("01_derivatives", lambda: runs.append(1) or result, into=tmp_path)
    assert len(runs) == 2 and not any(tmp_path.rglob("result.json"))


# --------------------------------------------------------------------------- packing


def _lesson(*cells) -> nbformat.NotebookNode:
    """A solutions notebook: ("code", src), ("answer", gid, src) or ("test", gid, src)."""
    nb = nbformat.v4.new_notebook()
    for kind, *rest in cells:
        if kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(rest[0]))
            continue
        gid, source = rest
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {
            "grade": kind == "test",
            "solution": kind == "answer",
            "grade_id": gid,
        }
        nb.cells.append(cell)
    return nb


class V:
    def __init__(self, gid, kind, source, n=0):
        self.grade_id, self.kind, self.source = gid, kind, source
        self.student = f"{kind}-{gid}-{n}"


LESSON = _lesson(
    ("code", "import numpy as np\nfrom helpers.exercises import toy as ex"),
    ("answer", "sigmoid", "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"),
    ("test", "test_sigmoid", "ex.check_sigmoid(sigmoid)"),
    ("answer", "forward", "def forward(x):\n    return sigmoid(x)"),
    ("test", "test_forward", "ex.check_forward(forward)"),
    ("code", "data = forward(np.ones(3))"),
    ("answer", "loss", "def loss(y):\n    return np.mean(y)"),
    ("test", "test_loss", "ex.check_loss(loss, data)"),
    ("answer", "square", "x = 3\ndef square(v):\n    return v * v"),
    ("test", "test_square", "ex.check_square(square)"),
    ("code", "x = 4"),
)


def test_dependencies_follow_names_through_answers_and_plain_cells_in_order():
    deps = packing.dependencies(LESSON, [])
    assert deps["forward"] == {"sigmoid"}
    assert deps["loss"] == {"forward", "sigmoid"}  # through `data`, a plain cell
    assert deps["sigmoid"] == set() and deps["square"] == set()  # `x = 4` comes after


def test_a_variant_binding_another_answers_name_makes_them_depend():
    lesson = _lesson(
        ("answer", "first", "def first():\n    return 1"),
        ("answer", "second", "def second():\n    return 2"),
        ("test", "test_first", "assert first() == 1"),
        ("test", "test_second", "assert second() == 2"),
    )
    assert packing.dependencies(lesson, [])["first"] == set()
    shadow = V("second", "wrong", "def second():\n    return 0\ndef first():\n    return 0")
    assert packing.dependencies(lesson, [shadow])["first"] == {"second"}


def test_wrong_variants_of_dependent_answers_never_share_a_submission():
    found = [
        V("sigmoid", "wrong", "def sigmoid(z):\n    return z"),
        V("forward", "wrong", "def forward(x):\n    return x"),
        V("square", "wrong", "def square(v):\n    return v"),
        V("forward", "right", "def forward(x):\n    return sigmoid(x) + 0", 1),
        V("sigmoid", "right", "def sigmoid(z):\n    return 0.5 + 0.5 * np.tanh(z / 2)", 1),
    ]
    subs = packing.pack(found, packing.dependencies(LESSON, found))
    assert sorted(v.student for s in subs for v in s.variants.values()) == sorted(
        v.student for v in found
    )
    deps = packing.dependencies(LESSON, found)
    for sub in subs:
        for a in sub.variants.values():
            for b in sub.variants.values():
                if a is not b and "wrong" in (a.kind, b.kind):
                    assert not packing.conflict(deps, a.grade_id, b.grade_id), sub
    assert len(subs) < len(found)
    with_square = next(s for s in subs if "square" in s.variants)
    assert len(with_square.variants) > 1  # independent: packed with another


def test_a_variant_that_does_more_than_define_names_shares_only_with_right_ones():
    loud = V("square", "wrong", "def square(v):\n    return v\nnp.random.seed(1)")
    quiet = V("sigmoid", "wrong", "def sigmoid(z):\n    return z")
    assert not packing.only_defines_names(loud.source)
    subs = packing.pack([loud, quiet], packing.dependencies(LESSON, [loud, quiet]))
    assert len(subs) == 2
    assert packing.untouchable(next(s for s in subs if "square" in s.variants), {}, ["x"]) == []
