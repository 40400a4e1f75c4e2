"""Grading on a real Dask cluster, with the gradebook in a real PostgreSQL server.

One scheduler and three workers are started with Dask's own command line on 127.0.0.1 (see
autograder/demo/local_cluster.py; the third has no working bubblewrap, so it must be refused), and
a PostgreSQL server on a Unix socket only. Three batches run through them, once per test run:

- the demo class of tests/test_demo_outputs.py (its two lessons), graded by the demo itself
  (deadline, roster, hand grading) through the cluster into PostgreSQL
  (``autograder.demo --scheduler ... --db-url ...``): grades.csv, exercises.csv and every
  feedback page must equal, byte for byte, the golden files - the outputs of the same class
  graded by the local pool (``--jobs 2``, SQLite), which test_demo_outputs.py checks are
  still what a local run writes; formgrader, started on OUT, reads the PostgreSQL gradebook;
- one lesson of the demo class plus a student whose answer kills its own kernel, during which
  one worker is killed (SIGKILL, by its process id) in the middle of a notebook: every student
  must still be graded, with the golden autograded results (this run has no hand grading).
  It finds the cluster by ``--scheduler-file`` and runs with ``--no-sandbox``, so the worker
  without isolation is accepted this time;
- last, two toy submissions (tests/fixtures/toy_course) during which the scheduler itself is
  killed: the command names it and exits 2; the same command run again (locally) executes only
  the notebook that was missing.

Measured on the 2-core development machine shared with four other engineers' test runs:
4 min 8 s for the 14 tests at load average 4 to 10, 4 min at 8, 10 to 13 min at 11 to 15;
most of it the notebooks running.
Not measured on an idle machine (an estimate: 2 to 3 minutes).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from cluster_support import PostgresServer, postgres_missing_message
from support.env import with_venv_on_path
from test_demo_outputs import GOLDEN, LESSONS

from autograder.course import SOLUTIONS
from autograder.demo import samples
from autograder.demo.run import DUE, POLICY

pytest.importorskip("distributed", reason="the [cluster] extra is not installed")

# Every test of the module shares one cluster and its two batches: keep them on one worker.
pytestmark = pytest.mark.xdist_group("cluster")

ROOT = Path(__file__).resolve().parent.parent
TOY_SOLUTIONS = ROOT / "tests" / "fixtures" / "toy_course" / "solutions"
TOY = TOY_SOLUTIONS / "99_toy" / "99_toy.ipynb"
KILLED_LESSON = LESSONS[0]
KILLED_RUN_STUDENTS = ("ada", "ben", "dev", "dora")
KERNEL_KILLER = "sigmoid_derivative"  # dora's answer here ends her own kernel
ITS_TEST = "test_sigmoid_derivative"


def grade_command(subs: Path, out: Path, *args: str) -> list[str]:
    # The demo's own settings (autograder/demo/run.py), so the outputs can equal its golden files.
    return [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out)] + [
        "--timeout",
        "10",
        *args,
    ]


def env() -> dict[str, str]:
    return with_venv_on_path()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and three workers, started with Dask's own command line on 127.0.0.1;
    the third cannot isolate student code."""
    from autograder.demo.local_cluster import LocalCluster

    c = LocalCluster.start(tmp_path_factory.mktemp("dask"), workers=2)
    try:
        # A third whose bubblewrap fails (as where user namespaces are forbidden): refused.
        c.start_worker(AUTOGRADER_BWRAP="/bin/false")
        c.wait_for_workers(3)
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def postgres():
    missing = postgres_missing_message()
    if missing:
        pytest.skip(missing)
    # Not under pytest's folder: the `postgres` user must reach its socket folder.
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp")))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_on_cluster(tmp_path_factory, cluster, postgres):
    """The demo class graded through the cluster into PostgreSQL by the demo itself (deadline,
    roster, hand grading and all): (OUT, the command's result, the database URL)."""
    base = tmp_path_factory.mktemp("demo-cluster")
    url = postgres.create_database("gradebook")
    lessons = [arg for lesson in LESSONS for arg in ("--lesson", lesson)]
    done = subprocess.run(
        [sys.executable, "-m", "autograder.demo", "--folder", str(base / "demo"), *lessons]
        + ["--scheduler", cluster.address, "--db-url", url],
        cwd=base,
        env=env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return base / "demo" / "out", done, url


def _with_kernel_killer(folder: Path) -> tuple[Path, Path]:
    """The demo's Canvas download of one lesson with dora added (ada's answers but one that
    ends its kernel), and a roster of the students graded: (the zip, the roster)."""
    from autograder.demo import lms_downloads as lms
    from autograder.demo.run import ROSTER, build_downloads

    (download,), _ = build_downloads(folder, [KILLED_LESSON])
    solution = samples.read(SOLUTIONS / KILLED_LESSON / f"{KILLED_LESSON}.ipynb")
    killer = f"import os\nos._exit(1)\n{solution_source(solution, KERNEL_KILLER)}"
    nb = samples.student_copy(solution, answers={KERNEL_KILLER: killer})
    dora = lms.Upload("Dora", "Killer", f"{KILLED_LESSON}.ipynb", json.dumps(nb).encode(), 1006)
    with zipfile.ZipFile(download, "a") as zf:
        zf.writestr(lms.canvas_entry(dora, 52799), dora.content)
    roster = folder / "roster.csv"
    with open(roster, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "first_name", "last_name", "email", "lms_user_id", "username"])
        w.writerows([r for r in ROSTER if r[0] in KILLED_RUN_STUDENTS])
        w.writerow(["dora", "Dora", "Killer", "dora@example.edu", "1006", "dkiller"])
    return download, roster


