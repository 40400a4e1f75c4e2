"""`python -m autograder release`: student versions through nbgrader, byte-stable, checkable.

Each test builds a small course in a temporary folder (a pyproject.toml with [tool.course], the
course's nbgrader_config.py and one or two tiny lessons) and runs the real command on it.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder import course
from autograder.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def tiny_lesson(lesson: str) -> nbformat.NotebookNode:
    """A lesson with a stale badge and setup cell, outputs, one exercise and a written answer."""
    v4 = nbformat.v4
    nb = v4.new_notebook()
    badge = (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/someone/old/blob/dev/lessons/{lesson}/{lesson}.ipynb)"
    )
    setup = v4.new_code_cell("print('old setup')", metadata={"tags": ["setup"], "collapsed": True})
    setup.outputs = [v4.new_output("stream", name="stdout", text="old setup\n")]
    setup.execution_count = 3
    nb.cells = [
        v4.new_markdown_cell(f"# Lesson {lesson}\n\n{badge}"),
        setup,
        # Colab writes a random metadata id on each cell it saves; the release keeps only its own.
        v4.new_markdown_cell("## 1. Doubling\n\nTwice a number.", metadata={"id": "X4cRE8Ib"}),
        v4.new_markdown_cell("## Exercises", metadata={"id": "HFASsisv"}),
        v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata={
                "nbgrader": {
                    "grade": False,
                    "solution": True,
                    "locked": False,
                    "grade_id": "double",
                    "schema_version": 3,
                }
            },
        ),
        v4.new_code_cell(
            "assert double(1) == 2\n### BEGIN HIDDEN TESTS\nassert double(21) == 42\n"
            "### END HIDDEN TESTS",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "grade_id": "test_double",
                    "points": 1,
                    "schema_version": 3,
                }
            },
        ),
        v4.new_markdown_cell(
            "Because the model answer says so.",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": True,
                    "locked": False,
                    "grade_id": "written_why",
                    "points": 1,
                    "schema_version": 3,
                }
            },
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.metadata["widgets"] = {"state": {}}
    return nb


@pytest.fixture
def course_root(tmp_path):
    """A temporary course with lessons 01_derivatives and 02_chain_rule in solutions/."""
    return make_course(tmp_path)


def make_course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "pyproject.toml").write_text(
        '[tool.course]\nrepository = "fork-owner/fork-course"\ntag = "spring-2027"\n'
    )
    for lesson in ("01_derivatives", "02_chain_rule"):
        path = course.solution_path(lesson, root)
        path.parent.mkdir(parents=True)
        nbformat.write(tiny_lesson(lesson), path)
    return root


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """The temporary course released once, for the tests that only read it."""
    root = make_course(tmp_path_factory.mktemp("released"))
    assert release(root).returncode == 0
    return root


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def release(root: Path, *args: str) -> Ran:
    """``python -m autograder release --root ROOT ARGS``, in process (nbgrader is imported once)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["release", "--root", str(root), *args])
    return Ran(code, out.getvalue(), err.getvalue())


def release_process(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The same as a separate process, as a shell or a pre-commit hook runs it."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", "release", "--root", str(root), *args],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_release_writes_the_student_version_without_solutions_or_hidden_tests(released):
    text = course.lesson_path("01_derivatives", released).read_text()
    assert "return 2 * x" not in text
    assert "raise NotImplementedError()" in text
    assert "assert double(1) == 2" in text
    assert "double(21)" not in text
    assert "Because the model answer says so." not in text and "YOUR ANSWER HERE" in text


def test_release_is_byte_identical_when_run_again(course_root):
    assert release(course_root).returncode == 0
    first = snapshot(course_root)
    second_run = release(course_root)
    assert second_run.returncode == 0
    assert snapshot(course_root) == first
    assert "unchanged" in second_run.stdout


def test_release_leaves_no_gradebook_or_other_by_product(course_root, tmp_path, monkeypatch):
    elsewhere = tmp_path / "working-directory"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # nbgrader writes gradebook.db where it runs, when it writes one
    before = set(snapshot(course_root))
    assert release(course_root).returncode == 0
    created = set(snapshot(course_root)) - before
    assert created == {
        "lessons/01_derivatives/01_derivatives.ipynb",
        "lessons/02_chain_rule/02_chain_rule.ipynb",
        "helpers/exercises/catalogue.json",  # the titles and points progress() shows
    }
    assert list(elsewhere.iterdir()) == []


def test_release_rewrites_badge_and_setup_cell_from_pyproject(course_root):
    assert release(course_root, "01_derivatives").returncode == 0
    settings = course.CourseSettings("fork-owner/fork-course", "spring-2027")
    for path in (
        course.solution_path("01_derivatives", course_root),
        course.lesson_path("01_derivatives", course_root),
    ):
        nb = nbformat.read(path, as_version=4)
        assert course.badge_url("01_derivatives", settings) in nb.cells[0].source
        assert "someone/old" not in nb.cells[0].source
        assert nb.cells[1].source == course.setup_cell_source("01_derivatives", settings)
        assert "git+https://github.com/fork-owner/fork-course@spring-2027" in nb.cells[1].source
        assert "/blob/spring-2027/lessons/01_derivatives/" in nb.cells[0].source


def test_the_colab_install_follows_a_tag_never_a_moving_branch(course_root):
    (course_root / "pyproject.toml").write_text(
        '[tool.course]\nrepository = "fork-owner/fork-course"\nbranch = "main"\n'
    )
    ran = release(course_root, "01_derivatives")
    assert ran.returncode == 2
    assert "branch is replaced by tag" in ran.stderr


