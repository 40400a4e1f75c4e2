"""Best-of-N wall-clock timing with ``time.perf_counter``."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Smallest time per call of ``fn`` over ``repeat`` rounds of ``number`` calls, in seconds.

    The minimum is the figure least disturbed by other processes on the machine.
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def interleaved_best_of(fns: dict[str, Callable[[], object]], repeat: int, number: int = 1):
    """Best-of-``repeat`` time per call for each function, alternating them round by round.

    Alternating keeps slow phases of a shared machine from landing on one contender only.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / number)
    return best


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"
