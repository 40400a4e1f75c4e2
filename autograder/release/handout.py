"""The students' copy of the course (``python -m autograder handout DEST``).

DEST gets what a student needs and nothing more: the student version of each lesson (built
afresh through nbgrader, as the release does, with ``[tool.course]``: the students' repository
and tag in every badge and in the Colab install, quiz feedback on or off), the ``helpers``
package the lessons import, a README with the two ways to start (``make lab``, Colab), and
the packaging that installs ``helpers`` (a pyproject.toml, which Colab's install reads from the
tag, and a Makefile). Never ``solutions/``, the tests and their answer fixtures, or the grader.
An instructor hosts DEST publicly (at ``[tool.course] repository``, tagged ``tag``) and keeps
the full course private.

Before it returns, the hand-out searches DEST for every solution region and every hidden-test
line of the lessons that is not public anyway (:func:`secrets`, :func:`leaks`), and fails when
one is there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import tomllib

from .. import course
from .build import CATALOGUE, ReleaseError, build, catalogue_bytes, resolve

TEMPLATES = Path(__file__).resolve().parent / "handout_templates"
MANIFEST = ".handout.json"  # what the last hand-out wrote, so that the next can replace it
_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


@dataclass(frozen=True)
class Handout:
    dest: Path
    lessons: list[str]
    files: list[str]
    quiz_feedback: bool


def handout(root: Path, dest: Path, requested: list[str] | None, log=print) -> Handout:
    """Write the students' copy of the course at ``root`` into ``dest``."""
    site = course.settings(root).require_links()
    lessons = resolve(requested, root)
    if not lessons:
        raise ReleaseError(f"no lessons in {root / 'solutions'} to hand out")
    _clear(dest)
    files: dict[str, bytes] = {}
    catalogue = {}
    for lesson in lessons:
        log(f"{lesson}: building the student version")
        built = build(lesson, root)
        files |= {f"lessons/{lesson}/{rel}": data for rel, data in built.files.items()}
        catalogue[lesson] = built.catalogue
    files |= _helpers(root)
    files[CATALOGUE.as_posix()] = catalogue_bytes(catalogue)
    files |= _packaging(root, site, lessons)
    for rel, data in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    (dest / MANIFEST).write_text(json.dumps(sorted(files), indent=1) + "\n")
    found = leaks(root, dest, lessons)
    if found:
        raise ReleaseError(
            "answers would reach students; nothing is safe to publish:\n  "
            + "\n  ".join(found[:20])
        )
    return Handout(dest, lessons, sorted(files), site.quiz_feedback)


def _clear(dest: Path) -> None:
    """Make ``dest`` ready: new, empty, or holding a git checkout and an earlier hand-out."""
    if not dest.exists():
        dest.mkdir(parents=True)
        return
    if not dest.is_dir():
        raise ReleaseError(f"{dest} is not a folder")
    manifest = dest / MANIFEST
    ours = set(json.loads(manifest.read_text())) if manifest.is_file() else set()
    others = [
        p.relative_to(dest).as_posix()
        for p in sorted(dest.rglob("*"))
        if p.is_file()
        and ".git" not in p.relative_to(dest).parts
        and p.relative_to(dest).as_posix() not in ours | {MANIFEST}
    ]
    if others:
        raise ReleaseError(
            f"{dest} holds files an earlier hand-out did not write ({', '.join(others[:5])}): "
            "give an empty or new folder, or a git checkout of the students' repository"
        )
    for rel in ours:
        (dest / rel).unlink(missing_ok=True)
    for folder in sorted((p for p in dest.rglob("*") if p.is_dir()), reverse=True):
        if ".git" not in folder.relative_to(dest).parts and not any(folder.iterdir()):
            folder.rmdir()  # what the earlier hand-out left empty


