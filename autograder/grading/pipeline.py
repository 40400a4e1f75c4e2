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
   not grade by its own fault is named in :class:`RunResult` ``lost`` (the command exits 1),
   after everything else is published;
5. :mod:`.publish` writes grades.csv, exercises.csv, the feedback pages, run.json and
   report.html.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import remembered
from .execute.preload import preload_lines, test_sources
from .rules import late
from .settings import RunSettings
from .vocabulary import GRADER_FAILED, Blame, Failure, GraderError

# The progress line of a notebook autograded by an earlier cluster run that was cut short.
KEPT = "autograded by the run cut short, not executed again"


@dataclass(frozen=True)
class RunResult:
    """What a run leaves to say: the summary, and what it could not grade."""

    summary: str
    lost: tuple[str, ...] = ()  # notebooks lost to the grader's own fault (exit status 1)
    not_graded: tuple[str, ...] = ()  # folders and LMS files not graded, and why


def run(s: RunSettings) -> RunResult:
    """Grade the batch ``s`` describes."""
    # Only light imports until the workers are started: nbgrader and nbformat take seconds to
    # import, which the workers' own start-up can overlap.
    from . import course_dir
    from .collect import batch, choose
    from .execute import pool as workers
    from .progress import Progress

    _venv_on_path()
    solutions, available = _lessons(s)
    workers.keep_socket_paths_short()
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    pool = None
    try:
        sources = batch.Sources(
            s.submissions, list(s.rules.roster or ()), s.worksheets, s.rules.exchange_timestamps
        )
        found = batch.read(sources, work, list(s.students) if s.students else None)
        progress = Progress(0, s.quiet)
        for note in s.notes:
            progress.log(f"note: {note}")
        s.out.mkdir(parents=True, exist_ok=True)  # hidden from the kernels: it must exist
        private = (*s.private, solutions, s.out, *s.submissions, *found.roots)
        pool, sandbox, jobs = _start_pool(s, private, work, len(found.notebooks))
        progress.log(("sandbox: " if sandbox.isolated else "WARNING: ") + sandbox.detail)
        _quiet_sqlalchemy()  # then nbgrader and nbformat, while the workers boot their kernels
        course = course_dir.open_course(s.out, s.db_url)  # its config imports nbgrader
        from ..course.lessons import load_lesson

        lessons = {lid: load_lesson(lid, solutions / lid / f"{lid}.ipynb") for lid in available}
        collected = choose.choose(found, lessons, s.lesson)
        progress.total = len(collected.chosen)
        graded, lost, after = _grade(s, course, solutions, lessons, collected, pool, progress)
        pool.close()  # the workers' spare kernels go with them
        progress.finish()
        run = (sandbox, jobs, pool.worker_rows(), tuple(found.not_graded))
        summary = _publish(s, course, collected, graded, lessons, run, after)
        remembered.save(course.settings_record, after)
        _checkpoint(course).clear()
        return RunResult(summary, tuple(lost), tuple(found.not_graded))
    finally:
        if pool is not None:  # before the kernels' scratch folders (in work) are removed
            pool.close()
        shutil.rmtree(work, ignore_errors=True)


def _grade(s: RunSettings, course, solutions, lessons, collected, pool, progress):
    """Install, apply the rules, stage, execute and autograde: (who got graded, what was
    lost through the grader's own fault, what OUT remembers after this run)."""
    from .autograde.serial import SerialAutograde
    from .collect import stage

    stage.install(collected, course, solutions, lessons, progress.log)
    applied = _apply_rules(s, course, set(collected.chosen), progress.log)
    dues = late.gradebook_deadlines(course.db_url)
    stage.prepare(collected, course, lessons, lambda lesson: dues.get(lesson))
    grader = SerialAutograde(
        course, lessons, sorted(collected.outcomes), late.plugin_config(s.rules.policy)
    )
    progress.restart_clock()
    lost = list(collected.lost)
    lost += _execute_and_autograde(pool, collected, lessons, grader, progress, s.limits)
    after = remembered.Remembered(
        limits=s.limits,
        policy=s.rules.policy,
        deadlines={**s.before.deadlines, **applied},
        extensions=s.rules.extensions,
        exchange_timestamps=s.rules.exchange_timestamps,
    )
    return grader.graded, lost, after


def _publish(s: RunSettings, course, collected, graded, lessons, run: tuple, after) -> str:
    """Re-score what a changed rule concerns, then publish; return the summary. ``run`` is
    (the sandbox status, the jobs, the cluster's workers, what was not graded)."""
    from .publish import publish

    sandbox, jobs, workers, not_graded = run
    changes = remembered.changes(s.before, after)
    scope = remembered.rescore_scope(s.before, after)
    rescored = []
    if scope is None or scope:
        rescored = late.rescore(course.db_url, s.rules.policy, scope, s.rules.extensions)
        changes.append(f"{len(rescored)} notebook{'s' * (len(rescored) != 1)} re-scored")
    record = publish.RunRecord(
        sandbox,
        s.limits,
        jobs,
        late_policy=s.rules.policy.describe(),
        workers=workers,
        changes=tuple(changes),
        notes=tuple(s.notes),
        not_graded=not_graded,
    )
    in_scope = {s.lesson} if s.lesson else None
    return publish.publish(course, collected.outcomes, graded, lessons, in_scope, record, s.site)


