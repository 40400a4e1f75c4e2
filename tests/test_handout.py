"""``python -m autograder handout DEST``: the students' copy, and nothing of the answers.

The course is copied to a temporary folder and set up for a graded term (``quiz_feedback =
false``, a students' repository and tag); the real command hands out every lesson through
nbgrader. The search for answers is this module's own, not the command's: every solution region
and every hidden-test line of every lesson, less what the course makes public anyway (the
lesson's other cells, the ``helpers`` package), must be absent from every file of DEST - in a
notebook, from every cell's decoded source. About a minute on 2 cores.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY, TAG = "my-university/calc4dl-students", "term-2027"
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, timeout=900)


def graded_term_course(base: Path) -> Path:
    course = base / "course"
    course.mkdir()
    for name in ("solutions", "helpers"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("nbgrader_config.py", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, course / name)
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r'(?m)^repository = ".*"$', f'repository = "{REPOSITORY}"', text)
    text = re.sub(r'(?m)^tag = ".*"$', f'tag = "{TAG}"', text)
    text = re.sub(r"(?m)^quiz_feedback = true$", "quiz_feedback = false", text)
    (course / "pyproject.toml").write_text(text)
    return course


@pytest.fixture(scope="module")
def handed_out(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("handout")
    course = graded_term_course(base)
    done = run("handout", base / "students", "--course", course, cwd=base)
    return course, base / "students", done


def cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]
    ]


def texts(dest: Path) -> dict[str, str]:
    found = {}
    for path in sorted(p for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts):
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            text += "\n".join(cells(path))
        found[path.relative_to(dest).as_posix()] = text
    return found


def answers(course: Path) -> list[tuple[str, str]]:
    """(lesson, text) of every solution region, and every hidden-test line of 25 characters or
    more (shorter ones are fragments such as ``)`` or ``_x,``), not public anyway: in a
    lesson's other cells or in ``helpers``."""
    notebooks = sorted((course / "solutions").glob("*/*.ipynb"))
    public = "\n".join(p.read_text() for p in (course / "helpers").rglob("*.py"))
    public += "\n".join(REGION.sub("", s) for nb in notebooks for s in cells(nb))
    found = []
    for nb_path in notebooks:
        for source in cells(nb_path):
            for kind, body in REGION.findall(source):
                pieces = [body] if kind == "SOLUTION" else body.splitlines()
                pieces = [p.strip() for p in pieces if p.strip()]
                if kind != "SOLUTION":
                    pieces = [p for p in pieces if len(p) >= 25]
                found += [(nb_path.stem, p) for p in pieces if p not in public]
    return found


def test_the_handout_exits_zero_and_says_where(handed_out):
    _, dest, done = handed_out
    assert done.returncode == 0, done.stderr[-3000:]
    assert str(dest) in done.stdout and TAG in done.stdout


def test_no_answer_and_no_hidden_test_reaches_the_students(handed_out):
    course, dest, _ = handed_out
    secrets = answers(course)
    assert len(secrets) > 100  # every lesson's regions and hidden lines are searched
    everything = texts(dest)
    leaked = [
        (lesson, s[:60], where)
        for lesson, s in secrets
        for where, text in everything.items()
        if s in text
    ]
    assert not leaked, leaked[:10]


def test_no_solutions_tests_or_grader_are_handed_out(handed_out):
    _, dest, _ = handed_out
    top = sorted(p.name for p in dest.iterdir())
    assert top == sorted(
        [
            ".gitignore",
            ".handout.json",
            "LICENSE",
            "Makefile",
            "README.md",
            "helpers",
            "lessons",
            "pyproject.toml",
        ]
    )
    lessons = sorted(p.name for p in (dest / "lessons").iterdir())
    assert lessons == sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def test_quiz_feedback_off_hands_out_no_quiz_key(handed_out):
    _, dest, _ = handed_out
    for nb_path in (dest / "lessons").glob("*/*.ipynb"):
        assert not any("quiz_feedback(" in source for source in cells(nb_path)), nb_path


def test_every_badge_and_the_colab_install_name_the_students_repository_at_the_tag(handed_out):
    _, dest, _ = handed_out
    for nb_path in (dest / "lessons").glob("*/*.ipynb"):
        lesson = nb_path.stem
        text = "\n".join(cells(nb_path))
        assert f"github/{REPOSITORY}/blob/{TAG}/lessons/{lesson}/{lesson}.ipynb" in text
        assert f"git+https://github.com/{REPOSITORY}@{TAG}" in text
    readme = (dest / "README.md").read_text()
    assert "make lab" in readme and "Colab" in readme and f"git checkout {TAG}" in readme
    assert f"github/{REPOSITORY}/blob/{TAG}/lessons/" in readme


def test_the_students_copy_installs_helpers_with_its_catalogue(handed_out, tmp_path):
    _, dest, _ = handed_out
    makefile = (dest / "Makefile").read_text()
    assert '\n\t$(BIN)/python -m pip install --quiet -e ".[lab]"' in makefile
    copy = tmp_path / "students"  # setuptools builds in the tree: not in the shared DEST
    shutil.copytree(dest, copy)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(copy),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "helpers/__init__.py" in names and "helpers/exercises/catalogue.json" in names
    assert not any(n.startswith(("autograder/", "solutions/", "tests/")) for n in names)


def test_a_second_handout_replaces_the_first_and_keeps_git(handed_out, tmp_path):
    course, dest, _ = handed_out
    again = tmp_path / "students"
    shutil.copytree(dest, again)
    (again / ".git").mkdir()
    (again / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (again / "lessons" / "99_gone").mkdir()
    (again / "lessons" / "99_gone" / "99_gone.ipynb").write_text("{}")
    done = run("handout", again, "--course", course, "--lesson", "01_derivatives", cwd=tmp_path)
    assert done.returncode == 2 and "did not write" in done.stderr
    shutil.rmtree(again / "lessons" / "99_gone")
    done = run("handout", again, "--course", course, "--lesson", "01_derivatives", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in (again / "lessons").iterdir()) == ["01_derivatives"]
    assert (again / ".git" / "HEAD").is_file()


def test_the_commands_own_search_finds_a_planted_answer(handed_out, tmp_path):
    from autograder.release.handout import leaks, secrets

    course, dest, _ = handed_out
    planted = tmp_path / "students"
    shutil.copytree(dest, planted)
    secret = secrets(course, ["01_derivatives"])[0]
    (planted / "notes.md").write_text(f"psst: {secret}")
    assert leaks(course, planted, ["01_derivatives"]) == [f"notes.md: {secret[:80]!r}"]