def solution_source(nb: dict, grade_id: str) -> str:
    for cell in nb["cells"]:
        if (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") == grade_id:
            return "".join(cell["source"])
    raise KeyError(grade_id)


@pytest.fixture(scope="module")
def killed_worker_run(tmp_path_factory, cluster, demo_on_cluster):
    """One lesson graded while one worker is killed mid-notebook (after the demo batch, as it
    leaves the cluster one worker short): (OUT, result, the killed worker's notebooks)."""
    from distributed import Client

    base = tmp_path_factory.mktemp("killed")
    download, roster = _with_kernel_killer(base / "submissions")
    out = base / "out"
    with Client(cluster.address, timeout=30) as client:
        pids = client.run(os.getpid)
        grading = subprocess.Popen(
            # Not cleo: her runaway loop would only make the test longer.
            # By its scheduler file, and with --no-sandbox: the unisolated worker takes part.
            grade_command(download, out, "--scheduler-file", str(cluster.scheduler_file))
            + ["--no-sandbox", "--due", DUE, *POLICY, "--roster", str(roster)]
            + ["--student", *KILLED_RUN_STUDENTS],
            cwd=base,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        victim, running = _busy_worker(client, grading)
        time.sleep(2)  # well inside the notebook (each takes several seconds here)
        os.kill(pids[victim], signal.SIGKILL)
    stdout, stderr = grading.communicate(timeout=600)
    return out, subprocess.CompletedProcess("grade", grading.returncode, stdout, stderr), running


def _busy_worker(client, grading: subprocess.Popen, timeout: float = 300):
    """The first worker seen running one of the batch's notebooks, and what it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and grading.poll() is None:
        for address, keys in client.processing().items():
            keys = [k for k in keys if str(k).startswith("grade-")]
            if keys:
                return address, keys
        time.sleep(0.2)
    grading.kill()
    raise AssertionError(f"no worker ever ran a notebook:\n{grading.communicate()[1][-3000:]}")


@pytest.fixture(scope="module")
def lost_scheduler_run(tmp_path_factory, cluster, killed_worker_run):
    """Two toy notebooks graded while the scheduler is killed after the first (so the last use
    of the cluster), then the same command again without it: (first, second result, OUT)."""
    base = tmp_path_factory.mktemp("lost")
    toy = samples.read(TOY)
    samples.write(samples.student_copy(toy), base / "subs" / "ann" / "toy.ipynb")
    # bob's notebook takes longer, so the scheduler goes while it runs.
    slow = f"import time\ntime.sleep(6)\n{solution_source(toy, 'square')}"
    bob = samples.student_copy(toy, answers={"square": slow})
    samples.write(bob, base / "subs" / "bob" / "toy.ipynb")
    out = base / "out"
    command = grade_command(base / "subs", out, "--solutions", str(TOY_SOLUTIONS))
    grading = subprocess.Popen(
        command + ["--scheduler", cluster.address],
        cwd=base,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in grading.stdout:
        lines.append(line)
        if line.startswith("[1/2"):
            cluster.scheduler.kill()
    first = subprocess.CompletedProcess("grade", grading.wait(timeout=120), "".join(lines))
    again = subprocess.run(
        command + ["--jobs", "1"],
        cwd=base,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return first, again, out


def rows(path: Path, students=None, lesson=None) -> list[str]:
    """A CSV's lines (header first), those of ``students`` and ``lesson`` only when given."""
    lines = path.read_text().splitlines()
    keep = [
        line
        for line, row in zip(lines[1:], csv.DictReader(lines), strict=True)
        if (students is None or row["student_id"] in students)
        and (lesson is None or row["lesson"] in (lesson, ""))  # "": no lesson recognised
    ]
    return lines[:1] + keep


# --------------------------------------------------------------------------- the demo class


def test_the_demo_class_grades_through_the_cluster(demo_on_cluster):
    out, done, _ = demo_on_cluster
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sandbox: on every Dask worker" in done.stderr + done.stdout


@pytest.mark.parametrize("name", ["grades.csv", "exercises.csv"])
def test_cluster_and_postgres_give_the_csvs_of_a_local_sqlite_run(demo_on_cluster, name):
    out, _, _ = demo_on_cluster
    assert (out / name).read_bytes() == (GOLDEN / name).read_bytes()


def test_cluster_gives_every_feedback_page_of_a_local_run_byte_for_byte(demo_on_cluster):
    out, _, _ = demo_on_cluster
    golden = sorted(p.relative_to(GOLDEN) for p in (GOLDEN / "feedback").rglob("*.html"))
    mine = sorted(p.relative_to(out) for p in (out / "feedback").rglob("*.html"))
    assert mine == golden
    for page in golden:
        assert (out / page).read_bytes() == (GOLDEN / page).read_bytes(), page


def test_the_gradebook_is_in_postgres_and_no_sqlite_file_is_made(demo_on_cluster):
    from nbgrader.api import Gradebook

    out, _, url = demo_on_cluster
    assert not (out / "gradebook.db").exists()
    with Gradebook(url) as gb:
        students = sorted(s.id for s in gb.students)
        scores = {
            (s.student.id, lesson): s.score - (s.late_submission_penalty or 0.0)
            for lesson in LESSONS
            for s in gb.assignment_submissions(lesson)
        }
    assert students == ["ada", "ben", "cleo", "dev", "eve"]  # dev and eve: from the roster
    with open(out / "grades.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["score"]:
                assert scores[(row["student_id"], row["lesson"])] == float(row["score"])


def test_formgrader_reads_the_postgres_gradebook(demo_on_cluster, tmp_path):
    from browser_support import start_lab

    out, _, _ = demo_on_cluster
    server = start_lab(out, tmp_path)
    try:
        url = f"http://127.0.0.1:{server.port}/formgrader/api/submissions/{LESSONS[0]}"
        request = urllib.request.Request(url, headers={"Authorization": f"token {server.token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            listed = json.load(response)
    finally:
        server.stop()
    got = {s["student"]: s["score"] for s in listed if s.get("autograded")}
    # formgrader's score is before the late penalty (nbgrader keeps the penalty apart).
    with open(out / "grades.csv", newline="") as f:
        want = {
            r["student_id"]: float(r["score"]) + float(r["penalty"] or 0)
            for r in csv.DictReader(f)
            if r["lesson"] == LESSONS[0] and r["score"]
        }
    assert got == want


def test_the_report_lists_every_worker_with_its_sandbox_and_notebooks(demo_on_cluster):
    out, _, _ = demo_on_cluster
    report = (out / "report.html").read_text()
    section = report.split("<h2>Dask workers</h2>")[1].split("</table>")[0]
    assert section.count("<tr><td>tcp://127.0.0.1:") == 3
    assert section.count("<td class='passed'") == 2
    assert section.count("'>isolated: each kernel ran under bubblewrap") == 2
    run = json.loads((out / ".grader" / "run.json").read_text())
    # run.json is the demo's last run: ada and ben graded again after the hand grading.
    assert sum(w["notebooks"] for w in run["workers"]) == 2 * len(LESSONS)


# --------------------------------------------------------------------------- faults


def test_a_worker_that_cannot_isolate_kernels_is_refused_and_given_nothing(demo_on_cluster):
    out, done, _ = demo_on_cluster
    refused = [line for line in done.stderr.splitlines() if " refused: " in line]
    assert len(refused) == 1 and "bubblewrap" in refused[0], done.stderr[-3000:]
    run = json.loads((out / ".grader" / "run.json").read_text())
    (row,) = [w for w in run["workers"] if not w["accepted"]]
    assert (row["isolated"], row["notebooks"]) == (False, 0)
    assert "NOT isolated, refused" in (out / "report.html").read_text()


def test_a_worker_killed_mid_notebook_leaves_every_student_graded(killed_worker_run):
    out, done, running = killed_worker_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert running, "the killed worker was running no notebook"
    statuses = {r["student_id"]: r["status"] for r in csv.DictReader((out / "grades.csv").open())}
    assert statuses == {
        "ada": "needs_manual",
        "ben": "needs_manual",
        "dev": "failed",
        "dora": "needs_manual",
    }


@pytest.mark.parametrize("name", ["grades.csv", "exercises.csv"])
def test_a_killed_worker_changes_no_result(killed_worker_run, name):
    # The demo graded by hand afterwards (ada's written answer, two comments); this run was not:
    # its autograded results must be the golden ones, column for column.
    out, _, _ = killed_worker_run
    classmates = {"ada", "ben", "dev"}
    mine = _autograded(rows(out / name, classmates))
    assert mine == _autograded(rows(GOLDEN / name, classmates, KILLED_LESSON))


def _autograded(lines: list[str]) -> list[tuple]:
    """The rows' scores and statuses, without what hand grading changes (written answers,
    comments, the pending list in detail, and a late penalty: a share of all the points)."""
    keep = []
    for r in csv.DictReader(lines):
        if r.get("grade_id", "test_").startswith("written_") or r["status"] == "missing":
            continue
        keep.append(
            (r["student_id"], r["lesson"], r.get("grade_id"), r["status"])
            + ((r["score"],) if "grade_id" in r else (r.get("late_by"),))
        )
    return keep


def test_with_no_sandbox_a_worker_without_isolation_is_accepted(killed_worker_run):
    out, done, _ = killed_worker_run
    assert " refused: " not in done.stderr, done.stderr[-3000:]
    run = json.loads((out / ".grader" / "run.json").read_text())
    unisolated = [w for w in run["workers"] if not w["isolated"]]
    assert unisolated and all(w["accepted"] for w in unisolated), run["workers"]


def test_a_kernel_killed_by_its_notebook_on_a_worker_costs_only_its_exercise(killed_worker_run):
    out, _, _ = killed_worker_run
    with open(out / "exercises.csv", newline="") as f:
        points = {}
        for r in csv.DictReader(f):
            points.setdefault(r["student_id"], {})[r["grade_id"]] = r["score"]
    lost = {gid for gid, score in points["ada"].items() if points["dora"][gid] != score}
    assert lost == {ITS_TEST}
    assert points["dora"][ITS_TEST] == "0"
    detail = next(
        r for r in csv.DictReader((out / "grades.csv").open()) if r["student_id"] == "dora"
    )
    assert "kernel" in detail["detail"]


def test_a_lost_scheduler_stops_the_batch_with_an_error_naming_it(lost_scheduler_run, cluster):
    first, _, _ = lost_scheduler_run
    assert first.returncode == 2, first.stdout[-3000:]
    assert f"lost the connection to the Dask scheduler at {cluster.address}" in first.stdout
    assert "Traceback" not in first.stdout


def test_running_again_after_a_lost_scheduler_executes_only_what_is_missing(lost_scheduler_run):
    from autograder.grading.pipeline import KEPT

    _, again, out = lost_scheduler_run
    assert again.returncode == 0, again.stderr[-3000:]
    progress = [line for line in again.stderr.splitlines() if " 99_toy: " in line]
    assert sorted(KEPT in line for line in progress) == [False, True]
    graded = {r["student_id"]: r["score"] for r in csv.DictReader((out / "grades.csv").open())}
    assert graded["ann"] == graded["bob"] != ""
    assert not (out / ".grader" / "unfinished.jsonl").exists()
