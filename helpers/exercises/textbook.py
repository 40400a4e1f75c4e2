"""The finite differences the checkers compare against, written as a textbook writes them.

A plain loop over the coordinates, float64 copies only: independent of ``helpers``' batched
implementation (which a student's answer may be compared with) and of the student's code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_array = np.array
_float64 = np.float64
_float = float
_range = range


def differences(f: Callable[[np.ndarray], Any], x, h: float) -> dict[str, np.ndarray]:
    """Central, forward and backward differences of ``f`` at ``x``, one coordinate at a time.

    ``central[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)`` (error O(h^2)); ``forward[i] =
    (f(x + h e_i) - f(x)) / h`` and ``backward[i] = (f(x) - f(x - h e_i)) / h`` (error O(h)).
    ``f`` only ever sees copies of ``x``.
    """
    x = _array(x, dtype=_float64)
    out = {k: np.zeros_like(x) for k in ("central", "forward", "backward")}
    f0 = _float(f(x.copy()))
    for i in _range(x.size):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fp, fm = _float(f(xp)), _float(f(xm))
        out["central"][i] = (fp - fm) / (2 * h)
        out["forward"][i] = (fp - f0) / h
        out["backward"][i] = (f0 - fm) / h
    return out
