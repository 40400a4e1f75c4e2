"""The course as a repository, shared by the release and the grader (nothing here imports them).

repository  where things live, the lesson ids, ``[tool.course]``, the standard cells
notebooks   the notebook normal form every stored notebook is in
lessons     what a lesson's instructor source says: cells, roles, grade ids, headings
quiz_key    a quiz's key as authored in its solution block; the quiz naming rule

The repository's facts are this package's own names (``autograder.course.ROOT``, ...).
"""

from .repository import (
    BADGE_LINK,
    DISTRIBUTION,
    ROOT,
    SETUP_NBGRADER,
    SETUP_TAG,
    SOLUTIONS,
    CourseSettings,
    badge_url,
    find_course,
    find_lessons,
    install_spec,
    is_course,
    lesson_path,
    present_lessons,
    settings,
    setup_cell_source,
    solution_path,
)

__all__ = [
    "BADGE_LINK",
    "DISTRIBUTION",
    "ROOT",
    "SETUP_NBGRADER",
    "SETUP_TAG",
    "SOLUTIONS",
    "CourseSettings",
    "badge_url",
    "find_course",
    "find_lessons",
    "install_spec",
    "is_course",
    "lesson_path",
    "present_lessons",
    "settings",
    "setup_cell_source",
    "solution_path",
]
