"""``python -m autograder grade``: grade a batch of submissions into an nbgrader course folder.

    python -m autograder grade SUBMISSIONS --out OUT [--lesson ID] [--jobs N] [--timeout S]
        [--memory MB] [--student ID ...]

Steps: find and read the notebooks (:mod:`.grading.ingest`), recognise each one's lesson from
its cells, make OUT an nbgrader course with the lessons in its gradebook
(:mod:`.grading.course_dir`), repair each notebook's test cells (:mod:`.grading.repair`), run
the notebooks N at a time in sandboxed kernels (:mod:`.grading.execute`), and hand each
executed notebook to nbgrader's own Autograde, one at a time (:mod:`.grading.nbgrader_phase`).
Then grades.csv, exercises.csv, one feedback page per student and lesson, and report.html.

Exit status: 0 when the batch was graded, whatever the students did; 2 when the grader could
not run (bad arguments, SUBMISSIONS missing or unreadable, no lessons).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .course import ROOT, SOLUTIONS
from .grading.limits import Limits

EXIT_OK = 0
EXIT_GRADER_ERROR = 2


class GraderError(Exception):
    """The grader itself cannot run; the message says why."""


# --------------------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    d = Limits()
    p = argparse.ArgumentParser(
        prog="python -m autograder grade",
        description="Grade students' notebooks into an nbgrader course folder: grades.csv, exercises.csv, "
        "feedback/<student>/<lesson>.html, report.html and a gradebook formgrader opens.",
        epilog="Exit status 0 when the batch was graded (whatever the students did); 2 when the grader "
        "could not run. Re-running is idempotent; --student regrades only the students named.",
    )
    p.add_argument(
        "submissions",
        type=Path,
        metavar="SUBMISSIONS",
        help="a folder with one sub-folder per student, a zip of it, or an nbgrader submitted/ tree",
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
    return p


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
    if out == sub or _inside(out, sub) or _inside(sub, out):
        raise GraderError("--out must not be inside SUBMISSIONS, nor SUBMISSIONS inside --out")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return path != folder


# --------------------------------------------------------------------------- progress


class Progress:
    """A bar with an ETA on a terminal; plain log lines otherwise."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.done, self.quiet = total, 0, quiet
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty() and not quiet

    def log(self, text: str) -> None:
        if self.quiet:
            return
        if self.tty:
            sys.stderr.write("\r\x1b[K")
        print(text, file=sys.stderr, flush=True)
        if self.tty and self.done < self.total:
            self._bar()

    def step(self, text: str) -> None:
        self.done += 1
        if self.quiet:
            return
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            print(text, file=sys.stderr)
            self._bar()
        else:
            print(f"[{self.done}/{self.total}, {self._eta()}] {text}", file=sys.stderr, flush=True)

    def _eta(self) -> str:
        elapsed = time.monotonic() - self.start
        if not self.done:
            return f"{elapsed:.0f} s elapsed"
        left = elapsed / self.done * (self.total - self.done)
        return f"{elapsed:.0f} s elapsed, ETA {left:.0f} s"

    def _bar(self) -> None:
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} notebooks, {self._eta()}"
        )
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


# --------------------------------------------------------------------------- worker


