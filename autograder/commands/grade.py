"""``python -m autograder grade``: grade a batch of submissions into an nbgrader course folder.

    python -m autograder grade SUBMISSIONS [SUBMISSIONS ...] --out OUT [--lesson ID] [--jobs N]
        [--timeout S] [--memory MB] [--student ID ...] [--due [LESSON=]WHEN ...]
        [--extensions CSV] [--late-policy none|zero|per-hour|per-day --late-rate PCT
        --late-cap PCT] [--roster CSV] [--moodle-worksheet CSV] [--exchange-timestamps]

This module is the command line: its arguments, the one :class:`~..grading.settings.RunSettings`
they make with what OUT remembers (:mod:`..grading.remembered`) and ``[tool.course]``, the lock
on OUT, and ``main``. The run itself, phase by phase, is :func:`autograder.grading.pipeline.run`.

Exit status: 0 when the batch was graded, whatever the students did; 1 when a notebook could
not be graded through the grader's own fault (the reason is on stderr); 2 when the grader could
not run, or not safely (bad arguments, SUBMISSIONS missing or unreadable, no lessons, no
sandbox without --no-sandbox, OUT in use with --no-wait).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..grading.settings import Limits
from ..grading.vocabulary import GraderError

__all__ = ["GraderError", "build_parser", "main"]

EXIT_OK = 0
EXIT_LOST = 1
EXIT_GRADER_ERROR = 2


# --------------------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Grade students' notebooks into an nbgrader course folder: grades.csv, "
        "exercises.csv, feedback/<student>/<lesson>.html, report.html and a gradebook "
        "formgrader opens.",
        epilog="Exit status 0 when the batch was graded (whatever the students did); 1 when a "
        "notebook could not be graded through the grader's own fault; 2 when the grader could "
        "not run, or not safely. Re-running is idempotent; OUT remembers the limits, deadlines, "
        "extensions, late policy and roster it was graded with; --student regrades only the "
        "students named.",
    )
    _what_to_grade(p)
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="notebooks graded at once (default: the number of CPUs, %(default)s here)",
    )
    _limits(p)
    _whom_and_against_what(p)
    _safety_and_output(p)
    _after_the_deadline(p)
    _add_cluster_options(p)
    return p


def _what_to_grade(p: argparse.ArgumentParser) -> None:
    """SUBMISSIONS, --out, --lesson: what is graded, and into which course folder."""
    p.add_argument(
        "submissions",
        type=Path,
        nargs="+",
        metavar="SUBMISSIONS",
        help="a folder with one sub-folder per student, a zip of it, an LMS download (Canvas's "
        "or Moodle's zip, as downloaded) or an nbgrader submitted/ tree; several may be given",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="the course folder to grade into"
    )
    p.add_argument("--lesson", metavar="ID", help="grade only this lesson (e.g. 01_derivatives)")


def _whom_and_against_what(p: argparse.ArgumentParser) -> None:
    """--student, --course, --solutions: whose notebooks, against which course."""
    p.add_argument(
        "--student",
        nargs="+",
        metavar="ID",
        help="grade only these students (others are left as they are)",
    )
    p.add_argument(
        "--course",
        type=Path,
        metavar="DIR",
        help="the course folder (solutions/, pyproject.toml's [tool.course]); default: the "
        "current folder when it is one, else the checkout the grader runs from",
    )
    p.add_argument(
        "--solutions",
        type=Path,
        metavar="DIR",
        help="the instructor notebooks, DIR/<id>/<id>.ipynb (default: the course's solutions/)",
    )


def _safety_and_output(p: argparse.ArgumentParser) -> None:
    """--no-sandbox, --no-wait, --quiet: isolation, a busy OUT, progress output."""
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels without bubblewrap isolation (only where the machine is itself an "
        "isolated environment; the report says so). Without it a grader that cannot isolate "
        "kernels stops (exit 2)",
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="when another run holds OUT, stop (exit 2, naming it) instead of waiting",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output, only errors")


def _limits(p: argparse.ArgumentParser) -> None:
    """--timeout, --notebook-timeout, --memory, --max-output: OUT remembers them."""
    d = Limits()
    remembered = "default: what OUT was graded with, else"
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help=f"seconds a cell may run before it is stopped ({remembered} {d.cell_seconds:g})",
    )
    p.add_argument(
        "--notebook-timeout",
        type=float,
        metavar="S",
        help=f"seconds one notebook may run in all ({remembered} {d.submission_seconds:g})",
    )
    p.add_argument(
        "--memory",
        type=int,
        metavar="MB",
        help=f"memory per kernel in MB ({remembered} {d.memory_mb})",
    )
    p.add_argument(
        "--max-output",
        type=int,
        metavar="BYTES",
        help=f"output kept per cell ({remembered} {d.output_bytes})",
    )


def _after_the_deadline(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "deadlines, late work, the roster and the LMS",
        "Deadlines are ISO 8601 with a time zone (2026-12-01T23:59+01:00). OUT remembers what it "
        "was graded with; for a new OUT, pyproject.toml's [tool.course.deadlines] and "
        "[tool.course.late] give defaults. docs/GRADING.md has it all.",
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
        help="what a late notebook costs (default: what OUT was graded with, else none)",
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
        help="students.csv (student_id,first_name,last_name,email,lms_user_id,username): loaded "
        "into the gradebook; matches LMS downloads to students; a roster student with nothing "
        "handed in gets a 'missing' row",
    )
    g.add_argument(
        "--moodle-worksheet",
        type=Path,
        action="append",
        default=[],
        metavar="CSV",
        help="Moodle's grading worksheet of a Moodle download (repeatable): maps its participant "
        "ids to students and gives each submission's time",
    )
    g.add_argument(
        "--exchange-timestamps",
        action=argparse.BooleanOptionalAction,
        help="in an nbgrader submitted/ tree, take each submission's time from the "
        "timestamp.txt nbgrader's exchange (or zip_collect) wrote (default: what OUT was "
        "graded with, else no: the file's time)",
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


def main(argv: list[str] | None = None) -> int:
    from ..grading.lock import hold
    from .run_settings import from_arguments

    args = build_parser().parse_args(argv)
    try:
        settings = from_arguments(args)
        with hold(settings.out, wait=not args.no_wait, what="grade", quiet=args.quiet):
            from ..grading.pipeline import run

            result = run(settings)
    except GraderError as exc:
        print(f"grade: error: {exc}", file=sys.stderr)
        return EXIT_GRADER_ERROR
    if not args.quiet:
        print(result.summary)
    for line in result.not_graded:
        print(f"grade: not graded: {line}", file=sys.stderr)
    if result.lost:
        print(
            f"grade: error: {len(result.lost)} notebook(s) could not be graded through the "
            "grader's own fault (grade them again):",
            file=sys.stderr,
        )
        for line in result.lost:
            print(f"  {line}", file=sys.stderr)
        return EXIT_LOST
    return EXIT_OK
