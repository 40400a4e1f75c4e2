"""``OUT/feedback/<student>/<lesson>.html``: what the student may see, and what to do next.

Each exercise appears under the title the lesson gives it (``Exercise 04.2 · Starter · 2 points
· Mini-batches``, read by :mod:`autograder.course.lessons`), in lesson order, with its points
and its result in words and a symbol (never colour alone). A failed or partial exercise shows
the student's own answer (escaped), the visible check's message, which hidden check failed (its
one-line summary from :mod:`..judge.messages`, never its source or traceback) and the lesson
section to review, linked at its heading (Colab's ``#scrollTo=`` the cell id the release writes;
nbviewer's heading id). A quiz shows each true/false item right or wrong with its reason, marked
from the answers the kernel's record carried (:mod:`..judge`), never by running student code
here. A written answer shows what the student wrote, then its points and the grader's comment
once graded in formgrader. A short list at the top names the items behind the most points lost.
Grade ids stay in the CSVs.

The page is one self-contained file: no scripts, no CDN. Its words and markup are
``templates/feedback.html.j2`` (and ``feedback_item.html.j2``); this module prepares what
they show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ...course import CourseSettings
from ...course.lessons import TEST, WRITTEN, Heading, Lesson, Section
from ..course_dir import CoursePaths
from ..vocabulary import ExerciseStatus, VerdictStatus

REVIEW_FIRST = 3  # items in the "what to review first" list


@dataclass(frozen=True)
class Item:
    """One exercise as the page shows it: its heading and the graded cells under it."""

    heading: Heading | None  # None for a graded cell the lesson gives no item heading
    rows: tuple  # its ExerciseRows, in lesson order

    @property
    def title(self) -> str:
        return self.heading.text if self.heading else self.rows[0].grade_id

    @property
    def short(self) -> str:
        return self.heading.short if self.heading else self.rows[0].grade_id

    @property
    def anchor(self) -> str:
        return self.heading.anchor if self.heading else self.rows[0].grade_id

    @property
    def pending(self) -> bool:
        return any(r.status == ExerciseStatus.NEEDS_MANUAL for r in self.rows)

    @property
    def score(self) -> float:
        return sum((r.score or 0) for r in self.rows)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.rows)

    @property
    def lost(self) -> float:
        """Points lost so far (a written answer not graded yet has lost none)."""
        return sum(
            r.max_score - (r.score or 0)
            for r in self.rows
            if r.status != ExerciseStatus.NEEDS_MANUAL
        )

    @property
    def status(self) -> ExerciseStatus:
        if self.pending:
            return ExerciseStatus.NEEDS_MANUAL
        if self.score >= self.max_score:
            return ExerciseStatus.PASSED
        return ExerciseStatus.PARTIAL if self.score > 0 else ExerciseStatus.FAILED


def items(lesson: Lesson | None, exercise_rows) -> list[Item]:
    """The page's items in lesson order; graded cells without a heading stand on their own."""
    rows = {e.grade_id: e for e in exercise_rows}
    out, seen = [], set()
    for cell in lesson.graded if lesson else ():
        if cell.grade_id in seen or cell.grade_id not in rows:
            continue
        heading = lesson.heading_of(cell.grade_id)
        gids = heading.grade_ids if heading else (cell.grade_id,)
        seen.update(gids)
        out.append(Item(heading, tuple(rows[g] for g in gids if g in rows)))
    out += [Item(None, (e,)) for e in exercise_rows if e.grade_id not in seen]
    return out


@dataclass(frozen=True)
class Links:
    """Where the student can open the lesson: Colab (the README's badge), nbviewer and GitHub."""

    colab: str
    nbviewer: str
    github: str

    def colab_at(self, section: Section) -> str:
        """The lesson in Colab, scrolled to the section's heading cell."""
        return f"{self.colab}#scrollTo={section.colab_id}"

    def nbviewer_at(self, section: Section) -> str:
        """The lesson read on nbviewer, at the section's heading."""
        return f"{self.nbviewer}#{quote(section.html_id, safe='.-:_~/%$')}"


