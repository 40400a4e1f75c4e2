"""``python -m autograder grade``: grade a batch of submissions into an nbgrader course folder.

    python -m autograder grade SUBMISSIONS --out OUT [--lesson ID] [--jobs N] [--timeout S]
        [--memory MB] [--student ID ...] [--due [LESSON=]WHEN ...] [--extensions CSV]
        [--late-policy none|zero|per-hour|per-day --late-rate PCT --late-cap PCT]
        [--roster CSV]

This module is the command line: its arguments and ``main``. The run itself, phase by phase,
is :func:`autograder.grading.pipeline.run`.

Exit status: 0 when the batch was graded, whatever the students did; 1 when it was published
but the grader failed some notebooks by its own fault (each named on stderr); 2 when the grader
could not run (bad arguments, SUBMISSIONS missing or unreadable, no lessons).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..course import SOLUTIONS
from ..grading.pipeline import run
from ..grading.settings import Limits
from ..grading.vocabulary import GraderError, GradingIncomplete

__all__ = ["GraderError", "build_parser", "main", "run"]

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_GRADER_ERROR = 2


# --------------------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    d = Limits()
    p = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Grade students' notebooks into an nbgrader course folder: grades.csv, "
        "exercises.csv, feedback/<student>/<lesson>.html, report.html and a gradebook "
        "formgrader opens.",
        epilog="Exit status 0 when the batch was graded (whatever the students did); 1 when the "
        "grader failed some notebooks by its own fault; 2 when the grader could not run. "
        "Re-running is idempotent; --student regrades only the students named.",
    )
    p.add_argument(
        "submissions",
        type=Path,
        metavar="SUBMISSIONS",
        help="a folder with one sub-folder per student, a zip of it, "
        "or an nbgrader submitted/ tree",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="the course folder to grade into"
    )
    p.add_argument("--lesson", metavar="ID", help="grade only this lesson (e.g. 01_derivatives)")
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="notebooks graded at once (default: the number of CPUs, %(default)s here)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=d.cell_seconds,
        metavar="S",
        help="seconds a cell may run before it is stopped (default %(default)g)",
    )
    p.add_argument(
        "--notebook-timeout",
        type=float,
        default=d.submission_seconds,
        metavar="S",
        help="seconds one notebook may run in all (default %(default)g)",
    )
    p.add_argument(
        "--memory",
        type=int,
        default=d.memory_mb,
        metavar="MB",
        help="memory per kernel in MB (default %(default)s)",
    )
    p.add_argument(
        "--max-output",
        type=int,
        default=d.output_bytes,
        metavar="BYTES",
        help="output kept per cell (default %(default)s)",
    )
    p.add_argument(
        "--student",
        nargs="+",
        metavar="ID",
        help="grade only these students (others are left as they are)",
    )
    p.add_argument(
        "--solutions",
        type=Path,
        default=SOLUTIONS,
        metavar="DIR",
        help="the instructor notebooks, solutions/<id>/<id>.ipynb (default: the course's)",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels without bubblewrap isolation (the report says so)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output, only errors")
    _after_the_deadline(p)
    _add_cluster_options(p)
    return p


def _after_the_deadline(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "deadlines, late work and the roster",
        "Deadlines are ISO 8601 with a time zone (2026-12-01T23:59+01:00); pyproject.toml's "
        "[tool.course.deadlines] and [tool.course.late] give defaults. docs/GRADING.md has it all.",
    )
    g.add_argument(
        "--due",
        action="append",
        default=[],
        metavar="[LESSON=]WHEN",
        help="the deadline of every lesson of the batch, or of one lesson (repeatable)",
    )
    g.add_argument(
        "--extensions",
        type=Path,
        metavar="CSV",
        help="per-student extensions: a CSV with the header student_id,lesson,due",
    )
    g.add_argument(
        "--late-policy",
        choices=("none", "zero", "per-hour", "per-day"),
        help="what a late notebook costs (default: none)",
    )
    g.add_argument(
        "--late-rate",
        type=float,
        metavar="PCT",
        help="per-hour/per-day: percent of the score taken per started hour or day",
    )
    g.add_argument(
        "--late-cap", type=float, metavar="PCT", help="the most a penalty takes (default 100)"
    )
    g.add_argument(
        "--roster",
        type=Path,
        metavar="CSV",
        help="students.csv (student_id,first_name,last_name,email,lms_user_id): loaded into the "
        "gradebook; a roster student with nothing handed in gets a 'missing' row",
    )


def _add_cluster_options(p: argparse.ArgumentParser) -> None:
    """--scheduler / --scheduler-file (Dask) and --db-url (the gradebook's database)."""
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="execute the notebooks on this Dask scheduler's workers (tcp://host:8786); "
        "needs the [cluster] extra",
    )
    cluster.add_argument(
        "--scheduler-file",
        type=Path,
        metavar="F",
        help="the same, with the address from the file `dask scheduler --scheduler-file F` wrote",
    )
    p.add_argument(
        "--db-url",
        metavar="URL",
        help="keep the gradebook in this database (postgresql+psycopg://...; default: "
        "CourseDirectory.db_url in OUT/nbgrader_config.py, else OUT/gradebook.db)",
    )


def _check_args(a: argparse.Namespace) -> None:
    if a.jobs < 1:
        raise GraderError("--jobs must be at least 1")
    if a.timeout <= 0 or a.notebook_timeout <= 0:
        raise GraderError("--timeout and --notebook-timeout must be positive")
    if a.memory < 256:
        raise GraderError(
            "--memory must be at least 256 (MB): Python with numpy needs that much to start"
        )
    if a.max_output < 1000:
        raise GraderError("--max-output must be at least 1000 bytes")
    if not a.submissions.exists():
        raise GraderError(f"SUBMISSIONS not found: {a.submissions}")
    out = a.out.resolve()
    sub = a.submissions.resolve()
    if out.is_relative_to(sub) or sub.is_relative_to(out):
        raise GraderError("--out must not be inside SUBMISSIONS, nor SUBMISSIONS inside --out")
    for option, path in (("--extensions", a.extensions), ("--roster", a.roster)):
        if path is not None and not path.is_file():
            raise GraderError(f"{option}: no such file: {path}")
    if a.scheduler_file is not None and not a.scheduler_file.is_file():
        raise GraderError(f"--scheduler-file not found: {a.scheduler_file}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_args(args)
        summary = run(args)
    except GraderError as exc:
        print(f"grade: error: {exc}", file=sys.stderr)
        return EXIT_GRADER_ERROR
    except GradingIncomplete as exc:
        if not args.quiet:
            print(exc.summary)
        print(f"grade: error: {exc}:", *exc.reasons, sep="\n  ", file=sys.stderr)
        return EXIT_INCOMPLETE
    if not args.quiet:
        print(summary)
    return EXIT_OK
