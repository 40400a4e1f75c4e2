"""OUT as a real nbgrader course folder: config, source/, release/ and the gradebook.

The gradebook is filled by nbgrader's own ``generate_assignment`` from the course's solutions,
once per lesson: it runs again only when a lesson's solutions changed since the last run
(``OUT/.grader/sources.json`` remembers their digests), so re-running a batch is cheap and
leaves the gradebook as it was.

``OUT/nbgrader_config.py`` is written only when missing: an instructor who points
``CourseDirectory.db_url`` at another database there keeps it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .settings import Limits

CONFIG_TEMPLATE = (
    '''\
"""nbgrader configuration of a grading batch made by `python -m autograder grade`.

Grade the written answers in formgrader: `python -m autograder formgrader <this folder>`.
Edit db_url to keep the gradebook in another database; the grader honours it.
"""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "calculus-for-deep-learning"
# c.CourseDirectory.db_url = "postgresql://user@host/gradebook"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
'''
    + f"c.Execute.timeout = {Limits().cell_seconds:g}\n"
)  # the default of Limits


@dataclass(frozen=True)
class CoursePaths:
    """Every path under OUT, in one place: nobody else builds them by hand."""

    root: Path

    # nbgrader's folders
    def source_dir(self, lesson: str) -> Path:
        return self.root / "source" / lesson

    def source_notebook(self, lesson: str) -> Path:
        return self.source_dir(lesson) / f"{lesson}.ipynb"

    def release_notebook(self, lesson: str) -> Path:
        return self.root / "release" / lesson / f"{lesson}.ipynb"

    @property
    def submitted_root(self) -> Path:
        return self.root / "submitted"

    def submitted_dir(self, student: str, lesson: str) -> Path:
        return self.submitted_root / student / lesson

    def submitted_notebook(self, student: str, lesson: str) -> Path:
        return self.submitted_dir(student, lesson) / f"{lesson}.ipynb"

    def autograded_dir(self, student: str, lesson: str) -> Path:
        return self.root / "autograded" / student / lesson

    def autograded_notebook(self, student: str, lesson: str) -> Path:
        """The notebook nbgrader autograded, as formgrader shows it."""
        return self.autograded_dir(student, lesson) / f"{lesson}.ipynb"

    @property
    def config_file(self) -> Path:
        return self.root / "nbgrader_config.py"

    @property
    def default_gradebook(self) -> Path:
        return self.root / "gradebook.db"

    # what the grader publishes
    @property
    def grades_csv(self) -> Path:
        return self.root / "grades.csv"

    @property
    def exercises_csv(self) -> Path:
        return self.root / "exercises.csv"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def feedback_root(self) -> Path:
        return self.root / "feedback"

    def feedback_dir(self, student: str) -> Path:
        return self.feedback_root / student

    def feedback_page(self, student: str, lesson: str) -> Path:
        return self.feedback_dir(student) / f"{lesson}.html"

    # the grader's own records
    @property
    def state(self) -> Path:
        return self.root / ".grader"

    @property
    def outcomes_dir(self) -> Path:
        return self.state / "outcomes"

    def outcome_record(self, student: str) -> Path:
        """The student's record; a refused folder name (no student id) by its digest."""
        from .rules.roster import student_id_problem

        if student_id_problem(student):
            return (
                self.outcomes_dir
                / f"refused-{hashlib.sha256(student.encode()).hexdigest()[:20]}.json"
            )
        return self.outcomes_dir / f"{student}.json"

    @property
    def roster_record(self) -> Path:
        """The roster last given with --roster (rules.roster)."""
        return self.state / "roster.json"

    @property
    def exports_dir(self) -> Path:
        """Where ``python -m autograder export`` writes its files."""
        return self.root / "exports"

    @property
    def run_record(self) -> Path:
        return self.state / "run.json"

    @property
    def settings_record(self) -> Path:
        """What OUT was graded with, for the next run (:mod:`.remembered`)."""
        return self.state / "settings.json"

    @property
    def lock_file(self) -> Path:
        """Held by the run that writes OUT (:mod:`.lock`)."""
        return self.state / "lock"

    @property
    def sources_record(self) -> Path:
        """Digest of each installed lesson's solutions folder."""
        return self.state / "sources.json"

    @property
    def executed_dir(self) -> Path:
        return self.state / "executed"

    def executed_notebook(self, student: str, lesson: str) -> Path:
        """A worker's executed notebook, kept only while nbgrader's Autograde reads it."""
        return self.executed_dir / student / f"{lesson}.ipynb"


@dataclass(frozen=True)
class CourseFolder(CoursePaths):
    """OUT opened as an nbgrader course: its paths, its configuration and its gradebook."""

    config: Config
    db_url: str

    def api(self, extra: Config | None = None):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = Config(self.config)
        if extra is not None:
            config.merge(extra)
        coursedir = CourseDirectory(config=config)
        coursedir.root = str(self.root)
        return NbGraderAPI(coursedir=coursedir, config=config)


