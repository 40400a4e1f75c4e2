"""Each lesson's solutions notebook, run top to bottom in a fresh kernel: seconds per lesson.

Issue 13's limit: the six lessons' solutions together take no longer than before the second
edition, about 28 s on the course's 2-core machine. The time of a lesson is the time its
cells take to run, after the kernel has started (kernel start-up is printed apart: it is
the same for every lesson and says nothing about the lesson).

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

TOTAL_LIMIT_SECONDS = 28.0  # issue 13: "no longer than today, about 28 s"
# The lessons that limit is about: the six of the first edition (Lesson 07 came after it).
FIRST_EDITION = (
    "01_derivatives",
    "02_chain_rule",
    "03_gradients",
    "04_gradient_descent",
    "05_backprop_xor",
    "06_gradient_checker",
)


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
    six = [r for r in runs if r.lesson in FIRST_EDITION]
    if len(six) == len(FIRST_EDITION):
        six_total = sum(r.cells for r in six)
        met = verdict(six_total <= TOTAL_LIMIT_SECONDS)
        print(f"  lessons 01-06: {six_total:.1f} s (limit <= {TOTAL_LIMIT_SECONDS:.0f} s: {met})")
    else:
        print("  (not every lesson of 01-06 ran: the 28 s limit does not apply)")
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
