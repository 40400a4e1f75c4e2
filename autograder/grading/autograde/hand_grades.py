"""What a person decided in formgrader: kept when a batch is graded again, and read back.

nbgrader's ``SaveAutoGrades`` flags every grade that has a manual score as needing manual
grading again whenever a submission is autograded, so a plain re-run would turn each written
answer graded in formgrader back into "pending". :class:`KeptHandGrades` notes, before a
submission is autograded again, which hand grades were decided and what the student's cells they
judged said (from ``OUT/autograded/``, the notebook formgrader showed); afterwards it clears the
flag of those whose cells are unchanged. A grade whose answer changed stays flagged, and the
submission's detail says so.

Comments live in nbgrader's ``Comment`` table, one per answer (solution) cell. A written answer
is its own answer cell; an autograded test's comments are those of the answer cells before it
(:func:`answer_cells_of`), so a remark on ``square`` reaches the row of ``test_square``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ...course.lessons import ANSWER, TEST, WRITTEN, Lesson
from ...course.notebooks import grade_id
from ..course_dir import CoursePaths


def answer_cells_of(lesson: Lesson) -> dict[str, list[str]]:
    """Graded cell's grade id -> the grade ids of the student's cells it judges.

    A written answer judges itself; a test judges the answer cells since the previous graded
    cell. Answer cells after the last graded cell belong to it, so no comment is lost.
    """
    out: dict[str, list[str]] = {}
    waiting: list[str] = []
    last = None
    for c in lesson.cells:
        if c.role == ANSWER and c.grade_id:
            waiting.append(c.grade_id)
        elif c.role == WRITTEN:
            out[c.grade_id] = [c.grade_id]
            last = c.grade_id
        elif c.role == TEST:
            out[c.grade_id] = waiting
            waiting, last = [], c.grade_id
    if waiting and last is not None:
        out[last] = out[last] + waiting
    return out


def _digests(notebook_path, lesson: Lesson) -> dict[str, str]:
    """Graded cell -> digest of the student's cells it judges, as ``notebook_path`` has them."""
    try:
        cells = json.loads(notebook_path.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return {}
    source = {}
    for cell in cells:
        gid = grade_id(cell)
        text = cell.get("source", "")
        source[gid] = "".join(text) if isinstance(text, list) else text
    return {
        gid: hashlib.sha256(json.dumps([source.get(a) for a in answers]).encode()).hexdigest()
        for gid, answers in answer_cells_of(lesson).items()
    }


@dataclass
class KeptHandGrades:
    """The decided hand grades of one submission, taken before it is autograded again."""

    student: str
    lesson: Lesson
    decided: dict[str, str]  # grade id -> digest of the cells it judged

    @classmethod
    def before_autograde(
        cls, course: CoursePaths, db_url: str, lesson: Lesson, student: str
    ) -> KeptHandGrades:
        from nbgrader.api import Gradebook, MissingEntry

        digests = _digests(course.autograded_notebook(student, lesson.id), lesson)
        decided = {}
        with Gradebook(db_url) as gb:
            try:
                nb = gb.find_submission_notebook(lesson.id, lesson.id, student)
            except MissingEntry:
                return cls(student, lesson, {})
            for g in nb.grades:
                if g.manual_score is not None and not g.needs_manual_grade and g.name in digests:
                    decided[g.name] = digests[g.name]
        return cls(student, lesson, decided)

    def restore(self, course: CoursePaths, db_url: str) -> list[str]:
        """Clear the re-raised flag of unchanged hand grades; notes for the changed ones."""
        if not self.decided:
            return []
        from nbgrader.api import Gradebook

        now = _digests(course.autograded_notebook(self.student, self.lesson.id), self.lesson)
        notes = []
        with Gradebook(db_url) as gb:
            nb = gb.find_submission_notebook(self.lesson.id, self.lesson.id, self.student)
            for g in nb.grades:
                if g.name not in self.decided:
                    continue
                if now.get(g.name) == self.decided[g.name]:
                    g.needs_manual_grade = False
                else:
                    notes.append(
                        f"{g.name}: the answer changed since it was graded by hand; "
                        "grade it again in formgrader"
                    )
            gb.db.commit()
        return notes


def comments(submitted_notebook, lesson: Lesson) -> dict[str, str]:
    """Graded cell's grade id -> the instructor's comments on the cells it judges.

    Only comments a person typed (``manual_comment``); nbgrader's automatic "No response." is
    not the instructor's. Several commented answer cells for one test are joined, each named.
    """
    typed = {
        c.name: c.manual_comment.strip()
        for c in submitted_notebook.comments
        if c.manual_comment and c.manual_comment.strip()
    }
    out = {}
    for gid, answers in answer_cells_of(lesson).items():
        found = [(a, typed[a]) for a in answers if a in typed]
        if len(found) == 1:
            out[gid] = found[0][1]
        elif found:
            out[gid] = "\n\n".join(f"{a}: {text}" for a, text in found)
    return out
