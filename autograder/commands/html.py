"""``python -m autograder html``: lessons as HTML pages everyone can read.

Each lesson's solutions notebook is executed and exported by ``jupyter nbconvert --to html
--execute`` with the course's ``accessible`` template (``nbconvert_templates/accessible``):
nbconvert's ``lab`` template with prompt and code colours that pass WCAG AA contrast. The pages
include the answers: they are the instructor's reference copy, not a student handout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .. import course

TEMPLATES = Path(__file__).resolve().parents[1] / "nbconvert_templates"
TEMPLATE = "accessible"


def nbconvert_command(notebook: Path, out_dir: Path, timeout: int = 300) -> list[str]:
    """The ``jupyter nbconvert`` call that writes ``out_dir/<notebook stem>.html``."""
    return [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "html",
        "--execute",
        "--template",
        TEMPLATE,
        f"--TemplateExporter.extra_template_basedirs={TEMPLATES}",
        f"--ExecutePreprocessor.timeout={timeout}",
        "--output-dir",
        str(out_dir),
        str(notebook),
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "lessons",
        nargs="*",
        metavar="ID",
        help="lesson ids such as 01_derivatives (default: every lesson in solutions/)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=course.ROOT / "build" / "html",
        help="the folder the pages are written to (default: build/html)",
    )


def run(args: argparse.Namespace) -> int:
    known = course.find_lessons()
    unknown = [lesson for lesson in args.lessons if lesson not in known]
    if unknown:
        print(f"html: no solutions notebook for {', '.join(unknown)}", file=sys.stderr)
        return 2
    failed = []
    for lesson in args.lessons or known:
        done = subprocess.run(nbconvert_command(course.solution_path(lesson), args.out))
        if done.returncode != 0:
            failed.append(lesson)
    if failed:
        print(f"html: nbconvert failed on {', '.join(failed)} (its messages are above)")
        return 1
    print(f"html: {len(args.lessons or known)} page(s) in {args.out}")
    return 0
