"""Specification of the report's similar answers (autograder/grading/publish/similarity.py).

A disguised copy (names changed, comments and blank lines added, re-indented) must be listed;
answers left as the stub or too short must not be compared; and the false-alarm rate on the
course's independently written right answers - each lesson's solution and the "right" answers
of tests/fixtures/answers/, written differently on purpose - must stay what docs/GRADING.md
says (no pair at or over the threshold). No kernel runs: about 2 seconds.
"""

from __future__ import annotations

import json
import sys
from itertools import combinations
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import conftest as cf
import toy_submissions as toy

from autograder import course
from autograder.course.lessons import ANSWER, load_lesson
from autograder.demo import samples
from autograder.grading.course_dir import CoursePaths
from autograder.grading.outcomes import Outcome
from autograder.grading.publish import report, similarity

STUB = (
    'def descent(f, x, rate):\n    """One step."""\n'
    "    # YOUR CODE HERE\n    raise NotImplementedError()"
)
ORIGINAL = '''def descent(f, x, rate):
    """One step."""
    h = 1e-6
    slope = (f(x + h) - f(x - h)) / (2 * h)
    new_x = x - rate * slope
    return new_x
'''
DISGUISED = '''def descent(f, x, rate):
    """One step."""
    # a small step either side
    eps   = 1e-6

    g = (f(x + eps) - f(x - eps)) / (2 * eps)   # the central difference
    result = x - rate * g
    return result
'''
INDEPENDENT = '''def descent(f, x, rate):
    """One step."""
    grad = (f(x + 1e-5) - f(x)) / 1e-5
    return x - grad * rate
'''


def pairs(answers, stub=STUB, written=False):
    found, _ = similarity.similar_pairs("L", "descent", answers, stub, written)
    return found


def test_a_copy_with_new_names_comments_and_spacing_is_listed_as_identical():
    (pair,) = pairs({"ann": ORIGINAL, "bob": DISGUISED})
    assert pair.students == ("ann", "bob") and pair.score == pytest.approx(1.0)
    assert pair.sources == (ORIGINAL, DISGUISED)


def test_an_independently_written_answer_is_not_listed():
    assert pairs({"ann": ORIGINAL, "cleo": INDEPENDENT}) == []


def test_answers_left_as_the_stub_are_not_compared():
    assert pairs({"ann": STUB, "bob": STUB + "\n"}) == []


def test_short_answers_are_not_compared_however_alike():
    short = "def descent(f, x, rate):\n    return x - rate * f(x)\n"
    assert similarity.own_tokens(similarity.code_tokens(short, STUB)) < similarity.MIN_TOKENS
    assert pairs({"ann": short, "bob": short}) == []


def test_attribute_names_are_kept_so_different_calls_differ():
    a = similarity.code_tokens("y = np.exp(x)")
    b = similarity.code_tokens("z = np.sin(w)")
    assert a != b and a[:2] == b[:2] == ["v0", "="]


def test_an_answer_that_does_not_tokenize_is_still_compared():
    broken = ORIGINAL + '    """never closed\n'
    (pair,) = pairs({"ann": broken, "bob": broken})
    assert pair.score == pytest.approx(1.0)


def test_written_answers_are_compared_as_words_ignoring_case_and_spacing():
    a = "The slope of x**2 is 2x because (x+h)^2 - x^2 = 2xh + h^2, and h goes to zero."
    b = "the SLOPE of x**2 is 2x  because (x+h)^2 - x^2 = 2xh + h^2,\nand h goes to zero."
    (pair,) = pairs({"ann": a, "bob": b}, stub="YOUR ANSWER HERE", written=True)
    assert pair.score == pytest.approx(1.0)


def right_answer_scores() -> tuple[list[float], int]:
    """Scores of every pair of independently written right answers of one exercise, and how
    many pairs were not compared (an answer too short)."""
    scores, skipped = [], 0
    for lesson in course.present_lessons():
        fixtures = cf.load_fixtures(lesson) or {}
        solution = cf.answer_sources(cf.read(cf.ROOT / "solutions" / lesson / f"{lesson}.ipynb"))
        released = cf.read(cf.ROOT / "lessons" / lesson / f"{lesson}.ipynb")
        stubs = {cf.nbgrader_meta(c).get("grade_id"): c.source for c in released.cells}
        for gid, entry in fixtures.items():
            tokens = [
                similarity.code_tokens(s, stubs[gid]) for s in [solution[gid], *entry["right"]]
            ]
            for a, b in combinations(tokens, 2):
                if min(map(similarity.own_tokens, (a, b))) < similarity.MIN_TOKENS:
                    skipped += 1
                else:
                    scores.append(similarity.score(a, b))
    return scores, skipped


