"""Every lesson in solutions/ meets the course standard (docs/AUTHORING.md).

Lessons are found, not listed: a new solutions/<id>/<id>.ipynb is tested by adding it.

The autograde tests need the most time, and need it on purpose: they run real nbgrader once
per lesson, every student in one run - the solved and untouched student versions in full
(each costs about the solutions notebook's run time) and the fixture variants trimmed to the
cells grading depends on (see conftest.trim), several variants to a submission when their
tests cannot see each other (tests/support/packing.py). The tests that read a lesson's run
form one xdist group, so one worker runs it while the others do other work; what that run
executed (the solved and untouched versions) is read from nbgrader's own output, not run again.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict

import pytest
from conftest import (
    LESSONS,
    ROOT,
    SOLVED,
    SOLVED_TRIMMED,
    UNTOUCHED,
    errors_of,
    is_answer,
    is_test,
    load_fixtures,
    nbgrader_meta,
    read,
    variants,
)
from support.cli import run_cli

from autograder import course
from autograder.course import quiz_key
from autograder.course.notebooks import is_normal

# Run time is measured by `python -m benchmarks.lessons` (each lesson and the 01-06 total
# against their limits), never asserted here: these machines are shared and noisy.


def both(lesson):
    return {
        "solutions": course.solution_path(lesson),
        "lessons": course.lesson_path(lesson),
    }


lessons = pytest.mark.parametrize("lesson", LESSONS)


def lesson_group(lesson: str):
    """The xdist group of every test that reads the lesson's nbgrader run."""
    return pytest.mark.xdist_group(f"lesson-{lesson}")


# The same ids as ``lessons``; each test on its lesson's worker.
autograded_lessons = pytest.mark.parametrize(
    "lesson", [pytest.param(lesson, marks=lesson_group(lesson)) for lesson in LESSONS]
)

stored = pytest.mark.parametrize("folder", ["solutions", "lessons"])


# --------------------------------------------------------------------------- release and storage


@pytest.fixture(scope="module")
def release_check(shared_once):
    """One ``python -m autograder release --check`` of the whole course (each lesson says
    'up to date' or 'stale'; the run also names lesson folders without solutions)."""

    def build(_folder):
        done = run_cli("release", "--check", timeout=600)
        return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    return shared_once("release-check", build)


@pytest.mark.xdist_group("release-check")
@lessons
def test_release_check_passes(lesson, release_check):
    said = re.findall(rf"^{re.escape(lesson)}: (up to date|stale) ", release_check["stdout"], re.M)
    assert said == ["up to date"], (
        f"lessons/{lesson} is stale:\n{release_check['stdout']}{release_check['stderr']}"
    )


@pytest.mark.xdist_group("release-check")
def test_release_check_of_the_whole_course_passes(release_check):
    assert release_check["returncode"] == 0, release_check["stdout"] + release_check["stderr"]


@lessons
@stored
def test_notebook_is_stored_without_outputs_or_execution_counts(lesson, folder):
    path = both(lesson)[folder]
    assert path.is_file(), (
        f"{path.relative_to(ROOT)} is missing: run `python -m autograder release {lesson}`"
    )
    nb = read(path)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"{path.relative_to(ROOT)}: cells {dirty} have outputs or execution counts"


@lessons
@stored
def test_notebook_is_in_normal_form(lesson, folder):
    path = both(lesson)[folder]
    assert is_normal(path.read_text(encoding="utf-8")), (
        f"{path.relative_to(ROOT)} is not in the release's normal form: "
        f"run `python -m autograder release {lesson}`"
    )


# --------------------------------------------------------------------------- nbgrader metadata


def graded_cells(path):
    return [(i, c, nbgrader_meta(c)) for i, c in enumerate(read(path).cells) if nbgrader_meta(c)]


