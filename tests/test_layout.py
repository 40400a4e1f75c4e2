"""The grader is read in pieces: no function over 60 lines, no module over 500 lines.

Counted on ``autograder/`` with ``ast``: a function or method runs from its ``def`` line to its
last line (``end_lineno - lineno + 1``; decorators are not counted), nested functions count on
their own and in the function around them; a module counts all its lines. A failure lists every
offender as path:line, the place to start splitting.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autograder"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT).as_posix()}:{line}"


def long_functions(path: Path, limit: int) -> list[str]:
    """``path:line name (N lines)`` for every function or method of ``path`` over ``limit``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                found.append(f"{where(path, node.lineno)} {node.name} ({lines} lines)")
    return found


def test_no_function_or_method_in_the_grader_is_longer_than_60_lines():
    offenders = [f for path in modules() for f in long_functions(path, MAX_FUNCTION_LINES)]
    message = f"functions over {MAX_FUNCTION_LINES} lines (split them):\n" + "\n".join(offenders)
    assert not offenders, message


def test_no_module_in_the_grader_is_longer_than_500_lines():
    offenders = []
    for path in modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            # The line where the module passes the limit.
            offenders.append(f"{where(path, MAX_MODULE_LINES + 1)} ({lines} lines)")
    message = f"modules over {MAX_MODULE_LINES} lines (split them):\n" + "\n".join(offenders)
    assert not offenders, message
