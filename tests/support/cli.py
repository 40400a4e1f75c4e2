"""The course's commands run as separate processes, the way an instructor runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .env import ROOT, with_venv_on_path


def run_module(
    module: str,
    *args: object,
    cwd: Path | str = ROOT,
    timeout: float = 600,
    env: dict[str, str] | None = None,
    **extra_env: str,
) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS`` with the venv's bin on PATH; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=cwd,
        env=with_venv_on_path(env, **extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli(*args: object, **kwargs) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` (keywords as for :func:`run_module`)."""
    return run_module("autograder", *args, **kwargs)
