"""`helpers` is imported by notebooks on Python 3.10-3.13 (Colab runs 3.13): it must compile there.

The Colab-like test runs the lessons on 3.13 with Colab's packages; this one compiles every
module of `helpers` with each other interpreter found, so syntax newer than 3.10 cannot slip in.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ("3.10", "3.11", "3.12", "3.13")


def _interpreter(version: str) -> str | None:
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv")]
    for root in filter(None, roots):
        found = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python3"), reverse=True)
        if found:
            return found[0]
    return shutil.which(f"python{version}")


@pytest.mark.parametrize("version", VERSIONS)
def test_helpers_compiles_on(version):
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} here (pyenv or python{version} on PATH)")
    sources = sorted(str(p) for p in (ROOT / "helpers").rglob("*.py"))
    # compile() only: no bytecode written into the work tree, no dependencies needed.
    script = "import sys\nfor path in sys.argv[1:]:\n    compile(open(path).read(), path, 'exec')\n"
    done = subprocess.run(
        [python, "-c", script, *sources], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"helpers does not compile on Python {version}:\n{done.stderr}"
