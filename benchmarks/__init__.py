"""Benchmarks of the ``helpers`` numeric core: ``python -m benchmarks [--quick]``.

Each section prints its figures as ratios measured in the same run (machines differ; ratios
travel), with the target from the course specification and whether it was met. Nothing here
is a test: CI must not fail on machine noise. ``tests/test_benchmarks.py`` only runs the
``--quick`` mode to keep this code from rotting.

Sections: :mod:`benchmarks.gradient_speed` (batched vs loop central gradient: chunk sweep),
:mod:`benchmarks.training_speed` (MLP training vs a plain numpy loop),
:mod:`benchmarks.accuracy` (default steps against the float64 floors),
:mod:`benchmarks.lessons` (each lesson's solutions run time in a fresh kernel, and the
total). Grading throughput against plain nbgrader is its own command,
``python -m benchmarks.grading``.
"""
