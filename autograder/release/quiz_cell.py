"""The quiz feedback cell the release writes after each ``test_quiz_NN`` cell.

Run after answering, it shows each item right or wrong with its reason
(:func:`helpers.checks.quiz_feedback`). The key (:mod:`autograder.course.quiz_key`) travels
base64-encoded: not readable at a glance, but this is self-study feedback, not security. With
``[tool.course] quiz_feedback = false`` the cell only says that answers are marked after
grading, and holds no key.
"""

from __future__ import annotations

import textwrap

import nbformat

from ..course.notebooks import grade_id
from ..course.quiz_key import QUIZ_ID, QuizKey, QuizKeyError, answer_test_id, parse_key

FEEDBACK_TAG = "quiz-feedback"


OFF_SOURCE = (
    "# Quiz feedback is switched off for this release: your answers are marked after grading.\n"
    'print("Your quiz answers are marked after grading; this release shows no answers here.")'
)


def cell_source(key: QuizKey, on: bool) -> str:
    """The feedback cell's source: the encoded key, or (switched off) a note without it."""
    if not on:
        return OFF_SOURCE
    from helpers.checks import encode_quiz_key

    encoded = textwrap.wrap(encode_quiz_key(key.title, list(key.items)), 76)
    body = "\n".join(f'        "{chunk}"' for chunk in encoded)
    return (
        f"# {key.title} feedback: run this cell after answering the quiz above. The release\n"
        "# writes it; the key below is encoded so that it does not give the answers at a glance.\n"
        "from helpers.checks import quiz_feedback\n"
        "\n"
        "quiz_feedback(\n"
        "    globals(),\n"
        "    key=(\n"
        f"{body}\n"
        "    ),\n"
        ")"
    )


def feedback_cell(key: QuizKey, on: bool):
    """The locked, non-graded code cell that follows ``test_<grade_id>``."""
    cell = nbformat.v4.new_code_cell(
        cell_source(key, on),
        metadata={
            "tags": [FEEDBACK_TAG],
            "nbgrader": {
                "grade": False,
                "solution": False,
                "locked": True,
                "grade_id": f"feedback_{key.grade_id}",
                "schema_version": 3,
            },
        },
    )
    cell.id = f"feedback_{key.grade_id}"
    return cell


def apply(nb, lesson: str, on: bool) -> None:
    """Replace every ``quiz-feedback`` cell of ``nb`` by a fresh one after each quiz test cell.

    Idempotent: a second run writes the same cells. Lessons whose quiz is still called
    ``quiz`` (not ``quiz_NN``) get no feedback cell.
    """
    nb.cells = [c for c in nb.cells if FEEDBACK_TAG not in c.metadata.get("tags", [])]
    keys = {
        (grade_id(c) or ""): parse_key(lesson, i, c)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and QUIZ_ID.match(grade_id(c) or "")
    }
    for gid, key in keys.items():
        test_id = answer_test_id(gid)
        tests = [i for i, c in enumerate(nb.cells) if grade_id(c) == test_id]
        if not tests:
            raise QuizKeyError(f"{lesson}: quiz answer cell {gid} has no test cell {test_id}")
        nb.cells.insert(tests[0] + 1, feedback_cell(key, on))