def _execute_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run in a worker process: execute one repaired notebook in a sandboxed kernel."""
    from .grading import trusted
    from .grading.execute import execute_notebook
    from .grading.sandbox import SandboxSpec

    spec = SandboxSpec(**task["sandbox"]) if task["sandbox"] else None
    tests, nonces = task.get("tests") or {}, {}
    try:
        result = execute_notebook(
            task["notebook"],
            limits=Limits(**task["limits"]),
            sandbox=spec,
            preload=task["preload"],
            font_cache=Path(task["font_cache"]) if task.get("font_cache") else None,
            scratch_root=Path(task["scratch_root"]),
            spare=True,
            test_code=trusted.recording_run(tests, nonces),  # hook (h12): record, not judge
        )
        # hook (h12): the points are decided here, in this process, from the kernel's records.
        notes, seconds = trusted.judge_notebook(
            result.notebook, result.cells, tests, nonces, task["limits"]["cell_seconds"]
        )
    except Exception as exc:  # noqa: BLE001 - reported as this submission's failure, the batch goes on
        return {"key": task["key"], "error": f"{type(exc).__name__}: {exc}"}
    data = result.to_dict()
    data["notebook"] = json.loads(json.dumps(result.notebook))
    return {"key": task["key"], "result": data, "trusted": {"notes": notes, "seconds": seconds}}


def _keep_socket_paths_short() -> None:
    """Put this run's temporary files in /tmp when the usual temporary folder is deep.

    The workers' fork server and every kernel talk over Unix sockets inside the temporary
    folder, and a socket path holds at most 107 bytes (103 on macOS). Our deepest is about 70
    bytes below the temporary folder, so a TMPDIR longer than 30 (macOS gives about 50) would
    make the run fail before grading anyone.
    """
    if len(tempfile.gettempdir()) > 30 and os.path.isdir("/tmp"):
        tempfile.tempdir = "/tmp"


def _warm_worker(warm: dict[str, Any]) -> None:
    """Pool initializer: boot this worker's first kernel before its first notebook arrives."""
    from multiprocessing.util import Finalize

    from .grading.execute import boot_spare, discard_spare
    from .grading.sandbox import SandboxSpec

    # A worker exits with a spare kernel booted for a notebook that never came: shut it down
    # (atexit does not run in pool workers; multiprocessing's exit finalizers do).
    Finalize(None, discard_spare, exitpriority=10)
    boot_spare(
        limits=Limits(**warm["limits"]),
        sandbox=SandboxSpec(**warm["sandbox"]) if warm["sandbox"] else None,
        scratch_root=Path(warm["scratch_root"]),
        font_cache=Path(warm["font_cache"]),
    )
    from .grading import trusted

    trusted.warm()  # hook (h12): the modules the trusted side judges with, while the kernel boots


def _started() -> None:
    """A no-op task: submitting one makes the pool start a worker now rather than later."""


def _start_workers(jobs: int, warm: dict[str, Any]) -> ProcessPoolExecutor:
    """Start ``jobs`` grading workers, each booting a kernel while the caller prepares the batch.

    The fork server imports the execution stack once (nbclient, jupyter_client, nbformat: over
    a second) and every worker is forked from it; the workers are started now, not at the first
    real task, so that start-up overlaps the grader's own imports, lesson install and staging.
    """
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["autograder.grade", "autograder.grading.execute"])
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_warm_worker, initargs=(warm,)
    )
    for _ in range(jobs):
        pool.submit(_started)
    return pool


def _prepare_kernels(
    args: argparse.Namespace, solutions: Path, out: Path, unpacked: Path, work: Path
) -> tuple[Any, Any, Path]:
    """Decide the sandbox (probe bubblewrap) and build matplotlib's font cache, side by side.

    Returns the sandbox spec (None when kernels run without isolation), its status for the
    report, and the font cache folder.
    """
    from .grading.sandbox import SandboxSpec, SandboxStatus, probe, start_font_cache

    fonts = start_font_cache(work / "matplotlib")
    if args.no_sandbox:
        sandbox = None
        status = SandboxStatus(False, "--no-sandbox was given: kernels ran WITHOUT isolation")
    else:
        # Hide the course, the solutions, OUT and every submission from student code.
        spec = SandboxSpec.for_run(ROOT, solutions, out, args.submissions.resolve(), unpacked, work)
        status = probe(spec, work / "probe")
        sandbox = spec if status.isolated else None
    return sandbox, status, fonts()


# --------------------------------------------------------------------------- the run


