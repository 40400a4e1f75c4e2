"""The pages students and instructors read pass axe-core, run in headless Debian chromium.

axe-core (https://github.com/dequelabs/axe-core, from the npm registry) is the accessibility
engine browsers' own audit tools use. It is installed once by ``npm`` into ``.venv/axe-core``
(never committed) and injected into each page. Three pages are checked: a feedback page of the
demo class's student with failures and the instructor's report - both as the grader writes
them, the golden copies tests/test_demo_outputs.py keeps equal to a fresh ``make demo`` - and
one lesson exported the course's way, ``python -m autograder html`` (``jupyter nbconvert --to
html --execute`` with the course's accessible template, autograder.html), with every axe rule.
The lesson's export with nbconvert's own template (``jupyter nbconvert --to html``, of the
solutions run nbgrader executed for tests/test_lessons.py: the lesson is not run again), and
the course's export must both report no image without alternative text.

Violations of impact "serious" or "critical" fail; "moderate" and "minor" ones are printed.
One module, one browser and two exports for all of it: 24 s in all when the machine was
lightly loaded (most of it executing the lesson twice), 5 min 40 s when it was heavily
loaded; times on this shared machine are noisy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import browser_support as bs
import pytest
from conftest import SOLVED, kernel_env
from support.shared import file_lock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from autograder.commands.html import nbconvert_command

GOLDEN = ROOT / "tests" / "fixtures" / "demo_golden"
AXE_VERSION = "4.11"  # the npm version range installed
AXE_DIR = ROOT / ".venv" / "axe-core"
EXPORTED_LESSON = "02_chain_rule"  # light to execute; it has figures and an explorer
FAILING = ("serious", "critical")

pytestmark = pytest.mark.xdist_group("accessibility")


def install_axe(folder: Path = AXE_DIR) -> Path:
    """axe.min.js of axe-core from the npm registry, installed into ``folder`` once."""
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "the accessibility tests need npm to install axe-core: run `apt-get install npm` "
            "(as root; `make test` does it through .ci/system-packages)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    # xdist may run this module's tests on several workers at once: two npm installs into one
    # prefix race (one can find the other's half-written tree), so one installs, the rest wait.
    with file_lock(folder / "install.lock"):
        if not script.is_file():
            _npm_install(npm, folder, script)
    return script


def _npm_install(npm: str, folder: Path, script: Path) -> None:
    done = subprocess.run(
        [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--no-save"]
        + ["--cache", str(folder / ".npm"), f"axe-core@{AXE_VERSION}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not script.is_file():
        pytest.fail(f"npm could not install axe-core@{AXE_VERSION}:\n{done.stdout}{done.stderr}")


@pytest.fixture(scope="module")
def axe() -> Path:
    return install_axe()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = bs.chromium_missing_message()
    if missing:
        pytest.fail(missing)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        context = bs.launch_chromium(playwright, tmp_path_factory.mktemp("axe-profile"))
        try:
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()


class Export:
    """An exported page and what nbconvert said while writing it."""

    def __init__(self, page: Path, log: str):
        self.page, self.log = page, log


def export(tmp: Path, command: list[str]) -> Export:
    """Run an nbconvert ``command`` that writes ``tmp/<lesson>.html``, with kernels kept in tmp."""
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=tmp,
        env=kernel_env(tmp),
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Export(tmp / f"{EXPORTED_LESSON}.html", done.stderr)


def lesson_copy(tmp: Path) -> Path:
    notebook = tmp / f"{EXPORTED_LESSON}.ipynb"
    shutil.copy(ROOT / "solutions" / EXPORTED_LESSON / f"{EXPORTED_LESSON}.ipynb", notebook)
    return notebook


@pytest.fixture(scope="module")
def exported_lesson(tmp_path_factory):
    """The lesson as the course exports it: ``python -m autograder html``'s nbconvert call."""
    tmp = tmp_path_factory.mktemp("export")
    return export(tmp, nbconvert_command(lesson_copy(tmp), tmp))


@pytest.fixture(scope="module")
def plainly_exported_lesson(tmp_path_factory, autograded):
    """The lesson through nbconvert's own template: ``jupyter nbconvert --to html``, of the
    solutions run nbgrader executed (conftest.autograde) rather than a run of its own."""
    tmp = tmp_path_factory.mktemp("plain-export")
    notebook = tmp / f"{EXPORTED_LESSON}.ipynb"
    shutil.copy(autograded(EXPORTED_LESSON).notebooks[SOLVED], notebook)
    return export(
        tmp, [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(notebook)]
    )


def violations(context, axe: Path, page_path: Path) -> list[dict]:
    """axe-core's violations on the page at ``page_path`` (opened from disk, offline)."""
    page = context.new_page()
    try:
        page.route("http*://**", lambda route: route.abort())  # no CDN: the page as read offline
        page.goto(page_path.as_uri(), wait_until="load")
        page.add_script_tag(path=str(axe))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        page.close()
    return result["violations"]


def serious(found: list[dict]) -> str:
    """The serious and critical violations in words ("" when there are none); prints the rest."""
    for v in found:
        if v["impact"] not in FAILING:
            print(f"  ({v['impact']}) {v['id']}: {v['help']} - {len(v['nodes'])} element(s)")
    lines = [
        f"{v['impact']} {v['id']}: {v['help']} ({v['helpUrl']}); e.g. "
        + "; ".join(n["html"][:160] for n in v["nodes"][:3])
        for v in found
        if v["impact"] in FAILING
    ]
    return "\n".join(lines)


def test_the_feedback_page_of_a_student_with_failures_has_no_serious_violation(browser, axe):
    page = GOLDEN / "feedback" / "ben" / "06_gradient_checker.html"
    problems = serious(violations(browser, axe, page))
    assert not problems, f"axe-core on {page.name}:\n{problems}"


def test_the_instructors_report_has_no_serious_violation(browser, axe):
    problems = serious(violations(browser, axe, GOLDEN / "report.html"))
    assert not problems, f"axe-core on report.html:\n{problems}"


def test_an_exported_lesson_has_no_serious_violation(browser, axe, exported_lesson):
    problems = serious(violations(browser, axe, exported_lesson.page))
    assert not problems, f"axe-core on the exported {EXPORTED_LESSON}:\n{problems}"


def assert_every_image_has_alternative_text(exported: Export) -> None:
    assert "Alternative text is missing" not in exported.log, exported.log[-2000:]
    html = exported.page.read_text()
    assert "<img" in html, "the export shows no figure at all"
    assert "No description has been provided for this image" not in html


def test_an_exported_lesson_has_no_image_without_alternative_text(exported_lesson):
    assert_every_image_has_alternative_text(exported_lesson)


def test_nbconverts_own_export_of_a_lesson_has_no_image_without_alternative_text(
    plainly_exported_lesson,
):
    assert_every_image_has_alternative_text(plainly_exported_lesson)


def test_every_figure_of_the_grader_s_pages_says_what_it_shows():
    pages = [GOLDEN / "report.html", *sorted((GOLDEN / "feedback").rglob("*.html"))]
    for page in pages:
        text = page.read_text()
        assert "alt='figure'" not in text and "<img src" not in text, page.name
    assert "alt='Histogram of the scores" in (GOLDEN / "report.html").read_text()
