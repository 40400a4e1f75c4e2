"""Each lesson's solutions notebook, run top to bottom in a fresh kernel: seconds per lesson.

The limits: lessons 01-07 together take at most 15 % longer than before the third edition
(issue 24; the baseline is their total measured then on the course's 2-core machine), and
Lesson 08, the capstone, runs in under 8 s (issue 25). The time of a lesson is the time its
cells take to run, after the kernel has started (kernel start-up is printed apart: it is
the same for every lesson and says nothing about the lesson). A loaded machine runs every
lesson slower: compare figures taken on one machine in one sitting.

``python -m benchmarks.lessons [ID ...]`` runs the lessons named (default: every lesson in
solutions/); ``python -m benchmarks`` runs them all as its "lessons" section, and only the
first lesson with ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import course

from .timing import verdict

# Issue 24: lessons 01-07 together at most 15 % above their total before the third edition.
# BASELINE_SECONDS is that total, measured with this module on the course's 2-core machine
# (December 2026, load average 4-5 from other jobs: 29.4 s; an idle machine runs faster).
LIMITED = (
    "01_derivatives",
    "02_chain_rule",
    "03_gradients",
    "04_gradient_descent",
    "05_backprop_xor",
    "06_gradient_checker",
    "07_autodiff",
)
BASELINE_SECONDS = 29.4
ALLOWED_GROWTH = 1.15
TOTAL_LIMIT_SECONDS = round(BASELINE_SECONDS * ALLOWED_GROWTH, 1)
# Issue 25: lessons with a target of their own, in seconds of cells.
LESSON_TARGETS = {"08_digits": 8.0}


@dataclass(frozen=True)
class LessonRun:
    """One lesson's solutions notebook run in a fresh kernel."""

    lesson: str
    kernel_start: float  # seconds to start the kernel
    cells: float  # seconds to run every cell
    errors: int  # cells that raised


def _env(tmp: Path) -> dict[str, str]:
    """A kernel environment that writes nothing outside ``tmp`` and finds this interpreter."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for var, sub in (("MPLCONFIGDIR", "mpl"), ("IPYTHONDIR", "ipython")):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    return env


def run_lesson(lesson: str, root: Path = course.ROOT, timeout: int = 300) -> LessonRun:
    """Run ``solutions/<lesson>/<lesson>.ipynb`` in a fresh python3 kernel and time it."""
    from nbclient import NotebookClient

    nb = nbformat.read(course.solution_path(lesson, root), as_version=4)
    with tempfile.TemporaryDirectory(prefix=f"bench-{lesson}-") as tmp:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": tmp}},
        )
        start = time.perf_counter()
        with client.setup_kernel(env=_env(Path(tmp))):
            started = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            done = time.perf_counter()
    errors = sum(
        any(out.get("output_type") == "error" for out in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    )
    return LessonRun(lesson, started - start, done - started, errors)


def run(quick: bool = False, lessons: list[str] | None = None) -> list[LessonRun]:
    """Print each lesson's run time and the total against the issue-13 limit."""
    chosen = lessons or course.present_lessons()
    if quick:
        chosen = chosen[:1]
    print("Lessons: each solutions notebook top to bottom in a fresh kernel")
    print(f"  {'lesson':<22} {'cells':>8} {'kernel start':>13}  errors")
    runs = []
    for lesson in chosen:
        r = run_lesson(lesson)
        runs.append(r)
        print(f"  {lesson:<22} {r.cells:7.1f}s {r.kernel_start:12.1f}s  {r.errors}")
    total = sum(r.cells for r in runs)
    print(f"  total of the lessons' cells: {total:.1f} s")
    limited = [r for r in runs if r.lesson in LIMITED]
    if len(limited) == len(LIMITED):
        limited_total = sum(r.cells for r in limited)
        met = verdict(limited_total <= TOTAL_LIMIT_SECONDS)
        print(
            f"  lessons 01-07: {limited_total:.1f} s (limit <= {TOTAL_LIMIT_SECONDS:.1f} s, "
            f"{BASELINE_SECONDS:.1f} s before the third edition + 15 %: {met})"
        )
    else:
        limit = f"{TOTAL_LIMIT_SECONDS:.1f} s"
        print(f"  (not every lesson of 01-07 ran: the {limit} limit does not apply)")
    for r in runs:
        if r.lesson in LESSON_TARGETS:
            target = LESSON_TARGETS[r.lesson]
            met = verdict(r.cells < target)
            print(f"  {r.lesson} on its own: {r.cells:.1f} s (target < {target:.0f} s: {met})")
    print("  (a loaded machine runs slower: compare figures taken on the same machine)")
    print()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lessons", description=__doc__)
    parser.add_argument("lessons", nargs="*", metavar="ID", help="default: every lesson")
    args = parser.parse_args(argv)
    runs = run(lessons=args.lessons or None)
    return 1 if any(r.errors for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
