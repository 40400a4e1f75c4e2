"""``OUT/report.html``: the instructor's view of a batch, readable offline.

Score distribution per lesson, pass rate per exercise (item analysis), the most common
failure messages per exercise, the submissions that could not be graded and why, and whether
kernels ran sandboxed. Figures are matplotlib PNGs embedded as data URIs.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from pathlib import Path

from .course_dir import CoursePaths
from .feedback import STYLE
from .status import Status


def _e(text: object) -> str:
    return html.escape(str(text))


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return (
        "<img alt='figure' src='data:image/png;base64,"
        + base64.b64encode(buf.getvalue()).decode()
        + "'>"
    )


def _score_figure(lesson: str, percents: list[float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.hist(
        percents,
        bins=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.0001],
        color="#4c78a8",
        edgecolor="white",
    )
    ax.set_xlabel("score (% of the autograded points)")
    ax.set_ylabel("students")
    ax.set_title(f"{lesson}: score distribution ({len(percents)} graded)")
    return _png(fig)


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
    return _png(fig)


def write_report(
    course: CoursePaths, grades, exercises, outcomes, lessons, sandbox, limits, workers=()
) -> Path:
    parts = _head(grades, sandbox, limits)
    parts += _workers(workers)
    parts += _ungraded(grades)
    parts += _notes(outcomes)
    parts += _lessons(course, grades, exercises, outcomes, lessons)
    parts += _timings(outcomes)
    parts.append("</body></html>")
    course.report.write_text("\n".join(parts))
    return course.report


def _head(grades, sandbox, limits) -> list[str]:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Grading report</title>",
        f"<style>{STYLE}</style></head><body><h1>Grading report</h1>",
    ]
    counts = Counter(g.status for g in grades)
    parts.append(
        f"<p>{len(grades)} notebooks: {counts.get(Status.GRADED, 0)} graded, "
        f"{counts.get(Status.NEEDS_MANUAL, 0)} waiting for manual grading of written answers "
        f"(open <code>nbgrader formgrader</code> in this folder), "
        f"{counts.get(Status.FAILED, 0)} could not be graded.</p>"
    )
    colour = Status.PASSED if sandbox.isolated else Status.FAILED
    parts.append(f"<p class='{colour}'><b>Sandbox:</b> {_e(sandbox.detail)}.</p>")
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
        colour = Status.PASSED if w["isolated"] else Status.FAILED
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
    failed = [g for g in grades if g.status == Status.FAILED]
    parts = ["<h2>Submissions that could not be graded</h2>"]
    if failed:
        parts.append("<table><tr><th>student</th><th>lesson</th><th>why</th></tr>")
        parts += [
            f"<tr><td>{_e(g.student_id)}</td><td>{_e(g.lesson or '?')}</td>"
            f"<td>{_e(g.detail)}</td></tr>"
            for g in failed
        ]
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    return parts


def _notes(outcomes) -> list[str]:
    faults = [(o.student, o.lesson, n) for o in outcomes for n in o.notes if not o.failed]
    if not faults:
        return []
    parts = [
        "<h2>Graded, with something to know</h2>"
        "<table><tr><th>student</th><th>lesson</th><th>note</th></tr>"
    ]
    parts += [
        f"<tr><td>{_e(s)}</td><td>{_e(lesson)}</td><td>{_e(n)}</td></tr>" for s, lesson, n in faults
    ]
    parts.append("</table>")
    return parts


def _lessons(course: CoursePaths, grades, exercises, outcomes, lessons) -> list[str]:
    by_lesson = defaultdict(list)
    for g in grades:
        if g.status != Status.FAILED and g.lesson:
            by_lesson[g.lesson].append(g)
    messages = defaultdict(Counter)
    for o in outcomes:
        for gid, v in o.verdicts.items():
            if v.outcome != Status.PASSED and v.message:
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
        if e.status != Status.NEEDS_MANUAL:
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
            "<table><tr><th>exercise</th><th>points</th><th>full points</th><th>mean</th>"
            "<th>most common failures (count)</th></tr>"
        )
    ]
    for gid in items:
        rs = [e for e in ex_rows if e.grade_id == gid]
        scored = [e for e in rs if e.status != Status.NEEDS_MANUAL]
        if scored:
            rate = sum(e.status == Status.PASSED for e in scored) / len(scored)
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
    parts = [
        "<h3>Students</h3><table>"
        "<tr><th>student</th><th>score</th><th>status</th><th>detail</th></tr>"
    ]
    for g in rows:
        page = course.feedback_page(g.student_id, lesson).relative_to(course.root)
        parts.append(
            f"<tr><td><a href='{_e(page.as_posix())}'>{_e(g.student_id)}</a></td>"
            f"<td>{g.score:g} / {g.max_score:g}</td><td class='{g.status}'>{g.status}</td>"
            f"<td>{_e(g.detail)}</td></tr>"
        )
    parts.append("</table>")
    return parts


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
            f"<tr><td>{label}</td><td>{sum(t.get(k, 0) for t in times) / n:.2f} s</td></tr>"
        )
    parts.append("</table>")
    return parts
