"""``python -m autograder`` (or the ``autograder`` command): the course's command line.

python -m autograder release [ID ...] [--check]   student versions from solutions/
python -m autograder handout DEST                 the students' course (no answers, no grader)
python -m autograder grade SUBMISSIONS --out OUT  grade submissions (autograder.commands.grade)
python -m autograder formgrader OUT               grade written answers by hand in formgrader
python -m autograder export OUT --format F        grades and feedback for Canvas, Moodle, ...
python -m autograder html [ID ...] [--out DIR]    lessons as accessible HTML (build/html)
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Commands that own all of their arguments, --help included: handed over untouched.
_OWN_PARSER = {
    "grade": ("autograder.commands.grade", "grade submissions into an nbgrader course folder"),
    "formgrader": (
        "autograder.commands.formgrader",
        "serve nbgrader's formgrader on a graded course folder (written answers, comments)",
    ),
    "export": (
        "autograder.commands.export",
        "grades as Canvas, Moodle or spreadsheet files; feedback pages as zips",
    ),
    "handout": (
        "autograder.commands.handout",
        "write the students' copy of the course: lessons, helpers, README, packaging",
    ),
}


def _version() -> str:
    from helpers import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    from .commands import html, release

    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Calculus for Deep Learning: release and hand out lessons, grade "
        "submissions, return feedback.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    rel = commands.add_parser(
        "release",
        help="generate lessons/<id>/ from solutions/<id>/ with nbgrader "
        "(or --check they are current)",
        description="Rewrite each solution's standard cells, run nbgrader's generate_assignment "
        "in a temporary course, and store the normalised student version in lessons/<id>/.",
    )
    release.add_arguments(rel)
    for name, (_, text) in _OWN_PARSER.items():
        commands.add_parser(name, help=f"{text} (see `python -m autograder {name} --help`)")
    page = commands.add_parser(
        "html",
        help="execute each lesson's solutions and export it with the accessible template",
        description="Write build/html/<id>.html with `jupyter nbconvert --to html --execute` "
        "and the course's accessible template (WCAG AA colours). The pages show the answers.",
    )
    html.add_arguments(page)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _OWN_PARSER:
        module = importlib.import_module(_OWN_PARSER[argv[0]][0])
        return module.main(argv[1:])
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
