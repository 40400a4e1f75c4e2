"""What a lesson's instructor source says, in the shape grading needs.

A :class:`Lesson` lists the cells of the released notebook in order, each with its role
(answer, test, written, locked, plain), its grade id, its cell id and the source nbgrader
stores for it. Test and locked cells carry their full source - hidden tests included - as
the gradebook has it, so a repaired submission runs exactly what nbgrader would run.

A notebook's lesson is recognised from these cells by
:mod:`autograder.grading.collect.recognise`, never from its file name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .notebooks import SECTION_HEADING, colab_section_id, grade_id

ANSWER = "answer"  # solution, not graded: the student's code
TEST = "test"  # graded, locked: visible (and hidden) tests
WRITTEN = "written"  # solution and graded: answered in prose, graded by hand
LOCKED = "locked"  # locked, not graded: data or instructions the student must not change
PLAIN = "plain"  # no nbgrader role

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def role(cell: dict[str, Any]) -> str:
    md = cell.get("metadata", {}).get("nbgrader", {})
    if not md.get("grade_id"):
        return PLAIN
    if md.get("solution") and md.get("grade"):
        return WRITTEN
    if md.get("solution"):
        return ANSWER
    if md.get("grade"):
        return TEST
    if md.get("locked"):
        return LOCKED
    return PLAIN


@dataclass(frozen=True)
class SourceCell:
    index: int
    role: str
    cell_type: str
    grade_id: str | None
    cell_id: str | None
    source: str  # what runs: full test source for tests, the release stub for answers
    visible_source: str  # what the student's copy shows (hidden tests removed)
    nbgrader: dict[str, Any]
    points: float

    @property
    def has_hidden_tests(self) -> bool:
        return HIDDEN_BEGIN in self.source

    def hidden_line_ranges(self) -> list[tuple[int, int]]:
        """1-based, inclusive line ranges of the hidden parts of :attr:`source`."""
        ranges, start = [], None
        for number, line in enumerate(self.source.splitlines(), start=1):
            if HIDDEN_BEGIN in line:
                start = number
            elif HIDDEN_END in line and start is not None:
                ranges.append((start, number))
                start = None
        if start is not None:
            ranges.append((start, len(self.source.splitlines())))
        return ranges


@dataclass(frozen=True)
class Section:
    """A numbered section of a lesson (``## 3. An ill-conditioned quadratic``)."""

    number: str  # "3"
    title: str  # "An ill-conditioned quadratic", as written (LaTeX and all)

    @property
    def colab_id(self) -> str:
        """The heading cell's Colab id (the release writes it): ``#scrollTo=section-3``."""
        return colab_section_id(self.number)

    @property
    def html_id(self) -> str:
        """The id nbconvert, and so nbviewer, gives the heading: ``3.-An-ill-conditioned-...``."""
        from nbconvert.filters.markdown_mistune import markdown2html_mistune

        rendered = markdown2html_mistune(f"## {self.number}. {self.title}")
        return re.search(r'<h2 id="([^"]*)"', rendered)[1]

    @property
    def label(self) -> str:
        """``Section 4 · Choosing the learning rate: the bound 2/λ_max``: LaTeX made plain."""
        return f"Section {self.number} · {plain_math(self.title)}"


_SYMBOLS = {"lambda": "λ", "eta": "η", "sigma": "σ", "nabla": "∇", "mu": "μ"}


def plain_math(text: str) -> str:
    """A heading's inline LaTeX as plain text for a page title: symbols, no ``$`` or braces."""
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _SYMBOLS.get(m[1], m[1]), text)  # \max -> max
    return text.replace("$", "").replace("{", "").replace("}", "")


@dataclass(frozen=True)
class Heading:
    """The title a lesson gives an exercise, and the graded cells under it.

    Read from an item's markdown cell, ``### Exercise 04.2 · Starter · 2 points · Mini-batches``
    (also ``### Quiz 04 · True or false · 5 points``, ``### Question 04.1 · 2 points · ...``,
    ``### Challenge 04 · 2 points · ...``).
    """

    kind: str  # "Exercise", "Quiz", "Question" or "Challenge"
    number: str  # "04.2", or "04" for a quiz or challenge
    tier: str  # "Starter", "Intermediate", "Advanced", or "" (quizzes, questions, challenges)
    name: str  # "Mini-batches"; "True or false" for a quiz
    text: str  # the whole heading line without the hashes
    cell_id: str | None
    grade_ids: tuple[str, ...]  # the graded cells (tests, written answers) it covers, in order
    answer_ids: tuple[str, ...]  # the student's answer cells under it
    section: Section | None  # the section that teaches it (tag review-section-N, or its text)

    @property
    def anchor(self) -> str:
        """``exercise-04-2``: an id for the item on a page."""
        return f"{self.kind.lower()}-{self.number.replace('.', '-')}"

    @property
    def short(self) -> str:
        """``Exercise 04.2 · Mini-batches``: number and name, without tier and points."""
        return f"{self.kind} {self.number} · {self.name}"


