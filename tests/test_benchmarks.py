"""The benchmark command keeps working: ``python -m benchmarks --quick`` prints every figure.

Not a timed test - the figures themselves are not checked against targets here (machine
noise must not fail CI); only that each one is computed and printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("sine_sum", "quadratic", "log_sum_exp", "least_squares")


@pytest.fixture(scope="module")
def quick_output() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _gradient_section(output: str) -> str:
    return output.split("1. Central gradient")[1].split("2. XOR")[0]


def test_quick_benchmark_prints_the_chunk_sweep_for_every_kind_of_f_and_n(quick_output):
    section = _gradient_section(quick_output)
    header = re.search(
        r"^\s+f\s+n\s+32K\s+64K\s+128K\*\s+256K\s+512K\s+1M\s+1 call$", section, re.M
    )
    assert header, section
    cases = [(f, n) for n in (10, 100, 1000) for f in FUNCTIONS] + [("quadratic", 10000)]
    for f, n in cases:
        # n = 10000 has no "1 call" figure: that batch would be 1.6 GB
        figures = r"(\s+\d+\.\dx){7}" if n < 10000 else r"(\s+\d+\.\dx){6}\s+-"
        assert re.search(rf"^\s+{f}\s+{n}{figures}$", section, re.M), (f, n)


def test_quick_benchmark_prints_the_chosen_chunk_rule(quick_output):
    rule = re.search(r"Chosen rule: (.*)", _gradient_section(quick_output))
    assert rule and "128 KiB" in rule[1] and "n = 1000: 16 rows, 125 calls" in rule[1]


def test_quick_benchmark_prints_the_speed_up_against_each_target(quick_output):
    section = _gradient_section(quick_output)
    for f in ("quadratic", "log_sum_exp", "least_squares"):
        for n, target in [(100, ">= 15x"), (1000, ">= 3x")]:
            verdict = rf"{re.escape(target)}\s+(met|NOT met) \(\d+\.\dx\)$"
            assert re.search(rf"^\s+{f}\s+{n}\s.*\d\.\dx\s+{verdict}", section, re.M), (f, n)
    assert re.search(r"^\s+sine_sum\s+100\s.*\d\.\dx\s+-\s+-$", section, re.M)


def test_quick_benchmark_prints_the_training_ratio_against_its_target(quick_output):
    assert re.search(
        r"ratio helpers / plain: \d+\.\d\dx \(target <= 1.3x: (met|NOT met)\)", quick_output
    )
    assert "same loss history: yes" in quick_output
    assert "XOR solved from seed 0 within 5000 epochs: yes" in quick_output


def test_quick_benchmark_runs_the_first_lesson_in_a_fresh_kernel_and_prints_its_time(
    quick_output,
):
    section = quick_output.split("Lessons: each solutions notebook")[1]
    assert re.search(r"^\s+01_derivatives\s+\d+\.\ds\s+\d+\.\ds\s+0$", section, re.MULTILINE)
    assert re.search(r"total of the lessons' cells: \d+\.\d s$", section, re.MULTILINE)
    assert re.search(r"not every lesson of 01-07 ran: the \d+\.\d s limit does not apply", section)


@pytest.mark.parametrize(
    "quantity",
    [
        "forward derivative",
        "backward derivative",
        "central derivative",
        "second derivative",
        "central gradient, rosenbrock",
        "forward gradient, log-sum-exp",
        "Hessian, rosenbrock",
        "central gradient, MLP loss",
    ],
)
def test_quick_benchmark_prints_the_accuracy_of(quantity, quick_output):
    lines = [line for line in quick_output.splitlines() if quantity in line]
    assert lines, quantity
    for line in lines:
        assert re.search(r"\d\.\de-\d\d", line), line
        assert "nan" not in line


@pytest.fixture(scope="module")
def grading_output() -> str:
    # The smallest run that still has every kind of submission the full benchmark uses:
    # right, unanswered and wrong (students 0-3), graded by both nbgrader and our command.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.grading",
            "--lesson",
            "06_gradient_checker",
            "--students",
            "4",
            "--rounds",
            "1",
        ],
        cwd=ROOT,
        env=_env_with_venv_bin(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _env_with_venv_bin() -> dict[str, str]:
    import os

    # `nbgrader autograde` is run from PATH, as an instructor would.
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def test_grading_benchmark_gives_each_student_the_score_plain_nbgrader_gives(grading_output):
    assert re.search(r"round 1: .* same scores: yes", grading_output)


def test_grading_benchmark_prints_seconds_per_submission_and_the_speed_up(grading_output):
    assert re.search(r"nbgrader autograde +\d+\.\d s = +\d+\.\d\d s per submission", grading_output)
    assert re.search(r"autograder grade +\d+\.\d s = +\d+\.\d\d s per submission", grading_output)
    assert re.search(
        r"speed-up, median of 1 rounds: \d+\.\d\dx +\(target >= 1.7x on 2 cores: (met|NOT met)",
        grading_output,
    )


def test_grading_benchmark_says_where_the_time_goes(grading_output):
    for part in ("kernel start", "imports", "running the cells", "nbgrader Autograde"):
        assert re.search(rf"{part}.* \d+\.\d\d s", grading_output), part


def test_grading_benchmark_prints_what_the_trusted_phase_costs(grading_output):
    assert re.search(
        r"trusted phase: .* \d+\.\d\d s = \d+\.\d% of a worker's time per notebook "
        r"\(target <= 10%: (met|NOT met)\)",
        grading_output,
    )