@lessons
@stored
def test_grade_ids_are_unique(lesson, folder):
    ids = [m.get("grade_id") for _, _, m in graded_cells(both(lesson)[folder])]
    assert None not in ids, "a cell with nbgrader metadata has no grade_id"
    duplicates = sorted({x for x in ids if ids.count(x) > 1})
    assert not duplicates, f"duplicate grade_ids: {duplicates}"


@lessons
@stored
def test_nbgrader_cells_use_schema_version_3(lesson, folder):
    wrong = [
        m.get("grade_id")
        for _, _, m in graded_cells(both(lesson)[folder])
        if m.get("schema_version") != 3
    ]
    assert not wrong, f"cells without schema_version 3: {wrong}"


@lessons
@stored
def test_graded_cells_carry_points(lesson, folder):
    cells = graded_cells(both(lesson)[folder])
    assert any(m.get("grade") for _, _, m in cells), "the lesson has no graded cell"
    pointless = [
        m["grade_id"]
        for _, _, m in cells
        if m.get("grade") and not (isinstance(m.get("points"), (int, float)) and m["points"] > 0)
    ]
    assert not pointless, f"graded cells without positive points: {pointless}"


@lessons
@stored
def test_test_cells_are_locked(lesson, folder):
    unlocked = [
        m["grade_id"]
        for _, c, m in graded_cells(both(lesson)[folder])
        if is_test(c) and not m.get("locked")
    ]
    assert not unlocked, f"test cells not locked: {unlocked}"


@lessons
def test_every_answer_cell_has_its_test_cell_after_it(lesson):
    cells = graded_cells(course.solution_path(lesson))
    position = {m["grade_id"]: i for i, _, m in cells}
    answers = [(i, m["grade_id"]) for i, c, m in cells if is_answer(c)]
    assert answers, "the lesson has no autograded answer cell"
    problems = []
    for i, gid in answers:
        test_id = f"test_{gid}"
        if test_id not in position:
            problems.append(f"{gid}: no test cell {test_id!r}")
        elif not is_test(read(course.solution_path(lesson)).cells[position[test_id]]):
            problems.append(f"{test_id} is not a graded, locked test cell")
        elif position[test_id] < i:
            problems.append(f"{test_id} comes before its answer cell")
    assert not problems, "; ".join(problems)


def quiz_id(lesson):
    """``quiz_NN``: the grade_id of a lesson's quiz answer cell (NN = the lesson number)."""
    return f"quiz_{lesson[:2]}"


@lessons
def test_lesson_has_an_autograded_quiz(lesson):
    ids = {m["grade_id"]: c for _, c, m in graded_cells(course.solution_path(lesson))}
    quiz = quiz_id(lesson)
    assert quiz in ids and is_answer(ids[quiz]), f"no quiz answer cell (grade_id {quiz!r})"
    assert f"test_{quiz}" in ids and is_test(ids[f"test_{quiz}"]), (
        f"no quiz test cell (grade_id 'test_{quiz}')"
    )


@lessons
def test_quiz_key_in_the_hidden_test_equals_the_solution_block(lesson):
    cells = {m["grade_id"]: (i, c) for i, c, m in graded_cells(course.solution_path(lesson))}
    quiz = quiz_id(lesson)
    key = quiz_key.parse_key(lesson, *cells[quiz])
    test_source = cells[f"test_{quiz}"][1].source
    found = re.search(r"quiz_score\(\s*\[([^\]]*)\],\s*key=(\[[^\]]*\])", test_source)
    assert found, f"test_{quiz} has no quiz_score([...], key=[...])"
    names = [n.strip() for n in found.group(1).split(",") if n.strip()]
    assert names == [n for n, _, _ in key.items], (
        f"quiz_score in test_{quiz} takes the answers in another order than the solution block"
    )
    assert ast.literal_eval(found.group(2)) == [a for _, a, _ in key.items], (
        f"the key of test_{quiz} differs from the solution block of {quiz}"
    )


# --------------------------------------------------------------------------- headings and points

