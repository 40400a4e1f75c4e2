"""The report's sections about the run itself: what it changed of what OUT remembered, what
it did not grade (and why), and what an LMS import of the grades will need."""

from __future__ import annotations

import html

from ..vocabulary import NotebookStatus


def _e(text: object) -> str:
    return html.escape(str(text))


def changes(run) -> list[str]:
    """What this run changed of the settings OUT was graded with, and the notes about them."""
    if run is None or not (run.changes or run.notes):
        return []
    parts = ["<h2>Settings changed in this run</h2>"]
    if run.changes:
        parts.append("<ul>" + "".join(f"<li>{_e(c)}</li>" for c in run.changes) + "</ul>")
    else:
        parts.append("<p>None: the run went by what this folder was graded with.</p>")
    parts += [f"<p>Note: {_e(n)}.</p>" for n in run.notes]
    return parts


def not_graded(run) -> list[str]:
    """Folders and LMS files this run did not grade, and why (never dropped in silence)."""
    if run is None or not run.not_graded:
        return []
    return [
        "<h2>Not graded: folders and files that name no student</h2>",
        "<p class='failed'>Nothing in these was graded, and no one was given their grades: "
        "add the student to the roster (or fix its LMS id, e-mail or name) and grade again.</p>",
        "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in run.not_graded) + "</ul>",
    ]


def import_check(class_list, grades) -> list[str]:
    """Who an LMS import cannot place: students without the identifier each file uses."""
    if not class_list:
        return []
    graded = {g.student_id for g in grades if g.status != NotebookStatus.MISSING} | {
        s.id for s in class_list
    }
    people = [s for s in class_list if s.id in graded]
    lines = []
    for what, field, where in (
        ("an e-mail address", "email", "Moodle, when users are mapped by e-mail: left out"),
        ("a username", "username", "Moodle's Username and Canvas's SIS Login ID: empty"),
        ("an LMS user id", "lms_user_id", "Canvas's ID: empty, matched by name instead"),
    ):
        missing = sorted(s.id for s in people if not getattr(s, field))
        if missing:
            lines.append(f"<li>without {what} ({_e(where)}): {_e(', '.join(missing))}</li>")
    if not lines:
        return []
    return [
        "<h2>Before importing into an LMS</h2>",
        "<p>The roster lacks what the export files identify these students by "
        "(<code>python -m autograder export</code> says it again):</p>",
        "<ul>" + "".join(lines) + "</ul>",
    ]
