"""Immediate feedback on exercises: one verdict in JupyterLab, in Colab and in batch grading.

The visible tests of every lesson call the checkers in :mod:`helpers.exercises`, which are
built from the primitives here. A failing check raises :class:`CheckFailure`, whose message
says which call was made, what was expected, what came back, the relative error, and - when
the wrong value matches a typical mistake - what the mistake probably was.

The checks must not trust objects a student can replace. ``helpers`` is imported by the
setup cell, before any student code runs, so every function used to reach a verdict is bound
here at import time: a student who later rebinds ``numpy.allclose``, ``math.isclose`` or
``builtins.max`` changes nothing here. No function below looks a builtin up by name when it runs
(tests/test_checks.py reads this module to make sure).

:func:`progress` re-runs the visible checks of the open lesson against the student's current
functions and shows which exercises pass (computed, never remembered).
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import functools
import math
import re as _re
import sys
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# Bound at import time, before student code can rebind them (see the module docstring).
_asarray = np.asarray
_array = np.array
_copy = np.copy
_isfinite = np.isfinite
_all = np.all
_any = np.any
_shape = np.shape
_array_equal = np.array_equal
_add_reduce = np.add.reduce
_absolute = np.absolute
_maximum_reduce = np.maximum.reduce
_sqrt = math.sqrt
_INF = math.inf
_isinstance = builtins.isinstance
_float = builtins.float
_int = builtins.int
_bool = builtins.bool
_repr = builtins.repr
_str = builtins.str
_type = builtins.type
_len = builtins.len
_callable = builtins.callable
_getattr = builtins.getattr
_max = builtins.max
_min = builtins.min
_sum = builtins.sum
_zip = builtins.zip
_tuple = builtins.tuple
_list = builtins.list
_dict = builtins.dict
_print = builtins.print
_AssertionError = builtins.AssertionError
_Exception = builtins.Exception
_NotImplementedError = builtins.NotImplementedError
_MemoryError = builtins.MemoryError
_settrace, _gettrace = sys.settrace, sys.gettrace
_tm_start, _tm_stop, _tm_tracing = tracemalloc.start, tracemalloc.stop, tracemalloc.is_tracing
_tm_memory, _tm_reset_peak = tracemalloc.get_traced_memory, tracemalloc.reset_peak
_ImportError = builtins.ImportError
_ValueError = builtins.ValueError
_LookupErrors = (builtins.FileNotFoundError, builtins.ModuleNotFoundError)
_enumerate = builtins.enumerate
_any_true = builtins.any
_sorted = builtins.sorted
_NOT_NUMERIC = (builtins.str, builtins.bytes, builtins.dict, builtins.set)
_BAD_NUMBER = (builtins.TypeError, builtins.ValueError)
_BOOL_TYPES = (builtins.bool, np.bool_)
_FLOAT_TYPES = (builtins.float, np.floating)
_Integral_types = (builtins.int, np.integer)
_Real_types = (builtins.int, builtins.float, np.integer, np.floating)


NOT_WRITTEN = "not written"  # CheckFailure.cause: the answer still raises NotImplementedError
RAISED = "raised"  # CheckFailure.cause: the student's function raised an exception


class CheckFailure(_AssertionError):
    """A check failed. ``summary`` is one line; the message adds the details.

    ``summary`` never contains input values, so a grader may show it for a hidden test
    without revealing the test.
    """

    def __init__(
        self,
        summary: str,
        details: tuple[str, ...] | list[str] = (),
        *,
        cause: str = "",
        error: str = "",
    ):
        self.summary = summary
        self.details = _tuple(details)
        # What the student's code did, for callers that react to it (progress, hints): never
        # read from the message text. ``cause`` is NOT_WRITTEN, RAISED or ""; ``error`` the
        # name of the exception the student's code raised.
        self.cause = cause
        self.error = error
        lines = [summary] + ["  " + line for line in self.details]
        _AssertionError.__init__(self, "\n".join(lines))


# --------------------------------------------------------------------------- values


def _as_float_array(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array, or None when it is not numeric."""
    if value is None or _isinstance(value, _NOT_NUMERIC):
        return None
    try:
        arr = _array(value, dtype=np.float64)
    except _BAD_NUMBER:
        return None
    return arr


