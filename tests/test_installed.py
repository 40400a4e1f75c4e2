"""The grader installed as a package (not editable), run in a course folder: it finds the course
and grades sandboxed.

A fresh venv gets the course's distribution built from this checkout and installed into its
site-packages (``pip install --no-deps --target``); its other packages are this venv's, reached
through a plain path line (so the editable install's finder here is not loaded). The installed
``autograder`` then lives in site-packages, which holds no answers and which the kernels import
from: the grader must find the course from the current folder (or ``--course``), hide that, and
not try to hide site-packages (bubblewrap cannot remount it read-only, and kernels ran
unisolated before). About a minute and a half on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.demo import samples

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "fixtures" / "toy_course" / "solutions" / "99_toy" / "99_toy.ipynb"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv whose ``autograder`` and ``helpers`` are installed copies; returns its python."""
    base = tmp_path_factory.mktemp("installed")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (site / "course-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_installed_grader_is_not_the_checkout(installed):
    where = subprocess.run(
        [str(installed), "-c", "import autograder, helpers; print(autograder.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout
    assert str(installed.parent.parent) in where and str(ROOT) not in where


def test_an_installed_grader_finds_the_course_and_grades_sandboxed(installed, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(TOY.parent.parent, course / "solutions")
    (course / "pyproject.toml").write_text('[tool.course]\nrepository = "a/b"\ntag = "v1"\n')
    samples.write(samples.student_copy(samples.read(TOY)), tmp_path / "subs" / "ann" / "99.ipynb")
    # its dependencies' commands (nbgrader's alembic) are this venv's, as its packages are
    bins = os.pathsep.join([str(installed.parent), str(Path(sys.executable).parent)])
    env = dict(os.environ, PATH=f"{bins}{os.pathsep}{os.environ['PATH']}")
    env.pop("AUTOGRADER_BWRAP", None)
    done = subprocess.run(
        [
            str(installed),
            "-m",
            "autograder",
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
            "--jobs",
            "1",
        ],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sandbox: each kernel ran under bubblewrap" in done.stderr
    report = (tmp_path / "out" / "report.html").read_text()
    assert "✔ isolated" in report
    assert '"ann","99_toy","4"' in (tmp_path / "out" / "grades.csv").read_text()


def test_an_installed_grader_outside_a_course_says_how_to_name_it(installed, tmp_path):
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    done = subprocess.run(
        [
            str(installed),
            "-m",
            "autograder",
            "grade",
            str(tmp_path / "subs"),
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2 and "--course DIR" in done.stderr
