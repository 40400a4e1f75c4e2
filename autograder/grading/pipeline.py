"""One grading run, in the order of its phases: collect, execute, judge, autograde, publish.

1. :mod:`.collect` reads SUBMISSIONS;
2. :mod:`.execute` decides the sandbox and starts the worker pool at once, each worker
   booting a kernel while the grader goes on;
3. :mod:`.collect` recognises each notebook's lesson, puts the lessons in OUT's gradebook
   (:mod:`.course_dir`), stages and repairs the submissions into tasks; the rules
   (:mod:`.rules`: roster, deadlines, extensions) go into the gradebook;
4. the workers execute the tasks (:mod:`.execute`, with the kernel side of :mod:`.record` in
   every kernel) and decide each test as the cell comes, running it in the worker while the
   kernel answers for the student's objects (:mod:`.judge`); :mod:`.autograde` hands each
   executed notebook to nbgrader's own Autograde, one at a time. A notebook the grader could
   not grade by its own fault makes the run end in :class:`~.vocabulary.GradingIncomplete`
   (exit 1), after everything else is published;
5. :mod:`.publish` writes grades.csv, exercises.csv, the feedback pages, run.json and
   report.html.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..course import ROOT
from .execute.preload import preload_lines, test_sources
from .rules import late
from .settings import Limits
from .vocabulary import GRADER_FAULTS, GraderError, GradingIncomplete

# The progress line of a notebook autograded by an earlier cluster run that was cut short.
KEPT = "autograded by the run cut short, not executed again"


@dataclass(frozen=True)
class _Rules:
    """The deadlines, extensions, late policy and roster of a run, read before grading."""

    deadlines: late.Deadlines
    extensions: list[late.Extension] | None
    policy: late.Policy
    roster: list | None


def _rules(a: argparse.Namespace) -> _Rules:
    from .rules import roster

    return _Rules(
        deadlines=late.parse_due(a.due, late.course_table(ROOT, "deadlines")),
        extensions=late.read_extensions(a.extensions) if a.extensions else None,
        policy=late.policy_from(a.late_policy, a.late_rate, a.late_cap, ROOT),
        roster=roster.read_roster(a.roster) if a.roster else None,
    )


def run(args: argparse.Namespace) -> str:
    """Grade the batch ``args`` describes; return the summary table."""
    # Only light imports until the workers are started: nbgrader and nbformat take seconds to
    # import, which the workers' own start-up can overlap.
    from . import course_dir
    from .collect import batch, choose, stage
    from .execute import pool as workers
    from .progress import Progress

    _venv_on_path()
    limits = _limits(args)
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
        pool, jobs = _start_pool(args, limits, private, work, len(found.notebooks))
        sandbox = pool.sandbox()
        progress.log(("sandbox: " if sandbox.isolated else "WARNING: ") + sandbox.detail)

        _quiet_sqlalchemy()  # then nbgrader and nbformat, while the workers boot their kernels
        from ..course.lessons import load_lesson
        from .autograde.serial import SerialAutograde
        from .publish import publish

        lessons = {lid: load_lesson(lid, solutions / lid / f"{lid}.ipynb") for lid in available}
        collected = choose.choose(found, lessons, args.lesson)
        progress.total = len(collected.chosen)
        stage.prepare(collected, course, solutions, lessons, progress.log)
        _apply_rules(rules, course, set(collected.tasks), progress.log)
        grader = SerialAutograde(course, lessons, found.students, late.plugin_config(rules.policy))
        progress.restart_clock()
        _execute_and_autograde(pool, collected, lessons, grader, progress, limits)
        pool.close()  # the workers' spare kernels go with them
        progress.finish()
        in_scope = {args.lesson} if args.lesson else None
        record = publish.RunRecord(
            sandbox, limits, jobs, late_policy=rules.policy.describe(), workers=pool.worker_rows()
        )
        summary = publish.publish(
            course, collected.outcomes, grader.graded, lessons, in_scope, record
        )
        _checkpoint(course).clear()
        ours = _grader_faults(collected.outcomes)
        if ours:
            raise GradingIncomplete(summary, ours)
        return summary
    finally:
        if pool is not None:  # before the kernels' scratch folders (in work) are removed
            pool.close()
        shutil.rmtree(work, ignore_errors=True)


def _grader_faults(outcomes: dict) -> list[str]:
    """Why each notebook of this run the grader failed by its own fault was not graded."""
    return [
        f"{o.student}/{o.lesson or o.file}: {o.failed}"
        for student in outcomes.values()
        for o in student
        if o.failed.startswith(GRADER_FAULTS)
    ]


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(
        cell_seconds=args.timeout,
        submission_seconds=args.notebook_timeout,
        memory_mb=args.memory,
        output_bytes=args.max_output,
    )


def _apply_rules(rules: _Rules, course, pairs: set[tuple[str, str]], log) -> None:
    """The roster, deadlines and extensions into the gradebook, before nbgrader's autograde."""
    from .rules import roster

    if rules.roster is not None:
        roster.import_roster(course.db_url, rules.roster)
        roster.save(course, rules.roster)
    late.set_deadlines(course.db_url, rules.deadlines, {lesson for _, lesson in pairs})
    if rules.extensions is not None:
        for unused in late.set_extensions(course.db_url, rules.extensions, pairs):
            log(f"extension not used (nothing of that student and lesson graded now): {unused}")


