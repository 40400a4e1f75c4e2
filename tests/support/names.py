"""Which names a piece of notebook code binds and which global names it reads.

A function's parameters and locals are not reads of notebook state, so reads come from the
compiler's symbol tables rather than from every ``Name`` in the tree. IPython syntax (magics,
``!`` lines) is turned into Python first, as the kernel does.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass


def python_of(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def names(source: str) -> tuple[set[str], set[str]]:
    """(names bound at top level, global names read anywhere) of Python source."""
    top = symtable.symtable(source, "<cell>", "exec")
    bound = {
        s.get_name()
        for s in top.get_symbols()
        if s.is_assigned() or s.is_imported() or s.is_namespace()
    }
    loaded: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        loaded |= {
            s.get_name()
            for s in table.get_symbols()
            if s.is_referenced() and (table is top or s.is_global())
        }
        tables += table.get_children()
    return bound, loaded


def cell_names(source: str) -> tuple[set[str], set[str]]:
    """:func:`names` of a notebook cell; (set(), set()) when it is not Python."""
    try:
        return names(python_of(source))
    except (SyntaxError, ValueError):
        return set(), set()


@dataclass
class Statement:
    text: str
    bound: set[str]
    loaded: set[str]


def statements(source: str) -> list[Statement] | None:
    """The top-level statements of a cell with their names; None when it is not Python."""
    try:
        python = python_of(source)
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        return None
    found = []
    for stmt in tree.body:
        text = ast.get_source_segment(python, stmt) or ""
        found.append(Statement(text, *names(text)))
    return found


def imports(source: str) -> set[tuple[str, str]]:
    """(name, what it is bound to) of each top-level ``import`` binding of a cell."""
    try:
        tree = ast.parse(python_of(source))
    except (SyntaxError, ValueError):
        return set()
    found = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                found.add(
                    (a.asname or a.name.split(".")[0], a.name if a.asname else a.name.split(".")[0])
                )
        elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0:
            for a in stmt.names:
                found.add((a.asname or a.name, f"{stmt.module}.{a.name}"))
    return found