@dataclass(frozen=True)
class Lesson:
    id: str
    cells: tuple[SourceCell, ...]
    solution_path: Path
    title: str = ""  # the notebook's first heading: "Lesson 04 · Gradient descent"
    sections: tuple[Section, ...] = ()
    headings: tuple[Heading, ...] = ()
    quiz_keys: dict[str, tuple[tuple[str, bool, str], ...]] = field(default_factory=dict)

    def by_grade_id(self) -> dict[str, SourceCell]:
        return {c.grade_id: c for c in self.cells if c.grade_id}

    def heading_of(self, grade_id: str) -> Heading | None:
        """The item heading a graded or answer cell sits under, if the lesson gives one."""
        for h in self.headings:
            if grade_id in h.grade_ids or grade_id in h.answer_ids:
                return h
        return None

    @property
    def graded(self) -> tuple[SourceCell, ...]:
        return tuple(c for c in self.cells if c.role in (TEST, WRITTEN))

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.graded)

    @property
    def topic(self) -> str:
        return self.id.split("_", 1)[1] if "_" in self.id else self.id

    def features(self) -> set[str]:
        """Fingerprints a notebook of this lesson is likely to keep, whatever it is called."""
        out = set()
        for c in self.cells:
            if c.grade_id:
                out.add("gid:" + c.grade_id)
            if c.cell_id:
                out.add("cid:" + c.cell_id)
            if c.role in (TEST, LOCKED, PLAIN) and c.visible_source.strip():
                out.add("src:" + digest(c.visible_source))
        return out


def digest(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode()).hexdigest()[:16]


def strip_hidden(source: str) -> str:
    keep, hidden = [], False
    for line in source.splitlines(keepends=True):
        if HIDDEN_BEGIN in line:
            hidden = True
        elif HIDDEN_END in line:
            hidden = False
        elif not hidden:
            keep.append(line)
    return "".join(keep).rstrip("\n")


def load_lesson(
    lesson_id: str,
    source_nb: Path,
    release_nb: Path | None = None,
    gradebook_sources: dict[str, str] | None = None,
) -> Lesson:
    """Build a :class:`Lesson` from the instructor notebook and (when generated) its release.

    ``gradebook_sources`` maps grade ids to the source nbgrader stored; when given, it wins
    for test and locked cells so the repaired notebook matches nbgrader's checksums.
    """
    src = nbformat.read(source_nb, as_version=4)
    rel = nbformat.read(release_nb, as_version=4) if release_nb and release_nb.exists() else None
    if rel is not None and len(rel.cells) != len(src.cells):
        rel = None  # a header or footer was added: fall back to the source alone
    cells = []
    for index, cell in enumerate(src.cells):
        r = role(cell)
        md = dict(cell.metadata.get("nbgrader", {}))
        gid = md.get("grade_id")
        released = rel.cells[index] if rel is not None else None
        if released is not None:
            md = dict(released.metadata.get("nbgrader", md))
        source = cell.source
        if r in (TEST, LOCKED) and gradebook_sources and gid in gradebook_sources:
            source = gradebook_sources[gid]
        elif r in (ANSWER, WRITTEN) and released is not None:
            source = released.source
        cells.append(
            SourceCell(
                index=index,
                role=r,
                cell_type=cell.cell_type,
                grade_id=gid if r != PLAIN else None,
                cell_id=cell.get("id"),
                source=source,
                visible_source=strip_hidden(cell.source),
                nbgrader=md,
                points=float(md.get("points", 0) or 0) if r in (TEST, WRITTEN) else 0.0,
            )
        )
    sections, headings, title = read_headings(src.cells, cells)
    return Lesson(
        id=lesson_id,
        cells=tuple(cells),
        solution_path=source_nb,
        title=title,
        sections=sections,
        headings=headings,
        quiz_keys=_quiz_keys(lesson_id, src.cells),
    )


