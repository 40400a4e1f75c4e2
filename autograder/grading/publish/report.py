"""``OUT/report.html``: the instructor's view of a batch, readable offline.

Score distribution per lesson, pass rate per exercise (item analysis), the most common
failure messages per exercise, the submissions that could not be graded and why, whether
kernels ran sandboxed, and pairs of unusually alike answers (:mod:`.similarity`). Figures
are matplotlib PNGs embedded as data URIs.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from pathlib import Path

from ..course_dir import CoursePaths
from ..vocabulary import ExerciseStatus, NotebookStatus, VerdictStatus
from .feedback import STYLE
from .similarity import MAX_PAIRS, MIN_TOKENS, THRESHOLD, SimilarAnswers, find_similar


def _e(text: object) -> str:
    return html.escape(str(text))


def _header(*names: str) -> str:
    """A table's header row: real column headers, for screen readers too."""
    return "<tr>" + "".join(f"<th scope='col'>{_e(n)}</th>" for n in names) + "</tr>"


def _png(fig, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return (
        f"<img alt='{_e(alt)}' src='data:image/png;base64,"
        + base64.b64encode(buf.getvalue()).decode()
        + "'>"
    )


_BINS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.0001]


def score_alt(lesson: str, percents: list[float]) -> str:
    """What the score histogram shows, in words: how many students fall in each band."""
    low = sum(p < 50 for p in percents)
    high = sum(p >= 90 for p in percents)
    return (
        f"Histogram of the scores of the {len(percents)} graded students of {lesson}, in percent "
        f"of the autograded points: {low} below 50%, {len(percents) - low - high} from 50% to "
        f"90%, {high} at 90% or more."
    )


def pass_alt(lesson: str, rates: list[tuple[str, float]]) -> str:
    """What the pass-rate bar chart shows, in words: every exercise's share with full points."""
    shares = "; ".join(f"{name} {100 * rate:.0f}%" for name, rate in rates)
    return (
        f"Bar chart of the share of students with full points on each autograded exercise "
        f"of {lesson}: {shares}."
    )