def trusted_relative_error(got: Any, expected: Any) -> float:
    """Normwise relative error ``||got - expected|| / max(||got||, ||expected||)``, 0 if both are 0.

    The quantity of :func:`helpers.relative_error`, computed only with functions bound at import
    (see the module docstring), so a verdict can trust it. Both are divided by their largest
    magnitude first, so squares of tiny values cannot underflow to a zero norm: the denominator
    is then at least 1, or both arrays are zero.

    Where either holds a nan or an infinity no relative error is defined: the result is then 0
    when both are the same (the same infinities, nans in the same places, equal finite
    entries) and ``inf`` otherwise, so a non-finite value is never within any tolerance of a
    different one (a typical mistake that overflows never "matches" a finite answer).
    """
    a = _as_float_array(got)
    b = _as_float_array(expected)
    if not (_all(_isfinite(a)) and _all(_isfinite(b))):
        return 0.0 if _array_equal(a, b, equal_nan=True) else _INF
    largest = _max(_largest_magnitude(a), _largest_magnitude(b))
    if largest == 0.0:
        return 0.0
    a, b = a / largest, b / largest
    return _norm(a - b) / _max(_norm(a), _norm(b))


def _largest_magnitude(arr: np.ndarray) -> float:
    return _float(_maximum_reduce(_absolute(arr), axis=None, initial=0.0))


def _norm(arr: np.ndarray) -> float:
    flat = arr.ravel()
    return _sqrt(_float(_add_reduce(flat * flat)))


# The old name, still imported by helpers.exercises.chain_rule and .gradients; it goes when
# their rewrite (issue 13) imports trusted_relative_error.
relative_error = trusted_relative_error


def _fmt(value: Any) -> str:
    """A short, readable rendering of a value for a message."""
    if _isinstance(value, np.ndarray):
        with np.printoptions(precision=10, threshold=12, edgeitems=3, linewidth=90):
            text = np.array2string(value, separator=", ")
        return text if value.ndim <= 1 else f"array of shape {value.shape}:\n{text}"
    if _isinstance(value, _FLOAT_TYPES):
        return f"{_float(value):.12g}"
    if _callable(value):
        return _getattr(value, "__name__", None) or _repr(value)
    text = _repr(value)
    return text if _len(text) <= 200 else text[:200] + "..."


