"""Lint as part of the suite: ruff's rules and formatting on the code, pyflakes on the lessons.

The rules and the line length (100) are pyproject.toml's. The solution notebooks are excluded
from the project-wide check (their teaching style puts several short statements on one line);
their code cells are checked here for what breaks a notebook: undefined names, names redefined
unused, syntax errors. ruff reads .ipynb files itself and knows the names IPython provides in a
notebook (``display``, ``get_ipython``), so those count as defined without ignoring the rule.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
NOTEBOOK_RULES = "F,E9"  # pyflakes (F821 undefined name among them) and syntax errors


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=300,
    )


def check_notebooks(paths: list[Path]) -> subprocess.CompletedProcess:
    # Files named on the command line are linted even though pyproject.toml excludes solutions/.
    return ruff("check", "--no-cache", "--select", NOTEBOOK_RULES, *map(str, paths))


def test_the_course_code_passes_ruff():
    done = ruff("check", "--no-cache", str(ROOT))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def test_the_course_code_is_formatted_by_ruff():
    done = ruff("format", "--check", "--no-cache", str(ROOT))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def test_the_line_length_rule_is_on():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert config["line-length"] == 100
    assert "E501" in config["lint"]["select"]


def test_solution_notebooks_use_no_undefined_name():
    assert SOLUTIONS, "no solution notebooks found"
    done = check_notebooks(SOLUTIONS)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def test_the_notebook_check_finds_an_undefined_name_but_accepts_ipython_names(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("display(np.zeros(2))\nshell = get_ipython()"),
        nbformat.v4.new_code_cell("print(shell, learning_rte)"),
    ]
    path = tmp_path / "typo.ipynb"
    nbformat.write(notebook, path)
    done = check_notebooks([path])
    assert done.returncode == 1
    assert "F821" in done.stdout and "`learning_rte`" in done.stdout
    assert "display" not in done.stdout and "get_ipython" not in done.stdout
