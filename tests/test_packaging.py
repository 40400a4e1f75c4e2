"""The packaging promises: core dependencies fit Colab, conda and pip agree, CI runs `make test`."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]

# The only upper bounds allowed, each until the bug behind it is fixed upstream. pytest: with
# pytest 9.2 and pytest-xdist 3.8, `--dist loadgroup` silently ignores xdist_group
# (pytest-dev/pytest-xdist#1386): `make test` would build every group's environment (the
# Colab-like venv, JupyterLab, the Dask cluster, each lesson's nbgrader run) on each worker.
# It is a dev-only bound: a notebook in Colab never installs the dev extra.
UPPER_BOUNDS = {"pytest": "<9"}


def _requirements(section: list[str]) -> dict[str, Requirement]:
    reqs = [Requirement(r) for r in section]
    return {r.name.lower(): r for r in reqs}


# PyPI name -> conda-forge name, where they differ (anaconda.org/conda-forge/playwright-python:
# conda-forge's `playwright` is the browsers' driver, not the Python bindings).
CONDA_NAMES = {"playwright": "playwright-python"}


def _conda_specs() -> dict[str, str]:
    """conda-forge package -> its version spec, as environment.yml lists them."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = {}
    for item in env["dependencies"]:
        if isinstance(item, str):
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*([^#]*?)\s*(#.*)?", item)
            specs[match.group(1).lower()] = match.group(2).replace(" ", "")
    return specs


def test_core_dependencies_are_exactly_what_colab_already_has():
    assert set(_requirements(PROJECT["dependencies"])) == {
        "numpy",
        "matplotlib",
        "sympy",
        "ipywidgets",
        "scikit-learn",  # Lesson 08's digits (sklearn.datasets.load_digits); Colab ships it
    }


def test_every_dependency_has_a_lower_bound_and_no_pin_or_cap():
    sections = {"core": PROJECT["dependencies"], **PROJECT["optional-dependencies"]}
    for section_name, section in sections.items():
        for name, req in _requirements(section).items():
            operators = {spec.operator for spec in req.specifier}
            if name in UPPER_BOUNDS and section_name == "dev":
                caps = {str(spec) for spec in req.specifier if spec.operator != ">="}
                assert ">=" in operators and caps == {UPPER_BOUNDS[name]}, (
                    f"{req}: a lower bound and exactly the upper bound {UPPER_BOUNDS[name]}"
                )
                continue
            assert operators == {">="}, (
                f"{req}: use a lower bound only (Colab changes underneath us)"
            )


def test_nbgrader_and_jupyterlab_stay_out_of_the_core():
    core = set(_requirements(PROJECT["dependencies"]))
    assert not core & {"nbgrader", "jupyterlab", "notebook"}
    assert {"nbgrader", "jupyterlab", "notebook"} <= set(
        _requirements(PROJECT["optional-dependencies"]["course"])
    )


def test_environment_yml_lists_the_same_packages_with_the_same_lower_bounds():
    conda = _conda_specs()
    wanted = {}
    for section in [PROJECT["dependencies"], *PROJECT["optional-dependencies"].values()]:
        for name, req in _requirements(section).items():
            wanted[name] = str(req.specifier)
    for pypi_name, spec in wanted.items():
        name = CONDA_NAMES.get(pypi_name, pypi_name)
        assert name in conda, f"environment.yml lacks {name} (PyPI's {pypi_name})"
        assert SpecifierSet(conda[name]) == SpecifierSet(spec), (
            f"{name}: environment.yml says {conda[name]!r}, pyproject.toml {spec!r}"
        )
    wanted = {CONDA_NAMES.get(name, name): spec for name, spec in wanted.items()}
    extra = set(conda) - set(wanted) - {"python", "pip"}
    assert not extra, f"environment.yml has packages pyproject.toml does not: {sorted(extra)}"


def test_environment_yml_asks_for_python_311_or_newer_and_installs_the_package_with_pip():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python>=3.11" in env["dependencies"]
    pip_items = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_items


def test_the_package_supports_python_310_and_up():
    assert PROJECT["requires-python"] == ">=3.10"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "make test"
    assert "set -euo pipefail" in commands


def test_helpers_version_is_the_one_written_in_pyproject():
    import helpers
    from helpers import _version

    assert helpers.__version__ == PROJECT["version"]
    assert _version._from_pyproject() == PROJECT["version"]  # a checkout that is not installed


def test_conda_forge_names_the_playwright_bindings_playwright_python():
    assert "playwright-python" in _conda_specs() and "playwright" not in _conda_specs()


def test_the_command_line_is_a_console_script_with_a_version():
    import subprocess
    import sys

    assert PYPROJECT["project"]["scripts"]["autograder"] == "autograder.__main__:main"
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip().endswith(PROJECT["version"])