_POINTS = r"(?P<points>\d+) points?"
HEADINGS = {
    "Exercise": re.compile(
        r"^### Exercise (?P<nn>\d\d)\.(?P<k>\d+) · (?P<tier>Starter|Intermediate|Advanced) · "
        + _POINTS
        + r" · \S.*$"
    ),
    "Quiz": re.compile(r"^### Quiz (?P<nn>\d\d) · True or false · " + _POINTS + "$"),
    "Question": re.compile(r"^### Question (?P<nn>\d\d)\.(?P<k>\d+) · " + _POINTS + r" · \S.*$"),
    "Challenge": re.compile(r"^### Challenge (?P<nn>\d\d) · " + _POINTS + r" · \S.*$"),
}
TIERS = ("Starter", "Intermediate", "Advanced")


def graded_items(lesson):
    """``(heading, match, [(grade_id, points)])`` per graded-item heading, and the problems found.

    A graded cell belongs to the nearest item heading above it; any other heading of level 1-3
    ends the item.
    """
    items, problems, current = [], [], None
    for cell in read(course.solution_path(lesson)).cells:
        meta = nbgrader_meta(cell)
        first = cell.source.splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "markdown" and re.match(r"^#{1,3} ", first):
            kind = first[4:].split(" ", 1)[0] if first.startswith("### ") else ""
            current = None
            if kind in HEADINGS:
                match = HEADINGS[kind].match(first)
                if not match:
                    problems.append(f"heading not in the course format: {first!r}")
                else:
                    current = (first, match, [])
                    items.append(current)
        if meta.get("grade"):
            if current is None:
                problems.append(f"graded cell {meta.get('grade_id')} is under no item heading")
            else:
                current[2].append((meta.get("grade_id"), meta.get("points", 0)))
    return items, problems


@lessons
def test_every_graded_item_has_a_heading_whose_points_are_its_cells_points(lesson):
    items, problems = graded_items(lesson)
    for heading, match, cells in items:
        points = int(match["points"])
        if not re.search(r"\b1 point\b" if points == 1 else r"\b\d+ points\b", heading):
            problems.append(f"{heading!r}: write '1 point', or 'N points' for N > 1")
        if match["nn"] != lesson[:2]:
            problems.append(f"{heading!r}: the number must start with {lesson[:2]}")
        if not cells:
            problems.append(f"{heading!r}: no graded cell under it")
        elif sum(p for _, p in cells) != points:
            problems.append(
                f"{heading!r}: {points} points, but its graded cells "
                f"{', '.join(g for g, _ in cells)} carry {sum(p for _, p in cells)}"
            )
    assert not problems, "\n".join(problems)


@lessons
def test_exercises_are_numbered_in_order_and_in_tier_order(lesson):
    items, _ = graded_items(lesson)
    exercises = [m for h, m, _ in items if h.startswith("### Exercise")]
    questions = [m for h, m, _ in items if h.startswith("### Question")]
    assert exercises, "the lesson has no `### Exercise NN.k · ...` heading"
    assert [int(m["k"]) for m in exercises] == list(range(1, len(exercises) + 1))
    assert [int(m["k"]) for m in questions] == list(range(1, len(questions) + 1))
    tiers = [TIERS.index(m["tier"]) for m in exercises]
    assert tiers == sorted(tiers), (
        "exercises are not in tier order (Starter, Intermediate, Advanced)"
    )
    quizzes = [(h, cells) for h, _, cells in items if h.startswith("### Quiz")]
    assert len(quizzes) == 1, f"expected one `### Quiz {lesson[:2]} · ...` heading"
    assert [g for g, _ in quizzes[0][1]] == [f"test_{quiz_id(lesson)}"]


# --------------------------------------------------------------------------- the page skeleton

# After its numbered sections every lesson ends on the same page skeleton, in this order. The
# course's last lesson ends on "Where to go next" instead of a "Next lesson" preview.
SKELETON = (
    "Exercises",
    "Quiz",
    "Conceptual questions",
    "Coding challenge",
    "Your progress",
    "Key takeaways",
)
OPTIONAL = ("Further reading",)
# Which level-3 item headings belong under which skeleton heading.
ITEMS_UNDER = {"Exercise": "Exercises", "Quiz": "Quiz", "Question": "Conceptual questions"}
ITEMS_UNDER["Challenge"] = "Coding challenge"


