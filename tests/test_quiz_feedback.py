"""Quiz feedback for a student working alone, written by ``python -m autograder release``.

Each test builds a small course in a temporary folder (as tests/test_release.py does) whose
lesson has a ``quiz_01`` answer cell and its ``test_quiz_01`` cell, and runs the real command.
"""

from __future__ import annotations

import ast
import contextlib
import io
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import course
from autograder.__main__ import main
from autograder.release.quiz_cell import FEEDBACK_TAG
from helpers.checks import decode_quiz_key, quiz_feedback

ROOT = Path(__file__).resolve().parent.parent
LESSON = "01_derivatives"

SOLUTION_BLOCK = """\
q1_sky_is_blue = None
q2_two_is_odd = None
### BEGIN SOLUTION
q1_sky_is_blue = True  # scattering favours short wavelengths
q2_two_is_odd = False  # two is divisible by two
### END SOLUTION"""


def _meta(grade_id: str, **flags) -> dict:
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, **flags}}


def quiz_lesson(block: str = SOLUTION_BLOCK) -> nbformat.NotebookNode:
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        v4.new_markdown_cell(f"# Lesson {LESSON}"),
        v4.new_code_cell("print('setup')", metadata={"tags": ["setup"]}),
        v4.new_markdown_cell("### Quiz 01 · True or false · 2 points"),
        v4.new_code_cell(
            block, metadata=_meta("quiz_01", grade=False, solution=True, locked=False)
        ),
        v4.new_code_cell(
            "assert isinstance(q1_sky_is_blue, bool)\n"
            "### BEGIN HIDDEN TESTS\n"
            "from helpers.checks import quiz_score\n"
            "quiz_score([q1_sky_is_blue, q2_two_is_odd], key=[True, False])\n"
            "### END HIDDEN TESTS",
            metadata=_meta("test_quiz_01", grade=True, solution=False, locked=True, points=2),
        ),
        v4.new_markdown_cell("## Key takeaways"),
    ]
    return nb


def make_course(root: Path, block: str = SOLUTION_BLOCK, switch: str = "") -> Path:
    root.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "pyproject.toml").write_text(
        f'[tool.course]\nrepository = "someone/course"\ntag = "v1"\n{switch}'
    )
    path = course.solution_path(LESSON, root)
    path.parent.mkdir(parents=True)
    nbformat.write(quiz_lesson(block), path)
    return root


def release(root: Path, *args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["release", "--root", str(root), *args])
    return code, out.getvalue() + err.getvalue()


def feedback_cells(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [(i, c) for i, c in enumerate(nb.cells) if FEEDBACK_TAG in c.metadata.get("tags", [])]


def run_cell(source: str, namespace: dict):
    """Run a cell's source like a notebook does and return the value of its last expression."""
    tree = ast.parse(source)
    last = tree.body.pop()
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)


@pytest.fixture
def released(tmp_path):
    root = make_course(tmp_path / "course")
    code, output = release(root)
    assert code == 0, output
    return root


def test_release_puts_one_locked_ungraded_feedback_cell_after_the_quiz_test_cell(released):
    for path in (course.solution_path(LESSON, released), course.lesson_path(LESSON, released)):
        nb = nbformat.read(path, as_version=4)
        found = feedback_cells(path)
        assert len(found) == 1
        index, cell = found[0]
        assert nb.cells[index - 1].metadata["nbgrader"]["grade_id"] == "test_quiz_01"
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and not meta["grade"] and not meta["solution"]


def test_the_student_version_does_not_show_the_key_at_a_glance(released):
    ((_, cell),) = feedback_cells(course.lesson_path(LESSON, released))
    assert "scattering" not in cell.source and "True" not in cell.source


def test_the_encoded_key_is_the_solution_block(released):
    ((_, cell),) = feedback_cells(course.lesson_path(LESSON, released))
    key = "".join(ast.literal_eval(s) for s in cell.source.split("key=(")[1].split(")")[0].split())
    title, items = decode_quiz_key(key)
    assert title == "Quiz 01"
    assert items == [
        ("q1_sky_is_blue", True, "scattering favours short wavelengths"),
        ("q2_two_is_odd", False, "two is divisible by two"),
    ]


def test_the_feedback_cell_marks_each_answer_right_or_wrong_with_its_reason(released):
    ((_, cell),) = feedback_cells(course.lesson_path(LESSON, released))
    shown = run_cell(cell.source, {"q1_sky_is_blue": True, "q2_two_is_odd": True})
    assert [(i.name, i.status) for i in shown.items] == [
        ("q1_sky_is_blue", "right"),
        ("q2_two_is_odd", "wrong"),
    ]
    assert "two is divisible by two" in str(shown)


def test_the_feedback_cell_before_any_answer_says_so_and_reveals_no_reason(released):
    ((_, cell),) = feedback_cells(course.lesson_path(LESSON, released))
    shown = run_cell(cell.source, {"q1_sky_is_blue": None, "q2_two_is_odd": None})
    assert shown.answered == 0
    assert "no answer yet" in str(shown)
    assert "scattering" not in str(shown) and "scattering" not in shown._repr_html_()


def test_feedback_html_says_right_and_wrong_in_words_and_symbols_not_colour_only():
    from helpers.checks import encode_quiz_key

    key = encode_quiz_key("Quiz 09", [("a", True, "because"), ("b", False, "since")])
    page = quiz_feedback({"a": True, "b": True}, key)._repr_html_()
    assert "✔ right" in page and "✘ wrong" in page


def test_a_second_release_changes_nothing(released):
    before = course.lesson_path(LESSON, released).read_bytes()
    code, output = release(released)
    assert code == 0 and "unchanged" in output
    assert course.lesson_path(LESSON, released).read_bytes() == before
    assert len(feedback_cells(course.solution_path(LESSON, released))) == 1


def test_check_detects_a_reason_edited_without_a_release(released):
    path = course.solution_path(LESSON, released)
    path.write_text(path.read_text().replace("divisible by two", "even"))
    code, output = release(released, "--check")
    assert code == 1 and "stale lessons: 01_derivatives" in output


def test_check_detects_a_hand_edited_feedback_cell(released):
    path = course.lesson_path(LESSON, released)
    nb = nbformat.read(path, as_version=4)
    index, _ = feedback_cells(path)[0]
    nb.cells[index].source = "print('hello')"
    nbformat.write(nb, path)
    code, output = release(released, "--check")
    assert code == 1 and "stale lessons: 01_derivatives" in output


def test_switched_off_the_cell_holds_no_key_and_says_answers_come_after_grading(tmp_path):
    root = make_course(tmp_path / "course", switch="quiz_feedback = false\n")
    code, output = release(root)
    assert code == 0, output
    ((_, cell),) = feedback_cells(course.lesson_path(LESSON, root))
    assert "after grading" in cell.source
    assert "key" not in cell.source and "quiz_feedback(" not in cell.source


def test_a_malformed_solution_line_is_a_release_error_naming_lesson_cell_and_line(tmp_path):
    bad = SOLUTION_BLOCK.replace("q2_two_is_odd = False  #", "q2_two_is_odd = False #")
    root = make_course(tmp_path / "course", block=bad)
    code, output = release(root)
    assert code == 1
    assert "01_derivatives: cell 3 (quiz_01), line 5" in output
    assert "NAME = True|False  # reason" in output
