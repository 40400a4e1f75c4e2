"""A course folder has one writer at a time, and a run that cannot grade safely says so.

- two ``grade`` runs into one OUT: the second waits for the first, every notebook is graded
  exactly once, both exit 0; with ``--no-wait`` the second exits 2 naming the holder;
- a notebook lost through the grader's own fault makes the run exit 1 with the reason (the
  others are graded);
- a grader that cannot isolate kernels exits 2 unless ``--no-sandbox`` says to go on;
- ``formgrader`` serves formgrader for OUT, holds OUT while it runs, and stops on Ctrl-C.

Real nbgrader, real sandboxed kernels, the toy lesson; about 2 minutes on 2 loaded cores.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.demo import samples

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "fixtures" / "toy_course" / "solutions" / "99_toy" / "99_toy.ipynb"
TOY_SOLUTIONS = TOY.parent.parent
LESSON = "99_toy"


def _env(**extra: str) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return dict(os.environ, PATH=path, **extra)


def grade_argv(subs: Path, out: Path, *extra) -> list[str]:
    return [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--solutions",
        str(TOY_SOLUTIONS),
        "--jobs",
        "1",
        *map(str, extra),
    ]


def write_class(folder: Path, *students: str) -> Path:
    right = samples.student_copy(samples.read(TOY))
    for student in students:
        samples.write(right, folder / student / f"{LESSON}.ipynb")
    return folder


def test_a_second_run_with_no_wait_exits_2_naming_the_holder(tmp_path):
    from autograder.grading.lock import hold

    subs = write_class(tmp_path / "subs", "ann")
    with hold(tmp_path / "out", wait=False, what="formgrader"):
        done = subprocess.run(
            grade_argv(subs, tmp_path / "out", "--no-wait"),
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert f"process {os.getpid()}" in done.stderr and "started 20" in done.stderr
    assert "python -m autograder formgrader" in done.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_two_grades_at_once_grade_every_notebook_exactly_once(tmp_path):
    subs = write_class(tmp_path / "subs", "ann", "bob")
    out = tmp_path / "out"
    runs = [
        subprocess.Popen(
            grade_argv(subs, out, "--student", s),
            env=_env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for s in ("ann", "bob")
    ]
    results = [r.communicate(timeout=900) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [e[-2000:] for _, e in results]
    stderr = "".join(e for _, e in results)
    assert "is in use by `python -m autograder grade`" in stderr  # one of them waited
    for student in ("ann", "bob"):
        assert len(re.findall(rf"\] {student} {LESSON}: executed", stderr)) == 1, stderr
        (outcome,) = json.loads((out / ".grader" / "outcomes" / f"{student}.json").read_text())
        assert not outcome["failed"]
    grades = (out / "grades.csv").read_text()
    assert grades.count('"needs_manual"') == 2 and '"failed"' not in grades


def test_a_notebook_lost_by_the_grader_exits_1_with_the_reason_and_the_rest_is_graded(tmp_path):
    subs = write_class(tmp_path / "subs", "ann", "bob")
    out = tmp_path / "out"
    # Debris where the grader hands bob's executed notebook to nbgrader: a folder in the way.
    (out / ".grader" / "executed" / "bob" / f"{LESSON}.ipynb").mkdir(parents=True)
    done = subprocess.run(
        grade_argv(subs, out), env=_env(), capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "1 notebook(s) could not be graded through the grader's own fault" in done.stderr
    assert f"bob {LESSON}: the grader failed on it" in done.stderr
    grades = (out / "grades.csv").read_text()
    assert '"ann","99_toy","4"' in grades


def test_a_grader_that_cannot_isolate_kernels_stops_unless_told_not_to(tmp_path):
    subs = write_class(tmp_path / "subs", "ann")
    refused = subprocess.run(
        grade_argv(subs, tmp_path / "out"),
        env=_env(AUTOGRADER_BWRAP="/bin/false"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "cannot isolate student code" in refused.stderr and "--no-sandbox" in refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    told = subprocess.run(
        grade_argv(subs, tmp_path / "out", "--no-sandbox"),
        env=_env(AUTOGRADER_BWRAP="/bin/false"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert told.returncode == 0, told.stderr[-2000:]
    assert "WITHOUT isolation" in (tmp_path / "out" / "report.html").read_text()


@pytest.fixture(scope="module")
def graded_out(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("formgrader-command")
    subs = write_class(base / "subs", "ann")
    done = subprocess.run(
        grade_argv(subs, base / "out"),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return base / "out"


def start_formgrader(out: Path) -> tuple[subprocess.Popen, str]:
    """``python -m autograder formgrader OUT``; returns the process and the address it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "formgrader", str(out)],
        env=_env(JUPYTER_RUNTIME_DIR=str(out.parent / "runtime")),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    for line in proc.stdout:
        found = re.search(r"formgrader: (http://\S+/formgrader\?token=\w+)", line)
        if found:
            return proc, found.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError(f"formgrader printed no address (exit {proc.poll()})")


def test_formgrader_serves_out_holds_it_and_stops_on_ctrl_c(graded_out):
    proc, url = start_formgrader(graded_out)
    # as a browser: the token in the address logs in (a cookie), then formgrader's first page
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    try:
        with browser.open(url, timeout=30) as page:
            assert page.status == 200 and page.url.endswith("/formgrader/manage_assignments")
        held = subprocess.run(
            grade_argv(graded_out.parent / "subs", graded_out, "--no-wait"),
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert held.returncode == 2 and "python -m autograder formgrader" in held.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    with pytest.raises(OSError):  # the server is gone with it
        urllib.request.urlopen(url.split("/formgrader")[0] + "/api", timeout=5)


def test_formgrader_refuses_a_folder_grade_did_not_write(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "formgrader", str(tmp_path)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "grade first" in done.stderr
