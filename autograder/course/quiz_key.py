"""A quiz's key as authored once, in the solution block of its answer cell ``quiz_NN``.

One line per item::

    ### BEGIN SOLUTION
    q1_central_more_accurate = True  # its error falls like h**2, the forward one's like h
    ### END SOLUTION

:func:`parse_key` reads those lines for the release's feedback cell
(:mod:`autograder.release.quiz_cell`) and for the grader's feedback page; the quiz naming rule
(``quiz_NN`` answers, ``test_quiz_NN`` tests) is :data:`QUIZ_ID`, :func:`answer_test_id` and
:func:`is_quiz_test`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .notebooks import grade_id

QUIZ_ID = re.compile(r"^quiz_(?P<nn>\d\d)$")
_LINE = re.compile(r"^(?P<name>[A-Za-z_]\w*) = (?P<answer>True|False)  # (?P<reason>\S.*)$")
_BEGIN, _END = "### BEGIN SOLUTION", "### END SOLUTION"
REASON_LIMIT = 100


class QuizKeyError(ValueError):
    """A quiz solution block does not follow ``NAME = True|False  # reason``."""


@dataclass(frozen=True)
class QuizKey:
    """A quiz's key as authored in its answer cell."""

    grade_id: str  # quiz_NN
    title: str  # "Quiz NN"
    items: tuple[tuple[str, bool, str], ...]  # (name, answer, reason)


def answer_test_id(answer_id: str) -> str:
    """The grade id of the test cell of answer cell ``answer_id``: ``test_`` + its id."""
    return f"test_{answer_id}"


def is_quiz_test(gid: str) -> bool:
    """True for a quiz's test cell, ``test_quiz_NN``."""
    prefix = answer_test_id("")
    return gid.startswith(prefix) and QUIZ_ID.match(gid.removeprefix(prefix)) is not None


def parse_key(lesson: str, index: int, cell) -> QuizKey:
    """The key of quiz answer cell ``cell`` (cell number ``index``), or a QuizKeyError.

    The error names the lesson, the cell and the line (1-based, in the cell's source).
    """
    gid = grade_id(cell) or ""
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
