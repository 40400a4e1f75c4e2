"""Environments for the processes the tests start: the venv's bin first on PATH, and folders of
their own for Jupyter, IPython and matplotlib, so that nothing is written outside a test's
temporary folder."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent

# A copy of the checkout (for a server or an install) leaves out what is not the course.
COPY_IGNORE = shutil.ignore_patterns(
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


def with_venv_on_path(env: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``env`` (default: this process's) with the venv's bin first on PATH, plus ``extra``.

    nbgrader runs ``alembic`` from PATH when it creates a gradebook, and the grader starts
    ``nbgrader`` and ``jupyter`` from it, as an instructor's shell would.
    """
    env = dict(os.environ if env is None else env)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def private_dirs(env: dict[str, str], folder: Path, names: dict[str, str]) -> dict[str, str]:
    """Point each variable of ``names`` at its own sub-folder of ``folder`` (created)."""
    for var, sub in names.items():
        (folder / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(folder / sub)
    return env


def copy_checkout(target: Path) -> Path:
    """A copy of the course at ``target`` (no venv, caches or build output)."""
    shutil.copytree(ROOT, target, ignore=COPY_IGNORE)
    return target
