"""The student's feedback page, written from a grader's records for a real lesson.

Each test builds the records a graded submission of Lesson 04 leaves (exercise rows, the
outcome with its verdicts, the student's answer cells and recorded quiz answers) and writes
the page with :func:`autograder.grading.feedback.write_feedback`: no kernel, no grading, so
the module runs in about a second. The end-to-end page of a graded class is compared by
tests/test_demo_outputs.py and checked by axe-core in tests/test_accessibility.py.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.course import find_lessons, settings
from autograder.course.lessons import ANSWER, TEST, WRITTEN, load_lesson
from autograder.course.quiz_key import is_quiz_test
from autograder.grading.autograde.serial import answer_sources
from autograder.grading.course_dir import CoursePaths
from autograder.grading.judge import judge
from autograder.grading.judge.messages import Verdict
from autograder.grading.outcomes import Outcome
from autograder.grading.publish.feedback import lesson_links, write_feedback
from autograder.grading.publish.rows import ExerciseRow
from autograder.grading.record import codec
from autograder.grading.vocabulary import ExerciseStatus, VerdictStatus

ROOT = Path(__file__).resolve().parent.parent
LESSON = "04_gradient_descent"
SOLUTION = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"


@pytest.fixture(scope="module")
def lesson():
    return load_lesson(LESSON, SOLUTION)


def _rows(lesson, scores: dict[str, float | None]) -> list[ExerciseRow]:
    """Exercise rows as the gradebook gives them: full points unless ``scores`` says else."""
    rows = []
    for cell in lesson.graded:
        score = scores.get(cell.grade_id, cell.points)
        if cell.role == WRITTEN and cell.grade_id not in scores:
            status = ExerciseStatus.NEEDS_MANUAL
        elif score is not None and score >= cell.points:
            status = ExerciseStatus.PASSED
        else:
            status = ExerciseStatus.PARTIAL if score else ExerciseStatus.FAILED
        rows.append(ExerciseRow("sam", LESSON, cell.grade_id, score, cell.points, status))
    return rows


def _page(tmp_path, lesson, rows, **outcome) -> str:
    o = Outcome("sam", LESSON, f"{LESSON}.ipynb", **outcome)
    return write_feedback(CoursePaths(tmp_path), o, lesson, rows, site=settings()).read_text()


def _section(page: str, anchor: str) -> str:
    return re.search(rf"<section id='{anchor}'>(.*?)</section>", page, re.S).group(1)


def _quiz_key(lesson):
    (gid,) = [g for g in lesson.quiz_keys]
    return gid, lesson.quiz_keys[gid]


def test_every_graded_cell_of_every_lesson_sits_under_one_item_heading():
    for lid in find_lessons(ROOT / "solutions"):
        model = load_lesson(lid, ROOT / "solutions" / lid / f"{lid}.ipynb")
        owners = {g: [h for h in model.headings if g in h.grade_ids] for g in model.by_grade_id()}
        graded = [c.grade_id for c in model.graded]
        assert all(len(owners[g]) == 1 for g in graded), lid
        answers = [c.grade_id for c in model.cells if c.role == ANSWER]
        assert all(model.heading_of(a) is not None for a in answers), lid


def test_exercises_appear_under_the_lessons_titles_in_lesson_order(tmp_path, lesson):
    page = _page(tmp_path, lesson, _rows(lesson, {}))
    titles = re.findall(r"<section id='[^']+'><h3>(.*?)</h3>", page)
    assert titles == [h.text for h in lesson.headings]
    assert "test_gradient_descent" not in page  # grade ids stay in the CSVs
    assert page.count("<h1>") == 1 and lesson.title in page


def test_a_failed_exercise_shows_the_students_answer_escaped_and_the_visible_message(
    tmp_path, lesson
):
    heading = lesson.heading_of("test_chosen_learning_rate")
    answer = "chosen_learning_rate = 0.1  # <b>bold</b> & more\n"
    message = "CheckFailure: chosen_learning_rate does not meet the goal."
    page = _page(
        tmp_path,
        lesson,
        _rows(lesson, {"test_chosen_learning_rate": 0}),
        answers={"chosen_learning_rate": answer},
        verdicts={
            "test_chosen_learning_rate": Verdict(
                "test_chosen_learning_rate", VerdictStatus.FAILED, "visible", message, ""
            )
        },
    )
    section = _section(page, heading.anchor)
    assert "✘ failed" in section and "0 of 2 points" in section
    assert "# &lt;b&gt;bold&lt;/b&gt; &amp; more" in section and "<b>bold</b>" not in section
    assert message in section


def test_a_failed_exercise_links_the_section_that_teaches_it(tmp_path, lesson):
    heading = lesson.heading_of("test_chosen_learning_rate")
    assert heading.section is not None  # its text names "Section 4"
    page = _page(tmp_path, lesson, _rows(lesson, {"test_chosen_learning_rate": 0}))
    section = _section(page, heading.anchor)
    links = lesson_links(LESSON, settings())
    assert f"{heading.section.label}" in section
    assert f"href='{links.colab}#scrollTo=section-4'" in section
    assert f"href='{links.github}'" in section
    assert links.colab.endswith(f"/lessons/{LESSON}/{LESSON}.ipynb")


def test_the_section_links_name_ids_the_lesson_really_has(lesson):
    """Colab scrolls to a cell's metadata id, nbviewer to the id nbconvert gives a heading."""
    from nbconvert import HTMLExporter

    student = nbformat.read(ROOT / "lessons" / LESSON / f"{LESSON}.ipynb", as_version=4)
    colab_ids = {c.metadata.get("id") for c in student.cells}
    page, _ = HTMLExporter(template_name="lab").from_notebook_node(student)
    for section in lesson.sections:
        assert section.colab_id in colab_ids
        assert f'id="{section.html_id}"' in page, section.label


