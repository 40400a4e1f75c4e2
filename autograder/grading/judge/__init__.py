"""Phase 4, judge: every test's points decided on the trusted side, never in the kernel.

replay    the kernel's record handed back to the instructor's test, operation by operation
judge     run each test cell's source against its record; a notebook's judgement
messages  what a student may be told about each test cell (Verdict)
"""
