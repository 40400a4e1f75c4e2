"""Grading throughput: ``python -m autograder grade`` against plain ``nbgrader autograde``.

    python -m benchmarks.grading [--lesson ID] [--students 16] [--jobs N]

Both grade the same submissions of one lesson (default: the heaviest present, by the code its
solutions run) - a mix of right answers, unanswered exercises and typical mistakes from
tests/fixtures/answers - and must give every student the same score. Printed: seconds per
submission for each, the speed-up, and where our time goes (kernel start, imports, running
cells, nbgrader's serial Autograde). Both sides start from a course whose gradebook already
holds the lesson (generate_assignment is not timed); both times include the command's start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import SOLUTIONS
from autograder.demo import _wrong_answers
from autograder.grading import course_dir, samples
from autograder.grading.lessons import ANSWER, find_lessons, load_lesson


def heaviest_lesson() -> str:
    def weight(lesson: str) -> int:
        nb = samples.read(SOLUTIONS / lesson / f"{lesson}.ipynb")
        return sum(len("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code")

    return max(find_lessons(SOLUTIONS), key=weight)


def make_submissions(lesson: str, n: int, folder: Path) -> None:
    solution = samples.read(SOLUTIONS / lesson / f"{lesson}.ipynb")
    model = load_lesson(lesson, SOLUTIONS / lesson / f"{lesson}.ipynb")
    answer_ids = [c.grade_id for c in model.cells if c.role == ANSWER]
    wrong = list(_wrong_answers(lesson).items())
    for i in range(n):
        if i % 4 == 1 and answer_ids:
            nb = samples.student_copy(solution, unanswered_ids=(answer_ids[i % len(answer_ids)],))
        elif i % 4 == 3 and wrong:
            gid, src = wrong[i % len(wrong)]
            nb = samples.student_copy(solution, answers={gid: src})
        else:
            nb = samples.student_copy(solution)
        samples.write(nb, folder / f"student{i:02d}" / f"{lesson}.ipynb")


def _env() -> dict[str, str]:
    return dict(
        os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )


def scores(db_url: str, lesson: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {
            s.student.id: round(
                sum((g.auto_score or 0) for nb in s.notebooks for g in nb.grades), 6
            )
            for s in gb.find_assignment(lesson).submissions
        }


def run_nbgrader(lesson: str, subs: Path, course: Path) -> float:
    (course / "source").mkdir(parents=True)
    shutil.copytree(SOLUTIONS / lesson, course / "source" / lesson)
    (course / "nbgrader_config.py").write_text(course_dir.CONFIG_TEMPLATE)
    subprocess.run(
        ["nbgrader", "generate_assignment", lesson, "--force"],
        cwd=course,
        env=_env(),
        check=True,
        capture_output=True,
    )
    for student in sorted(p.name for p in subs.iterdir()):
        dest = course / "submitted" / student / lesson / f"{lesson}.ipynb"
        dest.parent.mkdir(parents=True)
        shutil.copy(subs / student / f"{lesson}.ipynb", dest)
    t0 = time.perf_counter()
    subprocess.run(
        ["nbgrader", "autograde", lesson, "--force"],
        cwd=course,
        env=_env(),
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - t0


def run_ours(lesson: str, subs: Path, out: Path, jobs: int | None) -> float:
    course = course_dir.open_course(out)
    course_dir.install_lesson(course, SOLUTIONS, lesson, lambda _msg: None)
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--lesson",
        lesson,
        "--quiet",
    ]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    t0 = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=out.parent, env=_env(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"grade failed:\n{done.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.grading", description=__doc__.splitlines()[0]
    )
    p.add_argument("--lesson", help="default: the heaviest lesson present")
    p.add_argument("--students", type=int, default=16)
    p.add_argument("--jobs", type=int, default=None, help="our --jobs (default: the CPU count)")
    args = p.parse_args(argv)
    lesson = args.lesson or heaviest_lesson()
    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        subs = work / "submissions"
        make_submissions(lesson, args.students, subs)
        n = args.students
        print(
            f"grading benchmark: lesson {lesson}, {n} submissions, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        t_nb = run_nbgrader(lesson, subs, work / "nbgrader_course")
        t_us = run_ours(lesson, subs, work / "ours", args.jobs)
        ref = scores(f"sqlite:///{work / 'nbgrader_course' / 'gradebook.db'}", lesson)
        mine = scores(f"sqlite:///{work / 'ours' / 'gradebook.db'}", lesson)
        same = ref == mine
        print(f"  nbgrader autograde : {t_nb:7.1f} s  = {t_nb / n:5.2f} s per submission (serial)")
        print(
            f"  autograder grade   : {t_us:7.1f} s  = {t_us / n:5.2f} s per submission (sandboxed, parallel)"
        )
        print(f"  speed-up           : {t_nb / t_us:5.2f}x   (target >= 1.7x on 2 cores)")
        print(
            f"  load average now   : {os.getloadavg()[0]:.1f} (other work on the machine takes cores "
            "from the parallel run first; compare on an otherwise idle machine)"
        )
        print(f"  same scores        : {'yes' if same else 'NO'} ({len(mine)} students)")
        if not same:
            for s in sorted(set(ref) | set(mine)):
                if ref.get(s) != mine.get(s):
                    print(f"    {s}: nbgrader {ref.get(s)}  ours {mine.get(s)}")
        outcomes = [
            o
            for f in sorted((work / "ours" / ".grader" / "outcomes").glob("*.json"))
            for o in json.loads(f.read_text())
        ]
        times = [o["timings"] for o in outcomes if o.get("timings")]
        if times:
            print(
                "  where our time goes, per submission (in its worker; workers run side by side):"
            )
            for key, label in (
                ("kernel_start", "kernel start (sandboxed)"),
                ("imports", "imports: helpers, numpy, checkers"),
                ("cells", "running the cells"),
                ("autograde", "nbgrader Autograde, serial"),
            ):
                print(f"    {label:<34} {sum(t.get(key, 0) for t in times) / len(times):5.2f} s")
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
