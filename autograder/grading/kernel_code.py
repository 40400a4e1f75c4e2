"""The code the grader runs inside each student's kernel, around the student's cells.

Before any student cell (``preload``): import the lesson's checkers and ``helpers.checks``
(they bind numpy, math and builtins at import) and snapshot the modules the tests rely on.
Before every test cell (``RESTORE_CALL``): put the snapshot back, so a student who rebinds
numpy.allclose, math.isclose, builtins.abs - or helpers.checks.check itself - changes nothing
the tests see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lessons import Lesson

_GUARD = """
def _grader_guard():
    import builtins, math, sys
    import numpy
    import helpers, helpers.checks
    names = [n for n in sys.modules if n == "helpers" or n.startswith("helpers.")]
    names += ["builtins", "math", "numpy", "numpy.linalg", "numpy.random"]
    saved = {n: (sys.modules[n], dict(vars(sys.modules[n]))) for n in names if n in sys.modules}
    missing = object()

    def restore():
        for name, (module, attrs) in saved.items():
            sys.modules[name] = module
            current = vars(module)
            for key, value in attrs.items():
                if current.get(key, missing) is not value:
                    setattr(module, key, value)

    return restore
__import__("builtins").__dict__["_grader_restore_"] = _grader_guard()
del _grader_guard
"""

RESTORE_CALL = "__import__('builtins').__dict__['_grader_restore_']()"


def preload_lines(lesson: Lesson) -> tuple[str, ...]:
    """Code each kernel runs before the notebook: the lesson's checkers, then the guard."""
    checkers = (
        f"import importlib.util as _u\nif _u.find_spec('helpers.exercises.{lesson.topic}'):\n"
        f"    import helpers.exercises.{lesson.topic}\ndel _u"
    )
    return (checkers, _GUARD)
