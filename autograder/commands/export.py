"""``python -m autograder export``: grades.csv as files an LMS imports.

    python -m autograder export OUT --format canvas|moodle|wide [--lesson ID ...] [--to FILE]

The formats and what a cell holds: :mod:`autograder.grading.publish.lms`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..grading.publish.lms import FORMATS, export
from ..grading.vocabulary import GraderError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder export",
        description="Write grades.csv of a graded course folder as a Canvas or Moodle import "
        "file, or one row per student (points after the late penalty; missing students too).",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the course folder `grade` wrote")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument(
        "--lesson", nargs="+", metavar="ID", help="only these lessons (default: every lesson)"
    )
    p.add_argument(
        "--to", type=Path, metavar="FILE", help="where to write (default: OUT/exports/FORMAT.csv)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        path, table = export(args.out, args.format, args.lesson, args.to)
    except GraderError as exc:
        print(f"export: error: {exc}", file=sys.stderr)
        return 2
    for warning in table.warnings:
        print(f"export: {warning}", file=sys.stderr)
    print(f"{args.format}: {len(table.people)} students, {len(table.lessons)} lessons -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
