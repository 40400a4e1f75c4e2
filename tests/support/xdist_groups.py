"""Every ``xdist_group`` runs on one pytest-xdist worker, or its tests fail.

``make test`` runs ``pytest -n auto --dist loadgroup`` so that each group's environment (a
Colab-like venv, JupyterLab, a Dask cluster, a lesson's nbgrader run) is built once. With
pytest 9.2 and pytest-xdist 3.8 ``--dist loadgroup`` silently ignores ``xdist_group``
(pytest-dev/pytest-xdist#1386): each worker then builds every environment and nothing fails.
This plugin makes the grouping a checked fact: the first worker to set up a test of a group
claims it (a file in the run's shared folder); a test of that group set up on another worker
fails, naming both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ISSUE = "pytest-dev/pytest-xdist#1386"


def group_names(item) -> list[str]:
    names = []
    for mark in item.iter_markers("xdist_group"):
        name = mark.kwargs.get("name", mark.args[0] if mark.args else None)
        if name:
            names.append(str(name))
    return names


def claim(folder: Path, group: str, worker: str) -> str | None:
    """Claim ``group`` for ``worker``; the worker that holds it when that is another one."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / group
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        holder = path.read_text().strip()
        return holder if holder and holder != worker else None
    with os.fdopen(fd, "w") as f:
        f.write(worker)
    return None


def problem(folder: Path, item, worker: str) -> str | None:
    for group in group_names(item):
        holder = claim(folder, group, worker)
        if holder is not None:
            return (
                f"xdist_group {group!r} ran on {holder} and now on {worker}: `--dist loadgroup` "
                f"is not grouping ({ISSUE}: pytest >= 9.2 with pytest-xdist 3.8), so every "
                "worker builds the group's environment. Install the versions pyproject.toml's "
                "`dev` extra allows (`make venv`)."
            )
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # A worker sees `dist` as "no"; xdist tells it `loadgroup` apart.
    if worker is None or not item.config.getoption("loadgroup", False):
        return
    base = item.config._tmp_path_factory.getbasetemp().parent
    folder = base / f"xdist-groups-{os.environ.get('PYTEST_XDIST_TESTRUNUID', 'run')}"
    found = problem(folder, item, worker)
    if found:
        pytest.fail(found, pytrace=False)
