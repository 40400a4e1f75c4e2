"""The sample class and the tools the demo, the benchmarks and the tests share (not the grader).

run            ``python -m autograder.demo``: build the sample class and grade it
samples        submissions built from the solutions (right, wrong, broken)
mistakes       typical wrong answers per lesson, generated from tests/fixtures/answers
local_cluster  a Dask scheduler and workers on 127.0.0.1 for tests and benchmarks
"""
