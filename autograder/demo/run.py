"""``python -m autograder.demo``: a sample class graded end to end (``make demo``).

Builds a handful of submissions from the solutions of the lessons present - one right, one
partly wrong (one mistake only a hidden check catches) and a day late, one broken (a runaway
loop and a deleted test cell), one with a corrupt file under a Colab-style name - and a roster
with one more student who hands in nothing; grades them into ``demo/out`` with the real
command, under a deadline and a late policy. Then it does what an instructor does in
formgrader, through nbgrader's Gradebook API (points and a comment on ada's and on ben's first
written answer, a comment on ben's unanswered first exercise), grades those two again, writes
the Canvas, Moodle and wide exports, and prints the summary table and where everything is.
``demo/`` is git-ignored; each run starts afresh.

The times are fixed (nbgrader's timestamp.txt for ada and ben, the file's time for cleo), so
the demo grades to the same bytes every day (tests/test_demo_outputs.py).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

from ..course import ROOT, SOLUTIONS, find_lessons
from ..course.lessons import ANSWER, load_lesson
from ..grading.course_dir import CoursePaths
from . import samples
from .mistakes import MISTAKES, PASSES_VISIBLE

UTC = dt.timezone.utc
DUE = "2026-12-01T23:59+01:00"
POLICY = ("--late-policy", "per-day", "--late-rate", "10", "--late-cap", "50")
# ada and ben hand in through nbgrader's exchange (timestamp.txt); cleo's file carries its time.
HANDED_IN = {
    "ada": dt.datetime(2026, 12, 1, 18, 5, tzinfo=UTC),
    "ben": dt.datetime(2026, 12, 3, 1, 40, tzinfo=UTC),  # a day and 3 hours late
    "cleo": dt.datetime(2026, 12, 1, 22, 30, tzinfo=UTC),
}
ROSTER = [
    ("ada", "Ada", "Lovelace", "ada@example.edu", "1001"),
    ("ben", "Ben", "Franklin", "ben@example.edu", "1002"),
    ("cleo", "Cleo", "Patra", "cleo@example.edu", "1003"),
    ("dev", "Dev", "Null", "dev@example.edu", "1004"),
    ("eve", "Eve", "Absent", "eve@example.edu", "1005"),  # hands in nothing
]


def _stamp(folder: Path) -> None:
    """Give each student's files their fixed hand-in time."""
    for student, when in HANDED_IN.items():
        for path in (folder / student).glob("*.ipynb"):
            os.utime(path, (when.timestamp(), when.timestamp()))
    for student in ("ada", "ben"):
        text = HANDED_IN[student].strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        (folder / student / "timestamp.txt").write_text(text)


def write_roster(path: Path) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "first_name", "last_name", "email", "lms_user_id"])
        w.writerows(ROSTER)
    return path


