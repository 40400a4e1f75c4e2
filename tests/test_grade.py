"""Specification of `python -m autograder grade`, run as the instructor runs it, on real nbgrader.

Every fault submission of tests/fixtures/toy_submissions.py and every attack of
tests/fixtures/attacks.py (a wrong answer plus one trick: through IPython, through Python
itself, through the grader's own recorder, a symbolic link to a solution; the toy lesson and
Lesson 01 side by side) is graded in ONE batch (the module-scoped ``batch`` fixture); three
small runs compare layouts (zip, nbgrader tree), --jobs and --student against it. The batch
and the layout runs are graded once per test run, however many pytest-xdist workers read them
(``shared_once``), and the module keeps to one worker (its xdist group). Each run starts
nbgrader and sandboxed kernels, and the loop and SIGINT cases wait out their limit. Argument
errors found before anything starts are checked in this process.
The points of each test are decided outside the student's kernel
(autograder/grading/judge/).
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from support.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "toy_submissions", ROOT / "tests" / "fixtures" / "toy_submissions.py"
)
toy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(toy)
_spec = importlib.util.spec_from_file_location(
    "attacks", ROOT / "tests" / "fixtures" / "attacks.py"
)
attacks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attacks)

CASES = toy.cases()
SUBSET = ["right", "wrong_slope", "os_exit", "deleted_test"]
TOY_ATTACKS = sorted(
    [
        *attacks.TRICKS,
        *attacks.ANSWERS,
        *attacks.AROUND,
        *attacks.FLOOD_ATTACKS,
        "dunder_keys_in_the_notebook",
        "symlink_to_solution",
    ]
)
ATTACKS = sorted(
    [*TOY_ATTACKS, "lesson_01_checkers", *attacks.LESSON_07_ATTACKS, *attacks.SYMPY_ATTACKS]
)

# The batch and the layout runs are read by most tests: one worker runs the module.
pytestmark = pytest.mark.xdist_group("grade")


def grade(
    *args: str, cwd: Path, solutions: Path = toy.TOY_SOLUTIONS, **extra_env: str
) -> subprocess.CompletedProcess:
    return run_cli("grade", *args, "--solutions", solutions, cwd=cwd, **extra_env)


def grade_in_process(*args: str, cwd: Path, monkeypatch) -> subprocess.CompletedProcess:
    """The same command's ``main`` in this process, for what it decides before grading."""
    from autograder.commands.grade import main

    monkeypatch.chdir(cwd)
    monkeypatch.setenv("COLUMNS", "80")  # help text wrapped as in a pipe
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([*map(str, args), "--solutions", str(toy.TOY_SOLUTIONS)])
        except SystemExit as exit_:  # argparse: --help, or an argument it rejects
            code = exit_.code
    return subprocess.CompletedProcess("grade", code, out.getvalue(), err.getvalue())


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def points(out: Path) -> dict[str, dict[str, float]]:
    got: dict[str, dict[str, float]] = {}
    for row in read_csv(out / "exercises.csv"):
        got.setdefault(row["student_id"], {})[row["grade_id"]] = float(row["score"] or 0)
    return got


def grades(out: Path, students=None) -> dict[str, tuple]:
    return {
        (r["student_id"], r["lesson"]): (r["score"], r["max_score"], r["status"])
        for r in read_csv(out / "grades.csv")
        if students is None or r["student_id"] in students
    }


def _graded_once(shared: Path) -> dict:
    """Build the corpus and grade it in ``shared``; what every test reads back, as JSON."""
    subs = shared / "submissions"
    expected = toy.build(subs)
    both = shared / "with_attacks"
    shutil.copytree(subs, both)
    attacked = attacks.build(both)
    solutions = shared / "solutions"
    for lesson_file in (attacks.TOY, attacks.LESSON_01, attacks.LESSON_07):
        shutil.copytree(lesson_file.parent, solutions / lesson_file.parent.name)
    if os.path.exists(toy.OUTSIDE):
        os.remove(toy.OUTSIDE)
    done = grade(
        both,
        "--out",
        shared / "out",
        "--jobs",
        "2",
        # Long enough for Lesson 07's hidden tests driving a student's Value live, one socket
        # round trip per operation, on a machine loaded by the rest of the suite (4 s was not:
        # test_zero_grad of lesson_07_engine was stopped once); the toy's loops wait it out.
        "--timeout",
        "8",
        cwd=shared,
        solutions=solutions,
    )
    return {
        "expected": expected,
        "attacked": attacked,
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }


