"""What an LMS import of the grades will need, for the report's "Before importing into an
LMS" section. The run's other sections (what it changed of what OUT remembered, what it did
not grade) the report's template, ``templates/report_run.html.j2``, reads from the run's
record itself."""

from __future__ import annotations

from ..vocabulary import NotebookStatus


def import_check(class_list, grades) -> list[tuple[str, str, str]]:
    """Who an LMS import cannot place: students without the identifier each file uses.

    Each line: what they lack, what that means in the LMS, and the students (joined)."""
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
            lines.append((what, where, ", ".join(missing)))
    return lines