def test_a_hidden_failure_says_only_which_check_failed(tmp_path, lesson):
    gid = "test_gradient_descent"
    summary = "A hidden check failed: gradient_descent gave the wrong path."
    page = _page(
        tmp_path,
        lesson,
        _rows(lesson, {gid: 0}),
        verdicts={gid: Verdict(gid, VerdictStatus.FAILED, "hidden", summary, "")},
    )
    section = _section(page, lesson.heading_of(gid).anchor)
    assert f"✘ {summary}" in section
    hidden = lesson.by_grade_id()[gid].source.split("### BEGIN HIDDEN TESTS")[1]
    assert hidden.strip().splitlines()[0] not in section


def test_a_quiz_marks_each_item_from_the_recorded_answers_with_its_reason(tmp_path, lesson):
    gid, key = _quiz_key(lesson)
    answers = {name: answer for name, answer, _ in key}
    wrong_name = key[1][0]
    answers[wrong_name] = not answers[wrong_name]
    unanswered = key[2][0]
    answers[unanswered] = None
    page = _page(tmp_path, lesson, _rows(lesson, {gid: len(key) - 2}), quiz={gid: answers})
    section = _section(page, lesson.heading_of(gid).anchor)
    rows = re.findall(r"<tr><th scope='row'><code>(\w+)</code></th>(.*?)</tr>", section)
    assert [name for name, _ in rows] == [name for name, _, _ in key]
    verdicts = {name: cells for name, cells in rows}
    assert "✘ wrong" in verdicts[wrong_name] and "· not answered" in verdicts[unanswered]
    for name, _, reason in key:
        assert reason.replace("'", "&#x27;") in verdicts[name]
    assert sum("✔ right" in cells for cells in verdicts.values()) == len(key) - 2
    assert f"{len(key) - 2} of {len(key)} items right" in section


def test_a_wrong_quiz_item_says_the_right_answer(tmp_path, lesson):
    gid, key = _quiz_key(lesson)
    answers = {name: answer for name, answer, _ in key}
    name, right, _ = key[0]
    answers[name] = not right
    page = _page(tmp_path, lesson, _rows(lesson, {gid: len(key) - 1}), quiz={gid: answers})
    section = _section(page, lesson.heading_of(gid).anchor)
    assert f"✘ wrong (it is {right})" in section


