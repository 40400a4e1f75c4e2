"""Pairs of submissions whose answers are unusually alike: a pointer for the instructor.

Only the answer cells of the same exercise are compared (code answers and written answers,
each student's autograded notebook against every other's). Before comparing, an answer is
normalised so that the easy disguises do not hide a copy:

- code is split with Python's own :mod:`tokenize`; comments and blank lines go, indentation
  becomes one block token whatever its width, and every name the two students could have chosen
  freely (not a keyword, a builtin, an attribute after a dot, nor a name of the released stub)
  becomes ``v0``, ``v1``, ... in order of first use;
- written (markdown) answers become their lower-case words and punctuation;
- lines the released stub already had (the ``def`` line, the docstring, ``x = sympy.Symbol``)
  are left out, since everyone hands those in.

The score of a pair is RapidFuzz's normalised Indel similarity of the two token lists (1.0:
the same tokens in the same order; it is ``1 - (insertions + deletions) / (len(a) + len(b))``).
An answer left as the stub, or with fewer than :data:`MIN_TOKENS` tokens of its own, is
skipped: short answers have few ways to be written, and right ones coincide. Pairs scoring at
least :data:`THRESHOLD` are listed. docs/GRADING.md gives the false-alarm rate measured on the
course's independently written right answers (tests/test_similarity.py measures it again).

What a student hands in sets the cost, so every step is bounded: an answer is compared by its
first :data:`MAX_CHARS` characters and :data:`MAX_TOKENS` tokens, a pair whose lengths alone
rule out :data:`THRESHOLD` is not scored, and the whole comparison stops at
:data:`TIME_BUDGET` seconds. What was cut or left uncompared is named in
:attr:`SimilarAnswers.notes`, which the report shows: never silently.
"""

from __future__ import annotations

import builtins
import io
import json
import keyword
import math
import re
import time
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from rapidfuzz.distance import Indel

from ...course.lessons import ANSWER, WRITTEN, Lesson
from ...course.notebooks import grade_id

THRESHOLD = 0.9  # a pair at or above this is listed
MIN_TOKENS = 20  # an answer with fewer tokens of its own is not compared
MAX_PAIRS = 50  # the report lists at most this many, most alike first
MAX_CHARS = 50_000  # of an answer's text, compared; the rest is left out (and said)
MAX_TOKENS = 5_000  # of an answer's tokens, compared: Indel costs len(a) * len(b) / 64
TIME_BUDGET = 60.0  # seconds for the whole comparison; exercises left are named

_STRUCTURE = {tokenize.NEWLINE: "\n", tokenize.INDENT: "{", tokenize.DEDENT: "}"}
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_FIXED_NAMES = set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist)
_WORDS = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class SimilarPair:
    """Two students' answers to one exercise that are unusually alike."""

    lesson: str
    grade_id: str
    students: tuple[str, str]
    score: float  # 0..1, after normalising names and whitespace
    sources: tuple[str, str]  # the two cells as handed in


@dataclass(frozen=True)
class SimilarAnswers:
    """The pairs the report lists, and what was cut or left uncompared (for the report)."""

    pairs: list[SimilarPair]
    notes: list[str]


def _stub_lines(stub: str) -> set[str]:
    return {line.strip() for line in stub.splitlines() if line.strip()}