def describe_call(name: str, *args: Any, **kwargs: Any) -> str:
    """``name(a, b, k=v)`` with values rendered short: the "call" line of a message."""
    parts = [_fmt(a) for a in args] + [f"{k}={_fmt(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


# --------------------------------------------------------------------------- calling


@contextlib.contextmanager
def quiet():
    """Silence warnings (numpy's floating-point ones included) for the duration of a check.

    nbgrader scores a test cell 0 as soon as anything reaches stderr, so a harmless
    ``RuntimeWarning`` inside a right answer, or inside a reference computation of a
    deliberately wrong formula, must not cost points.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def call(fn: Any, *args: Any, name: str | None = None, **kwargs: Any) -> Any:
    """Call a student's function the way a check should.

    Array arguments are passed as copies - arrays inside lists, tuples and dicts too - and
    compared afterwards, so a function that modifies its input is caught and the caller's own
    arrays, from which a check may compute what it expects, never change;
    ``NotImplementedError`` and crashes become a :class:`CheckFailure` that names the call;
    warnings are silenced (see :func:`quiet`).
    """
    label = name or _getattr(fn, "__name__", "your function")
    require_own(label, fn)
    shown = describe_call(label, *args, **kwargs)
    if not _callable(fn):
        raise CheckFailure(
            f"{label} is not a function.",
            [
                f"got {_type(fn).__name__}: {_fmt(fn)}",
                "define it with `def` in the answer cell and run that cell",
            ],
        )
    originals = [_copied(a) for a in args]
    passed = [_copied(a) for a in args]
    try:
        with quiet():
            result = fn(*passed, **kwargs)
    except _NotImplementedError as exc:
        raise _not_written(label, fn, exc) from None
    except CheckFailure:
        raise
    except _Exception as exc:  # noqa: BLE001 - any crash of student code is the finding
        raise CheckFailure(
            f"{label} raised {_type(exc).__name__}.",
            [f"call    : {shown}", f"message : {exc}"],
            cause=RAISED,
            error=_type(exc).__name__,
        ) from None
    for i, (original, given) in _enumerate(_zip(originals, passed)):
        _require_unchanged(label, shown, i, original, given)
    return result


_NESTED_DEPTH = 3  # arrays this deep in lists, tuples and dicts are copied and compared


def _copied(value: Any, depth: int = 0) -> Any:
    """``value`` with every array in it (in lists, tuples and dicts too) a copy of its own."""
    if _isinstance(value, np.ndarray):
        return _copy(value)
    if depth < _NESTED_DEPTH and _type(value) in (_list, _tuple):
        return _type(value)(_copied(v, depth + 1) for v in value)
    if depth < _NESTED_DEPTH and _type(value) is _dict:
        return {k: _copied(v, depth + 1) for k, v in value.items()}
    return value


def _require_unchanged(label: str, shown: str, i: int, original: Any, given: Any) -> None:
    """Fail when an array of argument ``i`` (or one inside it) was changed by the call."""
    for path, before, after in _arrays_side_by_side(original, given, []):
        if after is not None and _same(before, after):
            continue
        if not path:
            raise CheckFailure(
                f"{label} modified its input array.",
                [f"call   : {shown}", *_changed_entries(before, given)]
                + [
                    f"work on a copy of argument {i + 1} (its .copy(), or .astype(float)) instead "
                    "of changing it in place"
                ],
            )
        kind = "dict" if _type(original) is _dict else "list"
        raise CheckFailure(
            f"{label} modified its input {kind} (argument {i + 1}, entry {path[0]!r}).",
            [
                f"call   : {shown}",
                "build new arrays instead of changing the ones you were given in place",
            ],
        )


def _same(before: Any, after: Any) -> bool:
    try:
        return _bool(_array_equal(before, after, equal_nan=True))
    except _BAD_NUMBER:  # a number replaced by something that is not one
        return False


def _arrays_side_by_side(original: Any, given: Any, path: list) -> list:
    """(path, original array, given array or None) for every array :func:`_copied` copied.

    None stands for what is no longer an array of the original's shape.
    """
    if _isinstance(original, np.ndarray):
        same_shape = _isinstance(given, np.ndarray) and given.shape == original.shape
        return [(path, original, given if same_shape else None)]
    found = []
    if _type(original) in (_list, _tuple) and _type(given) is _type(original):
        for k, (a, b) in _enumerate(_zip(original, given)):
            found += _arrays_side_by_side(a, b, path + [k])
    elif _type(original) is _dict and _type(given) is _dict:
        for k, a in original.items():
            if k not in given:  # an entry removed is a change too
                found.append((path + [k], a, None))
            elif _isinstance(a, _Real_types) and not _isinstance(a, _BOOL_TYPES):
                found.append((path + [k], _asarray(a), _asarray(given[k])))
            else:
                found += _arrays_side_by_side(a, given[k], path + [k])
    return found


def _changed_entries(before: np.ndarray, after: np.ndarray, shown: int = 3) -> list[str]:
    """The entries that changed, to every digit: a step put back as x + h - h differs from x
    in its last bit, which a rounded print would hide."""
    if before.shape != after.shape:
        return [f"shape before : {before.shape}", f"shape after  : {after.shape}"]
    changed = np.argwhere(~np.isclose(before, after, rtol=0.0, atol=0.0, equal_nan=True))
    lines = []
    for index in changed[:shown]:
        at = _tuple(index.tolist())
        where = f"[{', '.join(_str(i) for i in at)}]" if at else "(the one value)"
        lines.append(f"entry {where} : before {before[at].item()!r}, after {after[at].item()!r}")
    if _len(changed) > shown:
        lines.append(f"... and {_len(changed) - shown} more entries changed")
    if _len(changed) and _all(np.isclose(before, after, rtol=1e-12, atol=0.0)):
        lines.append("the change is in the last digits: a step added and taken back is not exact")
    return lines


def require_own(name: str, answer: Any) -> None:
    """A :class:`CheckFailure` when ``answer`` is the course's own reference, not the student's.

    ``forward_difference = helpers.forward_difference`` would pass every check: the exercise
    asks for the student's own code, so an answer defined in the ``helpers`` package is refused
    with a message. (Calls to it inside an answer are pointed out to the instructor instead.)
    """
    module = _getattr(answer, "__module__", None)
    if not (_isinstance(module, _str) and (module == "helpers" or module.startswith("helpers."))):
        return
    what = _getattr(answer, "__qualname__", None) or _getattr(answer, "__name__", name)
    raise CheckFailure(
        f"{name} is the course's own implementation ({module}.{what}), not yours.",
        [
            "the exercise asks you to write it yourself: define it with def (or class) in "
            "its answer cell; use the course's version to check yours, not as your answer"
        ],
    )


def _not_written(label: str, fn: Any, exc: BaseException) -> CheckFailure:
    """``label`` is not written yet, or calls a function that is not (named when known)."""
    callee = _raised_in(exc)
    own = {_getattr(fn, "__name__", None), label, "", "<lambda>", "<module>"}
    if callee in own:
        return CheckFailure(
            f"{label} is not written yet.",
            [
                "replace `raise NotImplementedError()` in its answer cell with your code, "
                "then run that cell"
            ],
            cause=NOT_WRITTEN,
        )
    return CheckFailure(
        f"{label} calls {callee}, which is not written yet.",
        [
            f"write {callee} first (its answer cell still raises NotImplementedError), then run "
            f"its cell and {label}'s again"
        ],
        cause=NOT_WRITTEN,
    )


def _raised_in(exc: BaseException) -> str:
    """The function that raised ``exc``: as the grader's replay says, else its traceback's."""
    told = _getattr(exc, "raised_in", None)
    if _isinstance(told, _str):
        return told
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return "" if tb is None else _str(tb.tb_frame.f_code.co_name)


def require_returned(name: str, got: Any, call: str | None = None, hint: str | None = None) -> Any:
    """``got`` unchanged, or a :class:`CheckFailure` saying that ``name`` returned None.

    The one "did you forget `return`?" guard of every checker: ``hint`` replaces the default
    advice when the exercise knows what should have been returned.
    """
    if got is None:
        where = [f"call : {call}"] if call else []
        advice = hint or "did you forget `return`? (printing a value does not return it)"
        raise CheckFailure(f"{name} returned None.", where + [advice])
    return got


# --------------------------------------------------------------------------- allocation limit

# The limit on what the student's code may allocate during a call, in force now (bytes), for
# the batch grader: there the student's code runs in another process, which applies it.
_ALLOCATION_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "allocation_limit", default=None
)
# False while the student's code runs in another process (the batch grader's worker judging).
_MEASURED_HERE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "allocations_measured_here", default=True
)


def allocation_limit_now() -> int | None:
    """The allocation limit of :func:`allocation_limit` in force, in bytes, or None."""
    return _ALLOCATION_LIMIT.get()


@contextlib.contextmanager
def student_code_runs_elsewhere():
    """Inside, the student's code runs in another process (the batch grader's kernel): an
    :func:`allocation_limit` is then applied there, with each call, not measured here."""
    token = _MEASURED_HERE.set(False)
    try:
        yield
    finally:
        _MEASURED_HERE.reset(token)


@contextlib.contextmanager
def allocation_limit(limit: int):
    """Make the student's code called inside raise MemoryError once it allocated ``limit`` more.

    tracemalloc measures what is allocated (NumPy reports its arrays to it); a trace function
    looks at the peak whenever a Python function is called or returns, so the student's own
    function, or a NumPy function it calls, raises right after the large allocation. In batch
    grading the student's code runs in its kernel: the grader sends the limit with each call,
    and the kernel applies the same measure there (``autograder/grading/record/``).
    """
    token = _ALLOCATION_LIMIT.set(_int(limit))
    try:
        if _MEASURED_HERE.get():
            with measured_allocations(_int(limit)):
                yield
        else:
            yield
    finally:
        _ALLOCATION_LIMIT.reset(token)


@contextlib.contextmanager
def measured_allocations(limit: int):
    """:func:`allocation_limit`'s measure, in this process."""
    started = not _tm_tracing()
    if started:
        _tm_start()
    _tm_reset_peak()
    base = _tm_memory()[0]

    def on_event(frame, event, arg):
        if _tm_memory()[1] - base > limit:
            raise _MemoryError(f"more than {limit / 1e6:.0f} MB allocated")
        return on_event

    def on_call(frame, event, arg):
        frame.f_trace_lines = False  # calls and returns only: loops run at full speed
        return on_event(frame, event, arg)

    previous = _gettrace()
    _settrace(on_call)
    try:
        yield
    finally:
        _settrace(previous)
        if started:
            _tm_stop()


