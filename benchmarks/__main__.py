"""Run the benchmarks: ``python -m benchmarks [--quick] [--section NAME ...]``.

``--quick`` runs every section with fewer repeats and epochs, so it finishes in seconds; its
timings are not meaningful, but every figure is printed (``tests/test_benchmarks.py`` checks
that). The "lessons" section runs every lesson's solutions notebook in a fresh kernel (only
the first lesson with ``--quick``). The full run takes about a minute on a 2-core machine.

Grading throughput is a separate command, ``python -m benchmarks.grading``: it runs real
nbgrader and takes minutes.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np

from . import accuracy, gradient_speed, lessons, training_speed

SECTIONS = {
    "gradient": gradient_speed.run,
    "training": training_speed.run,
    "accuracy": accuracy.run,
    "lessons": lessons.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and epochs: a smoke run"
    )
    parser.add_argument(
        "--section",
        action="append",
        choices=sorted(SECTIONS),
        help="run only this section (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    chosen = args.section or list(SECTIONS)
    print(
        f"helpers benchmarks - Python {platform.python_version()}, numpy {np.__version__}, "
        f"{'QUICK smoke run (timings not meaningful)' if args.quick else 'best of 7'}, "
        f"time.perf_counter"
    )
    print()
    start = time.perf_counter()
    for name in chosen:
        SECTIONS[name](quick=args.quick)
    print(f"total {time.perf_counter() - start:.1f} s")
    print("(grading throughput, with real nbgrader: python -m benchmarks.grading)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
