"""A lesson's nbgrader run, kept between test runs under a key of everything it reads.

The lessons' autograde runs (``conftest.autograde``: every answer-fixture variant through real
``nbgrader autograde``) are a third of the suite's work. A run whose inputs are all unchanged
computes the same grades, so its result and the three executed notebooks the tests read are
kept in ``~/.cache/calculus-for-deep-learning/autograded/<lesson>-<key>/`` and read back. The
key (:func:`key`) hashes:

- the content of every file the run reads: the lesson's solutions and student notebooks, its
  answer fixtures, the ``helpers`` package the kernels import (found as a kernel finds it),
  ``nbgrader_config.py`` (the course's and any in Jupyter's config path), ``pyproject.toml``,
  the course model and the test code that builds the submissions;
- the python3 kernel spec, the environment variables that change what a kernel or nbgrader
  does, the Python version and the name and version of every installed distribution.

Change any of them and the lesson is autograded again. A run is kept only when every
``nbgrader`` command exited 0 and nbgrader's log shows no timeout or dead kernel: a fault of a
loaded machine is not kept for the next run.

``COURSE_AUTOGRADE_CACHE=off`` autogrades every lesson every time;
``COURSE_AUTOGRADE_CACHE=<folder>`` keeps the runs there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .shared import file_lock

ROOT = Path(__file__).resolve().parents[2]
KEPT_PER_LESSON = 3  # the most recently used runs of a lesson; older ones are removed
# What nbgrader's log says when it could not process a submission, a cell ran out of time,
# or a kernel died or never answered (nbclient, jupyter_client): such a run is not kept.
MACHINE_FAULTS = ("There was an error processing", "Timeout", "Kernel died", "didn't respond")
# What changes how a kernel or nbgrader runs, beyond the files.
ENVIRONMENT = (
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONWARNINGS",
    "MPLBACKEND",
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_DATA_DIR",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)


def folder() -> Path | None:
    """Where the runs are kept, or None when ``COURSE_AUTOGRADE_CACHE=off``."""
    setting = os.environ.get("COURSE_AUTOGRADE_CACHE", "")
    if setting.lower() in ("off", "0", "no"):
        return None
    if setting:
        return Path(setting)
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache_home / "calculus-for-deep-learning" / "autograded"


def kernel_helpers() -> Path:
    """The ``helpers`` package a kernel of this environment imports (outside the checkout)."""
    with tempfile.TemporaryDirectory() as elsewhere:
        done = subprocess.run(
            [sys.executable, "-c", "import helpers; print(helpers.__path__[0])"],
            cwd=elsewhere,
            capture_output=True,
            text=True,
            check=True,
        )
    return Path(done.stdout.strip())


def inputs(lesson: str, root: Path = ROOT, helpers: Path | None = None) -> list[Path]:
    """Every file whose content the lesson's autograde run depends on, in a fixed order."""
    from jupyter_core.paths import jupyter_config_path

    trees = [
        root / "solutions" / lesson,
        root / "lessons" / lesson,
        helpers or root / "helpers",
        root / "autograder" / "course",
        root / "tests" / "support",
    ]
    files = [
        root / "tests" / "fixtures" / "answers" / f"{lesson}.py",
        root / "tests" / "conftest.py",
        root / "nbgrader_config.py",
        root / "pyproject.toml",
    ]
    configs = [Path(p) for p in jupyter_config_path()]
    files += [p / f"nbgrader_config.{ext}" for p in configs for ext in ("py", "json")]
    for tree in trees:
        files += [
            p
            for p in tree.rglob("*")
            if p.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(p.parts)
        ]
    return sorted(set(files))


def key(lesson: str, root: Path = ROOT, helpers: Path | None = None) -> str:
    """The hash of the run's inputs: files, kernel spec, environment, Python, distributions."""
    from jupyter_client.kernelspec import KernelSpecManager

    digest = hashlib.sha256()
    for path in inputs(lesson, root, helpers):
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        digest.update(str(shown).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
        digest.update(b"\0")
    installed = sorted(
        f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
    )
    spec = KernelSpecManager().get_kernel_spec("python3").to_dict()
    env = {name: os.environ.get(name) for name in ENVIRONMENT}
    digest.update(json.dumps([sys.version, sys.platform, installed, spec, env]).encode())
    return digest.hexdigest()[:20]


def keepable(result: dict) -> bool:
    """True when every nbgrader command exited 0 and no cell met a fault of the machine."""
    clean = result["returncodes"] and not any(result["returncodes"])
    return bool(clean) and not any(fault in result["log"] for fault in MACHINE_FAULTS)


def cached(lesson: str, run: Callable[[], dict], into: Path) -> dict:
    """``run()``'s result for ``lesson`` (JSON data), from the cache when its key is there.

    ``result["notebooks"]`` maps a student to an executed notebook's path. A kept run's
    notebooks are copied into ``into`` (this test run's own folder), so that another test
    run pruning the cache cannot take them away while the tests read them.
    """
    where = folder()
    if where is None:
        return run()
    entry = where / f"{lesson}-{key(lesson, helpers=kernel_helpers())}"
    with file_lock(where / f"{entry.name}.lock"):  # two test runs at once: one autogrades
        if (entry / "result.json").is_file():
            os.utime(entry / "result.json")  # recently used: pruned last
            return _copied(json.loads((entry / "result.json").read_text()), into)
        result = run()
        if keepable(result):
            _keep(entry, result)
    _prune(where, lesson)
    return result


def _copied(result: dict, into: Path) -> dict:
    copies = {}
    for student, path in result["notebooks"].items():
        copies[student] = str(into / f"{student}.ipynb")
        shutil.copy2(path, copies[student])
    return {**result, "notebooks": copies}


def _keep(entry: Path, result: dict) -> None:
    partial = entry.with_name(entry.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    kept = {**result, "notebooks": {}}
    for student, path in result["notebooks"].items():
        shutil.copy2(path, partial / f"{student}.ipynb")
        kept["notebooks"][student] = str(entry / f"{student}.ipynb")
    (partial / "result.json").write_text(json.dumps(kept))
    shutil.rmtree(entry, ignore_errors=True)
    partial.rename(entry)


def _prune(where: Path, lesson: str) -> None:
    """Remove all but the most recently used runs of ``lesson``; one in use is left alone."""
    runs = [p for p in where.glob(f"{lesson}-*") if (p / "result.json").is_file()]
    runs.sort(key=lambda p: (p / "result.json").stat().st_mtime, reverse=True)
    for old in runs[KEPT_PER_LESSON:]:
        with open(where / f"{old.name}.lock", "w") as lock, contextlib.suppress(BlockingIOError):
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(old, ignore_errors=True)
            Path(lock.name).unlink(missing_ok=True)