# --------------------------------------------------------------------------- comparing


def check(
    name: str,
    got: Any,
    expected: Any,
    *,
    call: str | None = None,
    rtol: float = 1e-9,
    atol: float = 0.0,
    mistakes: dict[str, Any] | None = None,
    hint: str | None = None,
) -> None:
    """Require ``got`` to equal ``expected`` to a relative error of ``rtol``.

    Parameters
    ----------
    name : what is checked, e.g. ``"forward_difference"``.
    got, expected : numbers or arrays; shapes must match exactly.
    call : the call that produced ``got`` (see :func:`describe_call`), shown in the message.
    rtol, atol : pass when ``||got - expected|| <= atol`` or the normwise relative error is
        at most ``rtol``.
    mistakes : ``{description: value}`` of typical wrong answers. When ``got`` matches one
        of them (to ``rtol``) the message names it as the likely mistake.
    hint : shown when no listed mistake matches.

    Raises
    ------
    CheckFailure
        with the call, the expected and actual values, the relative error and a diagnosis.
    """
    where = [f"call           : {call}"] if call else []
    if got is None:
        raise CheckFailure(
            f"{name} returned None.",
            where + ["did you forget `return`? (printing a value does not return it)"],
        )
    exp = _as_float_array(expected)
    g = _as_float_array(got)
    if g is None:
        raise CheckFailure(
            f"{name} returned a {_type(got).__name__}, not a number or array.",
            where + [f"got : {_fmt(got)}", f"expected : {_fmt(exp if exp.ndim else _float(exp))}"],
        )
    if g.shape != exp.shape:
        # The hint is about values; a shape with the right number of entries is not a value
        # mistake, so it gets the shape's own explanation instead.
        if exp.shape == () and g.size == 1:
            advice = [
                f"one number is expected here: return it as a number (float(...)), not as an "
                f"array of shape {g.shape}"
            ]
        elif g.size == exp.size:
            advice = [f"the right number of entries in another shape: return shape {exp.shape}"]
        else:
            advice = [hint] if hint else []
        raise CheckFailure(
            f"{name} returned the wrong shape.",
            where + [f"expected shape : {exp.shape}", f"got shape      : {g.shape}"] + advice,
        )
    if not _all(_isfinite(g)):
        raise CheckFailure(
            f"{name} returned a value that is not finite.",
            where + [f"got      : {_fmt(got)}", f"expected : {_fmt(expected)}"],
        )
    diff = (g - exp).ravel()
    abs_err = _sqrt(_float(_add_reduce(diff * diff))) if diff.size else 0.0
    err = trusted_relative_error(g, exp)
    if abs_err <= atol or err <= rtol:
        return
    details = where + [
        f"expected       : {_fmt(expected)}",
        f"got            : {_fmt(got)}",
        f"relative error : {err:.2e} (allowed {rtol:.0e})",
    ]
    diagnosis = None
    for description, value in (mistakes or {}).items():
        mv = _as_float_array(value)
        if mv is None or mv.shape != g.shape:
            continue
        if trusted_relative_error(g, mv) <= _max_tol(rtol):
            diagnosis = description
            break
    if diagnosis:
        details.append(f"likely mistake : {diagnosis}")
    elif hint:
        details.append(f"hint           : {hint}")
    raise CheckFailure(f"{name} gave a wrong value.", details)


