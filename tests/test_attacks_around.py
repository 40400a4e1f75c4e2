"""Issue 22's second series: attacks AROUND the record/replay boundary, and what a correct grader
does with each (tests/fixtures/attacks_around.py builds them; one issue-22 class per attack).

Run as the instructor runs it: the real command line (`python -m autograder grade`, then
`python -m autograder export` in every format), real nbgrader, real sandboxed kernels. The main
batch (every attack that leaves a batch standing, and classmates) is graded ONCE; the class-8
attacks, which take today's batch down with them, are each graded in a small batch of their
own, one after the other, into one shared OUT (the lesson is generated once). Each test states
one behaviour of a correct grader for one attack.
"""

from __future__ import annotations

import csv
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "attacks_around", ROOT / "tests" / "fixtures" / "attacks_around.py"
)
around = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = around  # its dataclasses look their module up
_spec.loader.exec_module(around)

# Every test of this module reads the same batches: one pytest-xdist worker runs them all.
pytestmark = pytest.mark.xdist_group("attacks_around")

# --timeout: the class-1 attack that sleeps waits this long. Lesson 07's hidden tests drive a
# student's Value live, a socket round trip per operation: under the suite's load they need it.
CELL_SECONDS = "8"
EXPORT_FORMATS = ("canvas", "moodle", "wide")
# What a grades.csv detail says when the GRADER could not grade a notebook (not the student).
GRADER_FAULTS = (
    "could not be executed",
    "grading worker crashed",
    "nbgrader autograde failed",
    "could not be prepared",
)


# --------------------------------------------------------------------------- running


@dataclass
class Graded:
    """One run of `python -m autograder grade`, as the tests read it back."""

    out: Path
    returncode: int
    stdout: str
    stderr: str
    # from the last notebook's progress line to the end of the process: publishing
    publish_seconds: float
    killed: bool = False  # still publishing after around.PUBLISH_SECONDS: stopped there
    expected: dict = field(default_factory=dict)  # student -> around.Expectation

    def rows(self, name: str = "grades.csv") -> list[dict[str, str]]:
        """The rows of this batch's students (OUT may hold other batches' too)."""
        path = self.out / name
        if not path.is_file():
            return []
        with open(path, newline="") as f:
            found = [{**r, "student_id": _as_written(r["student_id"])} for r in csv.DictReader(f)]
        return [r for r in found if r["student_id"] in self.expected]

    def grade_row(self, student: str, lesson: str | None = None) -> dict[str, str] | None:
        for r in self.rows():
            if r["student_id"] == student and (lesson is None or r["lesson"] == lesson):
                return r
        return None

    def kept(self, student: str) -> dict[str, float]:
        """grade id -> points of the student's autograded cells (written answers left out)."""
        return {
            r["grade_id"]: float(r["score"])
            for r in self.rows("exercises.csv")
            if r["student_id"] == student and r["status"] != "needs_manual"
        }

    def page(self, student: str, lesson: str) -> str:
        path = self.out / "feedback" / student / f"{lesson}.html"
        return path.read_text() if path.is_file() else ""


_PROGRESS = re.compile(r"\[(\d+)/(\d+)")


