"""Student versions from the solutions, through nbgrader (``python -m autograder release``).

For each lesson the release

1. rewrites the standard cells of the SOLUTION notebook from ``[tool.course]`` in
   pyproject.toml - every Colab badge link, the source of the cell tagged ``setup`` and the
   quiz feedback cell after each ``test_quiz_NN`` cell (:mod:`.quiz_cell`) - and stores it in
   normal form (:mod:`autograder.course.notebooks`: no outputs, stable metadata);
2. copies that lesson into a temporary course directory with the course's
   ``nbgrader_config.py`` and runs nbgrader's own ``GenerateAssignment`` converter there, in
   process and without a database, so nothing (no gradebook.db) lands in the repository and two
   releases of different lessons can run at the same time;
3. normalises the student version and writes ``lessons/<id>/`` when it differs.

``--check`` does the same into a temporary directory, writes nothing, and names every lesson
whose stored files differ from what would be written (exit status 1).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import course
from ..course.notebooks import dumps, normalise, reads
from . import quiz_cell

# Titles and points of every lesson's exercises for helpers.progress(): generated here from
# the solutions (one source), stored in the package so that Colab's install has it too.
CATALOGUE = Path("helpers") / "exercises" / "catalogue.json"


class ReleaseError(Exception):
    """A lesson cannot be released; the message says which and why."""


@dataclass(frozen=True)
class Built:
    """What the release would store for one lesson."""

    lesson: str
    solution_text: str  # the normalised solution notebook, standard cells rewritten
    files: dict[str, bytes] = field(default_factory=dict)  # lessons/<id>/<relative path> -> bytes
    catalogue: list = field(default_factory=list)  # the lesson's entry of CATALOGUE


@dataclass(frozen=True)
class Stale:
    """One way the repository differs from what the release would store."""

    lesson: str
    path: str  # repository-relative
    reason: str

    def __str__(self) -> str:
        return f"{self.lesson}: {self.path} {self.reason}"


# --------------------------------------------------------------------------- selecting lessons


def resolve(requested: list[str] | None, root: Path = course.ROOT) -> list[str]:
    """The lessons to release: ``requested`` (validated) or every lesson in solutions/."""
    present = course.present_lessons(root)
    if not requested:
        return present
    unknown = [x for x in requested if x not in present]
    if unknown:
        lines = []
        for x in unknown:
            where = course.solution_path(x, root).relative_to(root)
            if course.lesson_path(x, root).parent.is_dir():
                lines.append(f"lesson {x!r} has no solutions notebook yet ({where} does not exist)")
            else:
                lines.append(f"unknown lesson id {x!r} (no {where})")
        lines.append(f"lessons in solutions/: {', '.join(present) or 'none'}")
        raise ReleaseError("\n".join(lines))
    return list(dict.fromkeys(requested))


# --------------------------------------------------------------------------- standard cells


def apply_standard_cells(nb, lesson: str, settings: course.CourseSettings) -> None:
    """Rewrite the badge links and the setup cell of a solution notebook, in place."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = course.BADGE_LINK.sub(
                lambda m: course.badge_url(m.group("lesson"), settings), cell.source
            )
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if course.SETUP_TAG in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ReleaseError(
            f"{lesson}: expected exactly one code cell tagged {course.SETUP_TAG!r}, "
            f"found {len(tagged)}"
            " (add the tag to the first code cell; the release writes its source)"
        )
    if code[0] is not tagged[0]:
        raise ReleaseError(
            f"{lesson}: the cell tagged {course.SETUP_TAG!r} must be the first code cell"
        )
    setup = tagged[0]
    setup.source = course.setup_cell_source(lesson, settings)
    setup.metadata["nbgrader"] = dict(course.SETUP_NBGRADER)


def prepared_solution(lesson: str, root: Path = course.ROOT) -> str:
    """The solution notebook's text as the release stores it."""
    path = course.solution_path(lesson, root)
    nb = reads(path.read_text(encoding="utf-8"), where=str(path.relative_to(root)))
    try:
        config = course.settings(root).require_links()
    except ValueError as exc:
        raise ReleaseError(str(exc)) from None
    apply_standard_cells(nb, lesson, config)
    quiz_cell.apply(nb, lesson, config.quiz_feedback)
    return dumps(normalise(nb))


# --------------------------------------------------------------------------- nbgrader


def _nbgrader_config(root: Path, course_root: Path, lesson: str):
    from traitlets.config.loader import PyFileConfigLoader

    config_file = root / "nbgrader_config.py"
    if not config_file.is_file():
        raise ReleaseError(f"{config_file} is missing")
    cfg = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
    cfg.CourseDirectory.root = str(course_root)
    cfg.CourseDirectory.assignment_id = lesson
    # No database: the student version does not depend on one, and none may be left behind.
    cfg.GenerateAssignment.no_database = True
    cfg.GenerateAssignment.force = True
    cfg.SaveCells.enabled = False
    return cfg


