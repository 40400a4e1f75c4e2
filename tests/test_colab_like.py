"""Every student notebook runs in a Colab-like Python, where nbgrader and JupyterLab do not exist.

The environment (tests/colab_support.py): a fresh Python 3.13 venv holding only Colab's
packages at Colab's versions (numpy 2.1.3, matplotlib 3.10.0, sympy 1.14.0, IPython 7.34.0,
ipykernel 6.17.1, ipywidgets 7.7.1, scikit-learn 1.6.1); kernels import a stand-in
``google.colab`` at start; each notebook runs alone in an empty folder with
``COURSE_INSTALL_SPEC`` pointing at a copy of this checkout, its setup cell run twice. Only
answer cells and the test cells after them may fail.

Needs 3-6 minutes, most of it building the venv once per session (a pip install of Colab's
packages: 1-2.5 min on 2 busy cores) and one kernel per notebook (15-40 s each under load; the
first also pip-installs the course from the checkout). Measured with six lessons at a load
average of 6-8 on 2 cores: 4.5-5.8 min.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import colab_support as cs
from conftest import LESSONS, execute, is_answer, is_test, nbgrader_meta, read

from autograder import course

# One environment per session: under pytest-xdist keep these tests on one worker
# (`--dist loadgroup`), or each worker would build its own.
pytestmark = pytest.mark.xdist_group("colab-like")

STUDENT_NOTEBOOKS = [cs.SYNTHETIC] + [
    lesson for lesson in LESSONS if course.lesson_path(lesson).is_file()
]


@pytest.fixture(scope="session")
def colab(tmp_path_factory) -> cs.ColabLike:
    python = cs.find_colab_python()
    if python is None:
        pytest.fail(
            "The Colab-like test needs a Python 3.13 interpreter (Colab runs 3.13) and found none: "
            "install one with `pyenv install 3.13`, or point COLAB_LIKE_PYTHON at it."
        )
    env = cs.create(tmp_path_factory.mktemp("colab-like"), python)
    print(f"\nColab-like venv built in {env.seconds_to_create:.0f} s")
    return env


class Runs:
    """Each notebook's single Colab-like run, in the order asked.

    The first one installs the course.
    """

    def __init__(self, colab: cs.ColabLike, tmp_path_factory):
        self.colab = colab
        self.tmp = tmp_path_factory
        self.done: dict[str, tuple[nbformat.NotebookNode, float]] = {}
        self.installed_by: str | None = None

    def notebook(self, name: str) -> nbformat.NotebookNode:
        return cs.synthetic_notebook() if name == cs.SYNTHETIC else read(course.lesson_path(name))

    def run(
        self, name: str, nb: nbformat.NotebookNode | None = None
    ) -> tuple[nbformat.NotebookNode, float]:
        if name not in self.done:
            if self.installed_by is None:
                self.installed_by = name
            folder = self.tmp.mktemp(f"colab-{name}")  # empty: no course files beside the notebook
            nb = cs.with_setup_twice(nb if nb is not None else self.notebook(name))
            (folder / f"{name}.ipynb").write_text(nbformat.writes(nb))
            self.done[name] = cs.execute(
                nb, folder, self.colab.kernel_dirs, cs.KERNEL_NAME, self.colab.env()
            )
        return self.done[name]


@pytest.fixture(scope="session")
def runs(colab, tmp_path_factory) -> Runs:
    runs = Runs(colab, tmp_path_factory)
    runs.run(cs.SYNTHETIC)  # always first: its setup cell is the one that installs the course
    return runs


def unexpected_errors(nb: nbformat.NotebookNode) -> list[str]:
    """Errors outside answer cells and the test cells that follow them."""
    found = []
    after_answer = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        allowed = is_answer(cell) or (is_test(cell) and after_answer)
        after_answer = is_answer(cell) or (is_test(cell) and after_answer)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and not allowed:
                where = nbgrader_meta(cell).get("grade_id") or cell.source.splitlines()[0][:60]
                found.append(f"cell {index} ({where}): {out['ename']}: {out['evalue']}")
    return found


def setup_cells(nb: nbformat.NotebookNode):
    code = [c for c in nb.cells if c.cell_type == "code"]
    return code[0], code[1]


# --------------------------------------------------------------------------- the environment


def test_colab_like_python_is_colabs_with_colabs_packages_and_no_course(colab):
    for requirement in cs.COLAB_PACKAGES:
        name, version = requirement.split("==")
        assert colab.before[name] == version, f"{name} {colab.before.get(name)}, not {version}"
    done = cs.subprocess.run(
        [str(colab.python), "-c", "import sys; print(tuple(sys.version_info[:2]))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(cs.COLAB_PYTHON)
    assert course.DISTRIBUTION not in colab.before
    for name in cs.NEVER_INSTALLED:
        assert name not in colab.before, f"the Colab-like venv should not hold {name}"


def test_kernels_start_with_google_colab_imported(runs):
    nb, _ = runs.run(cs.SYNTHETIC)
    probe = next(c for c in nb.cells if "google.colab imported" in c.source)
    assert cs.text_of(probe).strip() == "google.colab imported: True"


# --------------------------------------------------------------------------- the setup cell


def test_setup_cell_installs_the_course_then_reruns_without_installing(runs):
    nb, _ = runs.run(cs.SYNTHETIC)
    first, again = setup_cells(nb)
    assert runs.installed_by == cs.SYNTHETIC
    for cell in (first, again):
        assert not [o for o in cell.outputs if o.output_type == "error"], cs.text_of(cell)
        assert "· Colab" in cs.text_of(cell), "helpers.setup() should report that it runs in Colab"
    assert course.DISTRIBUTION in runs.colab.packages()


def test_course_install_adds_only_the_course_and_upgrades_nothing(runs):
    for name in STUDENT_NOTEBOOKS:
        runs.run(name)
    after = runs.colab.packages()
    added = set(after) - set(runs.colab.before)
    assert added == {course.DISTRIBUTION}, f"installing the course added {sorted(added)}"
    changed = {n: (v, after[n]) for n, v in runs.colab.before.items() if after.get(n) != v}
    assert not changed, f"installing the course changed versions (before, after): {changed}"
    for name in cs.NEVER_INSTALLED:
        assert name not in after


def test_custom_widget_manager_stays_off_with_ipywidgets_7(runs):
    runs.run(cs.SYNTHETIC)
    assert not runs.colab.stub_log.exists(), (
        "enable_custom_widget_manager() was called under ipywidgets 7"
    )


def test_custom_widget_manager_is_enabled_with_ipywidgets_8(tmp_path):
    """The setup cell's other branch, in this course venv (ipywidgets 8), stand-in imported."""
    import ipywidgets

    assert int(ipywidgets.__version__.split(".")[0]) >= 8
    cs.write_stub(tmp_path / "stub")
    cs.write_startup(tmp_path / "ipython")
    log = tmp_path / "calls.log"
    nb = cs.synthetic_notebook()
    nb.cells = nb.cells[:3]  # markdown, setup, the google.colab probe
    env = {
        **cs.os.environ,
        "PYTHONPATH": f"{tmp_path / 'stub'}{cs.os.pathsep}{cs.ROOT}",
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "MPLCONFIGDIR": str(tmp_path),
        "COLAB_STUB_LOG": str(log),
        "COURSE_INSTALL_SPEC": "/nonexistent: helpers is importable here, nothing may be installed",
    }
    from jupyter_client.kernelspec import KernelSpecManager

    native = KernelSpecManager().get_kernel_spec("python3").resource_dir
    run, _ = cs.execute(nb, tmp_path, [str(Path(native).parent)], "python3", env)
    assert cs.text_of(run.cells[2]).strip() == "google.colab imported: True"
    assert not [o for o in run.cells[1].outputs if o.output_type == "error"], cs.text_of(
        run.cells[1]
    )
    assert log.read_text() == "enable_custom_widget_manager\n"