def test_the_course_names_its_colab_install_by_a_tag():
    settings = course.settings(ROOT)
    assert settings.tag and settings.tag not in ("main", "master")
    assert course.install_spec(settings).endswith(f"@{settings.tag}")


def test_check_with_no_lessons_exits_2_instead_of_passing(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.course]\nrepository = "a/b"\ntag = "v1"\n')
    ran = release(tmp_path, "--check")
    assert ran.returncode == 2 and "no lessons" in ran.stderr


def test_release_stores_solutions_and_lessons_without_outputs_and_with_stable_metadata(released):
    for path in (
        course.solution_path("01_derivatives", released),
        course.lesson_path("01_derivatives", released),
    ):
        data = json.loads(path.read_text())
        assert data["metadata"] == {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        }
        code = [c for c in data["cells"] if c["cell_type"] == "code"]
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
        assert "collapsed" not in code[0]["metadata"]
        assert path.read_text().endswith("}\n")


def test_release_keeps_cell_ids_of_the_solution(released):
    solution = nbformat.read(course.solution_path("01_derivatives", released), as_version=4)
    student = nbformat.read(course.lesson_path("01_derivatives", released), as_version=4)
    assert [c.id for c in student.cells] == [c.id for c in solution.cells]


def test_release_gives_each_numbered_section_heading_its_colab_cell_id(released):
    student = nbformat.read(course.lesson_path("01_derivatives", released), as_version=4)
    ids = {c.source.splitlines()[0]: c.metadata.get("id") for c in student.cells}
    assert ids["## 1. Doubling"] == "section-1"  # what a feedback link's #scrollTo= names
    assert ids["## Exercises"] is None  # not numbered: not a section a link points at
    assert sum(i is not None for i in ids.values()) == 1


def test_check_passes_after_a_release(released):
    done = release(released, "--check")
    assert done.returncode == 0, done.stderr


def test_check_names_a_lesson_that_was_never_released(course_root):
    assert release(course_root, "01_derivatives").returncode == 0
    done = release(course_root, "--check")
    assert done.returncode == 1
    assert "02_chain_rule" in done.stderr and "missing" in done.stderr
    assert "stale lessons: 02_chain_rule\n" in done.stderr


def test_check_names_every_stale_lesson_and_writes_nothing(course_root):
    assert release(course_root).returncode == 0
    for lesson in ("01_derivatives", "02_chain_rule"):
        path = course.lesson_path(lesson, course_root)
        path.write_text(path.read_text().replace("assert double(1) == 2", "assert True"))
    before = snapshot(course_root)
    done = release(course_root, "--check")
    assert done.returncode == 1
    assert "stale lessons: 01_derivatives, 02_chain_rule" in done.stderr
    assert snapshot(course_root) == before


def test_check_names_a_solution_edited_without_a_release(course_root):
    assert release(course_root).returncode == 0
    path = course.solution_path("02_chain_rule", course_root)
    path.write_text(path.read_text().replace("assert double(1) == 2", "assert double(2) == 4"))
    done = release(course_root, "--check")
    assert done.returncode == 1
    assert "stale lessons: 02_chain_rule\n" in done.stderr


def test_check_names_a_lesson_folder_without_solutions(course_root):
    assert release(course_root).returncode == 0
    shutil.copytree(
        course_root / "lessons" / "02_chain_rule", course_root / "lessons" / "03_gradients"
    )
    done = release(course_root, "--check")
    assert done.returncode == 1
    assert "lessons/03_gradients has no solutions notebook" in done.stderr


def test_unknown_lesson_id_is_a_clear_error(course_root):
    done = release(course_root, "01_derivativs")
    assert done.returncode == 2
    assert "unknown lesson id '01_derivativs'" in done.stderr
    assert "lessons in solutions/: 01_derivatives, 02_chain_rule" in done.stderr


def test_course_lesson_without_a_notebook_yet_is_a_clear_error(course_root):
    course.lesson_path("05_backprop_xor", course_root).parent.mkdir(parents=True)
    done = release(course_root, "05_backprop_xor")
    assert done.returncode == 2
    assert "'05_backprop_xor' has no solutions notebook yet" in done.stderr


def test_a_lesson_without_a_setup_cell_is_refused(course_root):
    path = course.solution_path("01_derivatives", course_root)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, path)
    done = release(course_root, "01_derivatives")
    assert done.returncode == 1
    assert "exactly one code cell tagged 'setup'" in done.stderr


def test_two_lessons_release_at_the_same_time_as_separate_processes(course_root):
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda lesson: release_process(course_root, lesson),
                ["01_derivatives", "02_chain_rule"],
            )
        )
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    done = release_process(course_root, "--check")
    assert done.returncode == 0, done.stderr


def test_help_lists_release_and_grade():
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "release" in done.stdout and "grade" in done.stdout


@pytest.mark.parametrize(
    "cell",
    [
        {"metadata": {}},
        {"metadata": None},
        {"metadata": {"nbgrader": "not a dict"}},
        {"metadata": {"nbgrader": {"grade_id": 7}}},
        {"metadata": {"nbgrader": None}},
        "not a cell",
    ],
)
def test_a_cell_without_a_string_grade_id_has_none(cell):
    from autograder.course.notebooks import grade_id

    assert grade_id(cell) is None


def test_a_cells_grade_id_reads_from_json_data_and_notebook_nodes():
    from autograder.course.notebooks import grade_id

    data = {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "test_sigmoid"}}}
    assert grade_id(data) == grade_id(nbformat.from_dict(data)) == "test_sigmoid"
