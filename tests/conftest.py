"""Shared machinery of the lesson tests: finding lessons, running notebooks, real nbgrader.

Every lesson present in ``solutions/`` is tested; nothing here names a lesson. Everything is
written under pytest's temporary directories, so tests can run in parallel (``-n 2``).
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import course

VENV_BIN = Path(sys.executable).parent
# nbgrader autograde processes per lesson run side by side (COURSE_AUTOGRADE_PROCESSES to change).
AUTOGRADE_PROCESSES = int(os.environ.get("COURSE_AUTOGRADE_PROCESSES", min(2, os.cpu_count() or 1)))
FIXTURES = ROOT / "tests" / "fixtures" / "answers"
LESSONS = course.present_lessons()

# --------------------------------------------------------------------------- notebooks


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def is_answer(cell) -> bool:
    """An autograded answer cell: code, ``solution`` and not itself graded."""
    m = nbgrader_meta(cell)
    return cell.cell_type == "code" and m.get("solution", False) and not m.get("grade", False)


def is_test(cell) -> bool:
    """A test cell: code, graded, not a solution."""
    m = nbgrader_meta(cell)
    return cell.cell_type == "code" and m.get("grade", False) and not m.get("solution", False)


_SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def answer_sources(solution: nbformat.NotebookNode) -> dict[str, str]:
    """``{grade_id: source}`` of every answer cell of a solutions notebook, markers removed."""
    return {
        nbgrader_meta(c)["grade_id"]: _SOLUTION_MARKER.sub("", c.source)
        for c in solution.cells
        if is_answer(c)
    }


def fill_answers(student: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``student`` with the answer cells named in ``answers`` replaced."""
    nb = nbformat.from_dict(json.loads(json.dumps(student)))
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if is_answer(cell) and gid in answers:
            cell.source = answers[gid]
    return nb


# --------------------------------------------------------------------------- trimmed submissions
#
# nbgrader autograde runs a whole notebook per student, figures and explorers included: about
# the solutions notebook's run time each. The fixture variants only differ in one answer cell,
# so they are submitted trimmed: every nbgrader cell stays whole, markdown goes, and of the
# other code cells only the top-level statements that bind a name some kept code uses (imports,
# data, helper definitions) stay. The student SOLVED_TRIMMED proves the trimming harmless for
# each lesson: it must score exactly like SOLVED.


@dataclass
class _Unit:
    """A top-level statement of a demonstration cell (or a whole nbgrader cell)."""

    cell: int
    text: str
    bound: set[str]
    loaded: set[str]
    keep: bool


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names bound at top level, global names read anywhere) of Python source.

    A function's parameters and locals are not reads of notebook state, so they come from the
    compiler's symbol tables rather than from every ``Name`` in the tree.
    """
    import symtable

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


def _units(index: int, cell) -> list[_Unit]:
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    if nbgrader_meta(cell):
        try:
            bound, loaded = _names(TransformerManager().transform_cell(cell.source))
        except (SyntaxError, ValueError):
            bound, loaded = set(), set()
        return [_Unit(index, cell.source, bound, loaded, True)]
    try:
        python = TransformerManager().transform_cell(cell.source)
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        return [_Unit(index, cell.source, set(), set(), True)]  # cannot tell: keep it whole
    units = []
    for stmt in tree.body:
        text = ast.get_source_segment(python, stmt) or ""
        bound, loaded = _names(text)
        units.append(_Unit(index, text, bound, loaded, False))
    return units


def trim(
    nb: nbformat.NotebookNode, reference: nbformat.NotebookNode | None = None
) -> nbformat.NotebookNode:
    """``nb`` reduced to its nbgrader cells and the statements they depend on.

    ``reference`` (the solutions notebook) adds what its graded cells use: autograde puts the
    hidden tests back into the test cells, and they may use names the visible part does not.
    """
    units = [
        u
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" or nbgrader_meta(c)
        for u in _units(i, c)
    ]
    if reference is not None:
        units += [
            u
            for c in reference.cells
            if nbgrader_meta(c) and c.cell_type == "code"
            for u in _units(-1, c)
        ]
    changed = True
    while changed:  # kept statements may need earlier ones: grow to a fixed point
        changed = False
        needed = set().union(*(u.loaded for u in units if u.keep))
        for u in units:
            if not u.keep and u.bound & needed:
                u.keep = changed = True
    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    out.cells = []
    for i, cell in enumerate(nb.cells):
        kept = [u.text for u in units if u.cell == i and u.keep]
        if not kept:
            continue
        copy = nbformat.from_dict(json.loads(json.dumps(cell)))
        if not nbgrader_meta(cell):
            copy.source = "\n".join(kept)
        out.cells.append(copy)
    return out


# --------------------------------------------------------------------------- running in a kernel


@dataclass
class CellError:
    index: int
    ename: str
    evalue: str
    grade_id: str | None


@dataclass
class Execution:
    seconds: float
    errors: list[CellError] = field(default_factory=list)
    notebook: nbformat.NotebookNode | None = None


def kernel_env(tmp: Path) -> dict[str, str]:
    """An environment for kernels and nbgrader that writes nothing outside ``tmp``."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    for var, sub in (
        ("MPLCONFIGDIR", "mpl"),
        ("IPYTHONDIR", "ipython"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
    ):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    env["PYTHONWARNINGS"] = env.get("PYTHONWARNINGS", "")
    return env


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 120) -> Execution:
    """Run every cell in a fresh python3 kernel, continuing past errors.

    Reports which cells failed.
    """
    from nbclient import NotebookClient

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute(env=kernel_env(cwd))
    seconds = time.perf_counter() - start
    errors = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(
                    CellError(
                        index,
                        out.get("ename", ""),
                        out.get("evalue", ""),
                        nbgrader_meta(cell).get("grade_id"),
                    )
                )
    return Execution(seconds, errors, nb)


