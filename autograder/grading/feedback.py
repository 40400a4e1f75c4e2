"""``OUT/feedback/<student>/<lesson>.html``: what the student may see.

Points per exercise, the visible tests and their messages, and what went wrong in plain words
(a cell stopped for time, a kernel replaced, a test cell put back). Never a hidden test's source
or traceback: hidden failures are described by :mod:`.messages` only. The page is one
self-contained file: no scripts, no CDN.
"""

from __future__ import annotations

import html
from pathlib import Path

from .course_dir import CoursePaths
from .lessons import TEST, WRITTEN, Lesson
from .status import Status

STYLE = (
    "\n"
    'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;'
    "margin:2rem auto;padding:0 1rem;color:#1f2328}\n"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}"
    "h3{font-size:1.05rem;margin-bottom:.3rem}\n"
    "table{border-collapse:collapse}"
    "td,th{border-bottom:1px solid #d0d7de;padding:.3rem .7rem;text-align:left}\n"
    "pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap}\n"
    ".passed{color:#1a7f37}.failed{color:#cf222e}.partial{color:#9a6700}"
    ".needs_manual{color:#6e7781}\n"
    "section{border-top:1px solid #d0d7de;margin-top:1rem}\n"
)

_STATUS_TEXT = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.PARTIAL: "partly right",
    Status.NEEDS_MANUAL: "graded by hand (pending)",
}


def _e(text: object) -> str:
    return html.escape(str(text))


def _written(row) -> list[str]:
    """A written answer's section: pending, or its points and the instructor's comment."""
    if row.status == Status.NEEDS_MANUAL:
        return ["<p>A written answer: your instructor grades it by hand.</p>", *_comment_block(row)]
    return [
        f"<p>A written answer, graded by your instructor: "
        f"{(row.score or 0):g} of {row.max_score:g} points.</p>",
        *_comment_block(row),
    ]


def _comment_block(row) -> list[str]:
    """The instructor's comment from formgrader, in a block of its own (none: nothing)."""
    if not row.comment:
        return []
    # Styled in place: the page's layout (STYLE) is not this block's to change.
    return [
        "<div class='comment' style='border-left:4px solid #0969da;padding:0 .8rem'>"
        "<h4>Your instructor's comment</h4>"
        f"<p style='white-space:pre-wrap'>{_e(row.comment)}</p></div>"
    ]


def _late_block(grade) -> list[str]:
    # Its own small block (the page layout is issue 17's): shown only for a late notebook.
    if grade is None or not grade.late_by:
        return []
    score = "" if grade.score is None else f" Your score after it: {grade.score:g} points."
    return [
        "<section class='late'><h2>Late submission</h2>",
        f"<p>Handed in {_e(grade.late_by)} after the deadline: a late penalty of "
        f"{grade.penalty:g} points.{score}</p></section>",
    ]


def write_feedback(
    course: CoursePaths, outcome, lesson: Lesson | None, exercise_rows, grade=None
) -> Path:
    """Write the page for one graded submission and return its path.

    ``grade`` is the submission's grades.csv row (for the late-submission block), if any.
    """
    rows = {e.grade_id: e for e in exercise_rows}
    score = sum((e.score or 0) for e in exercise_rows)
    maximum = sum(e.max_score for e in exercise_rows)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Feedback · {_e(outcome.lesson)} · {_e(outcome.student)}</title>"
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Lesson {_e(outcome.lesson)}: {score:g} of {maximum:g} points"
        + (
            " so far</h1><p>Your written answers are graded by hand; their points come later.</p>"
            if any(e.status == Status.NEEDS_MANUAL for e in exercise_rows)
            else "</h1>"
        ),
        f"<p>Student <b>{_e(outcome.student)}</b>, "
        f"graded from <code>{_e(outcome.file)}</code>.</p>",
        "<table><tr><th>exercise</th><th>points</th><th>result</th></tr>",
    ]
    cells = [c for c in (lesson.cells if lesson else ()) if c.role in (TEST, WRITTEN)]
    for c in cells:
        e = rows.get(c.grade_id)
        if e is None:
            continue
        got = "–" if e.status == Status.NEEDS_MANUAL else f"{(e.score or 0):g}"
        parts.append(
            f"<tr><td><a href='#{_e(c.grade_id)}'>{_e(c.grade_id)}</a></td>"
            f"<td>{got} / {e.max_score:g}</td>"
            f"<td class='{e.status}'>{_STATUS_TEXT.get(e.status, e.status)}</td></tr>"
        )
    parts.append("</table>")
    parts += _late_block(grade)
    if outcome.notes:
        parts.append("<h2>What the grader noticed</h2><ul>")
        parts += [f"<li>{_e(n)}</li>" for n in outcome.notes]
        parts.append("</ul>")
    parts.append("<h2>Exercises</h2>")
    for c in cells:
        e = rows.get(c.grade_id)
        if e is None:
            continue
        parts.append(
            f"<section id='{_e(c.grade_id)}'><h3>{_e(c.grade_id)} "
            f"<span class='{e.status}'>({_STATUS_TEXT.get(e.status, e.status)})</span></h3>"
        )
        if c.role == WRITTEN:
            parts.append("".join(_written(e)) + "</section>")
            continue
        parts += _comment_block(e)
        v = outcome.verdicts.get(c.grade_id)
        if v is not None and v.message:
            parts.append(f"<pre class='failed'>{_e(v.message)}</pre>")
        elif v is not None and v.outcome == Status.PASSED:
            parts.append("<p class='passed'>All checks passed.</p>")
        if c.has_hidden_tests:
            parts.append("<p><i>This exercise also has hidden checks; they are not shown.</i></p>")
        parts.append(
            "<details><summary>The visible test</summary>"
            f"<pre>{_e(c.visible_source)}</pre></details>"
        )
        if v is not None and v.output:
            parts.append(
                f"<details><summary>Printed output</summary><pre>{_e(v.output)}</pre></details>"
            )
        parts.append("</section>")
    parts.append("</body></html>")
    path = course.feedback_page(outcome.student, outcome.lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