@pytest.fixture(scope="module")
def graded_once(shared_once) -> tuple[Path, dict]:
    """The toy faults and the attack corpus graded in ONE batch, once per test run
    (``shared_once``: the tests only read its OUT; what they change they copy first)."""
    run = shared_once("grade-batch", lambda f: {"folder": f, "run": _graded_once(f)})
    return Path(run["folder"]), run["run"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory, graded_once):
    """(this worker's own folder, the toy faults' SUBMISSIONS, OUT, their expected points and
    statuses, the command's result)."""
    shared, run = graded_once
    done = subprocess.CompletedProcess("grade", run["returncode"], run["stdout"], run["stderr"])
    base = tmp_path_factory.mktemp("grade")
    return base, shared / "submissions", shared / "out", run["expected"], done


@pytest.fixture(scope="module")
def attacked(graded_once):
    """student -> the points per test cell each attack (and the solved Lesson 01) must keep."""
    return graded_once[1]["attacked"]


def test_a_batch_with_every_fault_exits_zero(batch):
    *_, done = batch
    assert done.returncode == 0, done.stderr[-3000:]


def test_every_notebook_runs_in_a_kernel_booted_before_it_arrived(batch):
    # Workers boot their first kernel while the grader prepares the batch, and the next one
    # while a finished notebook is handed over: no notebook waits for a cold kernel start.
    _, _, out, _, _ = batch
    timings = [
        o["timings"]
        for f in (out / ".grader" / "outcomes").glob("*.json")
        for o in json.loads(f.read_text())
        if o.get("timings")
    ]
    assert len(timings) >= 10
    assert all(t["booted_ahead"] for t in timings)


def test_every_student_gets_one_row_in_grades_csv(batch):
    _, _, out, expected, _ = batch
    rows = read_csv(out / "grades.csv")
    toy_rows = [r["student_id"] for r in rows if r["student_id"] not in ATTACKS + ["solved"]]
    assert sorted(toy_rows) == sorted(expected)
    assert list(rows[0]) == [
        "student_id",
        "lesson",
        "score",
        "max_score",
        "late_by",
        "penalty",
        "status",
        "detail",
    ]


@pytest.mark.parametrize("student", sorted(CASES))
def test_fault_costs_only_the_exercises_it_touches(batch, student):
    _, _, out, expected, _ = batch
    want, _status = expected[student]
    got = dict(points(out)[student])
    got.pop("written_toy")
    assert got == want


@pytest.mark.parametrize("student", sorted(CASES))
def test_graded_submission_waits_for_the_written_answer(batch, student):
    _, _, out, _, _ = batch
    assert grades(out)[(student, "99_toy")][2] == "needs_manual"


@pytest.mark.parametrize("student", sorted(toy.BROKEN))
def test_an_ungradable_file_is_failed_with_its_reason_not_zero(batch, student):
    _, _, out, _, _ = batch
    (row,) = [r for r in read_csv(out / "grades.csv") if r["student_id"] == student]
    assert row["status"] == "failed"
    assert row["score"] == ""
    assert toy.BROKEN[student][2] in row["detail"]


def test_colab_file_name_is_recognised_by_content(batch):
    _, _, out, _, _ = batch
    (row,) = [r for r in read_csv(out / "grades.csv") if r["student_id"] == "right"]
    assert row["lesson"] == "99_toy" and "Copy of 99_toy (2).ipynb" in row["detail"]
    assert row["score"] == "4"