@dataclass
class Task:
    student: str
    lesson: str
    notebook: Any  # read back from submitted/, repaired
    file: str
    notes: list[str]


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
    # Only light imports until the workers are started: nbgrader and nbformat take seconds to
    # import, which the workers' own start-up can overlap.
    from .course import find_lessons
    from .grading import course_dir, ingest

    # nbgrader creates a gradebook by running `alembic` from PATH: the venv's bin must be on it.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    limits = Limits(
        cell_seconds=args.timeout,
        submission_seconds=args.notebook_timeout,
        memory_mb=args.memory,
        output_bytes=args.max_output,
    )
    solutions = args.solutions.resolve()
    available = find_lessons(solutions)
    if not available:
        raise GraderError(f"no lessons found: {solutions} has no <id>/<id>.ipynb")
    if args.lesson and args.lesson not in available:
        raise GraderError(
            f"--lesson {args.lesson}: not a lesson in {solutions} (have: {', '.join(available)})"
        )

    _keep_socket_paths_short()
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    pool: ProcessPoolExecutor | None = None
    try:
        try:
            root = ingest.unpack(args.submissions.resolve(), work)
            notebooks, empty = ingest.find_notebooks(root)
        except ingest.SubmissionsError as exc:
            raise GraderError(str(exc)) from None
        except OSError as exc:
            raise GraderError(f"cannot read SUBMISSIONS: {exc}") from None
        students = sorted({n.student for n in notebooks} | set(empty))
        if args.student:
            missing = sorted(set(args.student) - set(students))
            if missing:
                raise GraderError(f"--student: no folder for {', '.join(missing)} in SUBMISSIONS")
            students = sorted(args.student)
            notebooks = [n for n in notebooks if n.student in students]
            empty = [s for s in empty if s in students]
        if not students:
            raise GraderError(f"no student folders in {args.submissions}")

        progress = Progress(0, args.quiet)
        course = course_dir.open_course(args.out)
        sandbox, status, font_cache = _prepare_kernels(args, solutions, course.root, root, work)
        progress.log(("sandbox: " if status.isolated else "WARNING: ") + status.detail)
        kernels_dir = work / "kernels"  # every kernel's scratch folder; removed with the run
        kernels_dir.mkdir()
        sandbox_dict = {"hidden": sandbox.hidden, "readable": sandbox.readable} if sandbox else None
        limits_dict = {
            "cell_seconds": limits.cell_seconds,
            "submission_seconds": limits.submission_seconds,
            "memory_mb": limits.memory_mb,
            "output_bytes": limits.output_bytes,
        }
        jobs = min(args.jobs, len(notebooks))
        if jobs:
            pool = _start_workers(
                jobs,
                {
                    "limits": limits_dict,
                    "sandbox": sandbox_dict,
                    "font_cache": str(font_cache),
                    "scratch_root": str(kernels_dir),
                },
            )

        import warnings

        import nbformat
        from sqlalchemy.exc import SAWarning

        # nbgrader's generate_assignment trips SQLAlchemy warnings that say nothing to an instructor.
        warnings.filterwarnings("ignore", category=SAWarning)
        from .grading import lessons as lessons_mod
        from .grading import nbgrader_phase, results
        from .grading.borrowed import course_calls
        from .grading.execute import ExecutionResult
        from .grading.feedback import write_feedback
        from .grading.messages import verdicts as read_verdicts
        from .grading.repair import repair
        from .grading.report import write_report

        # Recognise each notebook's lesson from its content.
        models = {
            lid: lessons_mod.load_lesson(lid, solutions / lid / f"{lid}.ipynb") for lid in available
        }
        outcomes: dict[str, list[results.Outcome]] = {s: [] for s in students}
        chosen: dict[tuple[str, str], ingest.Notebook] = {}
        extra_notes: dict[tuple[str, str], list[str]] = {}
        candidates: dict[tuple[str, str], list[ingest.Notebook]] = {}
        for s in empty:
            outcomes[s].append(
                results.Outcome(
                    s, "", "(no notebook)", failed="no .ipynb file in the student's folder"
                )
            )
        for n in notebooks:
            if n.content is None:
                outcomes[n.student].append(results.Outcome(n.student, "", n.name, failed=n.problem))
                continue
            found = lessons_mod.recognise(n.content, models.values())
            if found.lesson is None:
                outcomes[n.student].append(
                    results.Outcome(n.student, "", n.name, failed=found.detail)
                )
                continue
            if args.lesson and found.lesson != args.lesson:
                continue
            candidates.setdefault((n.student, found.lesson), []).append(n)
        for key, found_here in candidates.items():
            # Two copies of one lesson: the newest is graded (mtime to 2 s, as a zip keeps it).
            ranked = sorted(found_here, key=lambda n: (n.mtime, n.name), reverse=True)
            chosen[key] = ranked[0]
            if len(ranked) > 1:
                extra_notes[key] = [
                    (
                        f"{len(ranked)} notebooks for this lesson: graded the newest, {ranked[0].name}; "
                        f"not graded: {', '.join(n.name for n in ranked[1:])}"
                    )
                ]

        progress.total = len(chosen)
        needed = sorted({lesson for _, lesson in chosen})
        for lesson in needed:
            try:
                course_dir.install_lesson(course, solutions, lesson, progress.log)
            except RuntimeError as exc:
                raise GraderError(str(exc)) from None
            models[lesson] = lessons_mod.load_lesson(
                lesson,
                course.source_notebook(lesson),
                course.release_notebook(lesson),
                course_dir.gradebook_sources(course, lesson),
            )

        # Stage each submission as nbgrader expects it, then repair what will run.
        tasks: dict[tuple[str, str], Task] = {}
        for (student, lesson), n in sorted(chosen.items()):
            try:
                target = course.submitted_notebook(student, lesson)
                if target.parent.exists():
                    shutil.rmtree(target.parent)
                target.parent.mkdir(parents=True)
                nbformat.write(nbformat.from_dict(n.content), str(target))
                stamp = n.path.parent / "timestamp.txt"
                if stamp.is_file() and not stamp.is_symlink():  # hook (h12): no links
                    shutil.copy(stamp, target.parent / "timestamp.txt")
                staged = nbformat.read(str(target), as_version=4)
                fixed = repair(staged, models[lesson])
                borrowed = course_calls(fixed.notebook, models[lesson])  # hook (h12)
            except Exception as exc:  # noqa: BLE001 - one odd file must not stop the batch
                outcomes[student].append(
                    results.Outcome(
                        student,
                        lesson,
                        n.name,
                        failed=f"could not be prepared for grading: {type(exc).__name__}: {exc}",
                    )
                )
                continue
            tasks[(student, lesson)] = Task(
                student,
                lesson,
                fixed.notebook,
                n.name,
                extra_notes.get((student, lesson), []) + fixed.findings + borrowed,
            )

        # Execute in parallel; autograde serially as results arrive.
        nbgrader_phase.LESSONS.clear()
        nbgrader_phase.LESSONS.update(models)
        api = course.api(nbgrader_phase.autograde_config())
        graded_lessons: dict[str, set[str]] = {s: set() for s in students}
        pending = {}
        progress.start = time.monotonic()  # the ETA is about grading, not about the preparation
        for key, t in tasks.items():
            payload = {
                "key": list(key),
                "notebook": json.loads(json.dumps(t.notebook)),
                "limits": limits_dict,
                "sandbox": sandbox_dict,
                "preload": _preload_lines(models[t.lesson]),
                "tests": _test_sources(models[t.lesson]),
                "font_cache": str(font_cache),
                "scratch_root": str(kernels_dir),
            }
            pending[pool.submit(_execute_task, payload)] = key
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                key = pending.pop(future)
                t = tasks[key]
                outcome = results.Outcome(t.student, t.lesson, t.file, notes=list(t.notes))
                try:
                    answer = future.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails one submission
                    answer = {"error": f"the grading worker crashed: {exc}"}
                if "error" in answer:
                    outcome.failed = f"could not be executed: {answer['error']}"
                else:
                    executed = ExecutionResult.from_dict(answer["result"])
                    outcome.notes += _fault_notes(executed, models[t.lesson])
                    outcome.notes += answer["trusted"]["notes"]  # hook (h12)
                    outcome.timings = {
                        "kernel_start": round(executed.seconds_kernel_start, 3),
                        "imports": round(executed.seconds_preload, 3),
                        "cells": round(executed.seconds_cells, 3),
                        "replay": round(executed.seconds_replay, 3),
                        "total": round(executed.seconds_total, 3),
                        "trusted": round(answer["trusted"]["seconds"], 3),  # hook (h12)
                        "kernel_starts": executed.kernel_starts,
                        "booted_ahead": executed.booted_ahead,
                    }
                    outcome.verdicts = {
                        g: v.__dict__
                        for g, v in read_verdicts(executed.notebook, models[t.lesson]).items()
                    }
                    nbgrader_phase.EXECUTED[key] = executed.notebook
                    t0 = time.monotonic()
                    done_ag = api.autograde(t.lesson, t.student, force=True, create=True)
                    outcome.timings["autograde"] = round(time.monotonic() - t0, 3)
                    nbgrader_phase.EXECUTED.pop(key, None)
                    if not done_ag.get("success"):
                        why = _autograde_error(done_ag)
                        outcome.failed = "nbgrader autograde failed: " + (
                            why[-1] if why else "no reason given"
                        )
                    else:
                        graded_lessons[t.student].add(t.lesson)
                outcomes[t.student].append(outcome)
                progress.step(_one_line(outcome))
        if pool is not None:
            pool.shutdown()  # the workers' spare kernels go with them
        progress.finish()

        # Each regraded student's record replaces the old one; stale gradebook entries go.
        in_scope = {args.lesson} if args.lesson else None
        _drop_stale(course, graded_lessons, in_scope)
        previous = {}
        for o in results.load_outcomes(course.state):
            previous.setdefault(o.student, []).append(o)
        for student in students:
            kept = [
                o
                for o in previous.get(student, [])
                if in_scope and o.lesson and o.lesson not in in_scope
            ]
            results.save_outcomes(
                course.state,
                student,
                sorted(kept + outcomes[student], key=lambda o: (o.lesson, o.file)),
            )
        all_outcomes = results.load_outcomes(course.state)
        max_scores = {lid: m.max_score for lid, m in models.items()}
        grade_rows, exercise_rows = results.gradebook_rows(course.db_url, all_outcomes, max_scores)
        results.write_csvs(course.root, grade_rows, exercise_rows)
        for student in students:
            folder = course.root / "feedback" / student
            for page in folder.glob("*.html") if folder.is_dir() else []:
                if in_scope is None or page.stem in in_scope:
                    page.unlink()
        for o in all_outcomes:
            if (
                o.student in students
                and o.lesson
                and not o.failed
                and (in_scope is None or o.lesson in in_scope)
            ):
                write_feedback(
                    course.root,
                    o,
                    models.get(o.lesson),
                    [
                        e
                        for e in exercise_rows
                        if e.student_id == o.student and e.lesson == o.lesson
                    ],
                )
        (course.state / "run.json").write_text(
            json.dumps(
                {
                    "sandbox": {"isolated": status.isolated, "detail": status.detail},
                    "limits": limits_dict,
                    "jobs": jobs,
                },
                indent=1,
            )
        )
        write_report(course.root, grade_rows, exercise_rows, all_outcomes, models, status, limits)
        return _summary(grade_rows, course.root)
    finally:
        if pool is not None:  # before the kernels' scratch folders (in work) are removed
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(work, ignore_errors=True)