def _helpers(root: Path) -> dict[str, bytes]:
    """The ``helpers`` package the lessons import (the course's copy, else the installed one)."""
    source = root / "helpers"
    if not source.is_dir():
        import helpers

        source = Path(helpers.__file__).resolve().parent
    return {
        f"helpers/{p.relative_to(source).as_posix()}": p.read_bytes()
        for p in sorted(source.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def _packaging(root: Path, site: course.CourseSettings, lessons: list[str]) -> dict[str, bytes]:
    """README.md, pyproject.toml, Makefile, .gitignore and LICENSE of the students' copy."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from ..course.lessons import load_lesson

    project = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {})
    extras = project.get("optional-dependencies", {}).get("course", [])
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined)
    title = _title(root)
    context = {
        "title": title,
        "repository": site.repository,
        "tag": site.tag,
        "folder": site.repository.rsplit("/", 1)[-1],
        "distribution": project.get("name", course.DISTRIBUTION),
        "version": project.get("version", "0"),
        "requires_python": project.get("requires-python", ">=3.10"),
        "dependencies": project.get("dependencies", []),
        "lab": [r for r in extras if re.match(r"(jupyterlab|notebook)\b", r)],
        "package_data": json.dumps(_package_data(root)),
        "lessons": [
            {
                "id": lesson,
                "number": lesson.split("_")[0],
                "title": load_lesson(lesson, course.solution_path(lesson, root)).title or lesson,
                "colab": course.badge_url(lesson, site),
            }
            for lesson in lessons
        ],
    }
    out = {
        name: env.get_template(f"{template}.j2").render(context).encode()
        for name, template in (
            ("README.md", "README.md"),
            ("pyproject.toml", "pyproject.toml"),
            ("Makefile", "Makefile"),
            (".gitignore", "gitignore"),
        )
    }
    if (root / "LICENSE").is_file():
        out["LICENSE"] = (root / "LICENSE").read_bytes()
    return out


def _title(root: Path) -> str:
    readme = root / "README.md"
    if readme.is_file():
        for line in readme.read_text().splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return course.DISTRIBUTION


def _package_data(root: Path) -> list[str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())
    found = project.get("tool", {}).get("setuptools", {}).get("package-data", {})
    return list(found.get("helpers", [CATALOGUE.relative_to("helpers").as_posix()]))


HIDDEN_LINE_MIN = 25  # shorter hidden-test lines are fragments any code holds: `)`, `_x,`


def secrets(root: Path, lessons: list[str]) -> list[str]:
    """What must not reach students: each solution region and each hidden-test line (of
    :data:`HIDDEN_LINE_MIN` characters or more) of the lessons, less what is public anyway
    (the lessons' other cells, the ``helpers`` package)."""
    sources = {lesson: _cell_sources(course.solution_path(lesson, root)) for lesson in lessons}
    public = "\n".join(
        [p.read_text(errors="replace") for p in sorted((root / "helpers").rglob("*.py"))]
        + [_REGION.sub("", s) for cells in sources.values() for s in cells]
    )
    found = []
    for cells in sources.values():
        for source in cells:
            for kind, body in _REGION.findall(source):
                parts = [body] if kind == "SOLUTION" else body.splitlines()
                parts = [p.strip() for p in parts if p.strip()]
                if kind != "SOLUTION":
                    parts = [p for p in parts if len(p) >= HIDDEN_LINE_MIN]
                found += [p for p in parts if p not in public]
    return sorted(set(found))


def leaks(root: Path, dest: Path, lessons: list[str]) -> list[str]:
    """Every secret (:func:`secrets`) found in a file of ``dest``: '<file>: <text>'."""
    wanted = secrets(root, lessons)
    found = []
    for path in sorted(p for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts):
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":  # JSON escapes quotes and line ends: search the cells
            text += "\n".join(_cell_sources(path))
        found += [f"{path.relative_to(dest)}: {s[:80]!r}" for s in wanted if s in text]
    return found


def _cell_sources(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]
    ]
