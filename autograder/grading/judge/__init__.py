"""Phase 4, judge: every test's points decided in the grading worker, never in the kernel.

channel       the test's Unix socket: hostile input read with caps and the cell's deadline
conversation  student objects as remote proxies; the grader's objects the student may use
judge         one test cell run here against the live kernel: its CellJudgement
cells         the executor's hook: every test cell of a notebook, and the notebook's judgement
messages      what a student may be told about each test cell (Verdict), from its provenance
"""