def page_headings(lesson):
    """``[(level, title, cell index, cell source)]`` of every heading of level 2 or 3."""
    found = []
    for index, cell in enumerate(read(course.solution_path(lesson)).cells):
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^(##|###) (\S.*)$", line)
            if match:
                found.append((len(match[1]), match[2].strip(), index, cell.source))
    return found


def skeleton_problems(lesson, last: bool) -> list[str]:
    headings = page_headings(lesson)
    level2 = [title for level, title, _, _ in headings if level == 2]
    if "Exercises" not in level2:
        return ["no '## Exercises' heading"]
    tail = level2[level2.index("Exercises") :]
    ending = "Where to go next" if last else "Next lesson"
    body = [t for t in tail if t not in OPTIONAL]
    problems = []
    if body[: len(SKELETON)] != list(SKELETON) or len(body) != len(SKELETON) + 1:
        problems.append(
            f"the headings from '## Exercises' on are {tail}; expected {list(SKELETON)}, "
            f"then '## {ending}...' (optionally '## Further reading' before it)"
        )
    elif not body[-1].startswith(ending):
        problems.append(f"the last heading is '## {body[-1]}'; expected '## {ending}...'")
    section = None
    for level, title, _, source in headings:
        if level == 2:
            section = title
            if title == "Exercises" and not all(t in source for t in TIERS):
                problems.append("the '## Exercises' cell does not introduce the three tiers")
            continue
        kind = title.split(" ", 1)[0]
        if kind in ITEMS_UNDER and section != ITEMS_UNDER[kind]:
            problems.append(f"'### {title}' is under '## {section}', not '## {ITEMS_UNDER[kind]}'")
    return problems


@lessons
def test_lesson_ends_on_the_course_page_skeleton(lesson):
    problems = skeleton_problems(lesson, last=lesson == LESSONS[-1])
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the course as a whole


def _answer_functions(cell):
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def test_no_grade_id_or_graded_function_is_used_in_two_lessons():
    grade_ids, functions = defaultdict(set), defaultdict(set)
    for lesson in LESSONS:
        for _, cell, meta in graded_cells(course.solution_path(lesson)):
            if meta["grade_id"] != "setup":
                grade_ids[meta["grade_id"]].add(lesson)
            if is_answer(cell):
                for name in _answer_functions(cell):
                    functions[name].add(lesson)
    shared = [f"grade_id {g}: {sorted(ls)}" for g, ls in sorted(grade_ids.items()) if len(ls) > 1]
    shared += [f"function {f}: {sorted(ls)}" for f, ls in sorted(functions.items()) if len(ls) > 1]
    assert not shared, "used in two lessons:\n" + "\n".join(shared)


@lessons
@stored
def test_setup_cell_is_the_first_code_cell_and_tagged(lesson, folder):
    code = [c for c in read(both(lesson)[folder]).cells if c.cell_type == "code"]
    assert code, "no code cells"
    assert course.SETUP_TAG in code[0].metadata.get("tags", []), (
        "the first code cell is not tagged 'setup'"
    )
    assert code[0].source == course.setup_cell_source(lesson, course.settings()), (
        "the setup cell differs from autograder.course.setup_cell_source: run the release"
    )
    assert sum(course.SETUP_TAG in c.metadata.get("tags", []) for c in code) == 1, (
        "more than one setup cell"
    )


@lessons
def test_header_has_the_colab_badge_of_this_lesson(lesson):
    first = read(course.lesson_path(lesson)).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        "the first cell is not a title"
    )
    assert course.badge_url(lesson, course.settings()) in first.source, (
        "no Colab badge for this lesson"
    )


