"""A Colab-like Python for tests: Python 3.13, only Colab's packages, a stand-in ``google.colab``.

Used by tests/test_colab_like.py. The environment is a fresh venv holding the versions Colab
publishes (googlecolab/backend-info, pip-freeze.txt and os-info.txt, August 2026: Python 3.13,
numpy 2.1.3, matplotlib 3.10.0, sympy 1.14.0, IPython 7.34.0, ipykernel 6.17.1, ipywidgets
7.7.1, scikit-learn 1.6.1 with scipy 1.16.3) - nothing of the course. Kernels started in it
import a stand-in ``google.colab`` at start-up (an IPython startup file), so a lesson's setup
cell takes its Colab branch: it pip-installs the course from ``COURSE_INSTALL_SPEC``, which
points at a copy of this checkout.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

COLAB_PYTHON = (3, 13)
# Every package a lesson imports, at the version Colab's pip-freeze.txt lists (August 2026).
COLAB_PACKAGES = [
    "numpy==2.1.3",
    "matplotlib==3.10.0",
    "sympy==1.14.0",
    "ipython==7.34.0",
    "ipykernel==6.17.1",
    "ipywidgets==7.7.1",
    "scikit-learn==1.6.1",
    "scipy==1.16.3",
]
# Colab ships notebook 6.5. Left free, ipywidgets 7.7's widgetsnbextension would pull in
# notebook 7 and with it JupyterLab, which Colab does not have.
COLAB_CONSTRAINTS = ["notebook<7"]
KERNEL_NAME = "colab-like"
NEVER_INSTALLED = ("nbgrader", "jupyterlab")

_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "artifacts",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".ipynb_checkpoints",
    "gradebook.db",
)

_OUTPUT_STUB = '''\
"""Stand-in for google.colab.output: records each call in $COLAB_STUB_LOG."""
import os


def enable_custom_widget_manager():
    log = os.environ.get("COLAB_STUB_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write("enable_custom_widget_manager\\n")
'''


def find_colab_python() -> str | None:
    """A Python 3.13 interpreter (Colab's): $COLAB_LIKE_PYTHON, pyenv's 3.13, or python3.13."""
    major, minor = COLAB_PYTHON
    candidates = [os.environ.get("COLAB_LIKE_PYTHON")]
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv"), "/root/.pyenv"]
    if shutil.which("pyenv"):
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        roots.insert(0, done.stdout.strip())
    for root in filter(None, roots):
        candidates += sorted(
            glob.glob(f"{root}/versions/{major}.{minor}*/bin/python3"), reverse=True
        )
    candidates.append(shutil.which(f"python{major}.{minor}"))
    for candidate in filter(None, candidates):
        if not os.access(candidate, os.X_OK):
            continue
        done = subprocess.run(
            [candidate, "-c", f"import sys, venv; print(sys.version_info[:2] == {COLAB_PYTHON})"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.stdout.strip() == "True":
            return candidate
    return None


@dataclass
class ColabLike:
    """A ready Colab-like environment."""

    base: Path
    python: Path
    kernel_dirs: list[str]
    install_spec: Path
    stub_log: Path
    before: dict[str, str]
    seconds_to_create: float

    def env(self) -> dict[str, str]:
        """What a kernel of this environment sees: nothing of the course; google.colab imports."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
        }
        course_bin = str(ROOT / ".venv" / "bin")
        path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != course_bin]
        env["PATH"] = os.pathsep.join([str(self.python.parent), *path])
        env["PYTHONPATH"] = str(self.base / "colab_stub")
        env["PYTHONNOUSERSITE"] = "1"
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["COURSE_INSTALL_SPEC"] = str(self.install_spec)
        env["COLAB_STUB_LOG"] = str(self.stub_log)
        for var, sub in (
            ("IPYTHONDIR", "ipython"),
            ("MPLCONFIGDIR", "mpl"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_CONFIG_DIR", "jupyter-config"),
            ("JUPYTER_DATA_DIR", "jupyter-data"),
        ):
            (self.base / sub).mkdir(exist_ok=True)
            env[var] = str(self.base / sub)
        return env

    def packages(self) -> dict[str, str]:
        return installed_packages(self.python)


def installed_packages(python: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(done.stdout)}


def write_stub(folder: Path) -> None:
    """``google.colab`` with ``output.enable_custom_widget_manager``, under ``folder``."""
    colab = folder / "google" / "colab"
    colab.mkdir(parents=True, exist_ok=True)
    (folder / "google" / "__init__.py").write_text("")
    (colab / "__init__.py").write_text(
        '"""Stand-in for Google Colab\'s module (tests only)."""\nfrom . import output\n'
    )
    (colab / "output.py").write_text(_OUTPUT_STUB)


def write_startup(ipython_dir: Path) -> None:
    """Make every kernel import google.colab at start, as Colab's kernels do."""
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-google-colab.py").write_text(
        "import google.colab  # the stand-in, as in Colab\n"
    )


