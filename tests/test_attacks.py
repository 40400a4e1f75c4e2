"""A wrong answer plus one trick loses exactly the wrong answer's points, in batch grading.

Every attack of tests/fixtures/attacks.py - through IPython (cell events, input and AST
transformers, custom exception handlers, traceback and display hooks), through Python itself
(code-object swaps, frames, sys.settrace, gc, threads, sys.modules and import hooks,
builtins, monkeypatched checks and numpy), through the grader's own recorder (fake, forged,
replayed records, a replaced recorder) and a symbolic link to a solution - is graded in ONE
batch of the real command (the toy lesson and Lesson 01 side by side). The points of each test
are decided outside the student's kernel (autograder/grading/trusted.py).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "attacks", ROOT / "tests" / "fixtures" / "attacks.py"
)
attacks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attacks)

STUDENTS = sorted([*attacks.TRICKS, *attacks.ANSWERS, "lesson_01_checkers", "symlink_to_solution"])


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("attacks")
    solutions = base / "solutions"
    for lesson_file in (attacks.TOY, attacks.LESSON_01):
        shutil.copytree(lesson_file.parent, solutions / lesson_file.parent.name)
    expected = attacks.build(base / "submissions")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(base / "submissions"),
            "--out",
            str(base / "out"),
            "--solutions",
            str(solutions),
            "--jobs",
            "2",
            "--timeout",
            "20",
            "--quiet",
        ],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return base / "out", expected


def test_the_corpus_has_twenty_attacks_or_more():
    assert len(STUDENTS) >= 20


@pytest.mark.parametrize("student", STUDENTS)
def test_an_attack_loses_exactly_the_wrong_answers_points(graded, student):
    out, expected = graded
    got = {
        r["grade_id"]: float(r["score"])
        for r in _rows(out / "exercises.csv")
        if r["student_id"] == student and r["status"] != "needs_manual"
    }
    assert got == expected[student]


def test_the_solved_lesson_keeps_full_marks_in_batch_grading(graded):
    out, expected = graded
    got = {
        r["grade_id"]: float(r["score"])
        for r in _rows(out / "exercises.csv")
        if r["student_id"] == "solved" and r["status"] != "needs_manual"
    }
    assert got == expected["solved"]


def test_a_symbolic_link_to_a_solution_is_refused_and_says_why(graded):
    out, _ = graded
    rows = [r for r in _rows(out / "grades.csv") if r["student_id"] == "symlink_to_solution"]
    refused = [r for r in rows if r["status"] == "failed"]
    assert len(refused) == 1 and "symbolic link" in refused[0]["detail"]
    assert refused[0]["score"] == ""


def test_an_answer_that_calls_the_courses_own_implementation_is_pointed_out(graded):
    out, _ = graded
    row = next(
        r
        for r in _rows(out / "grades.csv")
        if r["student_id"] == "lesson_01_checkers" and r["lesson"] == "01_derivatives"
    )
    assert "central_difference" in row["detail"] and "no points taken" in row["detail"]
    assert "central_difference" in (out / "report.html").read_text()


def test_a_record_that_does_not_fit_is_reported_to_the_instructor(graded):
    out, _ = graded
    row = next(r for r in _rows(out / "grades.csv") if r["student_id"] == "second_record")
    assert "did not run as written: 2 records for this cell" in row["detail"]


def test_a_linked_student_folder_or_zip_entry_is_refused_without_reading_it(tmp_path):
    import zipfile

    from autograder.grading import ingest

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
        found, _ = ingest.find_notebooks(root)
        assert found and all(n.content is None for n in found)
        assert all(n.problem == ingest.LINK_REFUSED for n in found)