def _start_pool(args, limits: Limits, private: tuple[Path, ...], work: Path, notebooks: int):
    """The local worker pool, or the Dask cluster with --scheduler; and how many run at once."""
    from .execute import pool as workers

    if args.scheduler or args.scheduler_file:
        try:
            from .execute.cluster.pool import ClusterPool
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
        return pool, len(pool.accepted())
    settings, sandbox = workers.prepare(limits, args.no_sandbox, private, work)
    jobs = min(args.jobs, notebooks)
    return workers.LocalPool(jobs, settings, sandbox), jobs


def _checkpoint(course):
    from .autograde.checkpoint import Checkpoint

    return Checkpoint(course)


def _execute_and_autograde(pool, collected, lessons, grader, progress, limits) -> None:
    """Execute every task in the pool; autograde each as it finishes, in this process.

    When the pool keeps a checkpoint (a cluster), each outcome is kept as soon as it is
    autograded; the tasks an unfinished run already autograded are taken from it, not
    executed.
    """
    from .autograde.checkpoint import digest
    from .execute.jobs import Job
    from .progress import one_line

    # What a kernel runs first and which tests are judged: the same for every task of a lesson.
    ids = {t.lesson for t in collected.tasks.values()}
    code = {lid: (preload_lines(lessons[lid]), test_sources(lessons[lid])) for lid in ids}
    jobs = [Job(key, t.notebook, *code[t.lesson]) for key, t in collected.tasks.items()]
    checkpoint = _checkpoint(grader.course)
    digests = {j.key: digest(j.notebook, j.preload, j.tests, limits) for j in jobs}
    done = checkpoint.load()
    for job in [j for j in jobs if done.get(j.key, ("",))[0] == digests[j.key]]:
        jobs.remove(job)
        _, outcome, graded = done[job.key]
        _record(collected, grader, progress, outcome, graded)
        progress.step(one_line(outcome) + f" [{KEPT}]")
    for finished in _finished(pool, jobs):
        task = collected.tasks[finished.key]
        outcome = grader.outcome(task, finished)
        graded = task.lesson in grader.graded[task.student]
        if pool.keeps_checkpoint:
            checkpoint.add(digests[finished.key], outcome, graded)
        _record(collected, grader, progress, outcome, graded)
        progress.step(one_line(outcome))
    grader.close()


def _finished(pool, jobs):
    """Every job's Finished; when the pool itself fails, the rest are the grader's failures."""
    from .execute.pool import failed_by_grader

    left = {j.key for j in jobs}
    try:
        for finished in pool.execute(jobs) if jobs else ():
            left.discard(finished.key)
            yield finished
    except GraderError:
        raise
    except Exception as exc:  # noqa: BLE001 - the pool broke: every unfinished notebook says so
        why = f"the worker pool failed: {type(exc).__name__}: {exc}"
        for key in sorted(left):
            yield failed_by_grader(key, why)


def _record(collected, grader, progress, outcome, graded: bool) -> None:
    collected.outcomes[outcome.student].append(outcome)
    if graded:
        grader.graded[outcome.student].add(outcome.lesson)


def _venv_on_path() -> None:
    # nbgrader creates a gradebook by running `alembic` from PATH: the venv's bin must be on it.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _lessons(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """The solutions folder and its lesson ids; --lesson must be one of them."""
    from ..course import find_lessons

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
