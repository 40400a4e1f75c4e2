"""Grading across machines: notebook executions on a Dask distributed cluster.

:mod:`.plugin` is what runs on each worker host (its sandbox, its warm kernel, the task that
executes one notebook); :mod:`.pool` is the driver's side (connect, choose the workers, send
the jobs, judge the tests here); :mod:`...autograde.checkpoint` lets a batch cut short by a
lost scheduler be finished by running the same command again. Needs the ``[cluster]`` extra
(``distributed``).
"""
