"""Shared machinery of the lesson tests: finding lessons, running notebooks, real nbgrader.

Every lesson present in ``solutions/`` is tested; nothing here names a lesson. Everything is
written under pytest's temporary directories, so tests can run in parallel (``-n 2``).
"""

from __future__ import annotations

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

from support import autograde_cache, packing
from support.env import VENV_BIN, private_dirs, with_venv_on_path
from support.names import statements
from support.shared import shared_once as _shared_once
from support.xdist_groups import pytest_runtest_setup  # noqa: F401 - the grouping check

from autograder import course

# nbgrader autograde processes per lesson run side by side (COURSE_AUTOGRADE_PROCESSES to change).
# Under pytest-xdist each lesson's run is one xdist group, on one worker, while the other workers
# do other work: one process each keeps as many busy processes as cores. Alone, two.
_UNDER_XDIST = "PYTEST_XDIST_WORKER" in os.environ
AUTOGRADE_PROCESSES = int(
    os.environ.get("COURSE_AUTOGRADE_PROCESSES", 1 if _UNDER_XDIST else min(2, os.cpu_count() or 1))
)
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


def _units(index: int, cell) -> list[_Unit]:
    from support.names import cell_names

    if nbgrader_meta(cell):
        return [_Unit(index, cell.source, *cell_names(cell.source), True)]
    found = statements(cell.source)
    if found is None:
        return [_Unit(index, cell.source, set(), set(), True)]  # cannot tell: keep it whole
    return [_Unit(index, s.text, s.bound, s.loaded, False) for s in found]


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
    env = with_venv_on_path()
    private_dirs(
        env, tmp, {"MPLCONFIGDIR": "mpl", "IPYTHONDIR": "ipython", "JUPYTER_RUNTIME_DIR": "runtime"}
    )
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
    return Execution(time.perf_counter() - start, errors_of(nb), nb)