# --------------------------------------------------------------------------- answer fixtures


def load_fixtures(lesson: str) -> dict | None:
    """``ANSWERS`` from tests/fixtures/answers/<lesson>.py, or None when there is no such file."""
    path = FIXTURES / f"{lesson}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"answers_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answers = getattr(module, "ANSWERS", None)
    if not isinstance(answers, dict):
        raise TypeError(f"{path} defines no ANSWERS dict")
    return answers


@dataclass(frozen=True)
class Variant:
    """One fixture answer, graded as its own student."""

    student: str
    grade_id: str
    kind: str  # "right" or "wrong"
    label: str  # what the mistake is (wrong) or its position (right)
    source: str


def variants(lesson: str) -> list[Variant]:
    answers = load_fixtures(lesson) or {}
    found = []
    for gid, entry in answers.items():
        for i, source in enumerate(entry.get("right", [])):
            found.append(Variant(f"right-{gid}-{i}", gid, "right", f"right #{i}", source))
        for i, (label, source) in enumerate(entry.get("wrong", {}).items()):
            found.append(Variant(f"wrong-{gid}-{i}", gid, "wrong", label, source))
    return found


# ------------------------------------------------------------------------- real nbgrader autograde


SOLVED = "solved"  # the student version with every answer taken from the solutions
SOLVED_TRIMMED = "solved-trimmed"  # the same, trimmed as the fixture variants are
UNTOUCHED = "untouched"  # the student version as released


@dataclass
class GradeRow:
    score: float | None
    max_score: float
    auto_score: float | None
    needs_manual_grade: bool
    cell_type: str


@dataclass
class Autograded:
    """Scores of one autograde run: ``grades[student][grade_id]``."""

    lesson: str
    grades: dict[str, dict[str, GradeRow]]
    log: str
    seconds: float
    students: int

    def of(self, student: str) -> dict[str, GradeRow]:
        if student not in self.grades:
            raise AssertionError(
                f"{self.lesson}: nbgrader produced no grades for student {student!r} "
                f"(its submission failed to autograde). nbgrader log:\n{self.log[-4000:]}"
            )
        return self.grades[student]


def _nbgrader(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "nbgrader"), *args],
        check=False,
        cwd=cwd,
        env=kernel_env(cwd / ".env"),
        capture_output=True,
        text=True,
        timeout=1200,
    )


