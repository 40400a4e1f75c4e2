"""Phase 2, execute: each task's notebook run in a sandboxed kernel by a pool of workers.

sandbox   the command that starts a kernel under bubblewrap with limits
boot      kernel processes, the spare one booted ahead, what /proc says about them
kernel    one kernel driven by nbclient; a test cell's execute request
notebook  run a notebook cell by cell, surviving loops, dead kernels and floods of output;
          test cells are handed to the judge, never run in the kernel
preload   the code the grader runs in each kernel first (the record's kernel side)
jobs      what crosses to and from a worker (JSON text) and the one execute-and-judge step
pool      the Pool protocol and the local pool; cluster/ the same on a Dask cluster
"""