def _as_written(cell: str) -> str:
    """A CSV cell's text as the student wrote it: the grader neutralises a cell that would be a
    formula with a leading single quote (OWASP's CSV-injection guidance), a spreadsheet's own
    "this is text" mark, which a program reading the file strips."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(around.FORMULA_STARTS) else cell


def _grade(subs: Path, out: Path, solutions: Path, cwd: Path, expected: dict) -> Graded:
    """Grade ``subs`` into ``out`` as an instructor does, timing what follows the last notebook.

    Publishing (CSVs, feedback pages, then the report) is stopped once it has run longer than
    around.PUBLISH_SECONDS: the grades and pages are written by then, and the tests that read
    them still can; the time bound's test fails.
    """
    scratch = Path(tempfile.mkdtemp(prefix="aa-", dir="/tmp"))  # short: the kernels' sockets
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        TMPDIR=str(scratch),
    )
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--jobs",
        "2",
        "--timeout",
        CELL_SECONDS,
        "--solutions",
        str(solutions),
        *around.GRADE_ARGS,
    ]
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    last = {"at": time.monotonic(), "done": False}
    err: list[str] = []
    out_text: list[str] = []

    def read_stderr():
        for line in proc.stderr:
            err.append(line)
            m = _PROGRESS.match(line)
            if m:
                last["at"], last["done"] = time.monotonic(), m[1] == m[2]

    readers = [
        threading.Thread(target=read_stderr, daemon=True),
        threading.Thread(target=lambda: out_text.append(proc.stdout.read()), daemon=True),
    ]
    for r in readers:
        r.start()
    killed = False
    deadline = time.monotonic() + 900
    while proc.poll() is None and time.monotonic() < deadline:
        if last["done"] and time.monotonic() - last["at"] > around.PUBLISH_SECONDS:
            proc.kill()  # our own child, by its id
            killed = True
            break
        time.sleep(0.2)
    proc.wait(timeout=60)
    ended = time.monotonic()
    for r in readers:
        r.join(timeout=10)
    shutil.rmtree(scratch, ignore_errors=True)
    return Graded(
        out,
        proc.returncode,
        "".join(out_text),
        "".join(err),
        ended - last["at"],
        killed,
        expected,
    )


def _solutions(base: Path) -> Path:
    folder = base / "solutions"
    for notebook in around.SOLUTIONS:
        shutil.copytree(notebook.parent, folder / notebook.parent.name)
    return folder


def _export(out: Path, fmt: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "export", str(out), "--format", fmt],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def main(tmp_path_factory) -> Graded:
    """The main batch: every attack but class 8's, with classmates; then every export."""
    base = tmp_path_factory.mktemp("attacks-around")
    subs = base / "submissions"
    expected = around.build(subs)
    graded = _grade(subs, base / "out", _solutions(base), base, expected)
    if (graded.out / "grades.csv").is_file():
        for fmt in EXPORT_FORMATS:
            _export(graded.out, fmt)
    return graded


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> dict[str, Graded]:
    """Each class-8 attack in a batch of its own, beside two classmates; one OUT for all."""
    base = tmp_path_factory.mktemp("attacks-alone")
    solutions = base / "solutions"
    shutil.copytree(around.TOY.parent, solutions / around.TOY.parent.name)
    out = base / "out"
    runs = {}
    for name in around.C8:
        subs = base / name
        runs[name] = _grade(subs, out, solutions, base, around.build_alone(subs, name))
    return runs


def _attacks(klass: int) -> list[str]:
    """The attacks of one class (students of the main batch)."""
    return sorted(around.attack_names()[klass])


def _expected(graded: Graded, student: str):
    return graded.expected[student]


def _assert_kept(graded: Graded, student: str) -> None:
    """The student keeps exactly the expected points (the failure names the trick)."""
    e = graded.expected[student]
    got = graded.kept(student)
    gained = {g: p for g, p in got.items() if p > e.points.get(g, 0)}
    assert got == e.points, f"{student} ({e.trick}): kept {gained or got}"


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_has_at_least_two_attacks_of_each_class():
    counts = {k: len(set(v)) for k, v in around.attack_names().items()}
    assert sorted(counts) == list(range(1, 10))
    assert min(counts.values()) >= 2


def test_every_attack_of_the_main_batch_is_built_with_its_class(main):
    built = around.classes(main.expected)
    named = {k: sorted(v) for k, v in around.attack_names().items() if k != 8}
    assert {k: sorted(v) for k, v in built.items()} == named


# --------------------------------------------------------------------------- class 1


@pytest.mark.parametrize("student", _attacks(1))
def test_a_stopped_test_cell_scores_only_what_the_trusted_side_decided(main, student):
    # The kernel's own execute_result must not stay in a test cell that timed out, whose kernel
    # died or that "ran out of memory": the wrong slope loses its 2 points, the rest is kept
    # (and one above the cell's points must not turn the whole notebook into 'failed').
    _assert_kept(main, student)


# --------------------------------------------------------------------------- class 2


def test_an_exception_named_like_the_graders_own_does_not_show_the_hidden_test(main):
    student = "c2_grader_error_name_shows_hidden_test"
    page = main.page(student, "99_toy")
    assert page, "no feedback page"
    assert [s for s in _expected(main, student).secret if s in page] == []


def test_a_timeout_error_raised_by_the_students_object_does_not_show_hidden_inputs(main):
    student = "c2_timeout_error_from_repr"
    page = main.page(student, "99_toy")
    assert page, "no feedback page"
    assert [s for s in _expected(main, student).secret if s in page] == []