def test_no_feedback_file_contains_hidden_test_text(batch):
    _, _, out, _, _ = batch
    pages = list((out / "feedback").glob("*/99_toy.html"))  # the attacks' pages too
    assert len(pages) == len(CASES) + len(TOY_ATTACKS)
    for page in pages:
        text = page.read_text()
        for marker in toy.HIDDEN_MARKERS:
            assert marker not in text, (page, marker)


def test_a_hidden_failure_says_which_check_failed_without_its_inputs(batch):
    _, _, out, _, _ = batch
    text = (out / "feedback" / "hidden_wrong" / "99_toy.html").read_text()
    assert "A hidden check failed: slope_of_square gave a wrong value." in text
    assert "14.5" not in text and "8.25" not in text


def test_a_visible_failure_shows_the_check_message(batch):
    _, _, out, _, _ = batch
    text = (out / "feedback" / "wrong_slope" / "99_toy.html").read_text()
    assert "slope_of_square gave a wrong value." in text and "expected       : 2" in text


def test_a_50_mb_print_reaches_neither_feedback_nor_gradebook(batch):
    _, _, out, _, _ = batch
    assert (out / "feedback" / "big_print" / "99_toy.html").stat().st_size < 100_000
    assert (out / "autograded" / "big_print" / "99_toy" / "99_toy.ipynb").stat().st_size < 2_000_000
    assert "output cut" in grades_detail(out, "big_print")


def grades_detail(out: Path, student: str) -> str:
    return next(r["detail"] for r in read_csv(out / "grades.csv") if r["student_id"] == student)


@pytest.mark.parametrize(
    "student,words",
    [
        ("loop", "time limit per cell"),
        ("sigint", "ignored the interrupt and was replaced"),
        ("os_exit", "kernel died"),
        ("memory_hog", "out of memory"),
        ("deleted_test", "was missing; put back"),
        ("duplicated_test", "duplicate"),
        ("retyped_test", "turned into markdown"),
        ("stripped_test", "lost its nbgrader metadata"),
        ("edited_test", "was edited"),
    ],
)
def test_detail_says_what_happened(batch, student, words):
    _, _, out, _, _ = batch
    assert words in grades_detail(out, student)


def test_student_code_cannot_write_outside_its_scratch_folder(batch):
    assert not os.path.exists(toy.OUTSIDE)


def test_report_is_self_contained_with_plots_and_sandbox_status(batch):
    _, _, out, _, _ = batch
    text = (out / "report.html").read_text()
    assert "data:image/png;base64," in text
    assert "bubblewrap" in text
    assert "unreadable notebook" in text  # failed submissions and why
    assert "<script" not in text and "http" not in text


def test_out_is_an_nbgrader_course_formgrader_can_open(batch):
    from nbgrader.api import Gradebook

    out = batch[2]
    assert (out / "nbgrader_config.py").exists()
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        graded = {s.student.id for s in gb.find_assignment("99_toy").submissions}
        assert graded == set(CASES) | set(TOY_ATTACKS)
        written = gb.find_grade("written_toy", "99_toy", "99_toy", "right")
        assert written.needs_manual_grade


# --------------------------------------------------------------------------- attacks


def test_the_corpus_has_twenty_attacks_or_more():
    assert len(ATTACKS) >= 20


def _kept(out: Path, student: str) -> dict[str, float]:
    return {
        r["grade_id"]: float(r["score"])
        for r in read_csv(out / "exercises.csv")
        if r["student_id"] == student and r["status"] != "needs_manual"
    }


@pytest.mark.parametrize("student", ATTACKS)
def test_an_attack_loses_exactly_the_wrong_answers_points(batch, attacked, student):
    assert _kept(batch[2], student) == attacked[student]


def test_the_solved_lesson_keeps_full_marks_in_batch_grading(batch, attacked):
    assert _kept(batch[2], "solved") == attacked["solved"]


def test_two_huge_alike_answers_are_compared_cut_and_the_report_says_so(batch):
    report = (batch[2] / "report.html").read_text()
    section = report[report.index("id='similar'") :]
    assert "similarity_flood_1, similarity_flood_2" in section
    assert "compared by their first" in section


