"""nbgrader's own feedback (formgrader's "Generate Feedback", ``nbgrader generate_feedback``),
made safe to hand out: no hidden test reaches it.

nbgrader's ``GenerateFeedback`` converts the autograded notebook as it is, hidden tests and all
(jupyter/nbgrader#917: by design). OUT's ``nbgrader_config.py`` (written by
:mod:`..course_dir`) puts :class:`StripHiddenTests` first in its preprocessors: nbgrader's
``ClearHiddenTests`` removes the hidden lines from the source, and in a cell that had any, the
outputs go too (a failing hidden check's traceback quotes its line, its message may carry the
hidden inputs, and what it printed is the test's): an error is left as its name and a fixed
sentence. The grader's own pages (``feedback/<student>/<lesson>.html``) say which check failed.
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests

HIDDEN_FAILED = (
    "a check failed; hidden checks are not shown (the grader's feedback page says which one)"
)


class StripHiddenTests(ClearHiddenTests):
    """Hidden test lines out of every cell; in a cell that had any, only a failure's name."""

    def preprocess_cell(self, cell, resources, index):
        removed = self._remove_hidden_test_region(cell) if cell.cell_type == "code" else False
        if removed:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            cell.outputs = []
            if errors:
                name = str(errors[0].get("ename", "Error"))
                cell.outputs.append(
                    new_output(
                        "error",
                        ename=name,
                        evalue=HIDDEN_FAILED,
                        traceback=[f"{name}: {HIDDEN_FAILED}"],
                    )
                )
        return cell, resources
