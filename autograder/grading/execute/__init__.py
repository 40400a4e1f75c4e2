"""Phase 2, execute: each task's notebook run in a sandboxed kernel by a pool of workers.

sandbox   the command that starts a kernel under bubblewrap with limits
kernel    run a notebook cell by cell, surviving loops, dead kernels and floods of output
preload   the code the grader runs in each kernel first (the lesson's checkers, the recorder)
pool      the local worker pool and its warm kernels
cluster/  the same on a Dask cluster (plugin on each worker, pool on the driver)
"""