def generate(lesson: str, solution_text: str, root: Path, workdir: Path) -> dict[str, bytes]:
    """Run nbgrader's GenerateAssignment on one lesson in ``workdir``.

    Returns the normalised files.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    source = workdir / "solutions" / lesson
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".*")
    shutil.copytree(root / "solutions" / lesson, source, ignore=ignore)
    (source / f"{lesson}.ipynb").write_text(solution_text, encoding="utf-8")
    shutil.copy2(root / "nbgrader_config.py", workdir / "nbgrader_config.py")

    cfg = _nbgrader_config(root, workdir, lesson)
    buffer = io.StringIO()
    log = logging.getLogger(f"autograder.release.{lesson}")
    log.propagate = False
    log.setLevel(logging.INFO)
    handler = logging.StreamHandler(buffer)
    log.addHandler(handler)
    try:
        coursedir = CourseDirectory(config=cfg, log=log)
        converter = GenerateAssignment(coursedir=coursedir, config=cfg, log=log)
        converter.start()
    except Exception as exc:  # noqa: BLE001 - nbgrader reports problems as several types
        raise ReleaseError(
            f"{lesson}: nbgrader generate_assignment failed: {exc}\n{buffer.getvalue().strip()}"
        ) from None
    finally:
        log.removeHandler(handler)

    out = workdir / "lessons" / lesson
    if not (out / f"{lesson}.ipynb").is_file():
        raise ReleaseError(
            f"{lesson}: nbgrader wrote no student notebook\n{buffer.getvalue().strip()}"
        )
    files: dict[str, bytes] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if path.suffix == ".ipynb":
            nb = reads(path.read_text(encoding="utf-8"), where=rel)
            files[rel] = dumps(normalise(nb)).encode("utf-8")
        else:
            files[rel] = path.read_bytes()
    return files


def build(lesson: str, root: Path = course.ROOT) -> Built:
    """Everything the release stores for ``lesson``, computed in a temporary directory."""
    from ..course.lessons import catalogue, load_lesson

    solution_text = prepared_solution(lesson, root)
    with tempfile.TemporaryDirectory(prefix=f"release-{lesson}-") as tmp:
        files = generate(lesson, solution_text, root, Path(tmp))
        entry = catalogue(load_lesson(lesson, Path(tmp) / "solutions" / lesson / f"{lesson}.ipynb"))
    return Built(lesson, solution_text, files, entry)


def read_catalogue(root: Path) -> dict[str, list]:
    path = root / CATALOGUE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def catalogue_bytes(data: dict[str, list]) -> bytes:
    text = json.dumps(dict(sorted(data.items())), indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


# --------------------------------------------------------------------------- comparing and writing


def _stored_files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts
    }


def differences(built: Built, root: Path = course.ROOT) -> list[Stale]:
    """How the repository differs from ``built``."""
    lesson = built.lesson
    found: list[Stale] = []
    solution = course.solution_path(lesson, root)
    if solution.read_text(encoding="utf-8") != built.solution_text:
        found.append(
            Stale(
                lesson,
                str(solution.relative_to(root)),
                "is not in stored form (outputs, metadata or standard cells differ)",
            )
        )
    folder = root / "lessons" / lesson
    stored = _stored_files(folder)
    for rel, data in built.files.items():
        where = f"lessons/{lesson}/{rel}"
        if rel not in stored:
            found.append(Stale(lesson, where, "is missing"))
        elif stored[rel] != data:
            found.append(Stale(lesson, where, "differs from what solutions/ generates"))
    for rel in stored.keys() - built.files.keys():
        found.append(
            Stale(lesson, f"lessons/{lesson}/{rel}", "is not generated from solutions/ (remove it)")
        )
    if read_catalogue(root).get(lesson) != built.catalogue:
        found.append(Stale(lesson, str(CATALOGUE), f"has stale titles or points for {lesson}"))
    return found


def orphans(root: Path = course.ROOT) -> list[Stale]:
    """Lesson folders in lessons/ with no solutions notebook."""
    folder = root / "lessons"
    present = set(course.present_lessons(root))
    if not folder.is_dir():
        return []
    return [
        Stale(p.name, f"lessons/{p.name}", "has no solutions notebook")
        for p in sorted(folder.iterdir())
        if p.is_dir() and not p.name.startswith(".") and p.name not in present
    ]


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)  # atomic: a reader never sees half a notebook
    return True


def write(built: Built, root: Path = course.ROOT) -> list[str]:
    """Store ``built``; return the repository-relative paths that changed."""
    lesson = built.lesson
    changed = []
    solution = course.solution_path(lesson, root)
    if _write_if_changed(solution, built.solution_text.encode("utf-8")):
        changed.append(str(solution.relative_to(root)))
    folder = root / "lessons" / lesson
    for rel, data in built.files.items():
        if _write_if_changed(folder / rel, data):
            changed.append(f"lessons/{lesson}/{rel}")
    for rel in _stored_files(folder).keys() - built.files.keys():
        (folder / rel).unlink()
        changed.append(f"lessons/{lesson}/{rel} (removed)")
    entries = read_catalogue(root)
    entries[lesson] = built.catalogue
    if _write_if_changed(root / CATALOGUE, catalogue_bytes(entries)):
        changed.append(f"{CATALOGUE} ({lesson})")
    return changed