def _names(source: str) -> set[str]:
    """The names in ``source``'s code (not in its strings or comments)."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return {t.string for t in tokens if t.type == tokenize.NAME}
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set(_WORDS.findall(source))


def code_tokens(source: str, stub: str = "") -> list[str]:
    """``source`` as normalised tokens: names renamed, whitespace and comments gone, stub lines
    left out. Source that does not tokenize (a syntax error) falls back to words and symbols."""
    skip = _stub_lines(stub)
    stub_names = _names(stub)
    lines = source.splitlines()
    try:
        raw = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [t for line in lines if line.strip() not in skip for t in _WORDS.findall(line)]
    names: dict[str, str] = {}
    out: list[str] = []
    previous = ""
    for tok in raw:
        if tok.type in _SKIPPED:
            continue
        row = tok.start[0] - 1
        if 0 <= row < len(lines) and lines[row].strip() in skip:
            continue
        if tok.type in _STRUCTURE:
            out.append(_STRUCTURE[tok.type])
        elif tok.type == tokenize.NAME and not (
            tok.string in _FIXED_NAMES or tok.string in stub_names or previous == "."
        ):
            out.append(names.setdefault(tok.string, f"v{len(names)}"))
        else:
            out.append(tok.string)
        previous = tok.string
    return out


def text_tokens(source: str, stub: str = "") -> list[str]:
    """A written answer as its lower-case words and punctuation, stub lines left out."""
    skip = _stub_lines(stub)
    return [
        w
        for line in source.splitlines()
        if line.strip() not in skip
        for w in _WORDS.findall(line.lower())
    ]


def own_tokens(tokens: list[str]) -> int:
    """How many tokens carry content (not block structure)."""
    return sum(t not in ("\n", "{", "}") for t in tokens)


def score(a: list[str], b: list[str]) -> float:
    return Indel.normalized_similarity(a, b)


def similar_pairs(
    lesson: str,
    grade_id: str,
    answers: dict[str, str],
    stub: str,
    written: bool = False,
    threshold: float = THRESHOLD,
    deadline: float = math.inf,
) -> tuple[list[SimilarPair], list[str]]:
    """The pairs of ``answers`` (student -> cell source) of one exercise at or over
    ``threshold``, and notes on what was cut or not compared before ``deadline``
    (``time.monotonic()``); answers left as the stub or too short are not compared."""
    usable, notes = _usable(grade_id, answers, stub, written)
    found = []
    for a, b in combinations(usable, 2):
        if time.monotonic() > deadline:
            return found, notes + [f"{lesson} {grade_id}: not every pair compared (time budget)"]
        if not _can_reach(len(usable[a]), len(usable[b]), threshold):
            continue
        s = Indel.normalized_similarity(usable[a], usable[b], score_cutoff=threshold)
        if s >= threshold:
            found.append(SimilarPair(lesson, grade_id, (a, b), s, (answers[a], answers[b])))
    return found, notes


def _usable(grade_id: str, answers: dict[str, str], stub: str, written: bool):
    """student -> tokens compared (cut to the caps), and a note naming the answers cut."""
    tokenise = text_tokens if written else code_tokens
    usable, cut = {}, []
    for student, source in sorted(answers.items()):
        if source.strip() == stub.strip():
            continue
        tokens = tokenise(source[:MAX_CHARS], stub)
        if len(source) > MAX_CHARS or len(tokens) > MAX_TOKENS:
            cut.append(student)
        if own_tokens(tokens) >= MIN_TOKENS:
            usable[student] = tokens[:MAX_TOKENS]
    notes = []
    if cut:
        notes.append(
            f"{grade_id}: compared by their first {MAX_TOKENS:,} tokens "
            f"({MAX_CHARS:,} characters): {', '.join(cut)}"
        )
    return usable, notes


def _can_reach(la: int, lb: int, threshold: float) -> bool:
    # Indel similarity is at most 2 min(la, lb) / (la + lb): lengths alone can rule a pair out.
    return la + lb > 0 and 2 * min(la, lb) / (la + lb) >= threshold


def _answer_sources(notebook: Path) -> dict[str, str]:
    try:
        cells = json.loads(notebook.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for cell in cells:
        gid = grade_id(cell)
        if gid:
            src = cell.get("source", "")
            out[gid] = "".join(src) if isinstance(src, list) else src
    return out


def find_similar(
    course, outcomes: Iterable, lessons: dict[str, Lesson], budget: float = TIME_BUDGET
) -> SimilarAnswers:
    """Every listed pair of the graded notebooks under OUT, most alike first (at most
    :data:`MAX_PAIRS`), compared within ``budget`` seconds."""
    deadline = time.monotonic() + budget
    pairs: list[SimilarPair] = []
    notes: list[str] = []
    for lid, gid, answers, stub, written in _exercises(course, outcomes, lessons):
        found, said = similar_pairs(lid, gid, answers, stub, written, deadline=deadline)
        pairs, notes = pairs + found, notes + said
        if time.monotonic() > deadline:
            notes.append(f"stopped after {budget:g} s: exercises after {lid} {gid} not compared")
            break
    pairs.sort(key=lambda p: (-p.score, p.lesson, p.grade_id, p.students))
    return SimilarAnswers(pairs[:MAX_PAIRS], notes)


def _exercises(course, outcomes: Iterable, lessons: dict[str, Lesson]):
    """(lesson, grade id, student -> answer, the stub, written?) per answer cell, in order."""
    by_lesson: dict[str, dict[str, dict[str, str]]] = {}
    for o in outcomes:
        if o.failure or o.lesson not in lessons:
            continue
        sources = _answer_sources(course.autograded_notebook(o.student, o.lesson))
        by_lesson.setdefault(o.lesson, {})[o.student] = sources
    for lid, students in sorted(by_lesson.items()):
        stubs = _answer_sources(course.release_notebook(lid))  # what every student started from
        for cell in lessons[lid].cells:
            if cell.role not in (ANSWER, WRITTEN) or cell.grade_id not in stubs:
                continue
            gid = cell.grade_id
            answers = {s: src[gid] for s, src in students.items() if gid in src}
            yield lid, gid, answers, stubs[gid], cell.role == WRITTEN
