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

CONFIG_TEMPLATE = '''\
"""nbgrader configuration of a grading batch made by `python -m autograder grade`.

Open it in formgrader for the written answers: `nbgrader formgrader` from this folder.
Edit db_url to keep the gradebook in another database; the grader honours it.
"""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "calculus-for-deep-learning"
# c.CourseDirectory.db_url = "postgresql://user@host/gradebook"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 60
'''


@dataclass(frozen=True)
class CourseFolder:
    root: Path
    config: Config
    db_url: str

    @property
    def state(self) -> Path:
        return self.root / ".grader"

    def source_notebook(self, lesson: str) -> Path:
        return self.root / "source" / lesson / f"{lesson}.ipynb"

    def release_notebook(self, lesson: str) -> Path:
        return self.root / "release" / lesson / f"{lesson}.ipynb"

    def submitted_notebook(self, student: str, lesson: str) -> Path:
        return self.root / "submitted" / student / lesson / f"{lesson}.ipynb"

    def api(self, extra: Config | None = None):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = Config(self.config)
        if extra is not None:
            config.merge(extra)
        coursedir = CourseDirectory(config=config)
        coursedir.root = str(self.root)
        return NbGraderAPI(coursedir=coursedir, config=config)


def open_course(root: Path) -> CourseFolder:
    """Create (if needed) and load the course folder ``root``."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    config_file = root / "nbgrader_config.py"
    if not config_file.exists():
        config_file.write_text(CONFIG_TEMPLATE)
    config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    db_url = config.CourseDirectory.get("db_url") if "db_url" in config.CourseDirectory else None
    if not db_url:
        db_url = f"sqlite:///{root / 'gradebook.db'}"
        config.CourseDirectory.db_url = db_url
    (root / ".grader").mkdir(exist_ok=True)
    return CourseFolder(root=root, config=config, db_url=db_url)


def _folder_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts
    ):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def install_lesson(course: CourseFolder, solutions: Path, lesson: str, log) -> None:
    """Copy ``solutions/<lesson>/`` to ``source/`` and generate it into the gradebook if new or changed."""
    from nbgrader.api import Gradebook, MissingEntry

    state_file = course.state / "sources.json"
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
        f"preparing lesson {lesson}: nbgrader generate_assignment (once per lesson and output folder)"
    )
    target = course.root / "source" / lesson
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        solutions / lesson,
        target,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    result = course.api().generate_assignment(lesson, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(
            f"nbgrader generate_assignment failed for {lesson}:\n{result.get('error') or result.get('log')}"
        )
    state[lesson] = digest
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True))


def gradebook_sources(course: CourseFolder, lesson: str) -> dict[str, str]:
    """grade id -> the cell source nbgrader stored (hidden tests included)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        notebook = gb.find_notebook(lesson, lesson)
        return {cell.name: cell.source for cell in notebook.source_cells}
