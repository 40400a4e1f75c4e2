"""The course's fixed facts: where things live, the lesson ids, the standard cells.

The repository slug and the tag students install come from ``[tool.course]`` in pyproject.toml,
the one place a fork edits (read by :func:`settings`, the one place that reads it);
:func:`setup_cell_source` and :func:`badge_url` render them into every lesson.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    """``[tool.course]`` of a course's pyproject.toml: the one place it is read.

    repository : "owner/name" on GitHub of the copy students use (badges, the Colab install)
    tag : the git tag (or release) students install and open, never a moving branch
    quiz_feedback : whether each quiz shows its key after it (self-study) or not (graded)
    deadlines : ``[tool.course.deadlines]``, lesson -> ISO 8601 text (checked by the grader)
    late : ``[tool.course.late]``: policy, rate, cap (checked by the grader)
    """

    repository: str = ""
    tag: str = ""
    quiz_feedback: bool = True
    deadlines: dict = field(default_factory=dict)
    late: dict = field(default_factory=dict)

    def require_links(self) -> CourseSettings:
        """These settings, or a ValueError when the badges and the install cannot be written."""
        missing = [k for k in ("repository", "tag") if not getattr(self, k)]
        if missing:
            raise ValueError(f"pyproject.toml [tool.course] lacks {', '.join(missing)}")
        return self


def settings(root: Path = ROOT) -> CourseSettings:
    """Read ``[tool.course]`` of ``root/pyproject.toml`` (the defaults when there is none)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return CourseSettings()
    table = tomllib.loads(path.read_text()).get("tool", {}).get("course", {})
    if "branch" in table and "tag" not in table:
        raise ValueError(
            f"{path}: [tool.course] branch is replaced by tag: name the git tag (or release) "
            'students install and open, e.g. tag = "v0.1.0" (a branch moves under them)'
        )
    for name in ("deadlines", "late"):
        if not isinstance(table.get(name, {}), dict):
            raise ValueError(f"{path}: [tool.course.{name}] must be a table")
    quiz = table.get("quiz_feedback", True)
    if not isinstance(quiz, bool):
        raise ValueError(f"{path}: [tool.course] quiz_feedback must be true or false, got {quiz!r}")
    return CourseSettings(
        repository=str(table.get("repository", "")),
        tag=str(table.get("tag", "")),
        quiz_feedback=quiz,
        deadlines=dict(table.get("deadlines", {})),
        late=dict(table.get("late", {})),
    )


def is_course(folder: Path) -> bool:
    """Whether ``folder`` holds a course: its solutions/ or a pyproject.toml with [tool.course]."""
    if (folder / "solutions").is_dir():
        return True
    path = folder / "pyproject.toml"
    try:
        return path.is_file() and "course" in tomllib.loads(path.read_text()).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def find_course(given: Path | None = None) -> Path | None:
    """The course folder: ``given`` (``--course``), else the current folder when it holds a
    course, else the checkout this package runs from when it is one (an editable install);
    None when there is none (a non-editable install run outside the course)."""
    if given is not None:
        return given.resolve()
    for folder in (Path.cwd(), ROOT):
        if is_course(folder):
            return folder.resolve()
    return None


def badge_url(lesson: str, s: CourseSettings) -> str:
    return f"https://colab.research.google.com/github/{s.repository}/blob/{s.tag}/lessons/{lesson}/{lesson}.ipynb"


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
    return f"{DISTRIBUTION} @ git+https://github.com/{s.repository}@{s.tag}"


def setup_cell_source(lesson: str, s: CourseSettings) -> str:
    return _SETUP_TEMPLATE.format(lesson=lesson, install_spec=install_spec(s))