def test_a_reply_named_like_nbclients_timeout_is_not_taken_for_a_timeout(main):
    student = "c2_forged_cell_timeout_reply"
    _assert_kept(main, student)
    assert "stopped after" not in main.grade_row(student)["detail"]


# --------------------------------------------------------------------------- class 3


@pytest.mark.parametrize("student", _attacks(3))
def test_an_expression_equal_only_at_the_public_sample_points_is_wrong(main, student):
    _assert_kept(main, student)


# --------------------------------------------------------------------------- class 4


@pytest.mark.parametrize("student", _attacks(4))
def test_writing_the_checkers_graph_does_not_change_what_is_right(main, student):
    _assert_kept(main, student)


# --------------------------------------------------------------------------- class 5


@pytest.mark.parametrize("student", _attacks(5))
def test_reading_the_reference_from_the_checker_does_not_pass_a_wrong_answer(main, student):
    _assert_kept(main, student)


# --------------------------------------------------------------------------- class 6


@pytest.mark.parametrize("student", _attacks(6))
def test_a_timestamp_the_student_wrote_does_not_make_a_late_notebook_on_time(main, student):
    row = main.grade_row(student, "99_toy")
    autograded = sum(_expected(main, student).points.values())
    assert row["late_by"] != "", row["detail"]
    assert float(row["penalty"]) == autograded * around.LATE_PENALTY_SHARE, row["detail"]
    assert "(timestamp.txt)" not in row["detail"]


def test_every_late_attack_keeps_its_autograded_points_before_the_penalty(main):
    got = {s: main.kept(s) for s in _attacks(6)}
    assert got == {s: _expected(main, s).points for s in _attacks(6)}


# --------------------------------------------------------------------------- class 7


def test_a_folder_named_as_a_pattern_leaves_the_other_students_notebooks_alone(main):
    for victim in around.GLOB_VICTIMS:
        notebook = main.out / "autograded" / victim / "99_toy" / "99_toy.ipynb"
        assert notebook.is_file(), f"{victim}'s autograded notebook is gone"
        assert main.kept(victim) == _expected(main, victim).points
        assert main.page(victim, "99_toy")
        assert (main.out / ".grader" / "outcomes" / f"{victim}.json").is_file()


def test_a_folder_named_as_a_pattern_is_reported_never_graded_under_the_pattern(main):
    rows = [r for r in main.rows() if r["student_id"] == around.GLOB_ATTACKER]
    assert rows and all(r["status"] == "failed" and r["score"] == "" for r in rows)
    assert not any(fault in r["detail"] for r in rows for fault in GRADER_FAULTS), rows


def _csv_cells(out: Path) -> list[tuple[str, str]]:
    """(file, cell) of every cell of every CSV the grader wrote into OUT, headers included."""
    found = []
    for path in [out / "grades.csv", out / "exercises.csv", *sorted(out.glob("exports/*.csv"))]:
        with open(path, newline="") as f:
            found += [(path.name, cell) for row in csv.reader(f) for cell in row]
    return found


def _is_formula(cell: str) -> bool:
    if not cell.startswith(around.FORMULA_STARTS):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def test_every_export_was_written(main):
    assert sorted(p.stem for p in (main.out / "exports").glob("*.csv")) == sorted(EXPORT_FORMATS)


@pytest.mark.parametrize(
    "student,text",
    [
        (around.FORMULA_ID, "HYPERLINK"),
        ("c7_formula_file_name", "SUM(1+1)"),
        (around.MINUS_ID, "2+3"),
    ],
)
def test_student_text_reaches_no_csv_cell_as_a_formula(main, student, text):
    cells = [(f, c) for f, c in _csv_cells(main.out) if text in c]
    assert cells, f"{student}: nothing of it in any CSV"
    assert [(f, c) for f, c in cells if _is_formula(c)] == []


@pytest.mark.parametrize("student", [around.FORMULA_ID, around.MINUS_ID])
def test_a_folder_named_as_a_formula_is_graded_as_itself_or_refused(main, student):
    e = _expected(main, student)
    rows = [r for r in main.rows() if r["student_id"] == student]
    refused = rows and all(r["status"] == "failed" for r in rows)
    assert (e.refusable and refused) or main.kept(student) == e.points


def test_no_csv_cell_the_grader_wrote_is_a_formula(main):
    assert [(f, c) for f, c in _csv_cells(main.out) if _is_formula(c)] == []


# --------------------------------------------------------------------------- class 9


