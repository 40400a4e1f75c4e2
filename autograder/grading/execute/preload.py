"""The code the grader runs inside each student's kernel, and the tests it judges outside it.

Before any student cell (``preload``): import the lesson's checkers and the recorder
(:mod:`..record`), which snapshots what the tests rely on. Each test cell then runs as the
recorder's call (:func:`..judge.judge.recording_run`) and is judged in the grading worker from its
record with the instructor's test source (:func:`test_sources`, hidden tests included), so
nothing a student rebinds in the kernel decides a point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...course.lessons import Lesson


def preload_lines(lesson: Lesson) -> tuple[str, ...]:
    """Code each kernel runs before the notebook: the lesson's checkers, then the recorder."""
    from ..record.bootstrap import kernel_source

    checkers = (
        f"import importlib.util as _u\nif _u.find_spec('helpers.exercises.{lesson.topic}'):\n"
        f"    import helpers.exercises.{lesson.topic}\ndel _u"
    )
    return (checkers, kernel_source())


def test_sources(lesson: Lesson) -> dict[str, str]:
    """grade id -> the instructor's full test source (hidden tests included), for trusted.py."""
    from ...course.lessons import TEST

    return {c.grade_id: c.source for c in lesson.cells if c.role == TEST and c.cell_type == "code"}