def autograde(lesson: str, workdir: Path) -> Autograded:
    """Release ``lesson`` in a temporary course, submit every variant, run nbgrader autograde."""
    start = time.perf_counter()
    course_dir = workdir / "course"
    source = course_dir / "solutions" / lesson
    shutil.copytree(
        ROOT / "solutions" / lesson,
        source,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    shutil.copy2(ROOT / "nbgrader_config.py", course_dir / "nbgrader_config.py")

    log = []
    done = _nbgrader(["generate_assignment", lesson, "--force"], course_dir)
    log.append(done.stdout + done.stderr)
    released = course_dir / "lessons" / lesson / f"{lesson}.ipynb"
    if done.returncode != 0 or not released.is_file():
        raise AssertionError(f"{lesson}: nbgrader generate_assignment failed:\n{log[-1]}")

    student_nb = read(released)
    solution_nb = read(ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    right_answers = answer_sources(solution_nb)
    solved = fill_answers(student_nb, right_answers)
    submissions = {SOLVED: solved, UNTOUCHED: student_nb, SOLVED_TRIMMED: trim(solved, solution_nb)}
    for v in variants(lesson):
        submissions[v.student] = trim(
            fill_answers(student_nb, {**right_answers, v.grade_id: v.source}), solution_nb
        )
    for student, nb in submissions.items():
        target = course_dir / "submitted" / student / lesson / f"{lesson}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)

    # nbgrader grades one student at a time; split the students over AUTOGRADE_PROCESSES copies
    # of the course (same gradebook) graded side by side, and read every copy's gradebook.
    groups = max(1, min(AUTOGRADE_PROCESSES, len(submissions)))
    copies = [course_dir] + [workdir / f"course-{k}" for k in range(1, groups)]
    for k, copy in enumerate(copies[1:], start=1):
        shutil.copytree(course_dir, copy, ignore=shutil.ignore_patterns("submitted"))
        for n, student in enumerate(submissions):
            if n % groups == k:
                shutil.move(course_dir / "submitted" / student, copy / "submitted" / student)
    with ThreadPoolExecutor(groups) as pool:
        runs = list(pool.map(lambda c: _nbgrader(["autograde", lesson, "--force"], c), copies))
    log += [r.stdout + r.stderr for r in runs]

    from nbgrader.api import Gradebook, MissingEntry

    grades: dict[str, dict[str, GradeRow]] = {}
    for copy in copies:
        with Gradebook(f"sqlite:///{copy / 'gradebook.db'}", course_id=_course_id()) as gb:
            for student in submissions:
                try:
                    sub = gb.find_submission_notebook(lesson, lesson, student)
                except MissingEntry:
                    continue
                grades[student] = {
                    g.name: GradeRow(
                        g.score,
                        g.max_score,
                        g.auto_score,
                        bool(g.needs_manual_grade),
                        g.cell.cell_type,
                    )
                    for g in sub.grades
                }
    return Autograded(lesson, grades, "\n".join(log), time.perf_counter() - start, len(submissions))


def _course_id() -> str:
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    return cfg.CourseDirectory.course_id


def _to_json(result: Autograded) -> str:
    return json.dumps(
        {
            "lesson": result.lesson,
            "log": result.log,
            "seconds": result.seconds,
            "students": result.students,
            "grades": {
                s: {g: vars(r) for g, r in rows.items()} for s, rows in result.grades.items()
            },
        }
    )


def _from_json(text: str) -> Autograded:
    data = json.loads(text)
    grades = {s: {g: GradeRow(**r) for g, r in rows.items()} for s, rows in data["grades"].items()}
    return Autograded(data["lesson"], grades, data["log"], data["seconds"], data["students"])


_AUTOGRADED: dict[str, Autograded] = {}


@pytest.fixture(scope="session")
def autograded(tmp_path_factory):
    """``autograded(lesson)``: the lesson's single autograde run, shared by every test.

    Under pytest-xdist the first worker to ask runs it and the others read its result from the
    run's shared temporary directory (a file lock keeps them from running it twice).
    """
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")

    def get(lesson: str) -> Autograded:
        if lesson in _AUTOGRADED:
            return _AUTOGRADED[lesson]
        if run_id is None:
            result = autograde(lesson, tmp_path_factory.mktemp(f"autograde-{lesson}"))
        else:
            shared = tmp_path_factory.getbasetemp().parent / f"autograde-{run_id}-{lesson}.json"
            with open(f"{shared}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if shared.is_file():
                    result = _from_json(shared.read_text())
                else:
                    result = autograde(lesson, tmp_path_factory.mktemp(f"autograde-{lesson}"))
                    shared.write_text(_to_json(result))
        _AUTOGRADED[lesson] = result
        return result

    return get