def test_no_false_alarm_on_independently_written_right_answers():
    scores, skipped = right_answer_scores()
    alarms = [s for s in scores if s >= similarity.THRESHOLD]
    print(
        f"\n{len(scores)} pairs of right answers compared ({skipped} too short), "
        f"{len(alarms)} at or over {similarity.THRESHOLD}; highest {max(scores):.3f}"
    )
    assert len(scores) >= 50  # enough pairs for the figure to mean something
    assert alarms == []


# --------------------------------------------------------------------------- in the report


def toy_out(tmp_path: Path, answers: dict[str, dict[str, str]]) -> CoursePaths:
    """An OUT with the toy lesson released and each student's autograded notebook."""
    out = CoursePaths(tmp_path / "out")
    solution = json.loads(toy.TOY.read_text())
    lesson = load_lesson("99_toy", toy.TOY)
    ids = tuple(c.grade_id for c in lesson.cells if c.role == ANSWER)
    samples.write(
        samples.student_copy(solution, unanswered_ids=ids), out.release_notebook("99_toy")
    )
    for student, theirs in answers.items():
        nb = samples.student_copy(solution, answers=theirs)
        samples.write(nb, out.autograded_notebook(student, "99_toy"))
    return out


MEAN = (
    "def mean_of_sample():\n"
    '    """Return the arithmetic mean of SAMPLE."""\n'
    "    total = 0.0\n    count = 0\n    for value in SAMPLE:\n"
    "        total = total + value\n        count = count + 1\n    return total / count\n"
)
MEAN_RENAMED = MEAN.replace("total", "acc").replace("value", "v").replace("count", "n")


def test_report_lists_a_copied_answer_side_by_side_escaped(tmp_path):
    copied = MEAN_RENAMED.replace("return acc / n", "return acc / n  # <b>mine</b>")
    out = toy_out(tmp_path, {"ann": {"mean_of_sample": MEAN}, "bob": {"mean_of_sample": copied}})
    outcomes = [Outcome(s, "99_toy", f"{s}.ipynb") for s in ("ann", "bob")]
    found = similarity.find_similar(out, outcomes, {"99_toy": load_lesson("99_toy", toy.TOY)})
    assert [(p.grade_id, p.students) for p in found.pairs] == [("mean_of_sample", ("ann", "bob"))]
    html = "\n".join(report._similar(found))
    assert "ann and bob, 100% alike" in html
    assert "&lt;b&gt;mine&lt;/b&gt;" in html and "<b>mine</b>" not in html


def test_report_says_none_when_nothing_is_alike(tmp_path):
    out = toy_out(tmp_path, {"ann": {}, "bob": {"mean_of_sample": MEAN}})
    outcomes = [Outcome(s, "99_toy", f"{s}.ipynb") for s in ("ann", "bob")]
    found = similarity.find_similar(out, outcomes, {"99_toy": load_lesson("99_toy", toy.TOY)})
    assert found.pairs == [] and found.notes == []
    assert "<p>None.</p>" in report._similar(found)


# --------------------------------------------------------------------------- bounded work

HUGE = "def descent(f, x, rate):\n" + "".join(
    f"    v{i} = f(x + {i}) * rate - {i}\n" for i in range(60_000)
)


def test_two_huge_answers_are_compared_in_bounded_time_and_the_cut_is_named():
    import time

    start = time.monotonic()
    found, notes = similarity.similar_pairs("L", "descent", {"ann": HUGE, "bob": HUGE}, STUB)
    assert time.monotonic() - start < 10
    assert [p.students for p in found] == [("ann", "bob")]
    assert notes and "ann, bob" in notes[0] and "first" in notes[0]


def test_a_pair_whose_lengths_rule_it_out_is_not_scored(monkeypatch):
    scored = []
    real = similarity.Indel.normalized_similarity
    monkeypatch.setattr(
        similarity.Indel,
        "normalized_similarity",
        lambda a, b, **k: scored.append(1) or real(a, b, **k),
    )
    assert pairs({"ann": ORIGINAL, "bob": HUGE}) == []
    assert scored == []


def test_the_comparison_stops_at_its_time_budget_and_says_so(tmp_path):
    answers = {f"s{i}": {"mean_of_sample": MEAN} for i in range(6)}
    out = toy_out(tmp_path, answers)
    outcomes = [Outcome(s, "99_toy", f"{s}.ipynb") for s in answers]
    lessons = {"99_toy": load_lesson("99_toy", toy.TOY)}
    found = similarity.find_similar(out, outcomes, lessons, budget=0.0)
    assert any("time budget" in n or "not compared" in n for n in found.notes)
    assert "Not everything was compared" in "\n".join(report._similar(found))


def test_a_similar_pair_of_huge_answers_is_shown_cut(tmp_path):
    pair = similarity.SimilarPair("L", "g", ("ann", "bob"), 1.0, (HUGE, HUGE))
    html = "\n".join(report._similar(similarity.SimilarAnswers([pair], [])))
    assert len(html) < 3 * report.SHOWN_CHARS and "more characters]" in html