def test_huge_answers_do_not_stall_publishing(main):
    e = _expected(main, "c9_huge_answers")
    took = f"{main.publish_seconds:.0f} s" + (" and was stopped" if main.killed else "")
    assert not main.killed and main.publish_seconds <= e.seconds, f"publishing took {took}"


def test_huge_answers_cost_only_the_wrong_answers_points(main):
    for student in around.HUGE_PAIR:
        _assert_kept(main, student)


def test_record_typed_outputs_outside_a_test_count_against_the_output_cap(main):
    student = "c9_records_outside_a_test"
    assert _expected(main, student).notes["detail"] in main.grade_row(student)["detail"]
    _assert_kept(main, student)


def test_a_display_updated_in_place_counts_against_the_output_cap(main):
    student = "c9_display_update_uncapped"
    notebook = main.out / "autograded" / student / "99_toy" / "99_toy.ipynb"
    assert notebook.stat().st_size <= around.AUTOGRADED_BYTES
    assert _expected(main, student).notes["detail"] in main.grade_row(student)["detail"]


def test_record_typed_displays_during_a_test_change_nothing(main):
    student = "c9_extra_records_in_a_test"
    _assert_kept(main, student)
    assert "test_square" not in main.grade_row(student)["detail"]


# --------------------------------------------------------------------------- everyone


def test_every_classmate_keeps_exactly_its_points(main):
    mates = [s for s, e in main.expected.items() if e.klass == 0]
    assert {s: main.kept(s) for s in mates} == {s: main.expected[s].points for s in mates}


def _hidden_lines() -> list[str]:
    """The hidden test lines of every lesson graded here (25 characters or more)."""
    found = []
    for path in around.SOLUTIONS:
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            inside = False
            for line in source.splitlines():
                if "BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "END HIDDEN TESTS" in line:
                    inside = False
                elif inside and len(line.strip()) >= 25:
                    found.append(line.strip())
    return found


def test_no_feedback_page_shows_a_hidden_test(main):
    texts = {"HIDDEN-SLOPE-1", "HIDDEN-SQUARE-1", "BEGIN HIDDEN TESTS"}
    for line in _hidden_lines():
        texts |= {line, html.escape(line)}
    leaks = []
    for page in (main.out / "feedback").glob("*/*.html"):
        content = page.read_text()
        leaks += [(page.parent.name, t[:60]) for t in texts if t in content]
    assert leaks == []


def test_the_main_batch_exits_nonzero_when_the_grader_failed_a_notebook_itself(main):
    faults = [r for r in main.rows() if any(f in r["detail"] for f in GRADER_FAULTS)]
    if faults:
        assert not main.killed, f"{faults}: stopped while publishing, the exit status is unknown"
        assert main.returncode != 0, faults


def test_every_graded_student_has_a_record_and_a_feedback_page(main):
    missing = [
        s
        for s, e in main.expected.items()
        if e.points is not None
        and not e.refusable
        and not (
            (main.out / ".grader" / "outcomes" / f"{s}.json").is_file() and main.page(s, e.lesson)
        )
    ]
    assert missing == []


def test_every_attacker_of_the_main_batch_gets_a_row(main):
    assert main.rows(), main.stderr[-3000:]
    listed = {r["student_id"] for r in main.rows()}
    assert set(main.expected) <= listed


# --------------------------------------------------------------------------- class 8


@pytest.mark.parametrize("name", sorted(around.C8))
def test_a_notebook_that_breaks_the_pool_costs_its_classmates_nothing(alone, name):
    run = alone[name]
    mates = around.classmates(name)
    got = {s: run.kept(s) for s in mates}
    assert got == {s: run.expected[s].points for s in mates}, run.stderr[-2000:]


@pytest.mark.parametrize("name", sorted(around.C8))
def test_a_notebook_that_breaks_the_pool_is_judged_on_its_own_answers(alone, name):
    run = alone[name]
    e = run.expected[f"a_{name}"]
    if e.points is None:
        row = run.grade_row(f"a_{name}")
        assert row is not None and row["status"] == e.status and row["score"] == "", row
    else:
        assert run.kept(f"a_{name}") == e.points


@pytest.mark.parametrize("name", sorted(around.C8))
def test_a_batch_exits_nonzero_when_the_grader_failed_a_notebook_itself(alone, name):
    run = alone[name]
    faults = [r for r in run.rows() if any(f in r["detail"] for f in GRADER_FAULTS)]
    assert run.returncode != 0 or faults == [], faults
