"""Batched vs textbook-loop central gradient: the chunk-size sweep and the chosen rule.

The batched gradient sends its 2n perturbed points to f in chunks of at most
``helpers.differentiate._CHUNK_BYTES`` bytes. The sweep measures the speed-up over the
textbook loop for several chunk caps, each in a fresh Python process (``python -m
benchmarks.gradient_speed --cap BYTES``): how fast a chunk is depends on whether the memory
allocator hands f fresh pages, and a process that once freed a big array behaves differently
from a new one, so the caps must not share a process. Times are CPU time of the process
(``time.process_time``; the machine is shared) and each ratio is median loop time / median
batched time over interleaved rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from helpers import default_step, differentiate, gradient

from .timing import verdict

SIZES = (10, 100, 1000, 10000)
TARGETS = {100: 15.0, 1000: 3.0}  # speed-up of the batched gradient over the loop
OLD_RULE = 2**20  # the 1 MiB rule this sweep replaced
CAPS = (2**15, 2**16, None, 2**18, 2**19, OLD_RULE, 0)  # None: the rule; 0: one call
WIDTH = 8  # samples of the least-squares loss
# One BLAS thread, as the grader's kernels run: threads fighting over 2 shared cores would
# measure the machine, not the chunks.
ONE_THREAD = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
LARGEST_BATCH = 2**26  # bytes; "1 call" skips n = 10000, whose (2n, n) batch is 1.6 GB


def sine_sum(X):
    """sum(sin(x)): elementwise, compute-bound (a sine costs more than the call around it)."""
    return np.sum(np.sin(X), axis=-1)


def quadratic(X):
    """0.5 ||x||^2: elementwise and the cheapest f, so it measures what the gradient adds."""
    return 0.5 * np.sum(X * X, axis=-1)


def log_sum_exp(X):
    """log(sum(exp(x))) shifted by the max: a reduction with three temporaries per call."""
    top = np.max(X, axis=-1, keepdims=True)
    return top[..., 0] + np.log(np.sum(np.exp(X - top), axis=-1))


def least_squares(X):
    """0.5 * mean((x @ A - y)^2) over 8 samples: a small matrix product per call."""
    A, y = _least_squares_data(X.shape[-1])
    residual = X @ A - y
    return 0.5 * np.mean(residual * residual, axis=-1)


def _least_squares_data(n, cache={}):  # noqa: B006 - one fixed A and y per n, made once
    if n not in cache:
        rng = np.random.default_rng(n)
        cache[n] = rng.standard_normal((n, WIDTH)) / np.sqrt(n), rng.standard_normal(WIDTH)
    return cache[n]


# (kind, f, whether the targets apply): the sine sum cannot reach them whatever the chunks,
# since its loop already spends most of its time computing sines.
KINDS = [
    ("elementwise", sine_sum, False),
    ("elementwise", quadratic, True),
    ("reduction", log_sum_exp, True),
    ("matrix product", least_squares, True),
]
FAULTS_SHOWN = {("log_sum_exp", 100), ("log_sum_exp", 1000), ("quadratic", 1000)}
LARGE_N_FUNCTIONS = (quadratic,)  # n = 10000 only with a cheap f: its loop takes 0.2-0.3 s


def textbook_gradient(f, x, h):
    """The central-difference loop every course writes first: 2n calls of f."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        grad[i] = (f(x + e) - f(x - e)) / (2 * h[i])
    return grad


def cases():
    """Every (f, n) the sweep measures, n ascending (see ``measure_all``)."""
    for n in SIZES:
        for _, f, _ in KINDS:
            if n < 10000 or f in LARGE_N_FUNCTIONS:
                yield f, n


def measure_all(repeat: int) -> list[dict]:
    """Loop and batched CPU times for every case, in this process and its chunk cap.

    n ascends, so each batch is the largest the allocator has seen so far, as in a fresh
    process. Rounds: ``repeat`` up to n = 100, fewer above (the loop takes 10-300 ms).
    """
    rows = []
    for f, n in cases():
        x = np.random.default_rng(n).uniform(-2.0, 2.0, n)
        h = default_step(x, "central")
        if min(differentiate._CHUNK_BYTES, 16 * n * n) > LARGEST_BATCH:
            rows.append({"f": f.__name__, "n": n, "loop": None, "batched": None})
            continue
        loop = lambda: textbook_gradient(f, x, h)  # noqa: E731
        batched = lambda: gradient(f, x, batched=True)  # noqa: E731
        np.testing.assert_allclose(loop(), batched(), 1e-6, 1e-6)
        # Each timing repeats its own function for about TIMING_SECONDS: a single call of the
        # batched gradient (tens of microseconds) would measure the cold caches the loop
        # before it left behind, not the gradient.
        loop_number, batched_number = _number(loop), _number(batched)
        loops, batches, faults = [], [], 0
        for _ in range(_rounds(repeat, n)):  # interleaved: a slow phase hits both
            loops.append(_cpu_time(loop, loop_number))
            before = _page_faults()
            batches.append(_cpu_time(batched, batched_number))
            faults += _page_faults() - before
        rows.append(
            {
                "f": f.__name__,
                "n": n,
                "loop": statistics.median(loops),
                "batched": statistics.median(batches),
                "faults": faults / (len(batches) * batched_number),  # per batched gradient
            }
        )
    return rows


