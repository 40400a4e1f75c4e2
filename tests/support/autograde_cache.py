"""A lesson's nbgrader run, kept between test runs under a key of everything it reads.

The lessons' autograde runs (``conftest.autograde``: every answer-fixture variant through real
``nbgrader autograde``) are a third of the suite's work. A run whose inputs are all unchanged
computes the same grades, so its result and the three executed notebooks the tests read are
kept in ``~/.cache/calculus-for-deep-learning/autograded/<lesson>-<key>/`` and read back. The
key (:func:`key`) hashes the content of every file the run reads - the lesson's solutions and
student notebooks, its answer fixtures, ``helpers/``, ``nbgrader_config.py``,
``pyproject.toml``, the course model and the test code that builds the submissions - with the
Python version and the name and version of every installed distribution. Change any of them
and the lesson is autograded again.

A run is kept only when nbgrader graded every submission and no cell timed out or lost its
kernel: a fault of a loaded machine is not kept for the next run.

``COURSE_AUTOGRADE_CACHE=off`` autogrades every lesson every time;
``COURSE_AUTOGRADE_CACHE=<folder>`` keeps the runs there.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from .shared import file_lock

ROOT = Path(__file__).resolve().parents[2]
KEPT_PER_LESSON = 3  # the newest runs of a lesson; older ones are removed
# What nbgrader's log says when a cell ran out of time or its kernel died: not kept.
MACHINE_FAULTS = ("Timeout", "DeadKernel", "Kernel died")


def folder() -> Path | None:
    """Where the runs are kept, or None when ``COURSE_AUTOGRADE_CACHE=off``."""
    setting = os.environ.get("COURSE_AUTOGRADE_CACHE", "")
    if setting.lower() in ("off", "0", "no"):
        return None
    if setting:
        return Path(setting)
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache_home / "calculus-for-deep-learning" / "autograded"


def inputs(lesson: str, root: Path = ROOT) -> list[Path]:
    """Every file whose content the lesson's autograde run depends on, in a fixed order."""
    trees = [
        root / "solutions" / lesson,
        root / "lessons" / lesson,
        root / "helpers",
        root / "autograder" / "course",
        root / "tests" / "support",
    ]
    files = [
        root / "tests" / "fixtures" / "answers" / f"{lesson}.py",
        root / "tests" / "conftest.py",
        root / "nbgrader_config.py",
        root / "pyproject.toml",
    ]
    for tree in trees:
        files += [
            p
            for p in tree.rglob("*")
            if p.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(p.parts)
        ]
    return sorted(files)


def key(lesson: str, root: Path = ROOT) -> str:
    """The hash of the run's inputs: file contents, Python, every installed distribution."""
    digest = hashlib.sha256()
    for path in inputs(lesson, root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
        digest.update(b"\0")
    installed = sorted(
        f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
    )
    digest.update(json.dumps([sys.version, sys.platform, installed]).encode())
    return digest.hexdigest()[:20]


def keepable(result: dict, students: int) -> bool:
    """True when every submission was graded and no cell met a fault of the machine."""
    graded_all = len(result["grades"]) == students
    return graded_all and not any(fault in result["log"] for fault in MACHINE_FAULTS)


def cached(lesson: str, run: Callable[[], dict], notebooks: str = "notebooks") -> dict:
    """``run()``'s result for ``lesson`` (JSON data), from the cache when its key is there.

    ``result[notebooks]`` maps a student to an executed notebook's path: the kept copies
    replace them, so the result stays readable after the run's folder is gone.
    """
    where = folder()
    if where is None:
        return run()
    entry = where / f"{lesson}-{key(lesson)}"
    with file_lock(where / f"{lesson}.lock"):  # two test runs at once: one autogrades
        if (entry / "result.json").is_file():
            return json.loads((entry / "result.json").read_text())
        result = run()
        if keepable(result, result["students"]):
            _keep(entry, result, notebooks)
            _prune(where, lesson)
        return result


def _keep(entry: Path, result: dict, notebooks: str) -> None:
    partial = entry.with_name(entry.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    kept = dict(result)
    kept[notebooks] = {}
    for student, path in result[notebooks].items():
        shutil.copy2(path, partial / f"{student}.ipynb")
        kept[notebooks][student] = str(entry / f"{student}.ipynb")
    (partial / "result.json").write_text(json.dumps(kept))
    shutil.rmtree(entry, ignore_errors=True)
    partial.rename(entry)


def _prune(where: Path, lesson: str) -> None:
    runs = [p for p in where.glob(f"{lesson}-*") if (p / "result.json").is_file()]
    runs.sort(key=lambda p: (p / "result.json").stat().st_mtime, reverse=True)
    for old in runs[KEPT_PER_LESSON:]:
        shutil.rmtree(old, ignore_errors=True)