def _max_tol(rtol: float) -> float:
    # A mistake is recognised a little more loosely than a right answer is accepted: the
    # student's wrong formula may round differently from ours.
    return _min(0.001, rtol * 100)


def check_bool(name: str, value: Any) -> None:
    """Require a quiz answer to be ``True`` or ``False`` (not None, not a string)."""
    if not _isinstance(value, _BOOL_TYPES):
        raise CheckFailure(
            f"{name} must be True or False.",
            [
                f"got {_type(value).__name__}: {_fmt(value)}",
                "replace None with True or False (no quotes)",
            ],
        )


def check_quiz_answers(
    names: tuple[str, ...] | list[str], answers: tuple[Any, ...] | list[Any]
) -> None:
    """Visible quiz check: one answer per name, each ``True`` or ``False``.

    The values are not checked here (that would give the answers away); :func:`quiz_score`
    in the hidden tests does that.
    """
    if _len(answers) != _len(names):
        raise CheckFailure(
            f"the quiz check takes the {_len(names)} quiz answers, got {_len(answers)}."
        )
    for name, value in _zip(names, answers):
        check_bool(name, value)


def quiz_exercise(lesson: str, names: tuple[str, ...], title: str = "Quiz") -> Callable[..., None]:
    """The visible quiz check of a lesson, registered for :func:`progress`.

    The returned function takes the answers in the order of ``names`` and requires each to be
    ``True`` or ``False`` (:func:`check_quiz_answers`).
    """
    names = _tuple(names)

    def check_quiz(*answers: Any) -> None:
        check_quiz_answers(names, answers)

    check_quiz.__doc__ = (
        f"Visible quiz check of {lesson}: each of {', '.join(names)} is True or False."
    )
    return exercise(lesson, title, *names, form_only=True)(check_quiz)


def quiz_score(answers: tuple[Any, ...] | list[Any], key: tuple[bool, ...] | list[bool]) -> float:
    """How many quiz answers match ``key``, printed and returned: a point per right answer.

    A test cell whose result is this number is graded by nbgrader as partial credit. Only a
    real bool counts as an answer, so an object that claims to equal everything scores nothing.
    """
    right = 0
    for answer, expected in _zip(answers, key):
        if _isinstance(answer, _BOOL_TYPES) and _bool(answer) is _bool(expected):
            right += 1
    _print(f"{right} of {_len(key)} quiz answers are right")
    return _float(right)


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Exercise:
    """One autograded exercise as :func:`progress` sees it."""

    lesson: str
    title: str
    names: tuple[str, ...]
    checker: Callable[..., Any]
    # The visible check looks at the answer's form only (a quiz's True/False, a set of names):
    # whether the values are right is marked on submission, so it never says "passed".
    form_only: bool = False


