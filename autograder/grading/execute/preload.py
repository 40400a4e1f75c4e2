"""The code the grader runs inside each student's kernel, and the tests it judges outside it.

Before any student cell (``preload``): the course's numeric package, which every lesson's
setup cell imports (so its import is not charged to the student's first cell, and is done
while no student code can interfere), then the kernel side of the record (:mod:`..record`),
which answers for the student's objects while a test runs in the grading worker. Nothing of
the lesson's checkers is loaded into the kernel: the tests (:func:`test_sources`, hidden tests
included) run only in the worker (:mod:`..judge`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...course.lessons import Lesson


# The course package the lessons' setup cell imports (numpy and matplotlib with it).
COURSE_IMPORT = (
    "import importlib.util as _u\nif _u.find_spec('helpers'):\n    import helpers\ndel _u"
)


def preload_lines(lesson: Lesson) -> tuple[str, ...]:
    """Code each kernel runs before the notebook: the course package, the record's kernel side."""
    from ..record.bootstrap import kernel_source

    del lesson  # the same for every lesson: nothing of the lesson enters the kernel
    return (COURSE_IMPORT, kernel_source())


def test_sources(lesson: Lesson) -> dict[str, str]:
    """grade id -> the instructor's full test source (hidden tests included), for the judge."""
    from ...course.lessons import TEST

    return {c.grade_id: c.source for c in lesson.cells if c.role == TEST and c.cell_type == "code"}