def _wrong_answers(lesson: str) -> dict[str, str]:
    """grade id -> one typical wrong answer (:mod:`.mistakes`), if any."""
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
        # ben: the first exercise left unanswered, one typical mistake (one the visible checks
        # miss, where the lesson has one), the rest right.
        ben_wrong = {gid: src for gid, src in wrong.items() if gid in answer_ids[1:]}
        ben_wrong = dict(PASSES_VISIBLE.get(lesson) or list(ben_wrong.items())[:1])
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
    _stamp(folder)


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
    p.add_argument(
        "--scheduler", help="grade on this Dask scheduler's workers (the [cluster] extra)"
    )
    p.add_argument("--db-url", help="keep the gradebook in this database (e.g. PostgreSQL)")
    args = p.parse_args(argv)
    lessons = args.lesson or find_lessons(SOLUTIONS)
    if not lessons:
        print("demo: no lessons in solutions/ yet", file=sys.stderr)
        return 2
    if args.folder.exists():
        shutil.rmtree(args.folder)
    submissions = args.folder / "submissions"
    build_class(submissions, lessons)
    roster = write_roster(args.folder / "roster.csv")
    print(
        f"demo: {len(lessons)} lessons, 4 students in {submissions} and eve on the roster "
        f"({roster}) who hands in nothing; due {DUE}, 10% off per started day late (at most "
        "50%): ben is a day late; grading (cleo's loop waits for the time limit) ..."
    )
    from ..commands.grade import main as grade

    out = CoursePaths(args.folder / "out")
    grade_args = [str(submissions), "--out", str(out.root), "--timeout", "10"]
    grade_args += ["--due", DUE, *POLICY, "--roster", str(roster)]
    if args.jobs:
        grade_args += ["--jobs", str(args.jobs)]
    for option, value in (("--scheduler", args.scheduler), ("--db-url", args.db_url)):
        if value:
            grade_args += [option, value]
    if len(lessons) == 1:
        grade_args += ["--lesson", lessons[0]]
    code = grade(grade_args)
    if code != 0:
        return code
    shown = grade_by_hand(out, lessons[0])
    print(
        "\ndemo: an instructor grades by hand, as formgrader saves it (nbgrader's Gradebook API):"
    )
    print("".join(f"  - {line}\n" for line in shown) + "demo: grading ada and ben again ...")
    code = grade([*grade_args, "--student", "ada", "ben", "--quiet"])
    if code == 0:
        _exports(out)
        print(
            f"demo: the points and comments are in {out.exercises_csv} (last column, comment)"
            f" and on the feedback pages\n  {out.feedback_page('ada', lessons[0])}\n"
            f"  {out.feedback_page('ben', lessons[0])}\n"
            "demo: the students' answers all come from the solutions, so the report's "
            "'Similar answers' lists them side by side."
            f"\n\nOpen {out.report} for the report; "
            f"`cd {out.root} && nbgrader formgrader` for the written answers."
        )
    return code


HAND_COMMENT = "Clear and complete; the example makes it convincing."
PARTIAL_COMMENT = "The idea is right; back it with one line of the lesson's math for full points."
ANSWER_COMMENT = "Left unanswered: start from the worked example above it, and ask if stuck."


def grade_by_hand(out: CoursePaths, lesson: str) -> list[str]:
    """What an instructor does in formgrader, done through nbgrader's Gradebook API.

    ada's first written answer of ``lesson`` gets full points and a comment; ben's the half of
    its points and a comment, and his first answer cell (left unanswered, so its test failed) a
    comment. Returns what was done, for the log.
    """
    from nbgrader.api import Gradebook

    from ..course.lessons import WRITTEN
    from ..grading.course_dir import open_course

    model = load_lesson(lesson, SOLUTIONS / lesson / f"{lesson}.ipynb")
    written = next(c for c in model.cells if c.role == WRITTEN)
    answer = next(c for c in model.cells if c.role == ANSWER)
    with Gradebook(open_course(out.root).db_url) as gb:
        grade = gb.find_grade(written.grade_id, lesson, lesson, "ada")
        grade.manual_score, grade.needs_manual_grade = grade.max_score, False
        gb.find_comment(written.grade_id, lesson, lesson, "ada").manual_comment = HAND_COMMENT
        his = gb.find_grade(written.grade_id, lesson, lesson, "ben")
        his.manual_score, his.needs_manual_grade = his.max_score / 2, False
        gb.find_comment(written.grade_id, lesson, lesson, "ben").manual_comment = PARTIAL_COMMENT
        gb.find_comment(answer.grade_id, lesson, lesson, "ben").manual_comment = ANSWER_COMMENT
        gb.db.commit()
    return [
        f"ada's {written.grade_id} ({lesson}): {written.points:g} of {written.points:g} points, "
        f"comment {HAND_COMMENT!r}",
        f"ben's {written.grade_id} ({lesson}): {written.points / 2:g} of {written.points:g} "
        f"points, comment {PARTIAL_COMMENT!r}",
        f"ben's {answer.grade_id} ({lesson}, unanswered): comment {ANSWER_COMMENT!r}",
    ]


def _exports(out: CoursePaths) -> None:
    from ..grading.publish.lms import FORMATS, export

    print()
    for fmt in FORMATS:
        path, table = export(out.root, fmt)
        print(f"export {fmt:<6} -> {path}  (python -m autograder export {out.root} --format {fmt})")
    for warning in table.warnings:
        print(f"  note: {warning}")