_REGISTRY: dict[str, list[Exercise]] = {}
_STATE: dict[str, Any] = {"lesson": None}


def exercise(
    lesson: str, title: str, *names: str, form_only: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a visible checker for :func:`progress`.

    ``names`` are the names the checker takes from the student's notebook, in order:
    ``@exercise("01_derivatives", "Forward difference", "forward_difference")``. With
    ``form_only`` the checker looks only at the answer's form (its values are marked on
    submission), and :func:`progress` shows a passing check as "answered", never "passed".
    """

    def register(checker: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(checker)
        def visible_check(*answers: Any) -> Any:
            for name, answer in _zip(names, answers):
                require_own(name, answer)
            return checker(*answers)

        entries = _REGISTRY.setdefault(lesson, [])
        entries[:] = [e for e in entries if e.title != title]
        entries.append(Exercise(lesson, title, _tuple(names), visible_check, form_only))
        return visible_check

    return register


def exercises_module(lesson: str):
    """Import and return ``helpers.exercises.<topic>`` for a lesson id like ``01_derivatives``."""
    import importlib

    topic = lesson.split("_", 1)[1] if "_" in lesson else lesson
    return importlib.import_module(f"helpers.exercises.{topic}")


@dataclass(frozen=True)
class ProgressRow:
    title: str  # the lesson's title for the exercise: "Exercise 04.2 · Mini-batches"
    status: str  # "passed", ANSWERED, "failing", "not started", "not run", or BY_HAND
    detail: str
    points: float | None = None  # what the exercise is worth (None: not in the catalogue)
    form_only: bool = False  # its check sees the answer's form only (see exercise())

    @property
    def worth(self) -> str:
        if self.points is None:
            return ""
        return f"{self.points:g} point{'' if self.points == 1 else 's'}"


BY_HAND = "graded by hand"  # a written answer: no check runs in the notebook
ANSWERED = "answered"  # a form-only check passed: the values are marked on submission
_MARK = {
    "passed": "✔",
    ANSWERED: "○",
    "failing": "✘",
    "not started": "·",
    "not run": "?",
    BY_HAND: "✎",
}
_ITEM_KEY = _re.compile(r"^(?:Exercise|Quiz|Question|Challenge) \d+(?:\.\d+)?")


def _catalogue(lesson: str) -> list[dict[str, Any]]:
    """The lesson's items as the release wrote them (titles, points), in lesson order."""
    import json
    from importlib import resources

    try:
        text = resources.files("helpers.exercises").joinpath("catalogue.json").read_text("utf-8")
    except _LookupErrors:
        return []
    return json.loads(text).get(lesson, [])


def _placed(
    lesson: str, entries: list[Exercise]
) -> list[tuple[Exercise | None, str, float | None]]:
    """Each item with the lesson's title and points, in lesson order.

    A registered exercise comes with its check; an item no check covers (a written answer,
    graded by hand) comes with None.
    """
    items = _catalogue(lesson)
    placed = [
        ((index, -1), None, item["title"], item["points"])
        for index, item in _enumerate(items)
        if not item.get("tests") and not _any_true(_covers(item, ex) for ex in entries)
    ]
    for order, ex in _enumerate(entries):
        found = [(i, item) for i, item in _enumerate(items) if _covers(item, ex)]
        if not found:
            placed.append(((_len(items), order), ex, ex.title, None))
            continue
        index, item = found[0]
        tests = item.get("tests", {})
        own = tests.get(f"test_{ex.names[0]}") if ex.names else None
        if _len(tests) > 1 and own is not None:  # one of several parts: keep its own title
            placed.append(((index, order), ex, ex.title, own))
        else:
            placed.append(((index, order), ex, item["title"], item["points"]))
    return [(ex, title, points) for _, ex, title, points in _sorted(placed, key=lambda p: p[0])]


def _covers(item: dict[str, Any], ex: Exercise) -> bool:
    """Whether the registered exercise ``ex`` checks the catalogue's ``item`` (same number)."""
    key = _ITEM_KEY.match(ex.title)
    return _bool(key) and (item["title"] + " ·").startswith(key.group(0) + " ·")


