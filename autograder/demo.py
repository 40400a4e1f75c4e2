"""``python -m autograder.demo``: a sample class graded end to end (``make demo``).

Builds a handful of submissions from the solutions of the lessons present - one right, one
partly wrong, one broken (a runaway loop and a deleted test cell), one with a corrupt file
under a Colab-style name - grades them into ``demo/out`` with the real command, and prints the
summary table and where report.html is. ``demo/`` is git-ignored; each run starts afresh.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .course import ROOT, SOLUTIONS, find_lessons
from .grading import samples
from .grading.course_dir import CoursePaths
from .grading.lessons import ANSWER, load_lesson
from .sample_mistakes import MISTAKES


def _wrong_answers(lesson: str) -> dict[str, str]:
    """grade id -> one typical wrong answer (:mod:`autograder.sample_mistakes`), if any."""
    return dict(MISTAKES.get(lesson, {}))


def build_class(folder: Path, lessons: list[str]) -> None:
    for lesson in lessons:
        solution = samples.read(SOLUTIONS / lesson / f"{lesson}.ipynb")
        model = load_lesson(lesson, SOLUTIONS / lesson / f"{lesson}.ipynb")
        answer_ids = [c.grade_id for c in model.cells if c.role == ANSWER]
        wrong = _wrong_answers(lesson)
        # ada: everything right, under the name Colab gives a downloaded copy.
        samples.write(
            samples.student_copy(solution), folder / "ada" / f"Copy of {lesson} (1).ipynb"
        )
        # ben: the first exercise left unanswered, one typical mistake, the rest right.
        ben_wrong = {gid: src for gid, src in wrong.items() if gid in answer_ids[1:]}
        ben_wrong = dict(list(ben_wrong.items())[:1])
        # ... and the quiz's typical mistake, so that his page marks quiz items wrong.
        ben_wrong.update({gid: src for gid, src in wrong.items() if gid.startswith("quiz_")})
        samples.write(
            samples.student_copy(solution, answers=ben_wrong, unanswered_ids=tuple(answer_ids[:1])),
            folder / "ben" / f"{lesson}.ipynb",
        )
        # cleo: a runaway loop in the last answer cell, and a test cell deleted.
        loop = {answer_ids[-1]: "while True:\n    pass"} if answer_ids else {}
        nb = samples.student_copy(solution, answers=loop)
        tests = [
            i
            for i, c in enumerate(nb["cells"])
            if (c.get("metadata", {}).get("nbgrader") or {}).get("grade")
            and (c.get("metadata", {}).get("nbgrader") or {})
            .get("grade_id", "")
            .startswith("test_")
        ]
        if tests:
            del nb["cells"][tests[0]]
        samples.write(nb, folder / "cleo" / f"{lesson}_final.ipynb")
    # dev: a file that is not JSON at all (a failed download).
    bad = folder / "dev" / f"Copy of {lessons[0]}.ipynb"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text('{"cells": [ {"cell_type": "code", "source": "def f(x):')


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m autograder.demo", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--folder",
        type=Path,
        default=ROOT / "demo",
        help="where to build and grade (default: demo/)",
    )
    p.add_argument(
        "--lesson", action="append", help="only these lessons (default: every lesson present)"
    )
    p.add_argument("--jobs", type=int, default=None)
    args = p.parse_args(argv)
    lessons = args.lesson or find_lessons(SOLUTIONS)
    if not lessons:
        print("demo: no lessons in solutions/ yet", file=sys.stderr)
        return 2
    if args.folder.exists():
        shutil.rmtree(args.folder)
    submissions = args.folder / "submissions"
    build_class(submissions, lessons)
    print(
        f"demo: {len(lessons)} lessons, 4 students in {submissions}; "
        "grading (cleo's loop waits for the time limit) ..."
    )
    from .grade import main as grade

    out = CoursePaths(args.folder / "out")
    grade_args = [str(submissions), "--out", str(out.root), "--timeout", "10"]
    if args.jobs:
        grade_args += ["--jobs", str(args.jobs)]
    if len(lessons) == 1:
        grade_args += ["--lesson", lessons[0]]
    code = grade(grade_args)
    if code == 0:
        print(
            f"\nOpen {out.report} for the report; "
            f"`cd {out.root} && nbgrader formgrader` for the written answers."
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
