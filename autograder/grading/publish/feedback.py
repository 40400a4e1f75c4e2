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

The page is one self-contained file: no scripts, no CDN.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ...course import CourseSettings
from ...course.lessons import TEST, WRITTEN, Heading, Lesson, Section
from ..course_dir import CoursePaths
from ..vocabulary import ExerciseStatus, VerdictStatus

STYLE = (
    "\n"
    'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;'
    "margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.45}\n"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}"
    "h3{font-size:1.05rem;margin-bottom:.3rem}h4{font-size:.95rem;margin:.8rem 0 .2rem}\n"
    "table{border-collapse:collapse}caption{text-align:left;font-weight:600;padding:.3rem 0}"
    "td,th{border-bottom:1px solid #d0d7de;padding:.3rem .7rem;text-align:left;"
    "vertical-align:top}\n"
    "pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap}\n"
    ".passed{color:#1a7f37}.failed{color:#cf222e}.partial{color:#9a6700}"
    ".needs_manual{color:#59636e}\n"
    "section{border-top:1px solid #d0d7de;margin-top:1rem}\n"
    "blockquote{border-left:3px solid #d0d7de;margin:.4rem 0;padding:.1rem .8rem}"
    ".comment p,.written p{white-space:pre-wrap}\n"
)

# Every result is said in words and with a symbol: colour is never the only cue.
_STATUS_TEXT = {
    ExerciseStatus.PASSED: "✔ passed",
    ExerciseStatus.FAILED: "✘ failed",
    ExerciseStatus.PARTIAL: "◐ partly right",
    ExerciseStatus.NEEDS_MANUAL: "… graded by hand (pending)",
}
REVIEW_FIRST = 3  # items in the "what to review first" list


def _e(text: object) -> str:
    return html.escape(str(text))


def _points(n: float) -> str:
    """``1 point``, ``2.5 points``."""
    return f"{n:g} point{'' if n == 1 else 's'}"


def _status_text(status: ExerciseStatus) -> str:
    return _STATUS_TEXT.get(status, str(status))


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
    page_items = items(lesson, exercise_rows)
    links = lesson_links(outcome.lesson, site) if lesson else None
    parts = _head(outcome, lesson, exercise_rows)
    parts += _late_block(grade)
    parts += _review_first(page_items, lesson)
    parts += _summary_table(page_items)
    if outcome.notes:
        parts.append("<h2>What the grader noticed</h2><ul>")
        parts += [f"<li>{_e(n)}</li>" for n in outcome.notes]
        parts.append("</ul>")
    parts.append("<h2>Exercises</h2>")
    for item in page_items:
        parts += _item_section(item, outcome, lesson, links)
    parts.append("</main></body></html>")
    path = course.feedback_page(outcome.student, outcome.lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path


def _head(outcome, lesson: Lesson | None, exercise_rows) -> list[str]:
    score = sum((e.score or 0) for e in exercise_rows)
    maximum = sum(e.max_score for e in exercise_rows)
    pending = any(e.status == ExerciseStatus.NEEDS_MANUAL for e in exercise_rows)
    title = (lesson.title if lesson and lesson.title else "") or f"Lesson {outcome.lesson}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Feedback · {_e(title)} · {_e(outcome.student)}</title>"
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>{_e(title)}: {score:g} of {_points(maximum)}{' so far' if pending else ''}</h1>",
    ]
    if pending:
        parts.append("<p>Your written answers are graded by hand; their points come later.</p>")
    parts.append(
        f"<p>Student <b>{_e(outcome.student)}</b>, graded from <code>{_e(outcome.file)}</code>.</p>"
    )
    return parts


def _review_first(page_items: list[Item], lesson: Lesson | None) -> list[str]:
    """The items behind the most points lost, with the section that teaches each."""
    lost = sorted(
        (i for i in page_items if i.lost > 0), key=lambda i: -i.lost
    )  # stable: ties keep lesson order
    if not lost:
        return []
    parts = ["<h2>What to review first</h2><ol>"]
    for item in lost[:REVIEW_FIRST]:
        where = _taught_in(item, lesson)
        parts.append(
            f"<li><a href='#{_e(item.anchor)}'>{_e(item.short)}</a>: "
            f"{item.lost:g} of {_points(item.max_score)} lost"
            + (f"; review {_e(where)}" if where else "")
            + "</li>"
        )
    parts.append("</ol>")
    return parts


def _taught_in(item: Item, lesson: Lesson | None) -> str:
    if item.heading is None or lesson is None or item.heading.section is None:
        return ""
    return item.heading.section.label


