"""The record: what crosses between a test and the student's objects, as plain data.

Batch grading runs each graded test cell twice. In the student's kernel the test source runs
with the student's names wrapped by recording proxies, and the record of every crossing leaves
the kernel as one display output of type :data:`.protocol.MIME`. The grading worker then runs
the same source again with the real course modules (:mod:`..judge`) and replays the record;
the points are decided there.

This package is the trust boundary: it is the only code of the grader that runs inside the
student's kernel, shipped there as source (:func:`.bootstrap.kernel_source` concatenates its
four modules), so it imports nothing but the standard library and, lazily, numpy and sympy
(tests/test_record_stdlib.py checks it under ``python -I -S`` with numpy blocked). Nothing here
is trusted when it runs in the kernel: the student may change any of it, and a changed record
only fails a test. The trusted side imports the codec and the protocol from here too.

codec      encode / decode / compare values as JSON data           (both sides)
protocol   the operations a checker may apply; handle proxies      (both sides)
recorder   the Recorder and its checker proxies; record_test       (kernel side)
bootstrap  install in a kernel; kernel_source; call_expression     (kernel side, grader side)
"""