# --------------------------------------------------------------------------- every student notebook


@pytest.mark.parametrize("name", STUDENT_NOTEBOOKS)
def test_student_notebook_runs_in_colab_except_unfinished_exercises(runs, name):
    nb, seconds = runs.run(name)
    errors = unexpected_errors(nb)
    assert not errors, (
        f"{name} in Colab ({seconds:.1f} s), errors outside exercises:\n" + "\n".join(errors)
    )
    _, again = setup_cells(nb)
    assert not [o for o in again.outputs if o.output_type == "error"], (
        "setup cell failed on its second run"
    )
    print(f"{name}: {seconds:.1f} s in the Colab-like kernel")


# --------------------------------------------------------------------------- one verdict everywhere


def test_a_visible_check_gives_the_same_verdict_in_colab_and_locally(runs, tmp_path):
    wrong = cs.synthetic_notebook(cs.ANSWER_WRONG)
    in_colab, _ = runs.run("synthetic-wrong", wrong)
    local = execute(wrong, tmp_path).notebook

    def verdict(nb):
        cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "test_sigmoid")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, "the wrong answer passed the visible check"
        return errors[0].ename, errors[0].evalue

    assert verdict(in_colab) == verdict(local)
    ename, evalue = verdict(local)
    assert ename == "CheckFailure"
    assert "expected" in evalue and "got" in evalue


def test_a_right_answer_passes_in_colab_and_progress_says_so(runs):
    nb, _ = runs.run("synthetic-right", cs.synthetic_notebook(cs.ANSWER_RIGHT))
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert "passed" in cs.text_of(nb.cells[-1])