def errors_of(nb: nbformat.NotebookNode) -> list[CellError]:
    """The error outputs of an executed notebook, cell by cell."""
    return [
        CellError(
            index, out.get("ename", ""), out.get("evalue", ""), nbgrader_meta(cell).get("grade_id")
        )
        for index, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


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
UNTOUCHED = "untouched"  # the student version as stored in lessons/ and handed out


@dataclass
class GradeRow:
    score: float | None
    max_score: float
    auto_score: float | None
    needs_manual_grade: bool
    cell_type: str


@dataclass
class Autograded:
    """Scores of one autograde run: ``grades[student][grade_id]``.

    The fixture variants are packed (tests/support/packing.py): ``packed_in`` names the
    submission that carries each variant's student, ``of`` reads through it. ``untouchable``
    lists, per packed submission, the answer cells whose test rows none of its wrong variants
    can change. ``notebooks`` holds nbgrader's executed copies of the solved, trimmed and
    untouched submissions.
    """

    lesson: str
    grades: dict[str, dict[str, GradeRow]]
    log: str
    seconds: float
    students: int
    packed_in: dict[str, str] = field(default_factory=dict)
    untouchable: dict[str, list[str]] = field(default_factory=dict)
    notebooks: dict[str, str] = field(default_factory=dict)
    returncodes: list[int] = field(default_factory=list)  # of each nbgrader command

    def of(self, student: str) -> dict[str, GradeRow]:
        student = self.packed_in.get(student, student)
        if student not in self.grades:
            raise AssertionError(
                f"{self.lesson}: nbgrader produced no grades for student {student!r} "
                f"(its submission failed to autograde). nbgrader log:\n{self.log[-4000:]}"
            )
        return self.grades[student]

    def executed(self, student: str) -> nbformat.NotebookNode:
        """nbgrader's executed copy of ``student``'s notebook (autograded/<student>/...)."""
        return read(Path(self.notebooks[student]))


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


def _submissions(lesson: str, student_nb, solution_nb) -> tuple[dict, list[packing.Submission]]:
    """Every submission of the lesson's run, and how the fixture variants are packed."""
    right_answers = answer_sources(solution_nb)
    solved = fill_answers(student_nb, right_answers)
    submissions = {
        SOLVED: solved,
        UNTOUCHED: read(course.lesson_path(lesson)),
        SOLVED_TRIMMED: trim(solved, solution_nb),
    }
    found = variants(lesson)
    packs = packing.pack(found, packing.dependencies(solution_nb, found))
    for sub in packs:
        answers = {**right_answers, **{g: v.source for g, v in sub.variants.items()}}
        submissions[sub.student] = trim(fill_answers(student_nb, answers), solution_nb)
    return submissions, packs


def autograde(lesson: str, workdir: Path) -> Autograded:
    """Release ``lesson`` in a temporary course, submit the solved, trimmed and untouched
    versions and the packed fixture variants, run nbgrader autograde."""
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

    solution_nb = read(ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    submissions, packs = _submissions(lesson, read(released), solution_nb)
    for student, nb in submissions.items():
        target = course_dir / "submitted" / student / lesson / f"{lesson}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)

    # nbgrader grades one student at a time; split the students over AUTOGRADE_PROCESSES copies
    # of the course (same gradebook) graded side by side, and read every copy's gradebook.
    groups = max(1, min(AUTOGRADE_PROCESSES, len(submissions)))
    copies = [course_dir] + [workdir / f"course-{k}" for k in range(1, groups)]
    home = dict.fromkeys(submissions, course_dir)
    for k, copy in enumerate(copies[1:], start=1):
        shutil.copytree(course_dir, copy, ignore=shutil.ignore_patterns("submitted"))
        for n, student in enumerate(submissions):
            if n % groups == k:
                shutil.move(course_dir / "submitted" / student, copy / "submitted" / student)
                home[student] = copy
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
    answer_ids = list(answer_sources(solution_nb))
    deps = packing.dependencies(solution_nb, variants(lesson))
    return Autograded(
        lesson,
        grades,
        "\n".join(log),
        time.perf_counter() - start,
        len(submissions),
        packed_in={v.student: sub.student for sub in packs for v in sub.variants.values()},
        untouchable={sub.student: packing.untouchable(sub, deps, answer_ids) for sub in packs},
        notebooks={
            s: str(home[s] / "autograded" / s / lesson / f"{lesson}.ipynb")
            for s in (SOLVED, SOLVED_TRIMMED, UNTOUCHED)
        },
        returncodes=[done.returncode] + [r.returncode for r in runs],
    )


def _course_id() -> str:
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    return cfg.CourseDirectory.course_id


def _to_json(result: Autograded) -> dict:
    data = dict(vars(result))
    data["grades"] = {s: {g: vars(r) for g, r in rows.items()} for s, rows in result.grades.items()}
    return data


def _from_json(data: dict) -> Autograded:
    grades = {s: {g: GradeRow(**r) for g, r in rows.items()} for s, rows in data["grades"].items()}
    return Autograded(**{**data, "grades": grades})


@pytest.fixture(scope="session")
def shared_once(tmp_path_factory):
    """``shared_once(name, build)``: ``build(folder)`` done once per test run, its JSON result
    read by every pytest-xdist worker (tests/support/shared.py)."""

    def get(name: str, build):
        return _shared_once(tmp_path_factory, name, build)

    return get


@pytest.fixture(scope="session")
def autograded(shared_once):
    """``autograded(lesson)``: the lesson's single autograde run, shared by every test.

    Once per test run: under pytest-xdist the first worker to ask runs it, the others read it.
    The tests that read it are in the lesson's xdist group (tests/test_lessons.py), so that
    one worker runs it while the others do other work. A run whose inputs are unchanged since
    an earlier test run is read from the cache (tests/support/autograde_cache.py).
    """

    done: dict[str, Autograded] = {}

    def get(lesson: str) -> Autograded:
        if lesson not in done:

            def build(folder: Path) -> dict:
                def run() -> dict:
                    return _to_json(autograde(lesson, folder))

                return autograde_cache.cached(lesson, run, into=folder)

            done[lesson] = _from_json(shared_once(f"autograde-{lesson}", build))
        return done[lesson]

    return get
