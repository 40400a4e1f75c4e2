"""A visible check says the same thing wherever it runs: in the notebook and in batch grading.

(The Colab-like test compares Colab with a local kernel.) Here one typical mistake in Lesson 01
- a central difference handed in for the forward one - is checked locally, then graded by
`python -m autograder grade` on real nbgrader; the student's feedback page must carry the very
message the notebook showed.
"""

from __future__ import annotations

import csv
import html
from pathlib import Path

import nbformat
import pytest
from support.cli import run_cli

from helpers.checks import CheckFailure
from helpers.exercises import derivatives

ROOT = Path(__file__).resolve().parent.parent
LESSON = "01_derivatives"
WRONG = '''def forward_difference(f, x, h):
    """Forward-difference estimate of f'(x) with step h: (f(x + h) - f(x)) / h."""
    return (f(x + h) - f(x - h)) / (2 * h)
'''


def _local_message() -> str:
    namespace: dict = {}
    exec(WRONG, namespace)  # noqa: S102 - the student's answer cell, as the kernel would run it
    with pytest.raises(CheckFailure) as failure:
        derivatives.check_forward_difference(namespace["forward_difference"])
    return str(failure.value)


def test_batch_grading_shows_the_message_the_notebook_shows(tmp_path):
    message = _local_message()
    assert "central difference" in message  # the diagnosis the student needs
    assert len(message.splitlines()) >= 4  # call, expected, got, relative error, mistake

    nb = nbformat.read(ROOT / "lessons" / LESSON / f"{LESSON}.ipynb", as_version=4)
    answer = next(
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "forward_difference"
    )
    answer.source = WRONG
    student = tmp_path / "submissions" / "ada"
    student.mkdir(parents=True)
    nbformat.write(nb, student / "Copy of 01_derivatives.ipynb")

    done = run_cli(
        "grade", tmp_path / "submissions", "--out", tmp_path / "out", "--quiet", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]

    with open(tmp_path / "out" / "exercises.csv", newline="") as f:
        rows = {r["grade_id"]: r for r in csv.DictReader(f)}
    assert float(rows["test_forward_difference"]["score"]) == 0.0

    page = (tmp_path / "out" / "feedback" / "ada" / f"{LESSON}.html").read_text()
    for line in message.splitlines():
        assert html.escape(line.strip()) in page or line.strip() in page, (
            f"feedback lacks: {line!r}"
        )
