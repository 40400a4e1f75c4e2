"""The demo class grades to the same bytes as the golden files in tests/fixtures/demo_golden/.

A guard for changes that must not change behaviour: ``python -m autograder.demo`` (the command
``make demo`` runs) grades its sample class - a right, a partly wrong and late, a broken and a
corrupt submission, and a roster student with none - and grades.csv, exercises.csv, every
feedback page, report.html, run.json, the grader's outcome records and the three exports must
equal the golden copies.

To keep the suite short the class is built for two lessons only (the two lightest; every
lesson has written answers, so "needs manual grading" is covered), graded once for all the
comparisons. Measured: 1 min 45 s to 4 min on 2 cores shared with other work (load average 5
to 10), most of it the solutions running and nbgrader; cleo's runaway loops wait out the demo's
10 s cell limit side by side.

Only what varies from run to run or machine to machine is normalised, and each normalisation
says why: the seconds in report.html's "where the time went" table and in the outcome records'
``timings`` (wall-clock measurements), and the sandbox sentence in report.html and run.json
(whether bubblewrap works depends on the machine, not on the grader).

When the outputs change on purpose (a feedback page reworded, a lesson changed), regenerate:

    .venv/bin/python tests/test_demo_outputs.py --write

and review the diff of tests/fixtures/demo_golden/ before committing it. When a lesson's answer
fixtures change, first refresh the demo's copy of their mistakes (autograder/demo/mistakes.py):

    .venv/bin/python tests/test_demo_outputs.py --mistakes
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support.cli import run_module

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "fixtures" / "demo_golden"
LESSONS = ("02_chain_rule", "06_gradient_checker")

# report.html: the mean seconds per phase are measurements of this run.
_REPORT_SECONDS = re.compile(r"<td>\d+\.\d\d s</td>")
# report.html: green when kernels ran under bubblewrap, red with the reason otherwise.
_REPORT_SANDBOX = re.compile(r"<p class='(passed|failed)'><b>Sandbox[^<]*:</b> .*?</p>")

# The class is graded once per test run; its tests run on one worker.
pytestmark = pytest.mark.xdist_group("demo")


def grade_demo(folder: Path) -> Path:
    """Build and grade the demo class in ``folder`` as ``make demo`` does; return OUT."""
    lessons = [arg for lesson in LESSONS for arg in ("--lesson", lesson)]
    done = run_module("autograder.demo", "--folder", folder, "--jobs", "2", *lessons)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "out"


def normalised(out: Path) -> dict[str, bytes]:
    """Relative path -> the bytes compared, for every output the guard covers."""
    texts = {name: (out / name).read_bytes() for name in ("grades.csv", "exercises.csv")}
    for export in sorted((out / "exports").glob("*.csv")):
        texts[export.relative_to(out).as_posix()] = export.read_bytes()
    for page in sorted((out / "feedback").rglob("*.html")):
        texts[page.relative_to(out).as_posix()] = page.read_bytes()
    report = (out / "report.html").read_bytes().decode()
    report = _REPORT_SECONDS.sub("<td>(seconds) s</td>", report)
    texts["report.html"] = _REPORT_SANDBOX.sub("<p>(sandbox status)</p>", report).encode()
    run = json.loads((out / ".grader" / "run.json").read_bytes())
    run["sandbox"] = "(sandbox status)"
    texts[".grader/run.json"] = _json(run)
    for record in sorted((out / ".grader" / "outcomes").glob("*.json")):
        outcomes = json.loads(record.read_bytes())
        for o in outcomes:
            o["timings"] = sorted(o["timings"])  # which phases were timed, not how long
        texts[record.relative_to(out).as_posix()] = _json(outcomes)
    return texts


def _json(data) -> bytes:
    return (json.dumps(data, indent=1) + "\n").encode()


def golden() -> dict[str, bytes]:
    return {
        p.relative_to(GOLDEN).as_posix(): p.read_bytes()
        for p in sorted(GOLDEN.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def graded(shared_once) -> dict[str, bytes]:
    out = shared_once("demo-class", lambda folder: grade_demo(folder / "demo"))
    return normalised(Path(out))


def test_the_same_files_are_written(graded):
    assert sorted(graded) == sorted(golden())


def test_grades_csv_is_byte_identical(graded):
    assert graded["grades.csv"] == golden()["grades.csv"]


def test_exercises_csv_is_byte_identical(graded):
    assert graded["exercises.csv"] == golden()["exercises.csv"]


def test_the_canvas_moodle_and_wide_exports_are_byte_identical(graded):
    expected = {k: v for k, v in golden().items() if k.startswith("exports/")}
    assert sorted(expected) == ["exports/canvas.csv", "exports/moodle.csv", "exports/wide.csv"]
    for name, text in expected.items():
        assert graded.get(name) == text, f"{name} differs from the golden copy"


def test_every_feedback_page_is_byte_identical(graded):
    expected = {k: v for k, v in golden().items() if k.startswith("feedback/")}
    assert expected, "no golden feedback pages: regenerate the golden files"
    for page, text in expected.items():
        assert graded.get(page) == text, f"{page} differs from the golden copy"


def test_report_is_identical_but_for_timings_and_sandbox(graded):
    assert graded["report.html"] == golden()["report.html"]


def test_run_settings_and_outcome_records_are_identical(graded):
    records = [k for k in golden() if k.startswith(".grader/")]
    assert ".grader/run.json" in records
    for record in records:
        assert graded.get(record) == golden()[record], f"{record} differs from the golden copy"


def test_every_sample_mistake_answers_an_exercise_of_its_lesson():
    from autograder.course import SOLUTIONS
    from autograder.course.lessons import ANSWER, load_lesson
    from autograder.demo.mistakes import MISTAKES

    for lesson, mistakes in MISTAKES.items():
        model = load_lesson(lesson, SOLUTIONS / lesson / f"{lesson}.ipynb")
        answers = {c.grade_id for c in model.cells if c.role == ANSWER}
        assert set(mistakes) <= answers, f"{lesson}: {sorted(set(mistakes) - answers)}"


def test_each_mistake_the_visible_checks_miss_passes_them_and_fails_a_hidden_check():
    import numpy as np
    from conftest import load_fixtures

    from autograder.course import SOLUTIONS
    from autograder.course.lessons import load_lesson
    from autograder.demo.mistakes import PASSES_VISIBLE

    for lesson, mistakes in PASSES_VISIBLE.items():
        model = load_lesson(lesson, SOLUTIONS / lesson / f"{lesson}.ipynb")
        for gid, source in mistakes.items():
            # A fixture too, so tests/test_lessons.py shows real nbgrader takes points for it.
            assert source in load_fixtures(lesson)[gid]["wrong"].values(), gid
            test = model.by_grade_id()[f"test_{gid}"]
            namespace = {"np": np}
            exec(source, namespace)
            exec(test.visible_source, namespace)  # passes: raises nothing
            with pytest.raises(AssertionError):
                exec(test.source, namespace)


def write_golden() -> None:
    """Grade the demo class with the code as it is and make the result the golden files."""
    with tempfile.TemporaryDirectory() as tmp:
        texts = normalised(grade_demo(Path(tmp) / "demo"))
    shutil.rmtree(GOLDEN, ignore_errors=True)
    for name, text in texts.items():
        path = GOLDEN / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)
    print(f"wrote {len(texts)} golden files to {GOLDEN}")


def write_mistakes() -> None:
    """Copy the first wrong answer of each exercise from the fixtures to the demo's mistakes."""
    import runpy

    target = ROOT / "autograder" / "demo" / "mistakes.py"
    text = target.read_text()
    head = text[: text.index("MISTAKES: ")]
    lines = ["MISTAKES: dict[str, dict[str, str]] = {"]
    for path in sorted((ROOT / "tests" / "fixtures" / "answers").glob("*.py")):
        answers = runpy.run_path(str(path)).get("ANSWERS", {})
        lines.append(f"    {path.stem!r}: {{")
        for gid, v in answers.items():
            if v.get("wrong"):
                lines.append(f"        {gid!r}: {next(iter(v['wrong'].values()))!r},")
        lines.append("    },")
    target.write_text(head + "\n".join(lines) + "\n}\n")
    subprocess.run([str(Path(sys.executable).parent / "ruff"), "format", str(target)], check=False)
    print(f"wrote {target}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_golden()
    elif sys.argv[1:] == ["--mistakes"]:
        write_mistakes()
    else:
        sys.exit(f"usage: {sys.argv[0]} --write | --mistakes")
