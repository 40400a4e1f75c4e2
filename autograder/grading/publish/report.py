"""``OUT/report.html``: the instructor's view of a batch, readable offline.

Score distribution per lesson, pass rate per exercise (item analysis), the most common
failure messages per exercise, the submissions that could not be graded and why, whether
kernels ran sandboxed, and pairs of unusually alike answers (:mod:`.similarity`). Figures
are matplotlib PNGs embedded as data URIs. The page is ``templates/report.html.j2`` and its
partials; this module prepares what they show.
"""

from __future__ import annotations

import base64
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..course_dir import CoursePaths
from ..vocabulary import ExerciseStatus, NotebookStatus, VerdictStatus
from .similarity import MAX_PAIRS, MIN_TOKENS, THRESHOLD, SimilarAnswers, find_similar


@dataclass(frozen=True)
class Figure:
    """A chart as the page embeds it: its description in words and the PNG as a data URI."""

    alt: str
    src: str


def _png(fig, alt: str) -> Figure:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return Figure(alt, "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())


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


def _score_figure(lesson: str, percents: list[float]) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.hist(percents, bins=_BINS, color="#4c78a8", edgecolor="white")
    ax.set_xlabel("score (% of the autograded points)")
    ax.set_ylabel("students")
    ax.set_title(f"{lesson}: score distribution ({len(percents)} graded)")
    return _png(fig, score_alt(lesson, percents))


def _pass_figure(lesson: str, rates: list[tuple[str, float]]) -> Figure:
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
    from .report_run import import_check
    from .templating import render

    page = render(
        "report.html.j2",
        counts=Counter(g.status for g in grades),
        notebooks=sum(g.status != NotebookStatus.MISSING for g in grades),
        sandbox=sandbox,
        limits=limits.describe(),
        run=run,
        workers=list(workers),
        failed=[g for g in grades if g.status == NotebookStatus.FAILED],
        roster=_roster(grades, unlisted),
        import_check=import_check(class_list, grades),
        late=[g for g in grades if g.late_by],
        late_policy=run.late_policy if run is not None else "no penalty",
        notes=[(o.student, o.lesson, n) for o in outcomes for n in o.notes if not o.failure],
        lessons=_lessons(course, grades, exercises, outcomes, lessons),
        similar=_similar_view(find_similar(course, outcomes, lessons)),
        timings=_timings(outcomes),
    )
    course.report.write_text(page)
    return course.report


def _roster(grades, unlisted: list[str] | None) -> dict | None:
    """Who is missing and who is not on the roster; None when no roster was ever given."""
    if unlisted is None:
        return None
    return {
        "missing": [g for g in grades if g.status == NotebookStatus.MISSING],
        "unlisted": ", ".join(unlisted),
    }


def _score(g) -> str:
    if g.score is None or g.max_score is None:
        return "–"
    return f"{g.score:g} / {g.max_score:g}"


@dataclass(frozen=True)
class ExerciseLine:
    """One autograded exercise of a lesson: its pass rate, mean and commonest failures."""

    grade_id: str
    max_score: float
    rate: float | None  # the share with full points; None for a written answer graded by hand
    mean: float | None
    failures: list[tuple[str, int]]  # message, how many times


@dataclass(frozen=True)
class StudentLine:
    grade: object  # its GradeRow
    page: str  # the feedback page, relative to OUT
    score: str


@dataclass(frozen=True)
class LessonView:
    lesson: str
    score_figure: Figure | None
    pass_figure: Figure | None
    exercises: list[ExerciseLine]
    students: list[StudentLine]


def _lessons(course: CoursePaths, grades, exercises, outcomes, lessons) -> list[LessonView]:
    by_lesson = defaultdict(list)
    for g in grades:
        if g.status not in (NotebookStatus.FAILED, NotebookStatus.MISSING) and g.lesson:
            by_lesson[g.lesson].append(g)
    messages = defaultdict(Counter)
    for o in outcomes:
        for gid, v in o.verdicts.items():
            if v.outcome != VerdictStatus.PASSED and v.message:
                messages[(o.lesson, gid)][v.short[:200]] += 1
    views = []
    for lesson in sorted(by_lesson):
        ex_rows = [e for e in exercises if e.lesson == lesson]
        percents = _percents(ex_rows)
        table = _exercise_table(lesson, ex_rows, lessons, messages)
        rates = [(e.grade_id, e.rate) for e in table if e.rate is not None]
        views.append(
            LessonView(
                lesson,
                _score_figure(lesson, percents) if percents else None,
                _pass_figure(lesson, rates) if rates else None,
                table,
                _students(course, lesson, by_lesson[lesson]),
            )
        )
    return views


def _percents(ex_rows) -> list[float]:
    # Written answers are graded by hand later: a percentage of the autograded points only.
    auto_max = {}
    auto_score = defaultdict(float)
    for e in ex_rows:
        if e.status != ExerciseStatus.NEEDS_MANUAL:
            auto_max[(e.student_id)] = auto_max.get(e.student_id, 0) + e.max_score
            auto_score[e.student_id] += e.score or 0
    return [100 * auto_score[s] / m for s, m in auto_max.items() if m]


def _exercise_table(lesson: str, ex_rows, lessons, messages) -> list[ExerciseLine]:
    """Each exercise of the lesson in lesson order, with its pass rate and common failures."""
    items = sorted({e.grade_id for e in ex_rows})
    order = [c.grade_id for c in lessons[lesson].graded] if lesson in lessons else items
    items = [i for i in order if i in items] + [i for i in items if i not in order]
    table = []
    for gid in items:
        rs = [e for e in ex_rows if e.grade_id == gid]
        scored = [e for e in rs if e.status != ExerciseStatus.NEEDS_MANUAL]
        rate = mean = None
        if scored:
            rate = sum(e.status == ExerciseStatus.PASSED for e in scored) / len(scored)
            mean = sum((e.score or 0) for e in scored) / len(scored)
        common = messages.get((lesson, gid), Counter()).most_common(3)
        table.append(ExerciseLine(gid, rs[0].max_score, rate, mean, common))
    return table


def _students(course: CoursePaths, lesson: str, rows) -> list[StudentLine]:
    return [
        StudentLine(
            g,
            course.feedback_page(g.student_id, lesson).relative_to(course.root).as_posix(),
            _score(g),
        )
        for g in rows
    ]


SHOWN_CHARS = 20_000  # of each answer of a similar pair shown on the page


def _similar_view(found: SimilarAnswers) -> dict:
    """The similar pairs as the page shows them: each answer cut at SHOWN_CHARS."""
    return {
        "threshold": THRESHOLD,
        "min_tokens": MIN_TOKENS,
        "max_pairs": MAX_PAIRS,
        "notes": list(found.notes),
        "pairs": [
            {
                "lesson": p.lesson,
                "grade_id": p.grade_id,
                "students": p.students,
                "score": p.score,
                "shown": tuple(_shown(s) for s in p.sources),
            }
            for p in found.pairs
        ],
    }


def _similar(found: SimilarAnswers) -> list[str]:
    """The lines of the page's "Similar answers" section (a pointer, never a verdict)."""
    from .templating import environment

    macros = environment().get_template("report_similar.html.j2").module
    return str(macros.similar(_similar_view(found))).splitlines()


def _shown(source: str) -> str:
    if len(source) <= SHOWN_CHARS:
        return source
    return source[:SHOWN_CHARS] + f"\n[... {len(source) - SHOWN_CHARS:,} more characters]"


TIMED = (
    ("kernel_start", "kernel start"),
    ("imports", "imports (helpers, numpy, checkers)"),
    ("cells", "running cells"),
    ("replay", "re-running after a restart"),
    ("autograde", "nbgrader autograde (serial)"),
    ("total", "execution in all"),
)


def _timings(outcomes) -> list[tuple[str, float]]:
    """Each phase's label and its mean seconds per notebook (none: nothing was timed)."""
    times = [o.timings for o in outcomes if o.timings]
    if not times:
        return []
    return [(label, sum(t.get(k, 0) for t in times) / len(times)) for k, label in TIMED]
