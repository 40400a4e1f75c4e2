"""Grading throughput on a Dask cluster against the local pool with the same cores.

    python -m benchmarks.grading --local-cluster [--lesson ID] [--students 16] [--rounds 3]
    python -m benchmarks.grading --scheduler tcp://host:8786 [...]

With ``--local-cluster`` the benchmark starts a scheduler and one, then two workers on this
machine (Dask's own command line, one thread each; autograder/demo/local_cluster.py) and compares
each with ``--jobs`` 1 and 2; with ``--scheduler`` it uses the cluster given, as it is,
against ``--jobs`` equal to its worker threads. Rounds alternate local and cluster; the
figure per size is the median cluster overhead (target: at most 10 %). Then the measured cost
of one notebook - seconds a worker spent on it, which is CPU time since a kernel runs one
thread, the tests judged there included - and of the driver's serial part (nbgrader Autograde), and
the sizing they give for 1,000 students x 7 lessons graded within an hour.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from autograder.grading import course_dir, outcomes

CLASS = (1000, 7)  # students, lessons: the course size docs/GRADING.md is sized for
TURNAROUND = 3600.0  # seconds


def run_sizes(args, lesson: str, subs: Path, work: Path, run_ours) -> int:
    """Every size's rounds, the overheads, then the sizing; 0 when scores agree."""
    sizes = [None] if args.scheduler else [1, 2]
    all_same, last = True, None
    for n in sizes:
        same, last = _one_size(args, n, lesson, subs, work, run_ours)
        all_same &= same
    _print_sizing(last)
    return 0 if all_same else 1


def _one_size(args, n, lesson, subs, work, run_ours):
    from autograder.demo.local_cluster import LocalCluster

    from .grading import scores

    cluster = None if args.scheduler else LocalCluster.start(work / f"dask_{n}", workers=n)
    address = args.scheduler or cluster.address
    try:
        threads = n or _threads(address)
        overheads, same = [], True
        for r in range(1, args.rounds + 1):
            local, remote = work / f"local_{threads}_{r}", work / f"cluster_{threads}_{r}"
            t_local = run_ours(lesson, subs, local, threads)
            t_cluster = run_ours(lesson, subs, remote, None, ["--scheduler", address])
            same &= _scores(scores, local, lesson) == _scores(scores, remote, lesson)
            overheads.append(100 * (t_cluster - t_local) / t_local)
            k = args.students
            print(
                f"  {threads} worker(s), round {r}: --jobs {threads} {t_local:6.1f} s "
                f"({60 * k / t_local:5.1f} notebooks/min); cluster {t_cluster:6.1f} s "
                f"({60 * k / t_cluster:5.1f} notebooks/min); overhead {overheads[-1]:+5.1f} %"
            )
    finally:
        if cluster is not None:
            cluster.stop()
    median = statistics.median(overheads)
    print(
        f"  {threads} worker(s): cluster overhead, median of {len(overheads)} rounds: "
        f"{median:+.1f} % (target <= 10 %: {'met' if median <= 10 else 'NOT met'}); "
        f"same scores: {'yes' if same else 'NO'}"
    )
    return same, remote


def _threads(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=30) as client:
        return sum(w["nthreads"] for w in client.scheduler_info(n_workers=-1)["workers"].values())


def _scores(scores, out: Path, lesson: str) -> dict[str, float]:
    return scores(f"sqlite:///{out / 'gradebook.db'}", lesson)


def per_notebook(out: Path) -> tuple[float, float]:
    """(worker seconds, driver seconds) per notebook in the run graded into ``out``."""
    run = json.loads(course_dir.CoursePaths(out).run_record.read_text())
    rows = [w for w in run["workers"] if w["notebooks"]]
    worker = sum(w["seconds"] for w in rows) / sum(w["notebooks"] for w in rows)
    times = [o.timings for o in outcomes.load_outcomes(course_dir.CoursePaths(out)) if o.timings]
    # The tests are judged on the worker, beside the kernel: the driver's part is Autograde.
    driver = sum(t.get("autograde", 0) for t in times) / len(times)
    return worker, driver


def _print_sizing(out: Path | None) -> None:
    if out is None:
        return
    worker, driver = per_notebook(out)
    students, lessons = CLASS
    notebooks = students * lessons
    cpu = notebooks * worker
    needed = math.ceil(cpu / TURNAROUND)
    print(
        f"  cost of one notebook of this lesson (last cluster run): {worker:.2f} worker-seconds "
        f"(= CPU-seconds: one kernel, one thread), {driver:.2f} s of the driver's serial "
        "Autograde and judging"
    )
    print(
        f"  sizing for {students} students x {lessons} lessons = {notebooks} notebooks: "
        f"{cpu:,.0f} CPU-seconds = {cpu / 3600:.1f} CPU-hours; within one hour: at least "
        f"{needed} worker threads (one core each); the driver's serial part takes "
        f"{notebooks * driver / 3600:.2f} h on its own"
        + (
            " - MORE than the hour: split the class over several OUT folders"
            if notebooks * driver > TURNAROUND
            else ""
        )
    )
    print("  figures measured on a loaded machine are noisy: compare on an otherwise idle one")