TIMING_SECONDS = 0.01  # CPU time one timing spans (at least one call)


def _number(fn) -> int:
    """How many calls of ``fn`` take about TIMING_SECONDS (timed once, warm)."""
    fn()
    return max(1, round(TIMING_SECONDS / max(_cpu_time(fn, 1), 1e-7)))


def _rounds(repeat: int, n: int) -> int:
    return repeat if n <= 100 else (repeat + 1) // 2 if n <= 1000 else 1


def _page_faults() -> int:
    """Minor page faults of this process so far: fresh memory the kernel had to map."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _cpu_time(fn, number: int) -> float:
    start = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - start) / number


def sweep(repeat: int) -> dict:
    """Run ``measure_all`` once per chunk cap, each in a fresh process: {cap: rows}."""
    results = {}
    for cap in CAPS:
        command = [sys.executable, "-m", "benchmarks.gradient_speed", "--repeat", str(repeat)]
        if cap is not None:
            command += ["--cap", str(cap)]
        done = subprocess.run(command, env=ONE_THREAD, capture_output=True, text=True, check=True)
        results[cap] = json.loads(done.stdout)
    return results


def _ratio_text(row: dict) -> str:
    return "-" if row["batched"] is None else f"{row['loop'] / row['batched']:.1f}x"


def _faults_text(row: dict) -> str:
    return "-" if row["batched"] is None else f"{row['faults']:.0f}"


def cap_label(cap) -> str:
    if cap is None:
        return f"{differentiate._CHUNK_BYTES // 1024}K*"
    if cap == 0:
        return "1 call"
    return f"{cap // 2**20}M" if cap >= 2**20 else f"{cap // 1024}K"


def rule_text() -> str:
    parts = []
    for n in SIZES:
        rows = min(differentiate._chunk_rows(n), 2 * n)
        calls = -(-2 * n // rows)
        parts.append(f"n = {n}: {rows} row{'s' * (rows > 1)}, {calls} call{'s' * (calls > 1)}")
    cap = differentiate._CHUNK_BYTES // 1024
    return f"rows per call of f = max(1, {cap} KiB // (8 n bytes)): " + "; ".join(parts)


def run(quick: bool = False) -> dict:
    repeat = 1 if quick else 5
    print("1. Central gradient: helpers' batched gradient vs the textbook Python loop (2n calls)")
    print(
        "   Sweep: speed-up over the loop for each cap on the bytes per call of f (* = the rule,\n"
        "   1M = the old 1 MiB rule, 1 call = all 2n rows at once). Each cap in a fresh process,\n"
        f"   one BLAS thread; CPU time, median of {repeat} interleaved rounds "
        f"({_rounds(repeat, 1000)} at n = 1000, {_rounds(repeat, 10000)} at 10000);\n"
        "   the machine is shared: noisy."
    )
    results = sweep(repeat)
    _print_sweep(results)
    print(f"   Chosen rule: {rule_text()}")
    figures = _print_targets(results[None])
    print()
    return figures


def _print_sweep(results: dict) -> None:
    header = "".join(f"{cap_label(cap):>8}" for cap in CAPS)
    print(f"   {'f':<14}{'n':>6} {header}")
    for i, (f, n) in enumerate(cases()):
        cells = "".join(f"{_ratio_text(results[cap][i]):>8}" for cap in CAPS)
        print(f"   {f.__name__:<14}{n:>6} {cells}")
    print(
        "   Why: minor page faults per batched gradient (fresh memory mapped for f's temporaries)"
    )
    print(f"   {'f':<14}{'n':>6} {header}")
    for i, (f, n) in enumerate(cases()):
        if (f.__name__, n) in FAULTS_SHOWN:
            cells = "".join(f"{_faults_text(results[cap][i]):>8}" for cap in CAPS)
            print(f"   {f.__name__:<14}{n:>6} {cells}")


def _print_targets(rows: list[dict]) -> dict:
    """The rule's figures against the targets: {(f name, n): speed-up}."""
    print("   With the rule, against the targets:")
    print(
        f"   {'f':<14}{'n':>6} {'loop ms':>9} {'batched ms':>11} {'speed-up':>9} {'target':>7}"
        "  result"
    )
    figures = {}
    with_targets = {f.__name__ for _, f, applies in KINDS if applies}
    for row in rows:
        speedup = row["loop"] / row["batched"]
        figures[row["f"], row["n"]] = speedup
        target = TARGETS.get(row["n"]) if row["f"] in with_targets else None
        result = "-" if target is None else f"{verdict(speedup >= target)} ({speedup:.1f}x)"
        target_text = "-" if target is None else f">= {target:g}x"
        print(
            f"   {row['f']:<14}{row['n']:>6} {row['loop'] * 1e3:>9.3f} "
            f"{row['batched'] * 1e3:>11.3f} {speedup:>8.1f}x {target_text:>7}  {result}"
        )
    print("   (sine_sum carries no target: computing its sines is most of its loop's time)")
    return figures


def main(argv: list[str] | None = None) -> int:
    """One column of the sweep: measure every case under one chunk cap, print JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gradient_speed")
    parser.add_argument(
        "--cap", type=int, help="bytes per call of f (0: one call); default: the rule"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if args.cap is not None:
        differentiate._CHUNK_BYTES = args.cap or 2**62
    print(json.dumps(measure_all(args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
