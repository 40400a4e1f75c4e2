"""The course's fixed facts: where things live, the lesson ids, the standard cells.

The repository slug and branch come from ``[tool.course]`` in pyproject.toml, the one place a
fork edits; :func:`setup_cell_source` and :func:`badge_url` render them into every lesson.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"

DISTRIBUTION = "calculus-for-deep-learning"


def solution_path(lesson: str, root: Path = ROOT) -> Path:
    return root / "solutions" / lesson / f"{lesson}.ipynb"


def lesson_path(lesson: str, root: Path = ROOT) -> Path:
    return root / "lessons" / lesson / f"{lesson}.ipynb"


def find_lessons(solutions: Path = SOLUTIONS) -> list[str]:
    """Lesson ids with an instructor notebook ``<solutions>/<id>/<id>.ipynb``, sorted."""
    if not solutions.is_dir():
        return []
    return sorted(p.name for p in solutions.iterdir() if (p / f"{p.name}.ipynb").is_file())


def present_lessons(root: Path = ROOT) -> list[str]:
    """Every lesson of the repository at ``root`` that has a solutions notebook."""
    return find_lessons(root / "solutions")


@dataclass(frozen=True)
class CourseSettings:
    repository: str  # "owner/name" on GitHub
    branch: str


def settings(root: Path = ROOT) -> CourseSettings:
    data = tomllib.loads((root / "pyproject.toml").read_text())
    table = data.get("tool", {}).get("course", {})
    try:
        return CourseSettings(repository=table["repository"], branch=table["branch"])
    except KeyError as missing:
        raise ValueError(f"pyproject.toml [tool.course] lacks {missing}") from None


def badge_url(lesson: str, s: CourseSettings) -> str:
    return f"https://colab.research.google.com/github/{s.repository}/blob/{s.branch}/lessons/{lesson}/{lesson}.ipynb"


# Matches any Colab badge link to a lesson, whatever repository or branch it names.
BADGE_LINK = re.compile(
    r"https://colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/[^/\s)]+/lessons/(?P<lesson>[0-9a-z_]+)/(?P=lesson)\.ipynb"
)


SETUP_TAG = "setup"

# The setup cell is read-only for nbgrader: autograde restores it from the release, so a
# student who edits it cannot break grading.
SETUP_NBGRADER = {
    "grade": False,
    "solution": False,
    "locked": True,
    "grade_id": "setup",
    "schema_version": 3,
}

_SETUP_TEMPLATE = """\
# Setup: run this cell first. It is safe to run again, and you do not need to edit it.
import importlib, os, subprocess, sys

LESSON = "{lesson}"
if "google.colab" in sys.modules:  # Colab: install the course's small core package once
    try:
        import helpers
    except ImportError:
        spec = os.environ.get("COURSE_INSTALL_SPEC", "{install_spec}")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], check=True)
        importlib.invalidate_caches()
    import ipywidgets
    if int(ipywidgets.__version__.split(".")[0]) >= 8:
        from google.colab import output
        output.enable_custom_widget_manager()
try:
    import helpers
except ImportError:
    raise ImportError(
        "The course package `helpers` is not installed in this kernel. From the course folder run "
        "`make lab` (it installs everything), or `pip install -e .` in your own environment."
    ) from None
helpers.setup(LESSON)"""


def install_spec(s: CourseSettings) -> str:
    return f"{DISTRIBUTION} @ git+https://github.com/{s.repository}@{s.branch}"


def setup_cell_source(lesson: str, s: CourseSettings) -> str:
    return _SETUP_TEMPLATE.format(lesson=lesson, install_spec=install_spec(s))
