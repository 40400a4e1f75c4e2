"""``python -m autograder grade``: grade a batch of submissions into an nbgrader course folder.

    python -m autograder grade SUBMISSIONS --out OUT [--lesson ID] [--jobs N] [--timeout S]
        [--memory MB] [--student ID ...] [--due [LESSON=]WHEN ...] [--extensions CSV]
        [--late-policy none|zero|per-hour|per-day --late-rate PCT --late-cap PCT]
        [--roster CSV]

This module is the command line and the order of the phases; each phase is a module of
:mod:`autograder.grading`:

1. :mod:`~.grading.batch` reads SUBMISSIONS;
2. :mod:`~.grading.workers` decides the sandbox and starts the worker pool at once, each worker
   booting a kernel while the grader goes on;
3. :mod:`~.grading.batch` recognises each notebook's lesson, puts the lessons in OUT's
   gradebook (:mod:`~.grading.course_dir`), stages and repairs the submissions into tasks;
4. the workers execute the tasks (:mod:`~.grading.execute`, with the code of
   :mod:`~.grading.kernel_code` in every kernel) and decide each test from its kernel's record
   (:mod:`~.grading.trusted`), while :mod:`~.grading.autograde` hands each executed notebook
   to nbgrader's own Autograde, one at a time;
5. :mod:`~.grading.publish` writes grades.csv, exercises.csv, the feedback pages, run.json and
   report.html.

Exit status: 0 when the batch was graded, whatever the students did; 2 when the grader could
not run (bad arguments, SUBMISSIONS missing or unreadable, no lessons).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .course import ROOT, SOLUTIONS
from .grading import late
from .grading.errors import GraderError
from .grading.kernel_code import preload_lines, test_sources
from .grading.limits import Limits

__all__ = ["GraderError", "build_parser", "main", "run"]

EXIT_OK = 0
EXIT_GRADER_ERROR = 2
# The progress line of a notebook autograded by an earlier cluster run that was cut short.
KEPT = "autograded by the run cut short, not executed again"


# --------------------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    d = Limits()
    p = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Grade students' notebooks into an nbgrader course folder: grades.csv, "
        "exercises.csv, feedback/<student>/<lesson>.html, report.html and a gradebook "
        "formgrader opens.",
        epilog="Exit status 0 when the batch was graded (whatever the students did); 2 when the "
        "grader could not run. Re-running is idempotent; --student regrades only the students "
        "named.",
    )
    p.add_argument(
        "submissions",
        type=Path,
        metavar="SUBMISSIONS",
        help="a folder with one sub-folder per student, a zip of it, "
        "or an nbgrader submitted/ tree",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="the course folder to grade into"
    )
    p.add_argument("--lesson", metavar="ID", help="grade only this lesson (e.g. 01_derivatives)")
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="notebooks graded at once (default: the number of CPUs, %(default)s here)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=d.cell_seconds,
        metavar="S",
        help="seconds a cell may run before it is stopped (default %(default)g)",
    )
    p.add_argument(
        "--notebook-timeout",
        type=float,
        default=d.submission_seconds,
        metavar="S",
        help="seconds one notebook may run in all (default %(default)g)",
    )
    p.add_argument(
        "--memory",
        type=int,
        default=d.memory_mb,
        metavar="MB",
        help="memory per kernel in MB (default %(default)s)",
    )
    p.add_argument(
        "--max-output",
        type=int,
        default=d.output_bytes,
        metavar="BYTES",
        help="output kept per cell (default %(default)s)",
    )
    p.add_argument(
        "--student",
        nargs="+",
        metavar="ID",
        help="grade only these students (others are left as they are)",
    )
    p.add_argument(
        "--solutions",
        type=Path,
        default=SOLUTIONS,
        metavar="DIR",
        help="the instructor notebooks, solutions/<id>/<id>.ipynb (default: the course's)",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels without bubblewrap isolation (the report says so)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output, only errors")
    _after_the_deadline(p)
    _add_cluster_options(p)
    return p


def _after_the_deadline(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "deadlines, late work and the roster",
        "Deadlines are ISO 8601 with a time zone (2026-12-01T23:59+01:00); pyproject.toml's "
        "[tool.course.deadlines] and [tool.course.late] give defaults. docs/GRADING.md has it all.",
    )
    g.add_argument(
        "--due",
        action="append",
        default=[],
        metavar="[LESSON=]WHEN",
        help="the deadline of every lesson of the batch, or of one lesson (repeatable)",
    )
    g.add_argument(
        "--extensions",
        type=Path,
        metavar="CSV",
        help="per-student extensions: a CSV with the header student_id,lesson,due",
    )
    g.add_argument(
        "--late-policy",
        choices=("none", "zero", "per-hour", "per-day"),
        help="what a late notebook costs (default: none)",
    )
    g.add_argument(
        "--late-rate",
        type=float,
        metavar="PCT",
        help="per-hour/per-day: percent of the score taken per started hour or day",
    )
    g.add_argument(
        "--late-cap", type=float, metavar="PCT", help="the most a penalty takes (default 100)"
    )
    g.add_argument(
        "--roster",
        type=Path,
        metavar="CSV",
        help="students.csv (student_id,first_name,last_name,email,lms_user_id): loaded into the "
        "gradebook; a roster student with nothing handed in gets a 'missing' row",
    )


@dataclass(frozen=True)
class _Rules:
    """The deadlines, extensions, late policy and roster of a run, read before grading."""

    deadlines: late.Deadlines
    extensions: list[late.Extension] | None
    policy: late.Policy
    roster: list | None


def _rules(a: argparse.Namespace) -> _Rules:
    from .grading import roster

    return _Rules(
        deadlines=late.parse_due(a.due, late.course_table(ROOT, "deadlines")),
        extensions=late.read_extensions(a.extensions) if a.extensions else None,
        policy=late.policy_from(a.late_policy, a.late_rate, a.late_cap, ROOT),
        roster=roster.read_roster(a.roster) if a.roster else None,
    )


def _add_cluster_options(p: argparse.ArgumentParser) -> None:
    """--scheduler / --scheduler-file (Dask) and --db-url (the gradebook's database)."""
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="execute the notebooks on this Dask scheduler's workers (tcp://host:8786); "
        "needs the [cluster] extra",
    )
    cluster.add_argument(
        "--scheduler-file",
        type=Path,
        metavar="F",
        help="the same, with the address from the file `dask scheduler --scheduler-file F` wrote",
    )
    p.add_argument(
        "--db-url",
        metavar="URL",
        help="keep the gradebook in this database (postgresql+psycopg://...; default: "
        "CourseDirectory.db_url in OUT/nbgrader_config.py, else OUT/gradebook.db)",
    )


