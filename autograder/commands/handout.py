"""``python -m autograder handout DEST``: the students' copy of the course.

    python -m autograder handout DEST [--lesson ID ...] [--course DIR]

What DEST holds and what it never holds: :mod:`autograder.release.handout`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import course
from ..release.build import ReleaseError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m autograder handout",
        description="Write the students' copy of the course into DEST: the student version of "
        "each lesson, the helpers package, a README (make lab, Colab) and the packaging. Never "
        "the solutions, the tests or the grader. [tool.course] in pyproject.toml names the "
        "students' repository and tag (badges, Colab install) and whether quizzes show their key.",
    )
    p.add_argument(
        "dest",
        type=Path,
        metavar="DEST",
        help="a new or empty folder, or a git checkout of the students' repository",
    )
    p.add_argument(
        "--lesson",
        nargs="+",
        metavar="ID",
        help="the lessons students get, every one so far (default: all); DEST then holds exactly "
        "these, in place of what an earlier hand-out wrote there",
    )
    p.add_argument(
        "--course",
        type=Path,
        metavar="DIR",
        help="the course folder (default: the current folder when it is one, else this checkout)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    from ..release.handout import handout

    args = build_parser().parse_args(argv)
    root = course.find_course(args.course)
    if root is None or not (root / "solutions").is_dir():
        print("handout: error: no course found (give --course DIR)", file=sys.stderr)
        return 2
    dest = args.dest.resolve()
    if dest == root or dest.is_relative_to(root / "solutions") or root.is_relative_to(dest):
        print(f"handout: error: DEST {dest} must be outside the course folder", file=sys.stderr)
        return 2
    try:
        done = handout(root, dest, args.lesson)
    except (ReleaseError, ValueError) as exc:
        print(f"handout: error: {exc}", file=sys.stderr)
        return 2
    print(f"handout: {len(done.lessons)} lessons, {len(done.files)} files -> {done.dest}")
    if done.quiz_feedback:
        print(
            "handout: note: quiz feedback is on ([tool.course] quiz_feedback = true): each quiz "
            "shows its answers after it. For a graded term set it to false and hand out again.",
            file=sys.stderr,
        )
    site = course.settings(root)
    print(
        f"handout: publish DEST as https://github.com/{site.repository} and tag it {site.tag} "
        "(the badges and the Colab install open that tag)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