def test_a_symbolic_link_to_a_solution_is_refused_and_says_why(batch):
    rows = [
        r for r in read_csv(batch[2] / "grades.csv") if r["student_id"] == "symlink_to_solution"
    ]
    refused = [r for r in rows if r["status"] == "failed"]
    assert len(refused) == 1 and "symbolic link" in refused[0]["detail"]
    assert refused[0]["score"] == ""


def test_an_answer_that_calls_the_courses_own_implementation_is_pointed_out(batch):
    out = batch[2]
    row = next(
        r
        for r in read_csv(out / "grades.csv")
        if r["student_id"] == "lesson_01_checkers" and r["lesson"] == "01_derivatives"
    )
    assert "central_difference" in row["detail"] and "no points taken" in row["detail"]
    assert "central_difference" in (out / "report.html").read_text()


def test_a_test_that_did_not_run_as_written_is_reported_to_the_instructor(batch):
    # The attack's answer is over the message size limit: the worker ends the conversation.
    detail = grades_detail(batch[2], "huge_answer")
    assert "test 'test_slope_of_square': this test did not run as written: " in detail


@pytest.mark.parametrize("student", sorted(attacks.NOT_ON_THE_PAGE))
def test_an_attack_makes_its_page_show_nothing_it_chose(batch, student):
    page = (batch[2] / "feedback" / student / "99_toy.html").read_text()
    for text in attacks.NOT_ON_THE_PAGE[student]:
        assert text not in page, text
    assert "A hidden check failed" in page


@pytest.mark.parametrize("student", sorted(attacks.NOT_IN_DETAIL))
def test_an_attack_makes_the_detail_say_nothing_it_chose(batch, student):
    detail = grades_detail(batch[2], student)
    for words in attacks.NOT_IN_DETAIL[student]:
        assert words not in detail, detail


def test_output_of_any_type_is_under_the_cap_in_every_cell(batch):
    out = batch[2]
    autograded = out / "autograded" / "record_type_output_flood" / "99_toy" / "99_toy.ipynb"
    assert autograded.stat().st_size < 2_000_000
    assert "output cut" in grades_detail(out, "record_type_output_flood")


def test_a_linked_student_folder_or_zip_entry_is_refused_without_reading_it(tmp_path):
    from autograder.grading.collect import ingest

    subs = tmp_path / "subs"
    (subs / "ada").mkdir(parents=True)
    (subs / "bob").symlink_to(attacks.TOY.parent)
    (subs / "ada" / "linked").symlink_to(attacks.TOY.parent)
    archive = tmp_path / "subs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("cy/99_toy.ipynb")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, str(attacks.TOY))
    for root in (subs, ingest.unpack(archive, tmp_path / "work")):
        found = ingest.find_notebooks(root).notebooks
        assert found and all(n.content is None for n in found)
        assert all(n.problem == ingest.LINK_REFUSED for n in found)


# --------------------------------------------------------------------------- the worker pool


@pytest.fixture(scope="module")
def killer_run(batch):
    """--no-sandbox (a kernel can reach its worker): a notebook that kills the grading worker
    running it, every time, beside two classmates."""
    base = batch[0]
    subs = base / "killer"
    expected = attacks.build_worker_killer(subs)
    out = base / "out_killer"
    done = grade(subs, "--out", out, "--jobs", "2", "--timeout", "4", "--no-sandbox", cwd=base)
    return out, done, expected


def test_a_notebook_that_kills_its_worker_is_charged_to_it_alone(killer_run):
    out, done, expected = killer_run
    assert done.returncode == 0, done.stderr[-3000:]
    row = next(r for r in read_csv(out / "grades.csv") if r["student_id"] == "a_kills_its_worker")
    assert row["status"] == "failed" and row["score"] == ""
    assert "broke the grading worker 2 times" in row["detail"]
    assert "could not be executed" not in row["detail"]  # the grader's own failures say that
    for student in ("classmate_right", "classmate_wrong"):
        assert _kept(out, student) == expected[student]