def _preload_lines(lesson) -> list[str]:
    """Code each kernel runs before the notebook: the lesson's checkers, then the recorder."""
    from .grading.record import kernel_source

    checkers = (
        f"import importlib.util as _u\nif _u.find_spec('helpers.exercises.{lesson.topic}'):\n"
        f"    import helpers.exercises.{lesson.topic}\ndel _u"
    )
    return [checkers, kernel_source()]


def _test_sources(lesson) -> dict[str, str]:
    """grade id -> the instructor's full test source (hidden tests included) for the trusted side."""
    from .grading.lessons import TEST

    return {c.grade_id: c.source for c in lesson.cells if c.role == TEST and c.cell_type == "code"}


def _fault_notes(executed, lesson) -> list[str]:
    labels = {}
    gid_of = {}
    for i, cell in enumerate(executed.notebook.get("cells", [])):
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        gid_of[i] = gid
    notes = []
    for rec in executed.cells:
        where = f"cell '{gid_of[rec.index]}'" if gid_of.get(rec.index) else f"cell {rec.index + 1}"
        if rec.status in ("timeout", "kernel_died", "memory"):
            notes.append(f"{where}: {rec.note}")
        if rec.output_truncated:
            labels[where] = True
            notes.append(f"{where}: output cut to the limit")
    not_run = [r for r in executed.cells if r.status == "not_run"]
    if not_run:
        notes.append(f"{len(not_run)} cells not run: {not_run[0].note.split(': ', 1)[-1]}")
    return notes


