"""Which answer-fixture variants may share one nbgrader submission.

Each fixture variant (tests/fixtures/answers/<lesson>.py) replaces one answer cell of the
solved student version; its ``test_<grade_id>`` row says whether the grader saw the mistake
(or kept a right answer's marks). One nbgrader submission per variant costs a kernel and
nbgrader's bookkeeping each time, so one submission carries one variant of several answer
cells at once, when that cannot change any of their rows:

- the dependency of an answer cell is read from the code: the names its test cell and its
  answers (the solution's and every variant's) read, closed transitively over every code
  statement of the solutions notebook that binds one of them, reach the answer cells that
  bind those names (``dependencies``);
- a wrong variant shares its submission only with variants of answer cells that neither
  depend on it nor it on them; right variants pack freely with each other (each one behaves
  like the solution, so together they must still keep every point);
- a variant that does more than define names at the top level of its cell (a call, a loop, a
  ``global`` or ``nonlocal`` statement, an assignment into an object) could change the
  notebook in ways names do not show: it counts as depending on every answer cell.

Nothing here names a lesson: new answer cells and variants are packed as they come.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field

from .names import cell_names, imports, python_of, statements

PACK_PREFIX = "pack-"


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def _is_answer(cell) -> bool:
    m = _meta(cell)
    return cell.cell_type == "code" and m.get("solution", False) and not m.get("grade", False)


@dataclass(eq=False)
class _Unit:
    """A top-level statement of a code cell, or a whole nbgrader cell, at ``position``."""

    position: tuple[int, int]
    owner: str | None  # the answer cell's grade_id, or None
    bound: set[str]  # names it may bind
    sure: set[str]  # names it binds whatever happens (top-level def, class, import, name = )
    loaded: set[str]  # global names it reads, then or when a function of it is called


_PLAIN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Pass)


def only_defines_names(source: str) -> bool:
    """True when every top-level statement only binds names (def, class, import, name = ...)
    and no ``global``/``nonlocal`` appears anywhere."""
    try:
        tree = ast.parse(python_of(source))
    except (SyntaxError, ValueError):
        return True  # it binds nothing at all; its own test cell fails
    if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(tree)):
        return False
    for stmt in tree.body:
        if isinstance(stmt, _PLAIN):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if all(_names_only(t) for t in targets):
                continue
        return False
    return True


def _names_only(target) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_names_only(e) for e in target.elts)
    if isinstance(target, ast.Starred):
        return _names_only(target.value)
    return False


def dependencies(solution, variants) -> dict[str, set[str]]:
    """grade_id of each answer cell -> the other answer cells its test row can depend on.

    ``solution`` is the solutions notebook (hidden tests included); ``variants`` have
    ``grade_id`` and ``source``. A test row depends on what runs before its test cell: the
    names the test cell and the answers read are resolved to the statements that may have
    bound them last (each read back to the last statement before it that surely binds the
    name), and so on through those statements' own reads.
    """
    sources = defaultdict(list)
    for v in variants:
        sources[v.grade_id].append(v.source)
    common_imports: set[tuple[str, str]] = set()
    for cell in solution.cells:
        if cell.cell_type == "code" and not _is_answer(cell):
            common_imports |= imports(cell.source)
    units: list[_Unit] = []
    answers: dict[str, _Unit] = {}
    tests: dict[str, _Unit] = {}
    for index, cell in enumerate(solution.cells):
        if cell.cell_type != "code":
            continue
        gid = _meta(cell).get("grade_id")
        if _is_answer(cell):
            unit = _answer_unit((index, 0), gid, [cell.source, *sources[gid]], common_imports)
            answers[gid] = unit
            units.append(unit)
        elif _meta(cell):
            bound, loaded = cell_names(cell.source)
            unit = _Unit((index, 0), None, bound, _sure(cell.source), loaded)
            tests[gid] = unit
            units.append(unit)
        else:
            for k, s in enumerate(statements(cell.source) or []):
                units.append(_Unit((index, k), None, s.bound, _sure(s.text), s.loaded))
    deps = {}
    for gid, answer in answers.items():
        test = tests.get(f"test_{gid}")
        start = [answer] + ([test] if test else [])
        until = test.position if test else answer.position
        reached = _closure(units, start, until)
        deps[gid] = {u.owner for u in reached if u.owner not in (None, gid)}
    return deps


def _answer_unit(position, gid, sources, common_imports) -> _Unit:
    """One unit for an answer cell: whatever its solution or any variant binds or reads."""
    unit = _Unit(position, gid, set(), None, set())
    for source in sources:
        bound, loaded = cell_names(source)
        # `import numpy as np` again binds what another cell bound: not a dependency
        same = {n for n, target in imports(source) if (n, target) in common_imports}
        unit.bound |= bound - same
        unit.loaded |= loaded
        sure = _sure(source)
        unit.sure = sure if unit.sure is None else unit.sure & sure
    unit.sure = unit.sure or set()
    return unit


def _sure(source: str) -> set[str]:
    """Names a cell binds at its top level: def, class, import, ``name = ...``, ``for name in``.

    An assignment whose right-hand side raises binds nothing, and a later read then sees an
    older value; but the failing statement is itself in the dependency closure (a reader reaches
    it), and with it whatever made it fail.
    """
    try:
        tree = ast.parse(python_of(source))
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(stmt.name)
        elif isinstance(stmt, ast.Import):
            found |= {a.asname or a.name.split(".")[0] for a in stmt.names}
        elif isinstance(stmt, ast.ImportFrom):
            found |= {a.asname or a.name for a in stmt.names if a.name != "*"}
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            found |= {n.id for t in targets for n in ast.walk(t) if _plain_name(t, n)}
    return found


def _plain_name(target, node) -> bool:
    return isinstance(node, ast.Name) and _names_only(target)


def _closure(units: list[_Unit], start: list[_Unit], until: tuple[int, int]) -> set[_Unit]:
    """Every unit before ``until`` whose bindings the ``start`` units may read, transitively."""
    reached = set(start)
    todo = list(start)
    while todo:
        unit = todo.pop()
        for name in unit.loaded:
            for binder in _binders(units, name, unit.position, until):
                if binder not in reached:
                    reached.add(binder)
                    todo.append(binder)
    return reached


def _binders(units: list[_Unit], name: str, at: tuple[int, int], until: tuple[int, int]):
    """Units that may hold ``name``'s value when a unit at ``at`` reads it, up to ``until``:
    from the last one at or before ``at`` that surely binds it, to the last before ``until``."""
    sure_before = [u.position for u in units if u.position <= at and name in u.sure]
    since = max(sure_before, default=(-1, -1))
    return [u for u in units if since <= u.position < until and name in u.bound]


@dataclass
class Submission:
    """One packed submission: at most one variant per answer cell."""

    student: str
    variants: dict[str, object] = field(default_factory=dict)  # grade_id -> variant

    def wrong(self) -> set[str]:
        return {g for g, v in self.variants.items() if v.kind != "right"}


def conflict(deps: dict[str, set[str]], a: str, b: str) -> bool:
    return b in deps.get(a, ()) or a in deps.get(b, ())


def fits(sub: Submission, variant, deps: dict[str, set[str]]) -> bool:
    """Whether ``variant`` may join ``sub``: right variants pack freely with right ones; any
    other pair must be of independent answer cells, neither variant touching anything."""
    if variant.grade_id in sub.variants:
        return False
    for gid, other in sub.variants.items():
        if variant.kind == "right" and other.kind == "right":
            continue
        if conflict(deps, variant.grade_id, gid) or not (
            only_defines_names(variant.source) and only_defines_names(other.source)
        ):
            return False
    return True


def pack(variants: list, deps: dict[str, set[str]]) -> list[Submission]:
    """Few submissions holding every variant, each variant once (first fit, wrong ones first,
    the answer cells with the most variants first)."""
    count = defaultdict(int)
    for v in variants:
        count[v.grade_id] += 1
    order = sorted(
        variants,
        key=lambda v: (v.kind == "right", -len(deps.get(v.grade_id, ())), -count[v.grade_id]),
    )
    subs: list[Submission] = []
    for v in order:
        home = next((s for s in subs if fits(s, v, deps)), None)
        if home is None:
            home = Submission(f"{PACK_PREFIX}{len(subs):03d}")
            subs.append(home)
        home.variants[v.grade_id] = v
    return subs


def untouchable(sub: Submission, deps: dict[str, set[str]], answer_ids) -> list[str]:
    """The answer cells of the lesson whose test rows no wrong variant of ``sub`` can change:
    not packed in it, independent of each wrong one, and no wrong one touching anything."""
    wrong = [v for v in sub.variants.values() if v.kind != "right"]
    if not all(only_defines_names(v.source) for v in wrong):
        return []
    return [
        g
        for g in answer_ids
        if g not in sub.variants and not any(conflict(deps, g, v.grade_id) for v in wrong)
    ]