def _apply_rules(s: RunSettings, course, pairs: set[tuple[str, str]], log) -> dict:
    """The roster, deadlines and extensions into the gradebook, before nbgrader's autograde;
    returns the deadlines set (lesson -> when)."""
    from .rules import roster

    rules = s.rules
    lessons = {lesson for _, lesson in pairs}
    if rules.roster is not None:
        roster.import_roster(course.db_url, list(rules.roster))
        roster.save(course, list(rules.roster))
    known = set(late.gradebook_deadlines(course.db_url)) | lessons
    named = {**rules.deadlines.kept, **rules.deadlines.lessons}
    targets = {lesson: rules.deadlines.due(lesson) for lesson in lessons}
    targets |= {lesson: when for lesson, when in named.items() if lesson in known}
    applied = {lesson: when for lesson, when in targets.items() if when is not None}
    late.set_deadlines(course.db_url, applied)
    if rules.extensions is not None:
        unused = late.set_extensions(course.db_url, list(rules.extensions), pairs)
        if rules.extensions != s.before.extensions:  # said once, when the file is given
            for line in unused:
                log(f"extension not used (nothing of that student and lesson graded now): {line}")
    return applied


def _start_pool(s: RunSettings, private: tuple[Path, ...], work: Path, notebooks: int):
    """The local worker pool, or the Dask cluster with --scheduler; the sandbox; the jobs.

    Fails closed: kernels that cannot be isolated stop the run (exit 2) unless --no-sandbox.
    """
    from .execute import pool as workers

    if s.scheduler or s.scheduler_file:
        try:
            from .execute.cluster.pool import ClusterPool
        except ImportError as exc:
            raise GraderError(
                f"--scheduler needs the [cluster] extra (pip install -e '.[cluster]'): {exc}"
            ) from None
        pool = ClusterPool(
            s.limits,
            s.no_sandbox,
            address=s.scheduler,
            scheduler_file=s.scheduler_file,
            log=lambda line: None if s.quiet else print(line, file=sys.stderr),
        )
        try:
            pool.check_workers()
        except GraderError:
            pool.close()
            raise
        return pool, pool.sandbox(), len(pool.accepted())
    settings, sandbox = workers.prepare(s.limits, s.no_sandbox, private, work)
    if not sandbox.isolated and not s.no_sandbox:
        why = sandbox.detail.removesuffix(": kernels ran WITHOUT isolation")
        raise GraderError(
            f"cannot isolate student code: {why}. Install bubblewrap "
            "(apt-get install bubblewrap) where unprivileged user namespaces are allowed, or, only "
            "where this machine is itself an isolated environment for grading, pass --no-sandbox"
        )
    jobs = min(s.jobs, notebooks)
    return workers.LocalPool(jobs, settings, sandbox), sandbox, jobs


def _checkpoint(course):
    from .autograde.checkpoint import Checkpoint

    return Checkpoint(course)


def _execute_and_autograde(pool, collected, lessons, grader, progress, limits) -> list[str]:
    """Execute every task in the pool; autograde each as it finishes, in this process.

    On a cluster each outcome is also kept in a checkpoint as soon as it is autograded; the
    tasks an unfinished cluster run already autograded are taken from it, not executed.
    Returns the notebooks lost through the grader's own fault (not executed, not autograded).
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
    lost = []
    for job in [j for j in jobs if done.get(j.key, ("",))[0] == digests[j.key]]:
        jobs.remove(job)
        _, outcome, graded = done[job.key]
        _record(collected, grader, progress, outcome, graded)
        progress.step(one_line(outcome) + f" [{KEPT}]")
    for finished in _finished(pool, jobs):
        task = collected.tasks[finished.key]
        outcome = _outcome(grader, task, finished)
        graded = task.lesson in grader.graded[task.student]
        if pool.keeps_checkpoint:
            checkpoint.add(digests[finished.key], outcome, graded)
        if outcome.failure and outcome.failure.by_grader:  # not a student's fault: graded again
            lost.append(f"{outcome.student} {outcome.lesson}: {outcome.failure}")
        _record(collected, grader, progress, outcome, graded)
        progress.step(one_line(outcome))
    grader.close()
    return lost


def _outcome(grader, task, finished):
    """nbgrader's autograde of one executed notebook; a failure of the grader's own costs
    that notebook only (its outcome says why, and the run exits 1)."""
    from .outcomes import Outcome

    try:
        return grader.outcome(task, finished)
    except Exception as exc:  # noqa: BLE001 - one notebook's fault must not end the batch
        why = Failure(f"{GRADER_FAILED}: {type(exc).__name__}: {exc}", Blame.GRADER)
        return Outcome(task.student, task.lesson, task.file, failure=why, notes=list(task.notes))


def _finished(pool, jobs):
    """Every job's Finished; when the pool itself fails, the rest are the grader's failures."""
    from .execute.jobs import Finished

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
            yield Finished.grader_failed(key, why)


def _record(collected, grader, progress, outcome, graded: bool) -> None:
    collected.outcomes[outcome.student].append(outcome)
    if graded:
        grader.graded[outcome.student].add(outcome.lesson)


def _venv_on_path() -> None:
    # nbgrader creates a gradebook by running `alembic` from PATH: the venv's bin must be on it.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _lessons(s: RunSettings) -> tuple[Path, list[str]]:
    """The solutions folder and its lesson ids; --lesson must be one of them."""
    from ..course import find_lessons

    available = find_lessons(s.solutions)
    if not available:
        raise GraderError(f"no lessons found: {s.solutions} has no <id>/<id>.ipynb")
    if s.lesson and s.lesson not in available:
        raise GraderError(
            f"--lesson {s.lesson}: not a lesson in {s.solutions} (have: {', '.join(available)})"
        )
    return s.solutions, available


def _quiet_sqlalchemy() -> None:
    import warnings

    from sqlalchemy.exc import SAWarning

    # nbgrader's generate_assignment trips SQLAlchemy warnings that say nothing to an instructor.
    warnings.filterwarnings("ignore", category=SAWarning)