def create(base: Path, python: str) -> ColabLike:
    start = time.perf_counter()
    venv = base / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
    python = venv / "bin" / "python"  # from here on, the venv's interpreter
    constraints = base / "constraints.txt"
    constraints.write_text("\n".join(COLAB_CONSTRAINTS) + "\n")
    done = subprocess.run(
        # --no-compile: byte-compiling all of sympy and matplotlib up front costs more than
        # compiling, on first import, the parts a lesson uses.
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            *COLAB_PACKAGES,
            "-c",
            str(constraints),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"could not build the Colab-like venv:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    write_stub(base / "colab_stub")
    write_startup(base / "ipython")
    kernel = base / "kernels" / KERNEL_NAME
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3.13 (Colab-like)",
                "language": "python",
            }
        )
    )
    checkout = base / "checkout"
    shutil.copytree(ROOT, checkout, ignore=_COPY_IGNORE)
    return ColabLike(
        base=base,
        python=python,
        kernel_dirs=[str(base / "kernels")],
        install_spec=checkout,
        stub_log=base / "colab-calls.log",
        before=installed_packages(python),
        seconds_to_create=time.perf_counter() - start,
    )


def execute(
    nb: nbformat.NotebookNode,
    cwd: Path,
    kernel_dirs: list[str],
    kernel_name: str,
    env: dict[str, str],
    timeout: int = 300,
) -> tuple[nbformat.NotebookNode, float]:
    """Run every cell of ``nb`` (continuing past errors) in the named kernel, in ``cwd``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    km = AsyncKernelManager(
        kernel_name=kernel_name, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs)
    )
    client = NotebookClient(
        nb, km=km, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(cwd)}}
    )
    start = time.perf_counter()
    try:
        client.execute(env=env, cwd=str(cwd))
    finally:  # a kernel manager we passed in is ours to stop, not nbclient's
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    return nb, time.perf_counter() - start


def with_setup_twice(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose setup cell (the first code cell) runs twice in a row."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    again = nbformat.from_dict(json.loads(json.dumps(nb.cells[first])))
    if "id" in again:
        again["id"] = f"{again['id']}-again"[:64]
    again.metadata["colab_like_rerun"] = True
    nb.cells.insert(first + 1, again)
    return nb


def text_of(cell) -> str:
    """Everything a cell printed or displayed as text, errors included."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def indent(text: str) -> str:
    return textwrap.indent(text, "    ")


# --------------------------------------------------------------------------- a lesson of our own

SYNTHETIC = "synthetic"
SYNTHETIC_LESSON = "05_backprop_xor"  # whose checker module the synthetic exercise uses

_ANSWER_TODO = '''def sigmoid(z):
    """Return 1 / (1 + exp(-z)), elementwise."""
    # YOUR CODE HERE
    raise NotImplementedError()'''

ANSWER_RIGHT = '''import numpy as np

def sigmoid(z):
    """Return 1 / (1 + exp(-z)), elementwise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))'''

ANSWER_WRONG = '''import numpy as np

def sigmoid(z):
    """Return 1 / (1 + exp(-z)), elementwise."""
    return np.tanh(z)'''


def synthetic_notebook(answer: str = _ANSWER_TODO) -> nbformat.NotebookNode:
    """A small student notebook in the course's format.

    Setup cell, explorer, one exercise, progress.

    It exists so the Colab-like and browser runs have something to run before (and besides) the
    real lessons, and so a wrong answer can be graded in both environments.
    """
    import sys

    sys.path.insert(0, str(ROOT))
    from autograder import course

    v4 = nbformat.v4
    setup = v4.new_code_cell(course.setup_cell_source(SYNTHETIC_LESSON, course.settings()))
    setup.metadata["tags"] = ["setup"]
    answer_cell = v4.new_code_cell(answer)
    answer_cell.metadata["nbgrader"] = {
        "grade": False,
        "solution": True,
        "locked": False,
        "grade_id": "sigmoid",
        "schema_version": 3,
    }
    test_cell = v4.new_code_cell(
        "from helpers.exercises import backprop_xor as ex\nex.check_sigmoid(sigmoid)"
    )
    test_cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "points": 1,
        "grade_id": "test_sigmoid",
        "schema_version": 3,
    }
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        v4.new_markdown_cell(
            "# A synthetic lesson\nMade by the tests: setup, an explorer, one exercise."
        ),
        setup,
        v4.new_code_cell(
            'import sys\nprint("google.colab imported:", "google.colab" in sys.modules)'
        ),
        v4.new_code_cell("from helpers import explore\nexplore.secant_to_tangent()"),
        v4.new_code_cell(
            "ex = explore.step_size_error()\n"
            "before = ex.last_png\n"
            'ex.controls["float32"].value = True  # what ticking the box does\n'
            'assert ex.redraws == 2 and ex.last_png != before, "the explorer did not redraw"\n'
            "ex"
        ),
        answer_cell,
        test_cell,
        v4.new_code_cell("helpers.progress()"),
    ]
    return nb