@dataclass(frozen=True)
class Progress:
    """What :func:`progress` found: one row per exercise."""

    lesson: str
    rows: tuple[ProgressRow, ...]

    @property
    def checked(self) -> tuple[ProgressRow, ...]:
        """The rows whose visible checks ran (all but the written answers)."""
        return _tuple(r for r in self.rows if r.status != BY_HAND)

    @property
    def passed(self) -> int:
        return _sum(r.status == "passed" for r in self.rows)

    @property
    def answered(self) -> int:
        return _sum(r.status == ANSWERED for r in self.rows)

    def _headline(self) -> str:
        form = _sum(r.status == ANSWERED or r.form_only for r in self.checked)
        values = _len(self.checked) - form
        text = f"{self.passed} of {values} exercises pass their visible checks"
        if form:
            text += f"; {self.answered} of {form} answered, marked when you submit"
        by_hand = _len(self.rows) - _len(self.checked)
        if by_hand:
            text += f"; {by_hand} written answer{'s' if by_hand != 1 else ''} graded by hand"
        return text

    def __str__(self) -> str:
        width = _max([_len(r.title) for r in self.rows] + [8])
        worth = _max([_len(r.worth) for r in self.rows] + [0])
        lines = [f"Lesson {self.lesson}: {self._headline()}"]
        for r in self.rows:
            lines.append(
                f"  {_MARK[r.status]} {r.title:<{width}}  {r.worth:<{worth}}  "
                f"{r.status}{': ' + r.detail if r.detail else ''}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        colour = {
            "passed": "#1a7f37",
            ANSWERED: "#0550ae",
            "failing": "#cf222e",
            "not started": "#6e7781",
            "not run": "#9a6700",
            BY_HAND: "#59636e",
        }
        # Colour is never the only cue: each status is a word with a symbol.
        rows = "".join(
            f"<tr><th scope='row' style='text-align:left'>{html.escape(r.title)}</th>"
            f"<td>{html.escape(r.worth)}</td>"
            f"<td style='color:{colour[r.status]};font-weight:bold'>"
            f"{_MARK[r.status]} {r.status}</td>"
            f"<td style='text-align:left'>{html.escape(r.detail)}</td></tr>"
            for r in self.rows
        )
        return (
            f"<p><b>Lesson {html.escape(self.lesson)}</b>: {html.escape(self._headline())}.</p>"
            "<table><tr><th scope='col'>exercise</th><th scope='col'>points</th>"
            "<th scope='col'>status</th>"
            f"<th scope='col' style='text-align:left'>detail</th></tr>{rows}</table>"
        )

    def __repr__(self) -> str:
        return self.__str__()


def progress(lesson: str | None = None, namespace: dict[str, Any] | None = None) -> Progress:
    """Run the visible checks of a lesson against the notebook's current functions.

    ``lesson`` defaults to the one named by :func:`setup`; ``namespace`` to the notebook's
    variables. Nothing is remembered between calls: each call runs every check again.
    """
    lesson = lesson or _STATE["lesson"]
    if lesson is None:
        raise _ValueError(
            "no lesson given: run the setup cell first, or call progress('01_derivatives')"
        )
    if namespace is None:
        try:
            from IPython import get_ipython
        except _ImportError:  # pragma: no cover - IPython is always there in a notebook
            get_ipython = None
        shell = get_ipython() if get_ipython else None
        if shell is None:
            raise _ValueError("progress() needs a notebook; outside one pass namespace=globals()")
        namespace = shell.user_ns
    exercises_module(lesson)
    rows = [
        ProgressRow(title, *_run_check(ex, namespace), points, ex.form_only)
        if ex is not None
        else ProgressRow(title, BY_HAND, "your instructor grades this written answer", points)
        for ex, title, points in _placed(lesson, _REGISTRY.get(lesson, []))
    ]
    return Progress(lesson, _tuple(rows))


def _run_check(ex: Exercise, namespace: dict[str, Any]) -> tuple[str, str]:
    """The status and detail of one exercise's visible check, run now."""
    missing = [n for n in ex.names if n not in namespace]
    if missing:
        return "not run", f"run the cell that defines {', '.join(missing)}"
    if ex.names and _all([namespace[n] is None for n in ex.names]):
        return "not started", ""  # still the stub's None: a quiz or a SymPy answer to write
    try:
        ex.checker(*(namespace[n] for n in ex.names))
    except CheckFailure as failure:
        if failure.cause == NOT_WRITTEN:
            return "not started", ""
        return "failing", failure.summary
    except _Exception as exc:  # noqa: BLE001 - a broken answer is a finding, not a crash
        return "failing", f"{_type(exc).__name__}: {exc}"
    if ex.form_only:
        return ANSWERED, "its values are marked when you submit"
    return "passed", ""


