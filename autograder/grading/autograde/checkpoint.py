"""Finishing a batch cut short: what was already autograded is not executed again.

While a cluster run grades, each notebook's outcome is appended to
``OUT/.grader/unfinished.jsonl`` as soon as nbgrader has autograded it, with a digest of
everything its execution depended on (the repaired notebook, the code its kernel ran first,
the tests, the limits). When the run stops early - the scheduler lost - running the same
command again takes those outcomes as they are (their gradebook entries are already there)
and executes only the rest. A run that publishes removes the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from ..course_dir import CoursePaths
from ..outcomes import Outcome
from ..settings import Limits


def digest(notebook: Any, preload: tuple[str, ...], tests: dict[str, str], limits: Limits) -> str:
    """What a notebook's execution depends on, as one hash."""
    data = json.dumps([notebook, list(preload), tests, asdict(limits)], sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


class Checkpoint:
    """The outcomes a run has autograded so far, kept until it publishes."""

    def __init__(self, course: CoursePaths):
        self.path = course.state / "unfinished.jsonl"

    def load(self) -> dict[tuple[str, str], tuple[str, Outcome, bool]]:
        """(student, lesson) -> (digest, outcome, whether it has a gradebook entry)."""
        found = {}
        lines = self.path.read_text().splitlines() if self.path.is_file() else []
        for line in lines:
            try:
                entry = json.loads(line)
                outcome = Outcome.from_record(entry["outcome"])
            except (ValueError, KeyError, TypeError):  # a line cut by the stop: run it again
                continue
            if outcome.failure is not None and outcome.failure.by_grader:
                continue  # lost by the grader's fault: graded again (and lost again, said so)
            found[(outcome.student, outcome.lesson)] = (entry["digest"], outcome, entry["graded"])
        return found

    def add(self, key_digest: str, outcome: Outcome, graded: bool) -> None:
        entry = {"digest": key_digest, "outcome": outcome.to_record(), "graded": graded}
        with open(self.path, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
