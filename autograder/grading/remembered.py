"""What a course folder remembers of the runs that graded it: ``OUT/.grader/settings.json``.

A later ``grade`` into the same OUT without ``--late-policy``, ``--timeout``, ... goes by what
OUT was graded with, so grading again never changes a decision by leaving a flag out; a flag
that changes one is applied to every notebook it concerns and said in the summary and the
report. Kept here: the limits, the late policy, the deadlines (the gradebook has them too),
the extensions and whether nbgrader's exchange timestamps are trusted; the roster is
``roster.json`` (:mod:`.rules.roster`).

The order, first wins: the command line, then OUT, then ``[tool.course]`` (for a folder graded
the first time), then the defaults. When ``[tool.course]`` says otherwise than OUT, the run
says so and keeps OUT's.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .rules import late
from .settings import Limits
from .vocabulary import GraderError


@dataclass(frozen=True)
class Remembered:
    """settings.json: None (or empty) for what no run has set yet."""

    limits: Limits | None = None
    policy: late.Policy | None = None
    deadlines: dict[str, dt.datetime] = field(default_factory=dict)
    extensions: tuple[late.Extension, ...] | None = None
    exchange_timestamps: bool | None = None


def load(path: Path) -> Remembered:
    """What ``path`` (OUT's settings.json) holds; an empty record when there is none."""
    if not path.is_file():
        return Remembered()
    try:
        data = json.loads(path.read_text())
        extensions = data.get("extensions")
        return Remembered(
            limits=Limits(**data["limits"]) if data.get("limits") else None,
            policy=late.Policy(**data["policy"]) if data.get("policy") else None,
            deadlines=late.parse_table(data.get("deadlines") or {}, f"{path}: deadline of"),
            extensions=None
            if extensions is None
            else tuple(
                late.Extension(e["student"], e["lesson"], late.parse_when(e["due"], str(path)), "")
                for e in extensions
            ),
            exchange_timestamps=data.get("exchange_timestamps"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise GraderError(f"{path}: unreadable ({exc}); remove it to start afresh") from None


def save(path: Path, r: Remembered) -> None:
    data = {
        "limits": asdict(r.limits) if r.limits else None,
        "policy": asdict(r.policy) if r.policy else None,
        "deadlines": {k: v.isoformat() for k, v in sorted(r.deadlines.items())},
        "extensions": None
        if r.extensions is None
        else [
            {"student": e.student, "lesson": e.lesson, "due": e.due.isoformat()}
            for e in sorted(r.extensions, key=lambda e: (e.student, e.lesson))
        ],
        "exchange_timestamps": r.exchange_timestamps,
    }
    path.write_text(json.dumps(data, indent=1) + "\n")


# --------------------------------------------------------------------------- resolving


@dataclass(frozen=True)
class Given:
    """What the command line says of the settings OUT remembers (None or empty: not given)."""

    due: tuple[str, ...] = ()
    extensions: Path | None = None
    late_policy: str | None = None
    late_rate: float | None = None
    late_cap: float | None = None
    roster: Path | None = None
    exchange_timestamps: bool | None = None
    cell_seconds: float | None = None
    submission_seconds: float | None = None
    memory_mb: int | None = None
    output_bytes: int | None = None


def resolve_limits(given: Given, before: Remembered) -> Limits:
    """Each limit: the command line's, else OUT's, else the default."""
    base = before.limits or Limits()
    values = {
        name: getattr(given, name) if getattr(given, name) is not None else getattr(base, name)
        for name in _LIMIT_WORDS
    }
    return Limits(**values)


def resolve_policy(given: Given, site, before: Remembered) -> tuple[late.Policy, list[str]]:
    """The late policy (each value given replaces OUT's, else [tool.course.late]'s), and a note
    when [tool.course.late] says otherwise than what OUT keeps."""
    table = late.policy_table(site.late, "pyproject.toml [tool.course.late]")
    base = before.policy or table
    policy = late.policy_from(given.late_policy, given.late_rate, given.late_cap, base)
    notes = []
    if site.late and before.policy and table != before.policy and policy == before.policy:
        notes.append(
            f"pyproject.toml [tool.course.late] says {table.short()}, this course folder keeps "
            f"{before.policy.short()} from its earlier runs (--late-policy changes it)"
        )
    return policy, notes


def resolve_deadlines(given: Given, site, before: Remembered) -> tuple[late.Deadlines, list[str]]:
    """``--due`` over OUT's deadlines over [tool.course.deadlines]; a note for each lesson
    whose [tool.course.deadlines] entry OUT overrides."""
    table = late.parse_table(site.deadlines, "pyproject.toml [tool.course.deadlines]")
    deadlines = late.parse_due(list(given.due), {**table, **before.deadlines})
    notes = [
        f"pyproject.toml [tool.course.deadlines] gives {lesson} {late.show_time(when)}, this "
        f"course folder keeps {late.show_time(before.deadlines[lesson])} (--due changes it)"
        for lesson, when in sorted(table.items())
        if lesson in before.deadlines
        and before.deadlines[lesson] != when
        and deadlines.due(lesson) == before.deadlines[lesson]
    ]
    return deadlines, notes


# --------------------------------------------------------------------------- what changed


def changes(before: Remembered, after: Remembered) -> list[str]:
    """What ``after`` changes of what OUT remembered, one line each (nothing on a first run)."""
    lines = []
    if before.limits and after.limits and before.limits != after.limits:
        lines += _limit_changes(before.limits, after.limits)
    if before.policy and after.policy and before.policy != after.policy:
        lines.append(f"late policy: {before.policy.short()} -> {after.policy.short()}")
    for lesson in sorted(set(before.deadlines) & set(after.deadlines)):
        old, new = before.deadlines[lesson], after.deadlines[lesson]
        if old != new:
            lines.append(f"deadline of {lesson}: {late.show_time(old)} -> {late.show_time(new)}")
    if before.extensions is not None and after.extensions != before.extensions:
        old, new = _pairs(before.extensions), _pairs(after.extensions or ())
        gone = len(old.keys() - new.keys())
        moved = sum(old[k] != new[k] for k in old.keys() & new.keys())
        lines.append(
            f"extensions: {len(new.keys() - old.keys())} added, {moved} changed, {gone} removed"
        )
    if before.exchange_timestamps is not None and (
        before.exchange_timestamps != after.exchange_timestamps
    ):
        word = {True: "trusted", False: "not read"}
        lines.append(
            f"nbgrader's exchange timestamps: {word[before.exchange_timestamps]} -> "
            f"{word[bool(after.exchange_timestamps)]}"
        )
    return lines


def rescore_scope(before: Remembered, after: Remembered) -> set[str] | None:
    """The lessons whose late penalties must be computed again for every notebook in OUT
    (None: all of them), because a deadline, an extension or the policy changed."""
    if before.policy and after.policy and before.policy != after.policy:
        return None
    lessons = {
        lesson
        for lesson in set(before.deadlines) & set(after.deadlines)
        if before.deadlines[lesson] != after.deadlines[lesson]
    }
    if before.extensions is not None and after.extensions != before.extensions:
        old, new = _pairs(before.extensions), _pairs(after.extensions or ())
        changed = old.keys() ^ new.keys() | {k for k in old.keys() & new.keys() if old[k] != new[k]}
        lessons |= {lesson for _, lesson in changed}
    return lessons


def _pairs(extensions) -> dict[tuple[str, str], dt.datetime]:
    return {(e.student, e.lesson): e.due for e in extensions}


_LIMIT_WORDS = {
    "cell_seconds": ("time limit per cell", "s"),
    "submission_seconds": ("time limit per notebook", "s"),
    "memory_mb": ("memory per kernel", "MB"),
    "output_bytes": ("output kept per cell", "bytes"),
}


def _limit_changes(old: Limits, new: Limits) -> list[str]:
    return [
        f"{words}: {getattr(old, name):g} {unit} -> {getattr(new, name):g} {unit}"
        for name, (words, unit) in _LIMIT_WORDS.items()
        if getattr(old, name) != getattr(new, name)
    ]
