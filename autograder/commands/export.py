"""``python -m autograder export``: grades and feedback pages as files an LMS takes.

    python -m autograder export OUT --format canvas|moodle|wide|moodle-feedback|pages
        [--lesson ID ...] [--to FILE|DIR] [--moodle-id email|username|idnumber] [--feedback]

The grade files: :mod:`autograder.grading.publish.lms`; the feedback zips:
:mod:`autograder.grading.publish.returns`. Holds OUT's lock while it reads and writes (a
``grade`` running there is waited for).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..grading.publish import lms, returns
from ..grading.vocabulary import GraderError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder export",
        description="Write grades.csv of a graded course folder as a Canvas or Moodle import "
        "file or one row per student (points after the late penalty; missing students too), "
        "or the feedback pages as Moodle's feedback-files zip or one zip per student.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the course folder `grade` wrote")
    p.add_argument("--format", required=True, choices=lms.FORMATS + returns.FORMATS)
    p.add_argument(
        "--lesson", nargs="+", metavar="ID", help="only these lessons (default: every lesson)"
    )
    p.add_argument(
        "--to",
        type=Path,
        metavar="PATH",
        help="where to write: a file for canvas, moodle and wide (default OUT/exports/FORMAT.csv), "
        "a folder for moodle-feedback and pages (default OUT/exports/FORMAT/)",
    )
    p.add_argument(
        "--moodle-id",
        choices=tuple(lms.MOODLE_IDENTIFIERS),
        default="email",
        help="moodle: the column users are mapped by on import; rows without it are left out "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--feedback",
        action="store_true",
        help="moodle: a '<lesson> (Feedback)' column of the instructor's comments after each "
        "lesson",
    )
    p.add_argument(
        "--no-wait", action="store_true", help="stop (exit 2) when another run holds OUT"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    from ..grading.lock import hold

    args = build_parser().parse_args(argv)
    try:
        if not args.out.is_dir():
            raise GraderError(f"{args.out}: no such course folder (run `grade` first)")
        with hold(args.out, wait=not args.no_wait, what="export"):
            if args.format in returns.FORMATS:
                return _returns(args)
            options = lms.Options(args.lesson, args.to, args.moodle_id, args.feedback)
            path, table = lms.export(args.out, args.format, options)
    except GraderError as exc:
        print(f"export: error: {exc}", file=sys.stderr)
        return 2
    for warning in table.warnings:
        print(f"export: {warning}", file=sys.stderr)
    print(f"{args.format}: {len(table.people)} students, {len(table.lessons)} lessons -> {path}")
    return 0


def _returns(args: argparse.Namespace) -> int:
    written, warnings = returns.write_returns(args.out, args.format, args.lesson, args.to)
    for warning in warnings:
        print(f"export: {warning}", file=sys.stderr)
    if not written:
        print(f"export: error: no feedback page to pack for {args.format}", file=sys.stderr)
        return 2
    for path in written:
        print(f"{args.format}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
