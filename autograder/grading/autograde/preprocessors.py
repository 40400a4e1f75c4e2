"""nbgrader's own Autograde, run serially, fed with notebooks executed elsewhere.

The expensive part - running student code - happens in parallel worker processes
(:mod:`..execute`). This module then runs nbgrader's ``Autograde`` converter for one
submission at a time in the grader's process, with two changes to its preprocessor lists:

- sanitizing starts with :class:`RestoreCells` (the same :func:`repair` the workers ran), so
  deleted, duplicated, retyped or stripped test cells are back before nbgrader's
  ``OverwriteCells`` looks at them;
- ``Execute`` is replaced by :class:`LoadExecuted`, which copies in the outputs the worker
  produced (checking the cells are the same), and moves stderr text of graded cells to
  stdout, so a warning stays visible but does not zero a test.

Both get their state the way nbgrader's own preprocessors do: through traitlets config
(:func:`autograde_config`: the lessons, OUT) and files under OUT (the worker's executed
notebook, ``CoursePaths.executed_notebook``, written by the grader just before Autograde).

Everything else - checksums, ``SaveAutoGrades``, late penalties, metadata checks - is
nbgrader's, and every gradebook write comes from this one process: SQLite never sees two
writers, and the gradebook is the same whatever ``--jobs`` was.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets import Dict, Unicode
from traitlets.config import Config

from ...course.lessons import Lesson
from ..collect import repair as repair_module
from ..course_dir import CoursePaths


class RestoreCells(NbGraderPreprocessor):
    """Put back deleted, duplicated, retyped or metadata-stripped nbgrader cells."""

    lessons = Dict(help="lesson id -> the Lesson (autograder.course.lessons)").tag(config=True)

    def preprocess(self, nb, resources):
        lesson = self.lessons[resources["nbgrader"]["assignment"]]
        repaired = repair_module.repair(nb, lesson)
        for finding in repaired.findings:
            self.log.warning("%s: %s", resources["nbgrader"]["student"], finding)
        return repaired.notebook, resources


class LoadExecuted(NbGraderPreprocessor):
    """Stand-in for nbgrader's Execute: take the outputs a grading worker produced."""

    course_root = Unicode(help="OUT, where the executed notebooks wait").tag(config=True)

    def executed(self, resources) -> dict[str, Any]:
        """The notebook the grading worker executed for this student and lesson."""
        path = CoursePaths(Path(self.course_root)).executed_notebook(
            resources["nbgrader"]["student"], resources["nbgrader"]["assignment"]
        )
        return json.loads(path.read_text())

    def preprocess(self, nb, resources):
        cells = self.executed(resources)["cells"]
        if len(cells) != len(nb.cells):
            raise RuntimeError(
                f"executed notebook has {len(cells)} cells, nbgrader's has {len(nb.cells)}"
            )
        for index, (mine, done) in enumerate(zip(nb.cells, cells)):
            if mine.cell_type != done["cell_type"] or mine.source != done["source"]:
                raise RuntimeError(
                    f"cell {index + 1} of the executed notebook differs from the one nbgrader "
                    f"sanitized ({done['cell_type']} {done['source'][:40]!r} vs "
                    f"{mine.cell_type} {mine.source[:40]!r})"
                )
            if mine.cell_type == "code":
                outputs = nbformat.from_dict(copy.deepcopy(done.get("outputs", [])))
                if mine.metadata.get("nbgrader", {}).get("grade"):
                    outputs = _stderr_to_stdout(outputs)
                mine.outputs = outputs
                mine.execution_count = done.get("execution_count")
        return nb, resources


def _stderr_to_stdout(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # nbgrader scores any stderr stream in a test cell as 0; a warning is not a failed test.
    for out in outputs:
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            out["name"] = "stdout"
    return outputs


def autograde_config(course: CoursePaths, lessons: dict[str, Lesson]) -> Config:
    """nbgrader's Autograde with our two preprocessors, configured for this run."""
    c = Config()
    c.RestoreCells.lessons = dict(lessons)
    c.LoadExecuted.course_root = str(course.root)
    c.Autograde.sanitize_preprocessors = [
        RestoreCells,
        ClearOutput,
        DeduplicateIds,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        LoadExecuted,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.Autograde.create_student = True
    return c