def test_a_hidden_failure_tells_what_to_try_next(tmp_path, lesson):
    gid = "test_gradient_descent"
    summary = "A hidden check failed: gradient_descent gave the wrong path."
    verdicts = {gid: Verdict(gid, VerdictStatus.FAILED, "hidden", summary, "")}
    page = _page(tmp_path, lesson, _rows(lesson, {gid: 0}), verdicts=verdicts)
    section = _section(page, lesson.heading_of(gid).anchor)
    assert "passed the visible checks" in section and "try such inputs yourself" in section


def test_a_name_the_students_answer_defines_but_the_test_misses_is_explained(tmp_path, lesson):
    gid = "test_chosen_learning_rate"
    message = "NameError: name 'chosen_learning_rate' is not defined"
    verdicts = {gid: Verdict(gid, VerdictStatus.FAILED, "visible", message, "")}
    answers = {"chosen_learning_rate": "x = 1 / 0\nchosen_learning_rate = 0.1\n"}
    rows = _rows(lesson, {gid: 0})
    page = _page(tmp_path, lesson, rows, answers=answers, verdicts=verdicts)
    section = _section(page, lesson.heading_of(gid).anchor)
    assert "its cell stopped with an error before reaching that line" in section
    elsewhere = _page(
        tmp_path, lesson, rows, answers={"chosen_learning_rate": "y = 1\n"}, verdicts=verdicts
    )
    assert "stopped with an error" not in _section(elsewhere, lesson.heading_of(gid).anchor)


def test_a_quiz_without_recorded_answers_says_so_instead_of_guessing(tmp_path, lesson):
    gid, _ = _quiz_key(lesson)
    page = _page(tmp_path, lesson, _rows(lesson, {gid: 0}))
    section = _section(page, lesson.heading_of(gid).anchor)
    assert "could not be read" in section and "✔ right" not in section


def test_a_written_answer_shows_its_points_and_the_graders_comment_once_graded(tmp_path, lesson):
    comment = "Say why <1 - ηλ> changes sign."
    rows = [
        replace(r, comment=comment) if r.grade_id == "written_zigzag" else r
        for r in _rows(lesson, {"written_zigzag": 1})
    ]
    page = _page(tmp_path, lesson, rows)
    section = _section(page, lesson.heading_of("written_zigzag").anchor)
    assert "1 of 2 points" in section and "◐ partly right" in section
    assert "Say why &lt;1 - ηλ&gt; changes sign." in section
    pending = _section(page, lesson.heading_of("written_stopping").anchor)
    assert "not graded yet" in pending and "… graded by hand (pending)" in pending


def test_a_written_answer_shows_what_the_student_wrote(tmp_path, lesson):
    text = "The step *overshoots*\nwhen 1 - <ηλ> < -1."
    rows = _rows(lesson, {"written_zigzag": None})
    page = _page(tmp_path, lesson, rows, answers={"written_zigzag": text})
    section = _section(page, lesson.heading_of("written_zigzag").anchor)
    assert "<h4>Your answer, as you wrote it (Markdown)</h4>" in section
    assert "The step *overshoots*\nwhen 1 - &lt;ηλ&gt; &lt; -1." in section


def test_what_to_review_first_lists_the_items_behind_the_most_points_lost(tmp_path, lesson):
    rows = _rows(lesson, {"test_sgd": 0, "test_minibatch_indices": 1, "test_gradient_descent": 1})
    page = _page(tmp_path, lesson, rows)
    block = re.search(r"<h2>What to review first</h2><ol>(.*?)</ol>", page, re.S).group(1)
    listed = re.findall(r"<a href='#([^']+)'>", block)
    by_gid = {g: lesson.heading_of(g).anchor for g in ("test_sgd", "test_gradient_descent")}
    # 3 points lost, then 2, then 1 (ties in lesson order)
    assert listed == [
        by_gid["test_sgd"],
        by_gid["test_gradient_descent"],
        lesson.heading_of("test_minibatch_indices").anchor,
    ]
    assert page.index("What to review first") < page.index("<h2>Exercises</h2>")