# Rewritten by every run (between the markers; the rest of the file is the instructor's): the
# feedback formgrader's "Generate Feedback" and `nbgrader generate_feedback` write shows no
# hidden test (publish/nbgrader_feedback.py).
MANAGED_BEGIN = "# --- written by `python -m autograder grade` (rewritten each run) ---\n"
MANAGED_END = "# --- end of what `python -m autograder grade` writes ---\n"
MANAGED = (
    MANAGED_BEGIN
    + "from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor\n"
    + "from nbgrader.preprocessors import GetGrades\n\n"
    + "from autograder.grading.publish.nbgrader_feedback import StripHiddenTests\n\n"
    + "c.GenerateFeedback.preprocessors = [\n"
    + "    StripHiddenTests,\n    GetGrades,\n    CSSHTMLHeaderPreprocessor,\n]\n"
    + MANAGED_END
)


def _write_managed(config_file: Path) -> None:
    """Put :data:`MANAGED` in the course config (in place of an earlier copy)."""
    text = config_file.read_text()
    if MANAGED_BEGIN in text and MANAGED_END in text:
        head, rest = text.split(MANAGED_BEGIN, 1)
        text = head + rest.split(MANAGED_END, 1)[1]
    new = text.rstrip("\n") + "\n\n" + MANAGED
    if new != config_file.read_text():
        config_file.write_text(new)


def open_course(root: Path, db_url: str | None = None) -> CourseFolder:
    """Create (if needed) and load the course folder ``root``.

    ``db_url`` (``--db-url``) names the gradebook's database; it is written into
    ``OUT/nbgrader_config.py`` so that formgrader and ``nbgrader`` commands run in OUT open the
    same one.
    """
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    paths = CoursePaths(root)
    if not paths.config_file.exists():
        paths.config_file.write_text(CONFIG_TEMPLATE)
    _write_managed(paths.config_file)
    if db_url:
        _set_db_url(paths.config_file, sqlalchemy_url(db_url))
    config = PyFileConfigLoader(paths.config_file.name, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    db_url = config.CourseDirectory.get("db_url") if "db_url" in config.CourseDirectory else None
    db_url = sqlalchemy_url(db_url) if db_url else f"sqlite:///{paths.default_gradebook}"
    config.CourseDirectory.db_url = db_url
    paths.state.mkdir(exist_ok=True)
    return CourseFolder(root=root, config=config, db_url=db_url)


def sqlalchemy_url(url: str) -> str:
    """``url`` with the PostgreSQL driver the ``[cluster]`` extra installs (psycopg 3).

    SQLAlchemy reads a bare ``postgresql://`` as psycopg2, which is not installed.
    """
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare) :]
    return url


def _set_db_url(config_file: Path, db_url: str) -> None:
    """Make ``db_url`` the gradebook of the course config (the last assignment wins)."""
    line = f"c.CourseDirectory.db_url = {db_url!r}  # set by --db-url\n"
    text = config_file.read_text()
    assigned = [
        ln for ln in text.splitlines(keepends=True) if ln.startswith("c.CourseDirectory.db_url")
    ]
    if assigned and assigned[-1] == line:
        return
    kept = [ln for ln in text.splitlines(keepends=True) if not ln.endswith("# set by --db-url\n")]
    config_file.write_text("".join(kept) + line)


def _folder_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts
    ):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def install_lesson(course: CourseFolder, solutions: Path, lesson: str, log) -> None:
    """Copy ``solutions/<lesson>/`` to ``source/``; generate it into the gradebook if new or
    changed."""
    from nbgrader.api import Gradebook, MissingEntry

    state_file = course.sources_record
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    digest = _folder_digest(solutions / lesson)
    try:
        with Gradebook(course.db_url) as gb:
            gb.find_assignment(lesson)
        known = True
    except MissingEntry:
        known = False
    if known and state.get(lesson) == digest and course.release_notebook(lesson).exists():
        return
    log(
        f"preparing lesson {lesson}: nbgrader generate_assignment "
        "(once per lesson and output folder)"
    )
    target = course.source_dir(lesson)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        solutions / lesson,
        target,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    result = course.api().generate_assignment(lesson, force=True, create=True)
    if not result.get("success"):
        why = result.get("error") or result.get("log")
        raise RuntimeError(f"nbgrader generate_assignment failed for {lesson}:\n{why}")
    state[lesson] = digest
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True))


def gradebook_sources(course: CourseFolder, lesson: str) -> dict[str, str]:
    """grade id -> the cell source nbgrader stored (hidden tests included)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        notebook = gb.find_notebook(lesson, lesson)
        return {cell.name: cell.source for cell in notebook.source_cells}
