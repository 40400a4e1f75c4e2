"""``python -m autograder.demo``: a graded term, end to end, on a sample class (``make demo``).

1. hands the course out to students (``handout``: no solutions, no hidden tests);
2. builds what the LMS gives the instructor after the deadlines - a Canvas "Download
   Submissions" zip for every other lesson and a Moodle "Download all submissions" zip (with
   its grading worksheet) for the rest, named exactly as each LMS names them - from the
   solutions: ada right, ben partly wrong (one mistake only a hidden check catches) and late,
   cleo broken (a runaway loop and a deleted test cell), dev a corrupt file under a
   Colab-style name, a file from a student not on the roster; and a roster with eve, who hands
   in nothing;
3. grades them all with the real command, under a deadline and a late policy;
4. grades written answers and comments by hand, as formgrader saves them (nbgrader's Gradebook
   API: points and a comment on ada's and on ben's first written answer, a comment on ben's
   unanswered first exercise);
5. grades ada and ben again WITHOUT repeating a flag: the course folder remembers the deadline,
   the policy and the limits, so their late penalties stay (checked here);
6. writes the Canvas, Moodle and wide grade files, Moodle's feedback-files zip and one zip of
   pages per student, and prints where everything is.

Needs only bubblewrap (the sandbox): no browser, no database server. ``demo/`` is git-ignored;
each run starts afresh. The times are fixed (Canvas's LATE marks, Moodle's worksheet), so the
demo grades to the same bytes every day (tests/test_demo_outputs.py).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import sys
from pathlib import Path

from ..course import ROOT, SOLUTIONS, find_lessons
from ..course.lessons import ANSWER, load_lesson
from ..course.notebooks import grade_id
from ..course.quiz_key import answer_test_id
from ..grading.course_dir import CoursePaths
from . import lms_downloads as lms
from . import samples
from .mistakes import MISTAKES, PASSES_VISIBLE

UTC = dt.timezone.utc
DUE = "2026-12-01T23:59+01:00"
POLICY = ("--late-policy", "per-day", "--late-rate", "10", "--late-cap", "50")
# When each student handed in: Moodle's worksheet says so; Canvas only marks ben LATE.
HANDED_IN = {
    "ada": dt.datetime(2026, 12, 1, 18, 5, tzinfo=UTC),
    "ben": dt.datetime(2026, 12, 3, 1, 40, tzinfo=UTC),  # a day and 3 hours late
    "cleo": dt.datetime(2026, 12, 1, 22, 30, tzinfo=UTC),
    "dev": dt.datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
}
ROSTER = [
    ("ada", "Ada", "Lovelace", "ada@example.edu", "1001", "alovelace"),
    ("ben", "Ben", "Franklin", "ben@example.edu", "1002", "bfranklin"),
    ("cleo", "Cleo", "Patra", "cleo@example.edu", "1003", "cpatra"),
    ("dev", "Dev", "Null", "dev@example.edu", "1004", "dnull"),
    ("eve", "Eve", "Absent", "eve@example.edu", "1005", "eabsent"),  # hands in nothing
]
STRANGER = ("Zed", "Smith", 1099)  # hands a file in to Canvas, and is on no roster


def write_roster(path: Path) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "first_name", "last_name", "email", "lms_user_id", "username"])
        w.writerows(ROSTER)
    return path


def _wrong_answers(lesson: str) -> dict[str, str]:
    """grade id -> one typical wrong answer (:mod:`.mistakes`), if any."""
    return dict(MISTAKES.get(lesson, {}))


def class_notebooks(lesson: str) -> dict[str, tuple[str, bytes]]:
    """student -> (the file name they hand in, its bytes) for ``lesson``."""
    import json

    solution = samples.read(SOLUTIONS / lesson / f"{lesson}.ipynb")
    model = load_lesson(lesson, SOLUTIONS / lesson / f"{lesson}.ipynb")
    answer_ids = [c.grade_id for c in model.cells if c.role == ANSWER]
    wrong = _wrong_answers(lesson)
    # ben: the first exercise left unanswered, one typical mistake (one the visible checks
    # miss, where the lesson has one), and the quiz's typical mistake.
    ben_wrong = {gid: src for gid, src in wrong.items() if gid in answer_ids[1:]}
    ben_wrong = dict(PASSES_VISIBLE.get(lesson) or list(ben_wrong.items())[:1])
    ben_wrong.update({gid: src for gid, src in wrong.items() if gid.startswith("quiz_")})
    ben = samples.student_copy(solution, answers=ben_wrong, unanswered_ids=tuple(answer_ids[:1]))
    # cleo: a runaway loop in the last answer cell, and a test cell deleted.
    loop = {answer_ids[-1]: "while True:\n    pass"} if answer_ids else {}
    cleo = samples.student_copy(solution, answers=loop)
    tests = [
        i
        for i, c in enumerate(cleo["cells"])
        if (c.get("metadata", {}).get("nbgrader") or {}).get("grade")
        and (grade_id(c) or "").startswith(answer_test_id(""))
    ]
    if tests:
        del cleo["cells"][tests[0]]
    return {
        "ada": (f"Copy of {lesson} (1).ipynb", json.dumps(samples.student_copy(solution)).encode()),
        "ben": (f"{lesson}.ipynb", json.dumps(ben, indent=1).encode()),
        "cleo": (f"{lesson}_final.ipynb", json.dumps(cleo, indent=1).encode()),
    }


def build_downloads(folder: Path, lessons: list[str]) -> tuple[list[Path], list[Path]]:
    """The LMS downloads of the class: (the zips, Moodle's grading worksheets)."""
    people = {r[0]: r for r in ROSTER}
    zips, sheets = [], []
    for number, lesson in enumerate(lessons):
        files = class_notebooks(lesson)
        if number == 0:  # dev: a file that is not JSON at all (a failed download)
            files["dev"] = (f"Copy of {lesson}.ipynb", b'{"cells": [ {"cell_type": "code", "so')
        on_canvas = number % 2 == 0
        uploads = []
        for student, (name, content) in sorted(files.items()):
            _, first, last, email, canvas_id, _ = people[student]
            when = HANDED_IN[student]
            late = when > dt.datetime.fromisoformat(DUE)
            user_id = int(canvas_id) if on_canvas else 20000 + 10 * number + len(uploads)
            uploads.append(lms.Upload(first, last, name, content, user_id, late, email, when))
        if on_canvas:
            first, last, user_id = STRANGER
            uploads.append(lms.Upload(first, last, f"{lesson}.ipynb", files["ada"][1], user_id))
            zips.append(lms.canvas_zip(folder / f"canvas-{lesson}.zip", uploads))
        else:
            zips.append(lms.moodle_zip(folder / f"moodle-{lesson}.zip", uploads))
            sheets.append(lms.moodle_worksheet(folder / f"moodle-{lesson}-worksheet.csv", uploads))
    return zips, sheets


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
    code = _handout(args.folder / "handout", lessons)
    if code != 0:
        return code
    zips, sheets = build_downloads(args.folder / "downloads", lessons)
    roster = write_roster(args.folder / "roster.csv")
    out = CoursePaths(args.folder / "out")
    downloads = [str(z) for z in zips] + [a for s in sheets for a in ("--moodle-worksheet", str(s))]
    print(
        f"\ndemo: {len(lessons)} lessons downloaded from the LMS ({len(zips)} zips in "
        f"{args.folder / 'downloads'}); the roster {roster} has eve, who hands in nothing; due "
        f"{DUE}, 10% off per started day late (at most 50%): ben is late; grading (cleo's loop "
        "waits for the time limit) ..."
    )
    code = _grade(downloads, out, args, first=True)
    if code != 0:
        return code
    before = _penalties(out, "ben")
    print("\ndemo: an instructor grades by hand, as formgrader saves it (nbgrader's API):")
    print("".join(f"  - {line}\n" for line in grade_by_hand(out, lessons[0])), end="")
    print("demo: grading ada and ben again, repeating no flag: OUT remembers the rules ...")
    code = _grade([*downloads, "--student", "ada", "ben", "--quiet"], out, args, first=False)
    if code != 0:
        return code
    return _finish(out, lessons, before)


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


def _handout(dest: Path, lessons: list[str]) -> int:
    from ..commands.handout import main as handout

    print(f"demo: handing the course out to students in {dest} ...")
    return handout([str(dest), "--lesson", *lessons])


def _grade(downloads: list[str], out: CoursePaths, args, first: bool) -> int:
    """``grade`` on the downloads; the first run gives the rules, later ones repeat none."""
    from ..commands.grade import main as grade

    grade_args = [*downloads, "--out", str(out.root)]
    if first:
        grade_args += [
            "--timeout",
            "10",
            "--due",
            DUE,
            *POLICY,
            "--roster",
            str(out.root.parent / "roster.csv"),
        ]
    if args.jobs:
        grade_args += ["--jobs", str(args.jobs)]
    for option, value in (("--scheduler", args.scheduler), ("--db-url", args.db_url)):
        if value:
            grade_args += [option, value]
    return grade(grade_args)


def _penalties(out: CoursePaths, student: str) -> dict[str, tuple[str, str, float]]:
    """lesson -> (late by, penalty, penalty in percent of the points) of ``student``."""
    with open(out.grades_csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["student_id"] == student and r["score"]]
    return {
        r["lesson"]: (
            r["late_by"],
            r["penalty"],
            round(100 * float(r["penalty"]) / (float(r["score"]) + float(r["penalty"]) or 1), 6),
        )
        for r in rows
    }


def _finish(out: CoursePaths, lessons: list[str], before: dict) -> int:
    """Check that grading again kept ben's penalties (the same lateness, the same share of
    his points: the hand-graded ones count too), then export and say where everything is."""
    after = _penalties(out, "ben")
    kept = {k: (v[0], v[2]) for k, v in after.items()} == {
        k: (v[0], v[2]) for k, v in before.items()
    }
    if not kept or not any(v[0] for v in after.values()):
        print(f"demo: ben's late penalties changed on grading again: {before} -> {after}")
        return 1
    shown = ", ".join(
        f"{lesson} {before[lesson][1]} -> {penalty} pt ({percent:g}% of his points)"
        for lesson, (_, penalty, percent) in sorted(after.items())
        if lesson in before
    )
    print(f"demo: ben's late penalties are kept: {shown}")
    _exports(out, moodle=len(lessons) > 1)
    print(
        f"demo: the points and comments are in {out.exercises_csv} (last column, comment)"
        f" and on the feedback pages\n  {out.feedback_page('ada', lessons[0])}\n"
        f"  {out.feedback_page('ben', lessons[0])}\n"
        "demo: the students' answers all come from the solutions, so the report's "
        "'Similar answers' lists them side by side."
        f"\n\nOpen {out.report} for the report; to grade written answers by hand:\n"
        f"  python -m autograder formgrader {out.root}\n"
        "then grade again (the same command, no flags needed) and export."
    )
    return 0


def _exports(out: CoursePaths, moodle: bool) -> None:
    from ..commands.export import main as export

    print()
    formats = ["canvas", "moodle", "wide", *(["moodle-feedback"] if moodle else []), "pages"]
    for fmt in formats:
        print(f"$ python -m autograder export {out.root} --format {fmt}")
        if export([str(out.root), "--format", fmt]) != 0:
            raise SystemExit(f"demo: export --format {fmt} failed")