def test_a_page_with_nothing_lost_has_no_review_list(tmp_path, lesson):
    assert "What to review first" not in _page(tmp_path, lesson, _rows(lesson, {}))


def test_results_are_said_in_words_and_symbols_and_tables_have_header_cells(tmp_path, lesson):
    page = _page(tmp_path, lesson, _rows(lesson, {"test_sgd": 0}))
    assert "✔ passed" in page and "✘ failed" in page
    assert "<th scope='col'>" in page and "<th scope='row'>" in page
    assert "<main>" in page and "</main>" in page


# --------------------------------------------------------------------------- what the records hold


def test_the_trusted_side_reads_quiz_answers_as_the_kernel_gave_them_without_running_code():
    names = ["q1", "q2", "q3", "q4"]
    values = {"q1": True, "q2": np.bool_(False), "q3": "True", "q4": None}
    source = "check_quiz(q1, q2, q3, q4)"
    data = {n: codec.encode(values[n], lambda _: {"$h": 0}) for n in names}
    assert judge.quiz_answers(data) == {"q1": True, "q2": False, "q3": None, "q4": None}
    assert is_quiz_test("test_quiz_04") and not is_quiz_test("test_sgd")
    assert not is_quiz_test("quiz_04") and not is_quiz_test("test_quiz_4")
    assert judge.student_names(source)  # the quiz test reads these names from the notebook


def test_the_quiz_answers_reach_the_judgement_of_a_notebook():
    gid = "test_quiz_04"
    (cell,) = [c for c in load_lesson(LESSON, SOLUTION).cells if c.grade_id == gid]
    names = judge.student_names(cell.source)
    user = {n: True for n in names if n.startswith("q")}
    judged = judge.judge_here(cell.source, gid, user)
    assert judged.answers == {n: True for n in names if n.startswith("q")}


def test_the_outcome_keeps_the_students_answer_cells_as_text(lesson):
    source = {ANSWER: "x = 1", TEST: "y = 2"}
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": c.grade_id}}, "source": s}
            for c in lesson.cells
            if (s := source.get(c.role))
        ]
    }
    kept = answer_sources(nb, lesson)
    assert set(kept) == {c.grade_id for c in lesson.cells if c.role == ANSWER}
    assert all(v == "x = 1" for v in kept.values())


def test_every_exercise_question_and_challenge_names_the_section_that_teaches_it():
    for lid in find_lessons(ROOT / "solutions"):
        model = load_lesson(lid, ROOT / "solutions" / lid / f"{lid}.ipynb")
        missing = [h.short for h in model.headings if h.kind != "Quiz" and h.section is None]
        assert not missing, (
            f"{lid}: no section to review for {missing}: name it as 'Section N' in the item's "
            "text or tag its heading cell review-section-N (docs/AUTHORING.md)"
        )


def test_every_numbered_section_heading_begins_its_own_cell():
    # Feedback links and Colab's #scrollTo= find a section by the cell its heading begins.
    for lid in find_lessons(ROOT / "solutions"):
        nb = nbformat.read(ROOT / "solutions" / lid / f"{lid}.ipynb", as_version=4)
        buried = [
            line
            for c in nb.cells
            if c.cell_type == "markdown"
            for line in c.source.splitlines()[1:]
            if re.match(r"^##\s+\d+\.\s", line)
        ]
        assert not buried, f"{lid}: start a new markdown cell at {buried}"


def test_a_section_named_with_latex_is_shown_in_plain_text(lesson):
    labels = [s.label for s in lesson.sections]
    assert any("λ" in label for label in labels)  # Section 4: the bound $2/\\lambda_{\\max}$
    assert not any(c in label for label in labels for c in "$\\{}")