def _summary_table(page_items: list[Item]) -> list[str]:
    parts = [
        "<table><caption>Your points, exercise by exercise</caption>",
        "<thead><tr><th scope='col'>exercise</th><th scope='col'>points</th>"
        "<th scope='col'>result</th></tr></thead><tbody>",
    ]
    for item in page_items:
        got = "–" if item.pending else f"{item.score:g}"
        parts.append(
            f"<tr><th scope='row'><a href='#{_e(item.anchor)}'>{_e(item.short)}</a></th>"
            f"<td>{got} / {item.max_score:g}</td>"
            f"<td class='{item.status}'>{_status_text(item.status)}</td></tr>"
        )
    parts.append("</tbody></table>")
    return parts


def _item_section(item: Item, outcome, lesson: Lesson | None, links: Links | None) -> list[str]:
    parts = [
        f"<section id='{_e(item.anchor)}'><h3>{_e(item.title)}</h3>",
        f"<p class='{item.status}'><strong>{_status_text(item.status)}</strong>"
        + ("" if item.pending else f": {item.score:g} of {_points(item.max_score)}")
        + ".</p>",
    ]
    lesson_cells = lesson.by_grade_id() if lesson else {}
    for row in item.rows:
        cell = lesson_cells.get(row.grade_id)
        if cell is not None and cell.role == WRITTEN:
            parts += _written(row, (outcome.answers or {}).get(row.grade_id))
        elif row.grade_id in (lesson.quiz_keys if lesson else {}):
            parts += _quiz(row, outcome, lesson.quiz_keys[row.grade_id])
        elif cell is not None and cell.role == TEST:
            parts += _checks(row, outcome, cell, item)
        parts += _comment_block(row)
    if item.status in (ExerciseStatus.FAILED, ExerciseStatus.PARTIAL):
        parts += _answers(item, outcome)
        parts += _review(item, lesson, links)
    parts.append("</section>")
    return parts


def _written(row, text: str | None) -> list[str]:
    """A written answer: the student's text, then its points once graded by hand."""
    parts = []
    if text is not None and text.strip():
        parts.append(
            "<h4>Your answer, as you wrote it (Markdown)</h4>"
            f"<blockquote class='written'><p>{_e(text)}</p></blockquote>"
        )
    if row.status == ExerciseStatus.NEEDS_MANUAL:
        return parts + ["<p>Your instructor grades this answer by hand (not graded yet).</p>"]
    return parts + [
        f"<p>Graded by your instructor: {(row.score or 0):g} of {_points(row.max_score)}.</p>"
    ]


def _comment_block(row) -> list[str]:
    """The instructor's comment from formgrader (none: nothing)."""
    if not row.comment:
        return []
    return [
        "<div class='comment'><h4>Your instructor's comment</h4>"
        f"<blockquote><p>{_e(row.comment)}</p></blockquote></div>"
    ]


def _late_block(grade) -> list[str]:
    """The late penalty and the score after it; nothing for a notebook handed in on time."""
    if grade is None or not grade.late_by:
        return []
    score = ""
    if grade.score is not None:
        of = _points(grade.max_score) if grade.max_score is not None else "points"
        score = (
            f" Your score after it: {grade.score:g} of {of} (the title counts your points "
            "before the penalty)."
        )
    when = (
        "Handed in after the deadline (your course's LMS marked it late)"
        if not grade.late_by[:1].isdigit()
        else f"Handed in {_e(grade.late_by)} after the deadline"
    )
    return [
        "<section class='late'><h2>Late submission</h2>",
        f"<p>{when}: a late penalty of {_points(grade.penalty)}.{score}</p></section>",
    ]


def _checks(row, outcome, cell, item: Item) -> list[str]:
    """What the checks of one test cell said: the visible message, or which hidden one failed."""
    v = outcome.verdicts.get(row.grade_id)
    parts = []
    if len(item.rows) > 1:
        parts.append(
            f"<p>Part {item.rows.index(row) + 1} of {len(item.rows)}: "
            f"{row.score or 0:g} of {_points(row.max_score)}, {_status_text(row.status)}.</p>"
        )
    if v is not None and v.message:
        parts.append("<h4>What the checks said</h4>")
        if v.where == "hidden":
            parts.append(
                f"<p class='failed'>✘ {_e(v.message)}</p><p>Your answer passed the visible "
                "checks; the hidden ones try other inputs the exercise allows. Re-read what it "
                "says your function must accept, and try such inputs yourself.</p>"
            )
        else:
            parts.append(f"<pre class='failed'>{_e(v.message)}</pre>")
            parts += _stopped_early(v.message, item, outcome)
    elif (
        v is not None and v.outcome == VerdictStatus.PASSED and row.status == ExerciseStatus.PASSED
    ):
        parts.append("<p class='passed'>✔ All checks passed.</p>")
    if row.status != ExerciseStatus.PASSED:
        parts.append(
            "<details><summary>The visible test</summary>"
            f"<pre>{_e(cell.visible_source)}</pre></details>"
        )
        if v is not None and v.output:
            parts.append(
                f"<details><summary>Printed output</summary><pre>{_e(v.output)}</pre></details>"
            )
    return parts