# --------------------------------------------------------------------------- running
#
# The solved and untouched student versions run once, in the lesson's nbgrader run
# (conftest.autograde); these tests read nbgrader's executed copies.

_MARKER_LINE = re.compile(r"^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)[ \t]*\n?", re.MULTILINE)


def code_sources(nb) -> list[str]:
    """Each code cell's source without nbgrader's solution and hidden-test marker lines."""
    return [_MARKER_LINE.sub("", c.source).strip() for c in nb.cells if c.cell_type == "code"]


@autograded_lessons
def test_solutions_notebook_runs_top_to_bottom(lesson, autograded):
    result = autograded(lesson)
    run = result.executed(SOLVED)
    # The solved submission is the solutions notebook, code cell for code cell: its run is the
    # solutions notebook's run (nbgrader puts the hidden tests back into the test cells).
    solutions = read(course.solution_path(lesson))
    assert code_sources(run) == code_sources(solutions), (
        "the solved submission's code differs from the solutions notebook's"
    )
    errors = errors_of(run)
    assert not errors, "cells failed: " + "; ".join(
        f"cell {e.index} ({e.grade_id or 'no grade_id'}): {e.ename}: {e.evalue[:300]}"
        for e in errors
    )


@autograded_lessons
def test_nbconverts_html_export_has_no_image_without_alternative_text(lesson, autograded):
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(autograded(lesson).executed(SOLVED))
    assert "<img" in html, f"{lesson}: the export shows no figure"
    missing = html.count("No description has been provided for this image")
    assert missing == 0, (
        f"{lesson}: {missing} figure(s) without alternative text (nbconvert's warning "
        "'Alternative text is missing'): give helpers.show an alt= sentence (docs/AUTHORING.md)"
    )


@autograded_lessons
def test_student_version_fails_only_in_answer_cells_and_their_tests(lesson, autograded):
    nb = autograded(lesson).executed(UNTOUCHED)
    stored = read(course.lesson_path(lesson))
    assert [c.source for c in nb.cells if not is_test(c)] == [
        c.source for c in stored.cells if not is_test(c)
    ], "nbgrader's copy of the untouched submission is not lessons/' notebook"
    errors = errors_of(nb)
    first_answer = min((i for i, c in enumerate(nb.cells) if is_answer(c)), default=len(nb.cells))
    unexpected = []
    for e in errors:
        cell = nb.cells[e.index]
        if is_answer(cell) and e.ename == "NotImplementedError":
            continue
        if is_test(cell) and e.index > first_answer:
            continue
        unexpected.append(
            f"cell {e.index} ({e.grade_id or 'not graded'}): {e.ename}: {e.evalue[:300]}"
        )
    assert not unexpected, "cells other than answers and their tests failed:\n" + "\n".join(
        unexpected
    )
    failing_tests = {e.grade_id for e in errors if is_test(nb.cells[e.index])}
    untested = [
        f"test_{gid}"
        for gid in (nbgrader_meta(c)["grade_id"] for c in nb.cells if is_answer(c))
        if f"test_{gid}" not in failing_tests
    ]
    assert not untested, f"test cells that pass on the untouched student version: {untested}"


# -------------------------------------------------------------------------- real nbgrader autograde


def autograded_points(grades):
    return {gid: row for gid, row in grades.items() if row.cell_type == "code"}


@autograded_lessons
def test_solved_student_version_gets_every_autograded_point(lesson, autograded):
    result = autograded(lesson)
    print(f"\n{lesson}: autograde of {result.students} submissions took {result.seconds:.1f} s")
    rows = autograded_points(result.of(SOLVED))
    assert rows, "no autograded cells were graded"
    short = {
        gid: (r.auto_score, r.max_score) for gid, r in rows.items() if r.auto_score != r.max_score
    }
    assert not short, f"points lost by the solutions: {short}\n{result.log[-3000:]}"


