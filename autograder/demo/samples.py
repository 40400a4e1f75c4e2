"""Make submissions from a lesson's instructor notebook: for the demo, the tests and the benchmark.

:func:`student_copy` returns what a student would hand in: the hidden tests gone, every answer
cell holding the instructor's solution (markers dropped) unless ``answers`` gives another text
for it, written answers as given (or the unanswered stub).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ..course.lessons import ANSWER, TEST, WRITTEN, role, strip_hidden

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def strip_solution_markers(source: str) -> str:
    return "\n".join(
        line
        for line in source.splitlines()
        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


def unanswered(source: str) -> str:
    """An answer cell as released: the solution region replaced by the stub."""
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out += [indent + s for s in STUB.splitlines()]
        elif "### END SOLUTION" in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def student_copy(
    solution: dict[str, Any],
    answers: dict[str, str] | None = None,
    written: dict[str, str] | None = None,
    unanswered_ids: tuple[str, ...] = (),
) -> dict[str, Any]:
    nb = copy.deepcopy(solution)
    answers, written = answers or {}, written or {}
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        r = role(cell)
        if r == ANSWER:
            if gid in answers:
                src = answers[gid]
            elif gid in unanswered_ids:
                src = unanswered(src)
            else:
                src = strip_solution_markers(src)
        elif r == WRITTEN:
            src = written.get(gid, "YOUR ANSWER HERE" if gid in unanswered_ids else src)
        elif r == TEST:
            src = strip_hidden(src)
        cell["source"] = src
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def write(nb: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path