# --------------------------------------------------------------------------- headings

_ITEM = re.compile(
    r"^###\s+(?P<kind>Exercise|Quiz|Question|Challenge)\s+(?P<number>\d+(?:\.\d+)?)\b"
)
_POINTS = re.compile(r"^\d+(?:\.\d+)?\s+points?$")
_TIERS = ("Starter", "Intermediate", "Advanced")
_SECTION_REF = re.compile(r"\b[Ss]ection\s+(\d+)\b")
REVIEW_TAG = "review-section-"  # on an item's heading cell: the section that teaches it


def _first_line(source: str) -> str:
    return source.strip().splitlines()[0].strip() if source.strip() else ""


def _item(line: str, cell, sections: dict[str, Section]) -> Heading:
    text, cell_id, tags = cell.source, cell.get("id"), cell.metadata.get("tags", [])
    match = _ITEM.match(line)
    heading = line.lstrip("#").strip()
    parts = [p.strip() for p in heading.split("·")]
    rest = [p for p in parts[1:] if not _POINTS.match(p)]
    tier = rest.pop(0) if rest and rest[0] in _TIERS else ""
    name = rest[-1] if rest else heading
    # The section to review: a ``review-section-N`` tag on the heading cell, else the first
    # "Section N" its text names.
    tagged = [t.removeprefix(REVIEW_TAG) for t in tags if t.startswith(REVIEW_TAG)]
    refs = [sections[n] for n in tagged + _SECTION_REF.findall(text) if n in sections]
    return Heading(
        kind=match["kind"],
        number=match["number"],
        tier=tier,
        name=name,
        text=heading,
        cell_id=cell_id,
        grade_ids=(),
        answer_ids=(),
        section=refs[0] if refs else None,
    )


def read_headings(nb_cells, cells: list[SourceCell]):
    """The lesson's sections, its item headings (each with the cells under it) and its title.

    A graded or answer cell belongs to the item heading above it, up to the next heading of
    level 1 to 3 that is not an item's.
    """
    sections = {}
    for cell in nb_cells:
        m = (
            SECTION_HEADING.match(_first_line(cell.source))
            if cell.cell_type == "markdown"
            else None
        )
        if m:
            sections[m["number"]] = Section(m["number"], m["title"])
    title, items, current = "", [], None
    for cell, sc in zip(nb_cells, cells, strict=True):
        line = _first_line(cell.source) if cell.cell_type == "markdown" else ""
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        if _ITEM.match(line):
            current = [_item(line, cell, sections), [], []]
            items.append(current)
        elif re.match(r"^#{1,3}\s", line):
            current = None
        elif current is not None and sc.role in (TEST, WRITTEN):
            current[1].append(sc.grade_id)
        elif current is not None and sc.role == ANSWER:
            current[2].append(sc.grade_id)
    headings = tuple(
        Heading(**{**h.__dict__, "grade_ids": tuple(g), "answer_ids": tuple(a)})
        for h, g, a in items
        if g
    )
    return tuple(sections.values()), headings, title


def _quiz_keys(lesson_id: str, nb_cells) -> dict[str, tuple[tuple[str, bool, str], ...]]:
    """Test grade id -> the quiz's items (name, answer, reason), as the release reads them."""
    from .quiz_key import QUIZ_ID, QuizKeyError, answer_test_id, parse_key

    keys = {}
    for index, cell in enumerate(nb_cells):
        gid = grade_id(cell) or ""
        if cell.cell_type == "code" and QUIZ_ID.match(gid):
            try:
                keys[answer_test_id(gid)] = parse_key(lesson_id, index, cell).items
            except QuizKeyError:
                continue  # the release refuses such a lesson; the page then shows no items
    return keys


# --------------------------------------------------------------------------- recognition


def catalogue(lesson: Lesson) -> list[dict[str, Any]]:
    """What ``helpers.progress()`` needs of a lesson, as JSON data, in lesson order.

    One entry per item heading with graded cells: its short title, its points and the points
    of each test cell under it. The release stores it in ``helpers/exercises/catalogue.json``
    so that a notebook (in Colab too, with only the package installed) shows the lesson's own
    titles and points.
    """
    cells = lesson.by_grade_id()
    return [
        {
            "title": h.short,
            "heading": h.text,
            "points": sum(cells[g].points for g in h.grade_ids),
            "tests": {g: cells[g].points for g in h.grade_ids if cells[g].role == TEST},
        }
        for h in lesson.headings
    ]