def lesson_links(lesson_id: str, s: CourseSettings | None) -> Links | None:
    """The lesson's addresses in the students' repository (``[tool.course]``), if it is named."""
    from ...course import badge_url

    if s is None or not (s.repository and s.tag):
        return None
    where = f"{s.repository}/blob/{s.tag}/lessons/{lesson_id}/{lesson_id}.ipynb"
    return Links(
        badge_url(lesson_id, s),
        f"https://nbviewer.org/github/{where}",
        f"https://github.com/{where}",
    )


@dataclass(frozen=True)
class Checks:
    """What the checks of one test cell said, as ``feedback_item.html.j2`` shows it."""

    part: int  # its place among the item's cells, from 1; 0 when it is the item's only one
    parts: int
    message: str  # the visible check's message, or the hidden check's summary ("": none)
    hidden: bool  # the message is a hidden check's one-line summary
    stopped: str  # a name the test missed that the student's answer assigns ("": none)
    all_passed: bool
    visible: str | None  # the visible test's source, shown unless the cell passed
    output: str  # what the cell printed


@dataclass(frozen=True)
class QuizItem:
    name: str
    given: object  # the student's True or False, None when not answered
    answer: bool
    reason: str


@dataclass(frozen=True)
class Quiz:
    message: str
    items: list[QuizItem] | None  # None: the answers could not be read from the record
    right: int


@dataclass(frozen=True)
class Part:
    """One graded cell under an item: a written answer, a quiz or a test cell (or none)."""

    row: object  # its ExerciseRow
    written: str | None = None  # a written answer's text ("" when left blank)
    quiz: Quiz | None = None
    checks: Checks | None = None


@dataclass(frozen=True)
class Review:
    """Where to read again: the section (or the lesson) and the links that open it."""

    lesson: str
    section: str  # the section's label, "" when the exercise names none
    quiz: bool
    colab: str = ""  # "" when the course names no students' repository
    nbviewer: str = ""
    github: str = ""


@dataclass(frozen=True)
class ItemView:
    item: Item
    parts: list[Part]
    answers: list[str]  # the student's own code, shown for a failed or partial exercise
    review: Review | None