def test_a_run_that_failed_a_notebook_by_its_own_fault_exits_1_and_says_why(batch, tmp_path):
    # A host whose bubblewrap passes the probe but starts no kernel: every notebook is the
    # grader's failure; the run publishes, names each on stderr and exits 1.
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    broken = tmp_path / "bwrap"
    broken.write_text(
        f'#!/bin/sh\ncase "$*" in *ipykernel_launcher*) exit 1;; esac\nexec {bwrap} "$@"\n'
    )
    broken.chmod(0o755)
    subs = batch[1]
    only = tmp_path / "subs"
    shutil.copytree(subs / "right", only / "right")
    out = tmp_path / "out"
    done = grade(only, "--out", out, "--timeout", "4", cwd=tmp_path, AUTOGRADER_BWRAP=str(broken))
    assert done.returncode == 1, done.stderr[-3000:]
    assert "1 notebook(s) could not be graded through the grader's own fault" in done.stderr
    assert "right 99_toy: could not be executed" in done.stderr
    (row,) = read_csv(out / "grades.csv")
    assert row["status"] == "failed" and "could not be executed" in row["detail"]


# --------------------------------------------------------------------------- other layouts


@pytest.fixture(scope="module")
def zip_run(batch, shared_once):
    """The SUBSET as a zip, with --jobs 1, into a course whose config names another database,
    from a temporary folder too deep for the kernels' socket paths (about 107 bytes at most):
    (OUT, the folder of the run)."""
    subs = batch[1]

    def build(base: Path) -> list[Path]:
        deep_tmp = base / ("t" * 60) / ("u" * 60)
        deep_tmp.mkdir(parents=True)
        archive = base / "subset.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for student in SUBSET:
                for f in (subs / student).iterdir():
                    zf.write(f, f"class/{student}/{f.name}")
        out = base / "out_zip"
        out.mkdir()
        (out / "nbgrader_config.py").write_text(
            "c = get_config()\n"
            'c.CourseDirectory.course_id = "calculus-for-deep-learning"\n'
            f'c.CourseDirectory.db_url = "sqlite:///{base / "elsewhere.db"}"\n'
        )
        done = grade(
            archive, "--out", out, "--jobs", "1", "--timeout", "4", cwd=base, TMPDIR=str(deep_tmp)
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return [out, base]

    out, base = shared_once("grade-zip-run", build)
    return Path(out), Path(base)


def test_zip_and_jobs_1_give_the_same_grades_as_the_folder_with_jobs_2(batch, zip_run):
    out, (zipped, _) = batch[2], zip_run
    assert grades(zipped) == grades(out, SUBSET)
    assert {s: points(zipped)[s] for s in SUBSET} == {s: points(out)[s] for s in SUBSET}


def test_the_gradebook_goes_where_db_url_says(zip_run):
    out, base = zip_run
    assert (base / "elsewhere.db").exists()
    assert not (out / "gradebook.db").exists()


@pytest.fixture(scope="module")
def tree_run(batch, shared_once):
    """The SUBSET as an nbgrader submitted/ tree: (OUT, the command's result)."""
    subs = batch[1]

    def build(base: Path) -> dict:
        tree = base / "tree" / "submitted"
        for student in SUBSET:
            (src,) = list((subs / student).iterdir())
            dest = tree / student / "99_toy" / "99_toy.ipynb"
            dest.parent.mkdir(parents=True)
            shutil.copy(src, dest)
        done = grade(tree, "--out", base / "out_tree", "--jobs", "2", "--timeout", "4", cwd=base)
        assert done.returncode == 0, done.stderr[-2000:]
        return {"out": base / "out_tree", "returncode": done.returncode, "stderr": done.stderr}

    run = shared_once("grade-tree-run", build)
    return Path(run["out"]), subprocess.CompletedProcess(
        "grade", run["returncode"], "", run["stderr"]
    )


def test_an_nbgrader_submitted_tree_gives_the_same_grades(batch, tree_run):
    assert grades(tree_run[0]) == grades(batch[2], SUBSET)


def test_a_failing_sandbox_stops_the_run_and_says_why(tmp_path):
    # Fail closed: no kernel runs unisolated unless --no-sandbox says so (tests/test_one_writer.py
    # grades with --no-sandbox).
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    toy.samples.write(CASES["right"][1], tmp_path / "subs" / "ann" / "99_toy.ipynb")
    done = grade(
        tmp_path / "subs", "--out", tmp_path / "out", cwd=tmp_path, AUTOGRADER_BWRAP="/bin/false"
    )
    assert done.returncode == 2
    assert "cannot isolate student code" in done.stderr and "--no-sandbox" in done.stderr


def test_student_option_regrades_only_that_student(batch):
    base, subs, out, _, _ = batch
    again = base / "regrade"
    shutil.copytree(out, again)
    others = {
        p: p.stat().st_mtime_ns
        for p in (again / "feedback").rglob("*.html")
        if p.parent.name != "wrong_slope"
    }
    before = grades(again)
    fixed = base / "subs_fixed"
    shutil.copytree(subs, fixed)
    toy.samples.write(CASES["right"][1], fixed / "wrong_slope" / "99_toy.ipynb")
    done = grade(fixed, "--out", again, "--student", "wrong_slope", "--timeout", "4", cwd=base)
    assert done.returncode == 0, done.stderr[-2000:]
    after = grades(again)
    assert after[("wrong_slope", "99_toy")][0] == "4"
    assert {k: v for k, v in after.items() if k[0] != "wrong_slope"} == {
        k: v for k, v in before.items() if k[0] != "wrong_slope"
    }
    assert {p: p.stat().st_mtime_ns for p in others} == others


@pytest.mark.parametrize(
    "args,words",
    [
        (["does-not-exist", "--out", "o"], "SUBMISSIONS not found"),
        (["subs", "--out", "o", "--jobs", "0"], "--jobs"),
        (["subs", "--out", "o", "--memory", "10"], "--memory"),
        (["subs", "--out", "o", "--lesson", "42_nothing"], "not a lesson"),
        (["subs", "--out", "subs/o"], "inside"),
    ],
)
def test_the_grader_exits_2_with_a_clear_message_when_it_cannot_run(
    tmp_path, monkeypatch, args, words
):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    if "--lesson" in args:  # found once the workers run: the command as a process
        done = grade(*args, cwd=tmp_path)
    else:  # found before anything starts: in this process
        done = grade_in_process(*args, cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.returncode == 2
    assert words in done.stderr


def test_help_names_every_option_the_guide_documents(tmp_path, monkeypatch):
    done = grade_in_process("--help", cwd=tmp_path, monkeypatch=monkeypatch)
    assert done.returncode == 0
    guide = (ROOT / "docs" / "GRADING.md").read_text()
    documented = set(re.findall(r"^\| `(--[a-z-]+)", guide, re.MULTILINE))
    listed = set(re.findall(r"^\s+(--[a-z-]+)", done.stdout, re.MULTILINE)) - {"--help"}
    assert documented, "docs/GRADING.md has no option table"
    assert listed == documented


def test_the_default_cell_time_limit_is_stated_alike_everywhere(tmp_path):
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.grading import course_dir
    from autograder.grading.settings import Limits

    default = Limits().cell_seconds
    repository = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    out = course_dir.open_course(tmp_path / "out").config
    guide = (ROOT / "docs" / "GRADING.md").read_text()
    assert repository.Execute.timeout == default
    assert out.Execute.timeout == default
    assert f"| `--timeout S` | {default:g} |" in guide


def test_the_guide_states_each_default_limit_the_grader_uses():
    from autograder.grading.settings import Limits

    d = Limits()
    guide = (ROOT / "docs" / "GRADING.md").read_text()
    for option, value in (
        ("--timeout S", d.cell_seconds),
        ("--notebook-timeout S", d.submission_seconds),
        ("--memory MB", d.memory_mb),
        ("--max-output BYTES", d.output_bytes),
    ):
        assert f"| `{option}` | {value:.10g} |" in guide, option