def _check_args(a: argparse.Namespace) -> None:
    if a.jobs < 1:
        raise GraderError("--jobs must be at least 1")
    if a.timeout <= 0 or a.notebook_timeout <= 0:
        raise GraderError("--timeout and --notebook-timeout must be positive")
    if a.memory < 256:
        raise GraderError(
            "--memory must be at least 256 (MB): Python with numpy needs that much to start"
        )
    if a.max_output < 1000:
        raise GraderError("--max-output must be at least 1000 bytes")
    if not a.submissions.exists():
        raise GraderError(f"SUBMISSIONS not found: {a.submissions}")
    out = a.out.resolve()
    sub = a.submissions.resolve()
    if out.is_relative_to(sub) or sub.is_relative_to(out):
        raise GraderError("--out must not be inside SUBMISSIONS, nor SUBMISSIONS inside --out")
    for option, path in (("--extensions", a.extensions), ("--roster", a.roster)):
        if path is not None and not path.is_file():
            raise GraderError(f"{option}: no such file: {path}")
    if a.scheduler_file is not None and not a.scheduler_file.is_file():
        raise GraderError(f"--scheduler-file not found: {a.scheduler_file}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_args(args)
        summary = run(args)
    except GraderError as exc:
        print(f"grade: error: {exc}", file=sys.stderr)
        return EXIT_GRADER_ERROR
    if not args.quiet:
        print(summary)
    return EXIT_OK


def run(args: argparse.Namespace) -> str:
    """Grade the batch ``args`` describes; return the summary table."""
    # Only light imports until the workers are started: nbgrader and nbformat take seconds to
    # import, which the workers' own start-up can overlap.
    from .grading import batch, course_dir, workers
    from .grading.progress import Progress

    _venv_on_path()
    limits = Limits(
        cell_seconds=args.timeout,
        submission_seconds=args.notebook_timeout,
        memory_mb=args.memory,
        output_bytes=args.max_output,
    )
    solutions, available = _lessons(args)
    rules = _rules(args)  # a malformed CSV stops the run before anything is graded
    workers.keep_socket_paths_short()
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    pool = None
    try:
        submissions = args.submissions.resolve()
        found = batch.read(submissions, work, args.student)
        progress = Progress(0, args.quiet)
        course = course_dir.open_course(args.out, args.db_url)
        private = (ROOT, solutions, course.root, submissions, found.root)
        pool, sandbox, jobs = _start_pool(args, limits, private, work, len(found.notebooks))
        progress.log(("sandbox: " if sandbox.isolated else "WARNING: ") + sandbox.detail)

        _quiet_sqlalchemy()  # then nbgrader and nbformat, while the workers boot their kernels
        from .grading import publish
        from .grading.autograde import SerialAutograde
        from .grading.lessons import load_lesson

        lessons = {lid: load_lesson(lid, solutions / lid / f"{lid}.ipynb") for lid in available}
        collected = batch.choose(found, lessons, args.lesson)
        progress.total = len(collected.chosen)
        batch.prepare(collected, course, solutions, lessons, progress.log)
        _apply_rules(rules, course, set(collected.tasks), progress.log)
        grader = SerialAutograde(course, lessons, found.students, late.plugin_config(rules.policy))
        progress.restart_clock()
        _execute_and_autograde(pool, collected, lessons, grader, progress, limits)
        if pool is not None:
            pool.close()  # the workers' spare kernels go with them
        progress.finish()
        in_scope = {args.lesson} if args.lesson else None
        record = publish.RunRecord(
            sandbox, limits, jobs, late_policy=rules.policy.describe(), workers=_worker_rows(pool)
        )
        summary = publish.publish(
            course, collected.outcomes, grader.graded, lessons, in_scope, record
        )
        _checkpoint(course).clear()
        return summary
    finally:
        if pool is not None:  # before the kernels' scratch folders (in work) are removed
            pool.close()
        shutil.rmtree(work, ignore_errors=True)


def _apply_rules(rules: _Rules, course, pairs: set[tuple[str, str]], log) -> None:
    """The roster, deadlines and extensions into the gradebook, before nbgrader's autograde."""
    from .grading import roster

    if rules.roster is not None:
        roster.import_roster(course.db_url, rules.roster)
        roster.save(course, rules.roster)
    late.set_deadlines(course.db_url, rules.deadlines, {lesson for _, lesson in pairs})
    if rules.extensions is not None:
        for unused in late.set_extensions(course.db_url, rules.extensions, pairs):
            log(f"extension not used (nothing of that student and lesson graded now): {unused}")


def _start_pool(args, limits: Limits, private: tuple[Path, ...], work: Path, notebooks: int):
    """The local worker pool, or the Dask cluster with --scheduler; the sandbox; the jobs."""
    from .grading import workers

    if args.scheduler or args.scheduler_file:
        try:
            from .cluster.pool import ClusterPool
        except ImportError as exc:
            raise GraderError(
                f"--scheduler needs the [cluster] extra (pip install -e '.[cluster]'): {exc}"
            ) from None
        pool = ClusterPool(
            limits,
            args.no_sandbox,
            address=args.scheduler,
            scheduler_file=args.scheduler_file,
            log=lambda line: None if args.quiet else print(line, file=sys.stderr),
        )
        try:
            pool.check_workers()
        except GraderError:
            pool.close()
            raise
        return pool, pool.sandbox(), len(pool.accepted())
    settings, sandbox = workers.prepare(limits, args.no_sandbox, private, work)
    jobs = min(args.jobs, notebooks)
    return (workers.Pool(jobs, settings) if jobs else None), sandbox, jobs


def _worker_rows(pool) -> tuple:
    """The report's list of cluster workers (none for the local pool)."""
    from dataclasses import asdict

    rows = getattr(pool, "workers", None) or {}
    return tuple(asdict(w) for _, w in sorted(rows.items()))


def _checkpoint(course):
    from .cluster.resume import Checkpoint

    return Checkpoint(course)


def _execute_and_autograde(pool, collected, lessons, grader, progress, limits) -> None:
    """Execute every task in the pool; autograde each as it finishes, in this process.

    On a cluster each outcome is also kept in a checkpoint as soon as it is autograded; the
    tasks an unfinished cluster run already autograded are taken from it, not executed.
    """
    from .cluster.resume import digest
    from .grading.progress import one_line
    from .grading.workers import Job

    # What a kernel runs first and which tests are judged: the same for every task of a lesson.
    ids = {t.lesson for t in collected.tasks.values()}
    code = {lid: (preload_lines(lessons[lid]), test_sources(lessons[lid])) for lid in ids}
    jobs = [Job(key, t.notebook, *code[t.lesson]) for key, t in collected.tasks.items()]
    checkpoint = _checkpoint(grader.course)
    on_cluster = hasattr(pool, "plugin")  # a local run only reads what a cluster run left
    digests = {j.key: digest(j.notebook, j.preload, j.tests, limits) for j in jobs}
    done = checkpoint.load()
    for job in [j for j in jobs if done.get(j.key, ("",))[0] == digests[j.key]]:
        jobs.remove(job)
        _, outcome, graded = done[job.key]
        _record(collected, grader, progress, outcome, graded)
        progress.step(one_line(outcome) + f" [{KEPT}]")
    for finished in pool.execute(jobs) if pool is not None and jobs else ():
        task = collected.tasks[finished.key]
        outcome = grader.outcome(task, finished)
        graded = task.lesson in grader.graded[task.student]
        if on_cluster:
            checkpoint.add(digests[finished.key], outcome, graded)
        _record(collected, grader, progress, outcome, graded)
        progress.step(one_line(outcome))
    grader.close()


def _record(collected, grader, progress, outcome, graded: bool) -> None:
    collected.outcomes[outcome.student].append(outcome)
    if graded:
        grader.graded[outcome.student].add(outcome.lesson)


def _venv_on_path() -> None:
    # nbgrader creates a gradebook by running `alembic` from PATH: the venv's bin must be on it.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _lessons(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """The solutions folder and its lesson ids; --lesson must be one of them."""
    from .course import find_lessons

    solutions = args.solutions.resolve()
    available = find_lessons(solutions)
    if not available:
        raise GraderError(f"no lessons found: {solutions} has no <id>/<id>.ipynb")
    if args.lesson and args.lesson not in available:
        raise GraderError(
            f"--lesson {args.lesson}: not a lesson in {solutions} (have: {', '.join(available)})"
        )
    return solutions, available


def _quiet_sqlalchemy() -> None:
    import warnings

    from sqlalchemy.exc import SAWarning

    # nbgrader's generate_assignment trips SQLAlchemy warnings that say nothing to an instructor.
    warnings.filterwarnings("ignore", category=SAWarning)
