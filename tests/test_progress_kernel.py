"""helpers.progress() in a real kernel: it re-runs the visible checks every time it is called.

A student changes an answer and calls progress() again: the status follows the answer, in
both directions (nothing is remembered from an earlier call). About 3 s: one kernel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

import colab_support as cs
from conftest import execute

PROBE = (
    "p = helpers.progress()\n"
    'row = next(r for r in p.rows if r.title.endswith(" · Sigmoid"))\n'
    'print(row.status, "|", p.passed)'
)


def test_progress_follows_the_current_answer_each_time_it_is_called(tmp_path):
    v4 = nbformat.v4
    nb = cs.synthetic_notebook()  # setup for 05_backprop_xor, the unfinished sigmoid, its test cell
    answer = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid"
    )
    nb.cells = nb.cells[:2] + [
        answer,
        v4.new_code_cell(PROBE),
        v4.new_code_cell(cs.ANSWER_WRONG),
        v4.new_code_cell(PROBE),
        v4.new_code_cell(cs.ANSWER_RIGHT),
        v4.new_code_cell(PROBE),
        v4.new_code_cell(cs.ANSWER_WRONG),
        v4.new_code_cell(PROBE),
        v4.new_code_cell("helpers.progress()"),
    ]
    run = execute(nb, tmp_path)
    assert not run.errors, run.errors
    probes = [cs.text_of(c).strip() for c in run.notebook.cells if c.source == PROBE]
    statuses = [p.split(" | ")[0] for p in probes]
    assert statuses == ["not started", "failing", "passed", "failing"]
    passed = [int(p.split(" | ")[1]) for p in probes]
    assert passed[2] == passed[1] + 1 and passed[3] == passed[1]


def test_progress_shows_a_table_in_the_notebook(tmp_path):
    nb = cs.synthetic_notebook(cs.ANSWER_RIGHT)
    run = execute(nb, tmp_path)
    shown = run.notebook.cells[-1].outputs
    html = next(o for o in shown if o.output_type == "execute_result").data["text/html"]
    assert "Sigmoid" in html and "passed" in html
