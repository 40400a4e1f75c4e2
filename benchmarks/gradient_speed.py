"""Batched vs textbook-loop central gradient on a cheap vectorised function."""

from __future__ import annotations

import numpy as np

from helpers import default_step, gradient

from .timing import interleaved_best_of, verdict

SIZES = (10, 100, 1000)
# Targets from the specification: speed-up of helpers' batched gradient over the loop.
TARGETS = {100: 10.0, 1000: 2.0}


def quadratic(X):
    """0.5 * ||x||^2, vectorised over the last axis: the cheapest f, so the figures measure
    what a gradient routine adds around the calls of f."""
    return 0.5 * np.sum(X * X, axis=-1)


def rosenbrock(X):
    """Rosenbrock, vectorised over the last axis: cheap arithmetic, no transcendentals."""
    return np.sum(100.0 * (X[..., 1:] - X[..., :-1] ** 2) ** 2 + (1.0 - X[..., :-1]) ** 2, axis=-1)


def trigonometric(X):
    """sum(cos(x) + x^2 / 2): the cos makes each evaluation compute-bound at large n."""
    return np.sum(np.cos(X) + 0.5 * X * X, axis=-1)


CASES = [
    ("f = 0.5 ||x||^2 (cheap, vectorised): the specification's targets", quadratic, True),
    ("f = Rosenbrock (informative: more arithmetic per point)", rosenbrock, False),
    ("f = sum(cos(x) + x^2/2) (informative: compute-bound at large n)", trigonometric, False),
]


def textbook_gradient(f, x, h):
    """The central-difference loop every course writes first: 2n calls of f."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        grad[i] = (f(x + e) - f(x - e)) / (2 * h[i])
    return grad


def run(quick: bool = False) -> dict:
    repeat = 1 if quick else 7
    print("1. Central gradient: helpers' batched gradient vs the textbook Python loop")
    print("   (all do 2n evaluations; 'one call' = f on the whole (2n, n) batch at once)")
    figures = {}
    rng = np.random.default_rng(0)
    for title, f, with_targets in CASES:
        print(f"   {title}")
        print(
            f"   {'n':>5} {'loop ms':>9} {'helpers loop ms':>16} {'batched ms':>11} "
            f"{'one call ms':>12} {'speed-up':>9} {'target':>7}  result"
        )
        for n in SIZES:
            x = rng.uniform(-2.0, 2.0, n)
            figures[f.__name__, n] = _measure(f, x, repeat, with_targets)
    print()
    return figures


def _measure(f, x, repeat, with_targets):
    n = x.size
    h = default_step(x, "central")
    everything = np.repeat(x[None, :], 2 * n, axis=0)
    batched = gradient(f, x, batched=True)
    assert np.allclose(textbook_gradient(f, x, h), batched, rtol=1e-6, atol=1e-6)
    times = interleaved_best_of(
        {
            "loop": lambda: textbook_gradient(f, x, h),
            "helpers_loop": lambda: gradient(f, x),
            "batched": lambda: gradient(f, x, batched=True),
            "one_call": lambda: f(everything),
        },
        repeat=repeat,
        number=3 if n < 1000 else 1,
    )
    speedup = times["loop"] / times["batched"]
    target = TARGETS.get(n) if with_targets else None
    result = "-" if target is None else verdict(speedup >= target)
    target_text = "-" if target is None else f">= {target:g}x"
    print(
        f"   {n:>5} {times['loop'] * 1e3:>9.3f} {times['helpers_loop'] * 1e3:>16.3f} "
        f"{times['batched'] * 1e3:>11.3f} {times['one_call'] * 1e3:>12.3f} "
        f"{speedup:>8.1f}x {target_text:>7}  {result}"
    )
    return speedup