_UNDEFINED = re.compile(r"NameError: name '([A-Za-z_][A-Za-z_0-9]*)' is not defined")


def _stopped_early(message: str, item: Item, outcome) -> list[str]:
    """A name the test misses that the student's own answer assigns: the cell stopped before."""
    m = _UNDEFINED.search(message)
    if m is None or item.heading is None:
        return []
    assigns = re.compile(rf"^\s*{m[1]}\s*(?::[^=]*)?=(?!=)|^\s*def\s+{m[1]}\b", re.M)
    answers = [(outcome.answers or {}).get(g, "") for g in item.heading.answer_ids]
    if not any(assigns.search(a) for a in answers):
        return []
    return [
        f"<p>Your answer does define <code>{_e(m[1])}</code>, so its cell stopped with an "
        "error before reaching that line (or was not run): run it, and fix the first error "
        "it shows.</p>"
    ]


def _quiz(row, outcome, key) -> list[str]:
    """Each true/false item right or wrong with its reason, from the answers the record held."""
    answers = (getattr(outcome, "quiz", None) or {}).get(row.grade_id)
    v = outcome.verdicts.get(row.grade_id)
    if answers is None:
        message = f"<pre class='failed'>{_e(v.message)}</pre>" if v and v.message else ""
        return [
            message,
            "<p>Your quiz answers could not be read from this run, so the items are not "
            "marked one by one here.</p>",
        ]
    right = sum(answers.get(name) is answer for name, answer, _ in key)
    parts = [f"<pre class='failed'>{_e(v.message)}</pre>"] if v and v.message else []
    parts += [
        f"<table><caption>{right} of {len(key)} items right</caption>",
        "<thead><tr><th scope='col'>item</th><th scope='col'>your answer</th>"
        "<th scope='col'>result</th><th scope='col'>why</th></tr></thead><tbody>",
    ]
    for name, answer, reason in key:
        given = answers.get(name)
        if given is None:
            shown, verdict, cls = "no answer", "· not answered", "needs_manual"
        elif given is answer:
            shown, verdict, cls = str(given), "✔ right", "passed"
        else:
            shown, verdict, cls = str(given), f"✘ wrong (it is {answer})", "failed"
        parts.append(
            f"<tr><th scope='row'><code>{_e(name)}</code></th><td>{shown}</td>"
            f"<td class='{cls}'>{verdict}</td><td>{_e(reason)}</td></tr>"
        )
    parts.append("</tbody></table>")
    return parts


def _answers(item: Item, outcome) -> list[str]:
    """The student's own code under the item, as it was graded (escaped, never run here)."""
    if item.heading is None:
        return []
    sources = [outcome.answers[g] for g in item.heading.answer_ids if g in (outcome.answers or {})]
    if not sources or item.heading.kind == "Quiz":
        return []
    return ["<h4>Your answer</h4>"] + [f"<pre><code>{_e(s)}</code></pre>" for s in sources]


def _review(item: Item, lesson: Lesson | None, links: Links | None) -> list[str]:
    """Where to read again: the section the exercise names, linked at its heading."""
    if lesson is None:
        return []
    section = item.heading.section if item.heading else None
    name = lesson.title or f"Lesson {lesson.id}"
    if section is not None:
        what = f"{_e(section.label)} of {_e(name)}"
    elif item.heading is not None and item.heading.kind == "Quiz":
        what = f"each item's reason above, and {_e(name)}"
    else:
        what = f"{_e(name)}, then this exercise's text"
    if links is None:
        return [f"<p><strong>To review:</strong> {what}.</p>"]
    if section is None:
        return [
            f"<p><strong>To review:</strong> {what}: "
            f"<a href='{_e(links.colab)}'>open the lesson in Colab</a> or "
            f"<a href='{_e(links.github)}'>read it on GitHub</a>.</p>"
        ]
    return [
        f"<p><strong>To review:</strong> {what}: "
        f"<a href='{_e(links.colab_at(section))}'>open it in Colab</a>, "
        f"<a href='{_e(links.nbviewer_at(section))}'>read it on nbviewer</a> "
        f"(both open at the section), or <a href='{_e(links.github)}'>the lesson on "
        "GitHub</a>.</p>"
    ]
