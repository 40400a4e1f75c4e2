"""``python -m autograder release [ID ...] [--check]``: student versions from solutions/.

What a release does: :mod:`autograder.release.build`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import course
from ..release.build import ReleaseError, Stale, build, differences, orphans, resolve, write


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "lessons",
        nargs="*",
        metavar="ID",
        help="lesson ids such as 01_derivatives (default: every lesson in solutions/)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name every lesson whose stored files are stale",
    )
    parser.add_argument(
        "--root",
        type=Path,
        help="the course folder (default: the current folder when it is one, else this checkout)",
    )


def run(args: argparse.Namespace, root: Path | None = None) -> int:
    root = Path(
        root or getattr(args, "root", None) or course.find_course() or course.ROOT
    ).resolve()
    try:
        course.settings(root).require_links()  # [tool.course]: the badges and the install
        lessons = resolve(args.lessons, root)
    except (ReleaseError, ValueError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 2
    if not lessons:
        print(
            f"release: no lessons in {root / 'solutions'} (expected solutions/<id>/<id>.ipynb): "
            "nothing to " + ("check" if args.check else "release"),
            file=sys.stderr,
        )
        return 2
    problems: list[Stale] = []
    failed = False
    for lesson in lessons:
        start = time.perf_counter()
        try:
            built = build(lesson, root)
        except (ReleaseError, ValueError) as exc:
            print(f"release: {exc}", file=sys.stderr)
            failed = True
            continue
        seconds = time.perf_counter() - start
        if args.check:
            found = differences(built, root)
            problems += found
            print(f"{lesson}: {'stale' if found else 'up to date'} ({seconds:.1f} s)")
        else:
            changed = write(built, root)
            what = ", ".join(changed) if changed else "unchanged"
            print(f"{lesson}: {what} ({seconds:.1f} s)")
    if args.check:
        if not args.lessons:
            problems += orphans(root)
        if problems:
            stale = sorted({p.lesson for p in problems})
            print(f"stale lessons: {', '.join(stale)}", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            print("run `python -m autograder release` and commit the result", file=sys.stderr)
            return 1
    return 1 if failed else 0
