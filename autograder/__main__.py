"""``python -m autograder``: the course's command line.

python -m autograder release [ID ...] [--check]   student versions from solutions/
python -m autograder grade ...                    grade submissions (autograder.commands.grade)
python -m autograder export OUT --format F        grades for Canvas, Moodle or a table
python -m autograder html [ID ...] [--out DIR]    lessons as accessible HTML (build/html)
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    from .commands import html, release

    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Calculus for Deep Learning: release lessons and grade submissions.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    rel = commands.add_parser(
        "release",
        help="generate lessons/<id>/ from solutions/<id>/ with nbgrader "
        "(or --check they are current)",
        description="Rewrite each solution's standard cells, run nbgrader's generate_assignment "
        "in a temporary course, and store the normalised student version in lessons/<id>/.",
    )
    release.add_arguments(rel)
    commands.add_parser(
        "grade",
        help="grade submissions (see `python -m autograder grade --help`)",
        add_help=False,
    )
    commands.add_parser(
        "export",
        help="grades.csv as a Canvas or Moodle import file, or one row per student "
        "(see `python -m autograder export --help`)",
        add_help=False,
    )
    page = commands.add_parser(
        "html",
        help="execute each lesson's solutions and export it with the accessible template",
        description="Write build/html/<id>.html with `jupyter nbconvert --to html --execute` "
        "and the course's accessible template (WCAG AA colours). The pages show the answers.",
    )
    html.add_arguments(page)
    return parser


def _grade(argv: list[str]) -> int:
    from .commands.grade import main  # nbgrader and friends load only when grading

    return main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `grade` owns all of its arguments, --help included: hand them over untouched.
    if argv and argv[0] == "grade":
        return _grade(argv[1:])
    if argv and argv[0] == "export":
        from .commands.export import main as export

        return export(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "release":
        from .commands import release

        return release.run(args)
    if args.command == "html":
        from .commands import html

        return html.run(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