def write_feedback(
    course: CoursePaths,
    outcome,
    lesson: Lesson | None,
    exercise_rows,
    grade=None,
    site: CourseSettings | None = None,
) -> Path:
    """Write the page for one graded submission and return its path.

    ``grade`` is the submission's grades.csv row (for the late-submission block), if any;
    ``site`` the course's ``[tool.course]`` (where the lessons are, for the links).
    """
    from .templating import render

    page_items = items(lesson, exercise_rows)
    links = lesson_links(outcome.lesson, site) if lesson else None
    title = (lesson.title if lesson and lesson.title else "") or f"Lesson {outcome.lesson}"
    page = render(
        "feedback.html.j2",
        title=title,
        student=outcome.student,
        file=outcome.file,
        score=sum((e.score or 0) for e in exercise_rows),
        maximum=sum(e.max_score for e in exercise_rows),
        pending=any(e.status == ExerciseStatus.NEEDS_MANUAL for e in exercise_rows),
        late=_late(grade),
        review_first=_review_first(page_items, lesson),
        notes=list(outcome.notes),
        sections=[_item_view(item, outcome, lesson, links) for item in page_items],
    )
    path = course.feedback_page(outcome.student, outcome.lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return path


def _late(grade) -> dict | None:
    """The late penalty and the score after it; None for a notebook handed in on time."""
    if grade is None or not grade.late_by:
        return None
    return {
        # "": the LMS only marked it late; else how late, as "2 days 3 hours"
        "late_by": grade.late_by if grade.late_by[:1].isdigit() else "",
        "penalty": grade.penalty,
        "score": grade.score,
        "max_score": grade.max_score,
    }


def _review_first(page_items: list[Item], lesson: Lesson | None) -> list[tuple[Item, str]]:
    """The items behind the most points lost, with the section that teaches each."""
    lost = sorted(
        (i for i in page_items if i.lost > 0), key=lambda i: -i.lost
    )  # stable: ties keep lesson order
    return [(item, _taught_in(item, lesson)) for item in lost[:REVIEW_FIRST]]


def _taught_in(item: Item, lesson: Lesson | None) -> str:
    if item.heading is None or lesson is None or item.heading.section is None:
        return ""
    return item.heading.section.label


def _item_view(item: Item, outcome, lesson: Lesson | None, links: Links | None) -> ItemView:
    lesson_cells = lesson.by_grade_id() if lesson else {}
    quiz_keys = lesson.quiz_keys if lesson else {}
    parts = []
    for row in item.rows:
        cell = lesson_cells.get(row.grade_id)
        if cell is not None and cell.role == WRITTEN:
            text = (outcome.answers or {}).get(row.grade_id)
            parts.append(Part(row, written=text if text is not None and text.strip() else ""))
        elif row.grade_id in quiz_keys:
            parts.append(Part(row, quiz=_quiz(row, outcome, quiz_keys[row.grade_id])))
        elif cell is not None and cell.role == TEST:
            parts.append(Part(row, checks=_checks(row, outcome, cell, item)))
        else:
            parts.append(Part(row))
    if item.status not in (ExerciseStatus.FAILED, ExerciseStatus.PARTIAL):
        return ItemView(item, parts, [], None)
    return ItemView(item, parts, _answers(item, outcome), _review(item, lesson, links))


def _checks(row, outcome, cell, item: Item) -> Checks:
    """What the checks of one test cell said: the visible message, or which hidden one failed."""
    v = outcome.verdicts.get(row.grade_id)
    message = v.message if v is not None and v.message else ""
    hidden = bool(message) and v.where == "hidden"
    return Checks(
        part=item.rows.index(row) + 1 if len(item.rows) > 1 else 0,
        parts=len(item.rows),
        message=message,
        hidden=hidden,
        stopped="" if hidden or not message else _stopped_early(message, item, outcome),
        all_passed=(
            v is not None
            and v.outcome == VerdictStatus.PASSED
            and row.status == ExerciseStatus.PASSED
        ),
        visible=None if row.status == ExerciseStatus.PASSED else cell.visible_source,
        output=(v.output or "") if v is not None else "",
    )


_UNDEFINED = re.compile(r"NameError: name '([A-Za-z_][A-Za-z_0-9]*)' is not defined")


def _stopped_early(message: str, item: Item, outcome) -> str:
    """A name the test misses that the student's own answer assigns: the cell stopped before."""
    m = _UNDEFINED.search(message)
    if m is None or item.heading is None:
        return ""
    assigns = re.compile(rf"^\s*{m[1]}\s*(?::[^=]*)?=(?!=)|^\s*def\s+{m[1]}\b", re.M)
    answers = [(outcome.answers or {}).get(g, "") for g in item.heading.answer_ids]
    return m[1] if any(assigns.search(a) for a in answers) else ""


def _quiz(row, outcome, key) -> Quiz:
    """Each true/false item right or wrong with its reason, from the answers the record held."""
    answers = (getattr(outcome, "quiz", None) or {}).get(row.grade_id)
    v = outcome.verdicts.get(row.grade_id)
    message = v.message if v and v.message else ""
    if answers is None:
        return Quiz(message, None, 0)
    right = sum(answers.get(name) is answer for name, answer, _ in key)
    shown = [QuizItem(name, answers.get(name), answer, reason) for name, answer, reason in key]
    return Quiz(message, shown, right)


def _answers(item: Item, outcome) -> list[str]:
    """The student's own code under the item, as it was graded (escaped, never run here)."""
    if item.heading is None or item.heading.kind == "Quiz":
        return []
    return [outcome.answers[g] for g in item.heading.answer_ids if g in (outcome.answers or {})]


def _review(item: Item, lesson: Lesson | None, links: Links | None) -> Review | None:
    """Where to read again: the section the exercise names, linked at its heading."""
    if lesson is None:
        return None
    section = item.heading.section if item.heading else None
    review = Review(
        lesson=lesson.title or f"Lesson {lesson.id}",
        section=section.label if section is not None else "",
        quiz=item.heading is not None and item.heading.kind == "Quiz",
    )
    if links is None:
        return review
    if section is None:
        return Review(review.lesson, "", review.quiz, links.colab, "", links.github)
    return Review(
        review.lesson,
        review.section,
        review.quiz,
        links.colab_at(section),
        links.nbviewer_at(section),
        links.github,
    )