def _score_figure(lesson: str, percents: list[float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.hist(percents, bins=_BINS, color="#4c78a8", edgecolor="white")
    ax.set_xlabel("score (% of the autograded points)")
    ax.set_ylabel("students")
    ax.set_title(f"{lesson}: score distribution ({len(percents)} graded)")
    return _png(fig, score_alt(lesson, percents))


def _pass_figure(lesson: str, rates: list[tuple[str, float]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.35 * len(rates) + 1))
    names = [n for n, _ in rates][::-1]
    values = [100 * r for _, r in rates][::-1]
    ax.barh(names, values, color="#59a14f")
    ax.set_xlim(0, 100)
    ax.set_xlabel("students with full points (%)")
    ax.set_title(f"{lesson}: pass rate per exercise")
    return _png(fig, pass_alt(lesson, rates))


def write_report(
    course: CoursePaths,
    grades,
    exercises,
    outcomes,
    lessons,
    sandbox,
    limits,
    workers=(),
    unlisted: list[str] | None = None,
    run=None,
    class_list=None,
) -> Path:
    """``unlisted``: submitters not on the roster (None: no roster was ever given); ``run``
    the run's record (publish.RunRecord: its policy, changes, what was not graded);
    ``class_list`` the roster (for what an LMS import needs)."""
    from .report_run import changes, import_check, not_graded

    parts = _head(grades, sandbox, limits)
    parts += changes(run)
    parts += _workers(workers)
    parts += _ungraded(grades)
    parts += not_graded(run)
    parts += _roster(grades, unlisted)
    parts += import_check(class_list, grades)
    parts += _late(grades, run.late_policy if run is not None else "no penalty")
    parts += _notes(outcomes)
    parts += _lessons(course, grades, exercises, outcomes, lessons)
    parts += _similar(find_similar(course, outcomes, lessons))
    parts += _timings(outcomes)
    parts.append("</main></body></html>")
    course.report.write_text("\n".join(parts))
    return course.report


def _head(grades, sandbox, limits) -> list[str]:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Grading report</title>",
        f"<style>{STYLE}</style></head><body><main><h1>Grading report</h1>",
    ]
    counts = Counter(g.status for g in grades)
    notebooks = len(grades) - counts.get(NotebookStatus.MISSING, 0)
    parts.append(
        f"<p>{notebooks} notebooks: {counts.get(NotebookStatus.GRADED, 0)} graded, "
        f"{counts.get(NotebookStatus.NEEDS_MANUAL, 0)} waiting for manual grading "
        "of written answers "
        "(<code>python -m autograder formgrader</code> on this folder, then grade again), "
        f"{counts.get(NotebookStatus.FAILED, 0)} could not be graded.</p>"
    )
    colour = VerdictStatus.PASSED if sandbox.isolated else VerdictStatus.FAILED
    mark = "✔ isolated" if sandbox.isolated else "✘ not isolated"
    parts.append(f"<p class='{colour}'><b>Sandbox ({mark}):</b> {_e(sandbox.detail)}.</p>")
    parts.append(f"<p><b>Limits:</b> {_e(limits.describe())}.</p>")
    return parts


def _workers(rows) -> list[str]:
    """On a Dask cluster: every worker, its sandbox, the notebooks it ran and their time."""
    if not rows:
        return []
    parts = [
        "<h2>Dask workers</h2><table><tr><th>worker</th><th>host</th><th>sandbox</th>"
        "<th>notebooks</th><th>time</th></tr>"
    ]
    for w in rows:
        colour = VerdictStatus.PASSED if w["isolated"] else VerdictStatus.FAILED
        state = "isolated" if w["isolated"] else "NOT isolated"
        if not w["accepted"]:
            state += ", refused"
        parts.append(
            f"<tr><td>{_e(w['address'])}</td><td>{_e(w['host'])}</td>"
            f"<td class='{colour}' title='{_e(w['detail'])}'>{state}: {_e(w['detail'])}</td>"
            f"<td>{w['notebooks']}</td><td>{w['seconds']:.1f} s</td></tr>"
        )
    parts.append("</table>")
    return parts


def _ungraded(grades) -> list[str]:
    failed = [g for g in grades if g.status == NotebookStatus.FAILED]
    parts = ["<h2>Submissions that could not be graded</h2>"]
    if failed:
        parts.append("<table>" + _header("student", "lesson", "why"))
        parts += [
            f"<tr><td>{_e(g.student_id)}</td><td>{_e(g.lesson or '?')}</td>"
            f"<td>{_e(g.detail)}</td></tr>"
            for g in failed
        ]
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    return parts


def _roster(grades, unlisted: list[str] | None) -> list[str]:
    if unlisted is None:
        return []
    missing = [g for g in grades if g.status == NotebookStatus.MISSING]
    parts = ["<h2>Roster</h2>"]
    if missing:
        parts.append("<p>Missing (on the roster, nothing handed in):</p>")
        parts.append("<table><tr><th>student</th><th>lesson</th></tr>")
        parts += [f"<tr><td>{_e(g.student_id)}</td><td>{_e(g.lesson)}</td></tr>" for g in missing]
        parts.append("</table>")
    else:
        parts.append("<p>Every roster student handed in every lesson.</p>")
    if unlisted:
        parts.append(
            "<p class='failed'>Handed in but not on the roster (graded; add them to the roster "
            f"or check the folder names): {_e(', '.join(unlisted))}.</p>"
        )
    return parts


def _late(grades, late_policy: str) -> list[str]:
    late = [g for g in grades if g.late_by]
    if not late:
        return []
    parts = [
        "<h2>Late submissions</h2>",
        f"<p>Late policy of this run: {_e(late_policy)} (nbgrader's late-submission step; "
        "the scores shown are after the penalty; formgrader shows them before it).</p>",
        "<table><tr><th>student</th><th>lesson</th><th>late by</th><th>penalty</th>"
        "<th>score</th></tr>",
    ]
    parts += [
        f"<tr><td>{_e(g.student_id)}</td><td>{_e(g.lesson)}</td><td>{_e(g.late_by)}</td>"
        f"<td>{g.penalty:g}</td><td>{_score(g)}</td></tr>"
        for g in late
    ]
    parts.append("</table>")
    return parts


def _score(g) -> str:
    if g.score is None or g.max_score is None:
        return "–"
    return f"{g.score:g} / {g.max_score:g}"


def _notes(outcomes) -> list[str]:
    faults = [(o.student, o.lesson, n) for o in outcomes for n in o.notes if not o.failed]
    if not faults:
        return []
    parts = [
        "<h2>Graded, with something to know</h2><table>" + _header("student", "lesson", "note")
    ]
    parts += [
        f"<tr><td>{_e(s)}</td><td>{_e(lesson)}</td><td>{_e(n)}</td></tr>" for s, lesson, n in faults
    ]
    parts.append("</table>")
    return parts


def _lessons(course: CoursePaths, grades, exercises, outcomes, lessons) -> list[str]:
    by_lesson = defaultdict(list)
    for g in grades:
        if g.status not in (NotebookStatus.FAILED, NotebookStatus.MISSING) and g.lesson:
            by_lesson[g.lesson].append(g)
    messages = defaultdict(Counter)
    for o in outcomes:
        for gid, v in o.verdicts.items():
            if v.outcome != VerdictStatus.PASSED and v.message:
                messages[(o.lesson, gid)][v.short[:200]] += 1
    parts: list[str] = []
    for lesson in sorted(by_lesson):
        ex_rows = [e for e in exercises if e.lesson == lesson]
        parts.append(f"<h2>Lesson {_e(lesson)}</h2>")
        percents = _percents(ex_rows)
        if percents:
            parts.append(_score_figure(lesson, percents))
        rates, table = _exercise_table(lesson, ex_rows, lessons, messages)
        if rates:
            parts.append(_pass_figure(lesson, rates))
        parts += table + ["</table>"]
        parts += _students(course, lesson, by_lesson[lesson])
    return parts


def _percents(ex_rows) -> list[float]:
    # Written answers are graded by hand later: a percentage of the autograded points only.
    auto_max = {}
    auto_score = defaultdict(float)
    for e in ex_rows:
        if e.status != ExerciseStatus.NEEDS_MANUAL:
            auto_max[(e.student_id)] = auto_max.get(e.student_id, 0) + e.max_score
            auto_score[e.student_id] += e.score or 0
    return [100 * auto_score[s] / m for s, m in auto_max.items() if m]


def _exercise_table(lesson: str, ex_rows, lessons, messages):
    """The pass rate of each autograded exercise, and the table rows (without its end tag)."""
    items = sorted({e.grade_id for e in ex_rows})
    order = [c.grade_id for c in lessons[lesson].graded] if lesson in lessons else items
    items = [i for i in order if i in items] + [i for i in items if i not in order]
    rates = []
    table = [
        (
            "<table>"
            + _header("exercise", "points", "full points", "mean", "most common failures (count)")
        )
    ]
    for gid in items:
        rs = [e for e in ex_rows if e.grade_id == gid]
        scored = [e for e in rs if e.status != ExerciseStatus.NEEDS_MANUAL]
        if scored:
            rate = sum(e.status == ExerciseStatus.PASSED for e in scored) / len(scored)
            mean = sum((e.score or 0) for e in scored) / len(scored)
            rates.append((gid, rate))
            rate_text, mean_text = f"{100 * rate:.0f}%", f"{mean:.2f}"
        else:
            rate_text, mean_text = "by hand", "–"
        common = messages.get((lesson, gid), Counter()).most_common(3)
        fails = "<br>".join(f"{_e(m)} ({n})" for m, n in common)
        table.append(
            f"<tr><td>{_e(gid)}</td><td>{rs[0].max_score:g}</td><td>{rate_text}</td>"
            f"<td>{mean_text}</td><td>{fails}</td></tr>"
        )
    return rates, table


def _students(course: CoursePaths, lesson: str, rows) -> list[str]:
    parts = ["<h3>Students</h3><table>" + _header("student", "score", "status", "detail")]
    for g in rows:
        page = course.feedback_page(g.student_id, lesson).relative_to(course.root)
        parts.append(
            f"<tr><td><a href='{_e(page.as_posix())}'>{_e(g.student_id)}</a></td>"
            f"<td>{_score(g)}</td><td class='{g.status}'>{g.status}</td>"
            f"<td>{_e(g.detail)}</td></tr>"
        )
    parts.append("</table>")
    return parts


SHOWN_CHARS = 20_000  # of each answer of a similar pair shown on the page


def _similar(found: SimilarAnswers) -> list[str]:
    """Pairs of unusually alike answers, side by side: a pointer, never a verdict."""
    parts = [
        "<h2 id='similar'>Similar answers</h2>"
        f"<p>Pairs of answers to the same exercise that are at least {100 * THRESHOLD:.0f}% "
        "alike once names, comments and whitespace are normalised (the stub's own lines and "
        f"answers under {MIN_TOKENS} tokens left out; at most {MAX_PAIRS} pairs). Short or "
        "standard answers can coincide honestly: this is a pointer for a closer look, not a "
        "finding of copying.</p>"
    ]
    if found.notes:
        items = "".join(f"<li>{_e(n)}</li>" for n in found.notes)
        parts.append(f"<p>Not everything was compared in full:</p><ul>{items}</ul>")
    if not found.pairs:
        return parts + ["<p>None.</p>"]
    for p in found.pairs:
        (a, b), (src_a, src_b) = p.students, p.sources
        parts.append(
            f"<h3>{_e(p.lesson)} · {_e(p.grade_id)}: {_e(a)} and {_e(b)}, "
            f"{100 * p.score:.0f}% alike</h3>"
            "<table class='similar'><tr>"
            f"<th>{_e(a)}</th><th>{_e(b)}</th></tr><tr>"
            f"<td style='vertical-align:top;width:50%'><pre>{_e(_shown(src_a))}</pre></td>"
            f"<td style='vertical-align:top;width:50%'><pre>{_e(_shown(src_b))}</pre></td>"
            "</tr></table>"
        )
    return parts


def _shown(source: str) -> str:
    if len(source) <= SHOWN_CHARS:
        return source
    return source[:SHOWN_CHARS] + f"\n[... {len(source) - SHOWN_CHARS:,} more characters]"


def _timings(outcomes) -> list[str]:
    times = [o.timings for o in outcomes if o.timings]
    if not times:
        return []
    n = len(times)
    parts = ["<h2>Where the time went (per notebook, mean)</h2><table>"]
    for k, label in (
        ("kernel_start", "kernel start"),
        ("imports", "imports (helpers, numpy, checkers)"),
        ("cells", "running cells"),
        ("replay", "re-running after a restart"),
        ("autograde", "nbgrader autograde (serial)"),
        ("total", "execution in all"),
    ):
        parts.append(
            f"<tr><th scope='row'>{label}</th>"
            f"<td>{sum(t.get(k, 0) for t in times) / n:.2f} s</td></tr>"
        )
    parts.append("</table>")
    return parts