@autograded_lessons
def test_trimmed_submission_scores_like_the_full_one(lesson, autograded):
    """Fixture variants are graded trimmed (see conftest.trim); that must not change a score."""
    result = autograded(lesson)
    full = {gid: r.auto_score for gid, r in autograded_points(result.of(SOLVED)).items()}
    trimmed = {gid: r.auto_score for gid, r in autograded_points(result.of(SOLVED_TRIMMED)).items()}
    assert trimmed == full, f"trimming changed the solved scores: full {full}, trimmed {trimmed}"


@autograded_lessons
def test_untouched_student_version_gets_no_point(lesson, autograded):
    rows = autograded_points(autograded(lesson).of(UNTOUCHED))
    scored = {gid: r.auto_score for gid, r in rows.items() if r.auto_score}
    assert not scored, f"points given for unanswered exercises: {scored}"


@lessons
def test_answer_fixtures_cover_every_graded_function(lesson):
    answers = load_fixtures(lesson)
    if answers is None:
        pytest.skip(f"no tests/fixtures/answers/{lesson}.py")
    graded = [
        nbgrader_meta(c)["grade_id"]
        for c in read(course.solution_path(lesson)).cells
        if is_answer(c)
    ]
    thin = [
        f"{gid} ({len(answers.get(gid, {}).get('right', []))} right, "
        f"{len(answers.get(gid, {}).get('wrong', {}))} wrong)"
        for gid in graded
        if len(answers.get(gid, {}).get("right", [])) < 1
        or len(answers.get(gid, {}).get("wrong", {})) < 2
    ]
    assert not thin, (
        "each answer cell needs >= 1 right and >= 2 wrong fixture answers: " + ", ".join(thin)
    )
    unknown = sorted(set(answers) - set(graded))
    assert not unknown, f"fixtures for answer cells the lesson does not have: {unknown}"


ALL_VARIANTS = [
    pytest.param(lesson, v, id=f"{lesson}-{v.student}", marks=lesson_group(lesson))
    for lesson in LESSONS
    for v in variants(lesson)
]


@pytest.mark.parametrize(
    "lesson, variant", [p for p in ALL_VARIANTS if p.values[1].kind == "right"]
)
def test_right_answer_keeps_full_marks(lesson, variant, autograded):
    row = autograded(lesson).of(variant.student)[f"test_{variant.grade_id}"]
    assert row.auto_score == row.max_score, (
        f"a right answer for {variant.grade_id} got {row.auto_score} of {row.max_score}:\n"
        f"{variant.source}"
    )


@pytest.mark.parametrize(
    "lesson, variant", [p for p in ALL_VARIANTS if p.values[1].kind == "wrong"]
)
def test_wrong_answer_loses_points(lesson, variant, autograded):
    row = autograded(lesson).of(variant.student)[f"test_{variant.grade_id}"]
    assert row.auto_score is not None and row.auto_score < row.max_score, (
        f"wrong answer ({variant.label}) for {variant.grade_id} "
        f"kept {row.auto_score} of {row.max_score}"
    )


@autograded_lessons
def test_packed_submissions_keep_every_point_their_mistakes_cannot_reach(lesson, autograded):
    """A packed submission carries several variants; every other test row of it, on which
    none of its wrong variants can act (tests/support/packing.py), keeps the solved score:
    the kernel lived on and no variant changed what the others' tests see."""
    result = autograded(lesson)
    solved = autograded_points(result.of(SOLVED_TRIMMED))
    assert set(result.untouchable) == set(result.packed_in.values())
    lost = {}
    for student, answer_ids in result.untouchable.items():
        rows = result.of(student)
        for gid in answer_ids:
            test = f"test_{gid}"
            if test in solved and rows[test].auto_score != solved[test].auto_score:
                lost[f"{student}/{test}"] = (rows[test].auto_score, solved[test].auto_score)
    assert not lost, f"rows a packed mistake cannot reach changed (got, solved): {lost}"
    packed = {v.student for v in variants(lesson)}
    assert set(result.packed_in) == packed, "a fixture variant is in no submission"
