"""The record: what the student's objects did, told to the worker as plain data.

Batch grading runs every graded test in the grading worker (:mod:`..judge`), never in the
student's kernel. While a test runs there, each operation its checker applies to a student
object crosses to the kernel over the test's Unix socket; the kernel side here performs it on
the real object and records what happened - a value, an exception, printed text, arrays changed
in place - as the answer. The kernel never receives the test's source, the checkers or any
value they computed: only the operands of operations on its own objects.

This package is the trust boundary: it is the only code of the grader that runs inside the
student's kernel, shipped there as source (:func:`.bootstrap.kernel_source` concatenates its
four modules), so it imports nothing but the standard library and, lazily, numpy and sympy
(tests/test_record_stdlib.py checks it under ``python -I -S`` with numpy blocked). Nothing here
is trusted when it runs in the kernel: the student may change any of it, and a changed answer
only fails a test. The trusted side imports the codec and the protocol from here too.

codec      encode / decode / compare values as JSON data             (both sides)
protocol   the operations a checker may apply; handle proxies; frames (both sides)
recorder   the Recorder answering the worker; the grader's objects   (kernel side)
bootstrap  install in a kernel; kernel_source; call_expression       (kernel side, grader side)
"""