def _one_line(o) -> str:
    if o.failed:
        return f"{o.student} {o.lesson or '?'}: FAILED - {o.failed}"
    extra = f" ({'; '.join(o.notes)})" if o.notes else ""
    return f"{o.student} {o.lesson}: executed in {o.timings.get('total', 0):.1f} s{extra}"


def _drop_stale(course, graded_lessons: dict[str, set[str]], in_scope: set[str] | None) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        for student, lessons in graded_lessons.items():
            try:
                st = gb.find_student(student)
            except MissingEntry:
                continue
            for sub in list(st.submissions):
                if sub.assignment.name not in lessons and (
                    in_scope is None or sub.assignment.name in in_scope
                ):
                    name = sub.assignment.name
                    gb.remove_submission(name, student)
                    shutil.rmtree(course.root / "autograded" / student / name, ignore_errors=True)
                    shutil.rmtree(course.root / "submitted" / student / name, ignore_errors=True)


def _summary(rows, out: Path) -> str:
    lines = [f"{'student':<16} {'lesson':<22} {'score':>9}  status"]
    for r in rows:
        score = "" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        lines.append(
            f"{r.student_id:<16} {r.lesson or '-':<22} {score:>9}  {r.status}"
            + (f"  ({r.detail})" if r.status == "failed" else "")
        )
    counts = {s: sum(r.status == s for r in rows) for s in ("graded", "needs_manual", "failed")}
    lines.append("")
    lines.append(
        f"{counts['graded']} graded, {counts['needs_manual']} need manual grading, {counts['failed']} failed"
    )
    lines.append(f"grades:   {out / 'grades.csv'}")
    lines.append(f"report:   {out / 'report.html'}")
    lines.append(f"feedback: {out / 'feedback'}/<student>/<lesson>.html")
    return "\n".join(lines)


def _autograde_error(answer: dict[str, Any]) -> list[str]:
    """The most telling lines of a failed nbgrader autograde: its own error, not the wrapper's."""
    log = answer.get("log") or ""
    if os.environ.get("AUTOGRADER_DEBUG"):
        print(log, file=sys.stderr)
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    errors = [
        ln
        for ln in lines
        if ("Error" in ln or "Exception" in ln)
        and "NbGraderException" not in ln
        and not ln.startswith("File ")
    ]
    return errors or (answer.get("error") or "").strip().splitlines()
