"""Grading throughput: ``python -m autograder grade`` against plain ``nbgrader autograde``.

    python -m benchmarks.grading [--lesson ID] [--students 16] [--jobs N] [--rounds 3]
        [--solutions DIR]

Both grade the same submissions of one lesson - by default the heaviest, found by running each
solution notebook once and timing it - a mix of right answers, unanswered exercises and
typical mistakes from tests/fixtures/answers, and must give every student the same score.
Rounds alternate the two, so a busy spell on a shared machine does not land on one side only;
each round prints seconds per submission for both and its speed-up, and the figure is the
median speed-up. Then where our time goes (kernel start, imports, running cells, nbgrader's
serial Autograde). Both sides start from a course whose gradebook already holds the lesson
(generate_assignment is not timed); both times include the command's start-up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import SOLUTIONS, find_lessons
from autograder.course.lessons import ANSWER, load_lesson
from autograder.demo import samples
from autograder.demo.run import _wrong_answers
from autograder.grading import course_dir, outcomes

# The instructor notebooks graded: the course's, or another course's (--solutions; the test
# suite's smoke run uses the toy course, tests/fixtures/toy_course/solutions).
solutions_dir: Path = SOLUTIONS


def solution_seconds(lesson: str) -> float:
    """Wall time to run a lesson's solution notebook top to bottom in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient

    path = solutions_dir / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    t0 = time.perf_counter()
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's console chatter is not a figure
    return time.perf_counter() - t0


def heaviest_lesson() -> str:
    """The lesson whose notebook takes longest to run, measured now (printed, one line each)."""
    times = {lesson: solution_seconds(lesson) for lesson in find_lessons(solutions_dir)}
    print(
        "  run time of each solution notebook: "
        + ", ".join(f"{lesson[:2]} {t:.1f} s" for lesson, t in times.items())
    )
    return max(times, key=times.get)


def make_submissions(lesson: str, n: int, folder: Path) -> None:
    solution = samples.read(solutions_dir / lesson / f"{lesson}.ipynb")
    model = load_lesson(lesson, solutions_dir / lesson / f"{lesson}.ipynb")
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
    shutil.copytree(solutions_dir / lesson, course / "source" / lesson)
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


def run_ours(
    lesson: str, subs: Path, out: Path, jobs: int | None, extra: list[str] | None = None
) -> float:
    course = course_dir.open_course(out)
    course_dir.install_lesson(course, solutions_dir, lesson, lambda _msg: None)
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
        "--solutions",
        str(solutions_dir),
        "--quiet",
    ]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    cmd += extra or []
    t0 = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=out.parent, env=_env(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"grade failed:\n{done.stderr[-2000:]}")
    return elapsed


def _add_cluster_options(p: argparse.ArgumentParser) -> None:
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="compare grading on this Dask cluster with --jobs of as many threads "
        "(benchmarks/grading_cluster.py)",
    )
    cluster.add_argument(
        "--local-cluster",
        action="store_true",
        help="start a Dask scheduler and 1, then 2 workers here and compare each with --jobs",
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.grading", description=__doc__.splitlines()[0]
    )
    p.add_argument("--lesson", help="default: the heaviest lesson, measured first")
    p.add_argument("--students", type=int, default=16)
    p.add_argument("--jobs", type=int, default=None, help="our --jobs (default: the CPU count)")
    p.add_argument(
        "--solutions",
        type=Path,
        default=SOLUTIONS,
        metavar="DIR",
        help="the instructor notebooks, DIR/<id>/<id>.ipynb (default: the course's)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of (nbgrader, ours), alternating; the median speed-up is the figure "
        "(default %(default)s)",
    )
    _add_cluster_options(p)
    args = p.parse_args(argv)
    global solutions_dir
    solutions_dir = args.solutions.resolve()
    # nbgrader's Gradebook runs `alembic` from PATH, in this process too: find the venv's.
    os.environ["PATH"] = _env()["PATH"]
    if args.students < 1 or args.rounds < 1:
        p.error("--students and --rounds must be at least 1")
    print(f"grading benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    lesson = args.lesson or heaviest_lesson()
    n = args.students
    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        subs = work / "submissions"
        make_submissions(lesson, n, subs)
        print(f"  lesson {lesson}, {n} submissions, {args.rounds} rounds")
        if args.scheduler or args.local_cluster:
            from .grading_cluster import run_sizes

            return run_sizes(args, lesson, subs, work, run_ours)
        ratios = []
        all_same = True
        for r in range(1, args.rounds + 1):
            theirs, ours = work / f"nbgrader_{r}", work / f"ours_{r}"
            t_nb = run_nbgrader(lesson, subs, theirs)
            t_us = run_ours(lesson, subs, ours, args.jobs)
            ref = scores(f"sqlite:///{theirs / 'gradebook.db'}", lesson)
            mine = scores(f"sqlite:///{ours / 'gradebook.db'}", lesson)
            same = ref == mine
            all_same &= same
            ratios.append(t_nb / t_us)
            print(
                f"  round {r}: nbgrader autograde {t_nb:6.1f} s = {t_nb / n:5.2f} s per submission "
                f"(serial); autograder grade {t_us:6.1f} s = {t_us / n:5.2f} s per submission "
                f"(sandboxed, parallel); speed-up {t_nb / t_us:4.2f}x; same scores: "
                f"{'yes' if same else 'NO'}; load average {os.getloadavg()[0]:.1f}"
            )
            if not same:
                for student in sorted(set(ref) | set(mine)):
                    if ref.get(student) != mine.get(student):
                        print(
                            f"    {student}: nbgrader {ref.get(student)}  ours {mine.get(student)}"
                        )
        median = statistics.median(ratios)
        print(
            f"  speed-up, median of {len(ratios)} rounds: {median:.2f}x  (target >= 1.7x on 2 "
            f"cores: {'met' if median >= 1.7 else 'NOT met'}; rounds "
            f"{', '.join(f'{x:.2f}' for x in ratios)})"
        )
        print(
            "  other work on the machine takes cores from the parallel run first: compare on an "
            "otherwise idle machine"
        )
        _print_breakdown(work / f"ours_{args.rounds}")
        return 0 if all_same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _print_breakdown(out: Path) -> None:
    times = [o.timings for o in outcomes.load_outcomes(course_dir.CoursePaths(out)) if o.timings]
    if not times:
        return
    print("  where our time goes, per submission (last round; workers run side by side):")
    for key, label in (
        ("kernel_start", "kernel start (sandboxed)"),
        ("imports", "imports: helpers, numpy, kernel side"),
        ("cells", "running the cells"),
        ("autograde", "nbgrader Autograde, serial"),
    ):
        print(f"    {label:<34} {sum(t.get(key, 0) for t in times) / len(times):5.2f} s")
    # The trusted phase (autograder/grading/judge/) runs in the worker while the kernel waits,
    # inside "running the cells": the worker's own time on the tests, not the kernel's.
    trusted = sum(t.get("trusted", 0) for t in times) / len(times)
    worker = sum(t.get("total", 0) for t in times) / len(times)
    share = 100 * trusted / worker if worker else 0.0
    print(
        f"    {'trusted phase: tests judged here':<34} {trusted:5.2f} s = {share:.1f}% of a "
        f"worker's time per notebook (target <= 10%: {'met' if share <= 10 else 'NOT met'})"
    )
    ahead = sum(bool(t.get("booted_ahead")) for t in times)
    print(f"    kernels booted before their notebook arrived: {ahead} of {len(times)}")


if __name__ == "__main__":
    sys.exit(main())