# --------------------------------------------------------------------------- setup


def setup(lesson: str | None = None, *, quiet: bool = False) -> None:
    """Prepare a notebook for a lesson: inline figures, readable defaults, lesson for progress()."""
    _STATE["lesson"] = lesson
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except _ImportError:  # pragma: no cover
        shell = None
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    import matplotlib as mpl

    mpl.rcParams.update(
        {"figure.figsize": (7.0, 4.2), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3}
    )
    if not quiet:
        from . import __version__

        where = "Colab" if _in_colab() else "local"
        _print(
            f"Calculus for Deep Learning · lesson {lesson or '?'} · helpers {__version__} · "
            f"numpy {np.__version__} · {where}"
        )


def _in_colab() -> bool:
    import sys

    return "google.colab" in sys.modules


# --------------------------------------------------------------------------- quiz feedback


@dataclass(frozen=True)
class QuizItem:
    """One true/false item as the feedback cell shows it."""

    name: str
    status: str  # "right", "wrong" or "not answered"
    reason: str  # empty while the item is not answered: the reason would give the key away


@dataclass(frozen=True)
class QuizFeedback:
    """What :func:`quiz_feedback` found: one row per quiz item, shown as text or HTML."""

    title: str
    items: tuple[QuizItem, ...]

    @property
    def right(self) -> int:
        return _sum(i.status == "right" for i in self.items)

    @property
    def answered(self) -> int:
        return _sum(i.status != "not answered" for i in self.items)

    def _summary(self) -> str:
        if not self.answered:
            return (
                f"{self.title}: no answer yet. Replace each None above with True or False, "
                "run the quiz cells, then run this cell again."
            )
        return f"{self.title}: {self.right} of {_len(self.items)} right ({self.answered} answered)"

    def __str__(self) -> str:
        mark = {"right": "✔", "wrong": "✘", "not answered": "·"}
        lines = [self._summary()]
        for i in self.items:
            reason = f" - {i.reason}" if i.reason else ""
            lines.append(f"  {mark[i.status]} {i.status:<12} {i.name}{reason}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        import html

        # Colour is never the only cue: every row says right/wrong and carries a symbol.
        style = {
            "right": ("✔", "#1a7f37"),
            "wrong": ("✘", "#cf222e"),
            "not answered": ("·", "#6e7781"),
        }
        rows = "".join(
            f"<tr><td style='color:{style[i.status][1]};font-weight:bold'>"
            f"{style[i.status][0]} {i.status}</td><td><code>{html.escape(i.name)}</code></td>"
            f"<td style='text-align:left'>{html.escape(i.reason)}</td></tr>"
            for i in self.items
        )
        return (
            f"<p>{html.escape(self._summary())}</p><table><tr><th scope='col'>verdict</th>"
            "<th scope='col'>item</th>"
            f"<th scope='col' style='text-align:left'>why</th></tr>{rows}</table>"
        )


def encode_quiz_key(title: str, items: list[tuple[str, bool, str]]) -> str:
    """The text a feedback cell carries: base64 of JSON, so the key is not read at a glance.

    Self-study feedback, not security: anyone can decode it.
    """
    import base64
    import json

    data = {"title": title, "items": [[n, _bool(a), r] for n, a, r in items]}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_quiz_key(key: str) -> tuple[str, list[tuple[str, bool, str]]]:
    """The title and ``(name, answer, reason)`` items of :func:`encode_quiz_key`'s text."""
    import base64
    import json

    data = json.loads(base64.b64decode(key.encode("ascii")).decode("utf-8"))
    return data["title"], [(n, _bool(a), r) for n, a, r in data["items"]]


def quiz_feedback(namespace: dict[str, Any], key: str) -> QuizFeedback:
    """Right or wrong, and why, for each quiz answer defined in ``namespace``.

    The cell the release writes after a quiz's test cell calls this with ``globals()`` and the
    encoded key (:func:`encode_quiz_key`). An item still ``None`` (or anything but a bool) is
    "not answered" and its reason stays hidden. Plain display (text and HTML, no widgets), so
    it shows the same in JupyterLab, Colab and exported HTML.
    """
    title, items = decode_quiz_key(key)
    rows = []
    for name, answer, reason in items:
        value = namespace.get(name)
        if not _isinstance(value, _BOOL_TYPES):
            rows.append(QuizItem(name, "not answered", ""))
        elif _bool(value) is answer:
            rows.append(QuizItem(name, "right", reason))
        else:
            rows.append(QuizItem(name, "wrong", reason))
    return QuizFeedback(title, _tuple(rows))
