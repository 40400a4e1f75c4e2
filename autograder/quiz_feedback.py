"""The quiz feedback cell the release writes after each ``test_quiz_NN`` cell.

A quiz's key and reasons are authored once, in the solution block of its answer cell
(grade_id ``quiz_NN``), one line per item::

    ### BEGIN SOLUTION
    q1_central_more_accurate = True  # its error falls like h**2, the forward one's like h
    ### END SOLUTION

The release parses those lines (:func:`parse_key`) and puts a locked, non-graded code cell
tagged ``quiz-feedback`` right after the quiz's test cell. Run after answering, it shows each
item right or wrong with its reason (:func:`helpers.checks.quiz_feedback`). The key travels
base64-encoded: not readable at a glance, but this is self-study feedback, not security.

An instructor who grades turns the feedback off for a release with
``[tool.course] quiz_feedback = false`` in pyproject.toml: the cell then only says that
answers are marked after grading, and holds no key.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
import tomllib

FEEDBACK_TAG = "quiz-feedback"
QUIZ_ID = re.compile(r"^quiz_(?P<nn>\d\d)$")
_LINE = re.compile(r"^(?P<name>[A-Za-z_]\w*) = (?P<answer>True|False)  # (?P<reason>\S.*)$")
_BEGIN, _END = "### BEGIN SOLUTION", "### END SOLUTION"
REASON_LIMIT = 100

OFF_SOURCE = (
    "# Quiz feedback is switched off for this release: your answers are marked after grading.\n"
    'print("Your quiz answers are marked after grading; this release shows no answers here.")'
)


class QuizKeyError(ValueError):
    """A quiz solution block does not follow ``NAME = True|False  # reason``."""


@dataclass(frozen=True)
class QuizKey:
    """A quiz's key as authored in its answer cell."""

    grade_id: str  # quiz_NN
    title: str  # "Quiz NN"
    items: tuple[tuple[str, bool, str], ...]  # (name, answer, reason)


def enabled(root: Path) -> bool:
    """``[tool.course] quiz_feedback`` of pyproject.toml (default true)."""
    table = tomllib.loads((root / "pyproject.toml").read_text()).get("tool", {}).get("course", {})
    value = table.get("quiz_feedback", True)
    if not isinstance(value, bool):
        raise QuizKeyError(
            f"pyproject.toml [tool.course] quiz_feedback must be true or false, got {value!r}"
        )
    return value


def _grade_id(cell) -> str:
    return (cell.metadata.get("nbgrader") or {}).get("grade_id", "")


def parse_key(lesson: str, index: int, cell) -> QuizKey:
    """The key of quiz answer cell ``cell`` (cell number ``index``), or a QuizKeyError.

    The error names the lesson, the cell and the line (1-based, in the cell's source).
    """
    gid = _grade_id(cell)
    where = f"{lesson}: cell {index} ({gid})"
    lines = cell.source.splitlines()
    try:
        begin = next(i for i, line in enumerate(lines) if line.strip() == _BEGIN)
        end = next(i for i, line in enumerate(lines) if i > begin and line.strip() == _END)
    except StopIteration:
        raise QuizKeyError(f"{where}: no {_BEGIN} ... {_END} block") from None
    items = []
    for number in range(begin + 1, end):
        line = lines[number]
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            raise QuizKeyError(
                f"{where}, line {number + 1}: expected `NAME = True|False  # reason` "
                f"(two spaces before #), got {line!r}"
            )
        reason = match["reason"].strip()
        if len(reason) > REASON_LIMIT:
            raise QuizKeyError(
                f"{where}, line {number + 1}: the reason has {len(reason)} characters "
                f"(at most {REASON_LIMIT})"
            )
        items.append((match["name"], match["answer"] == "True", reason))
    if not items:
        raise QuizKeyError(f"{where}: the solution block has no `NAME = True|False  # reason` line")
    names = [n for n, _, _ in items]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise QuizKeyError(f"{where}: items answered twice: {', '.join(doubled)}")
    return QuizKey(gid, f"Quiz {QUIZ_ID.match(gid)['nn']}", tuple(items))


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
        _grade_id(c): parse_key(lesson, i, c)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and QUIZ_ID.match(_grade_id(c))
    }
    for gid, key in keys.items():
        tests = [i for i, c in enumerate(nb.cells) if _grade_id(c) == f"test_{gid}"]
        if not tests:
            raise QuizKeyError(f"{lesson}: quiz answer cell {gid} has no test cell test_{gid}")
        nb.cells.insert(tests[0] + 1, feedback_cell(key, on))
