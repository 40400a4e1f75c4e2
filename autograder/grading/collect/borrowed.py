"""Answers that call the course's own implementation of the same exercise: a pointer, no penalty.

``helpers`` ships working versions of much of what the lessons ask for (``central_difference``,
``gradient``, ``sigmoid``, ...) and every kernel can import it, so an answer cell may simply
hand the work to it - ``helpers.central_difference`` inside ``central_difference``, or via
``from helpers import ...`` or ``import helpers as h``. The grader cannot tell that from a right
answer by its results; this static scan of the answer cells' source points it out to the
instructor (in ``detail`` and the report). Using the lesson's checkers (``helpers.exercises``)
in an answer is pointed out too.
"""

from __future__ import annotations

import ast
from typing import Any

from ...course.lessons import ANSWER, Lesson
from ...course.notebooks import grade_id


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None  # IPython magics and broken cells: nothing to point at


def _aliases(trees: list[ast.Module]) -> set[str]:
    """Names that stand for ``helpers`` or one of its modules anywhere in the notebook."""
    names = {"helpers"}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "helpers" or a.name.startswith("helpers."):
                        names.add(a.asname or a.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                names.update(a.asname or a.name for a in node.names)
    return names


def _defined(tree: ast.Module) -> set[str]:
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Assign):
            out.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return out


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _findings(tree: ast.Module, aliases: set[str], exercise: str) -> list[str]:
    defined = _defined(tree) | {exercise}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
            for a in node.names:
                if a.name in defined:
                    found.append(f"from {node.module} import {a.name}")
                if node.module.startswith("helpers.exercises") or a.name == "exercises":
                    found.append(f"imports the lesson's checkers ({node.module})")
        elif isinstance(node, ast.Import):
            found += [
                f"imports the lesson's checkers ({a.name})"
                for a in node.names
                if a.name.startswith("helpers.exercises")
            ]
        elif isinstance(node, ast.Attribute) and _root(node) in aliases:
            if node.attr in defined:
                found.append(_dotted(node))
            elif node.attr == "exercises":
                found.append(f"uses the lesson's checkers ({_dotted(node)})")
    return sorted(set(found))


def course_calls(nb: dict[str, Any], lesson: Lesson) -> list[str]:
    """One note per answer cell that calls the course's own version of what it defines."""
    answers = {c.grade_id for c in lesson.cells if c.role == ANSWER}
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    trees = [t for t in (_parse(_source(c)) for c in cells) if t is not None]
    aliases = _aliases(trees)
    notes = []
    for cell in cells:
        gid = grade_id(cell)
        tree = _parse(_source(cell)) if gid in answers else None
        found = _findings(tree, aliases, gid) if tree is not None else []
        if found:
            notes.append(
                f"cell '{gid}' hands the exercise to the course's own code: {', '.join(found)} "
                "(a pointer for the instructor; no points taken)"
            )
    return notes
