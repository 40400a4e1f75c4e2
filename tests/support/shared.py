"""``shared_once(name, build)``: an expensive build done once per test run.

Under pytest-xdist every worker is a separate process with its own session and module
fixtures, so a fixture that grades a class or builds an environment would run once per worker.
The first process to ask for ``name`` runs ``build(folder)`` in a folder that every worker of
the run can read; the others wait on a file lock and read its JSON result. Without xdist it is
a plain cached call.

``build`` returns what JSON can hold (a ``Path`` becomes its string); every caller, the
builder included, gets the value read back from JSON, so all workers see the same thing. What
the tests must not change in ``folder`` they copy first: the folder is shared.

A build that fails is not run again by the next worker: each caller fails (or skips) with the
first one's message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_DONE: dict[str, Any] = {}


def shared_root(tmp_path_factory) -> Path:
    """The folder every worker of this test run can reach: beside the workers' own."""
    base = tmp_path_factory.getbasetemp()
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    root = base / "shared" if run_id is None else base.parent / f"shared-{run_id}"
    root.mkdir(exist_ok=True)
    return root


def shared_once(tmp_path_factory, name: str, build: Callable[[Path], Any]) -> Any:
    """``build(folder)``'s JSON result, built once per test run under ``folder`` = ``name``."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"shared_once: {name!r} is not a plain file name")
    if name not in _DONE:
        _DONE[name] = _once(shared_root(tmp_path_factory), name, build)
    outcome = _DONE[name]
    if "skip" in outcome:
        pytest.skip(outcome["skip"])
    if "error" in outcome:
        pytest.fail(f"the shared build {name!r} failed:\n{outcome['error']}", pytrace=False)
    return outcome["value"]


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created): one process at a time, across processes.

    Also for what outlives a test run (the Colab-like wheel cache, axe-core's npm install)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _once(root: Path, name: str, build: Callable[[Path], Any]) -> dict:
    answer = root / f"{name}.json"
    with file_lock(root / f"{name}.lock"):
        if not answer.is_file():
            folder = root / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                outcome = {"value": build(folder)}
            except pytest.skip.Exception as skipped:
                outcome = {"skip": str(skipped.msg)}
            except (Exception, pytest.fail.Exception):
                outcome = {"error": traceback.format_exc(limit=-8)}
            answer.write_text(json.dumps(outcome, default=str))
        return json.loads(answer.read_text())
