"""``python -m autograder grade``: the batch grader, one folder per phase, in pipeline order.

pipeline    run(): the phases below, in this order
collect/    1. read SUBMISSIONS; recognise, choose, stage and repair: one task per notebook
execute/    2. run each task in a sandboxed kernel (the local pool, or a Dask cluster)
record/     3. in the kernel: it performs what a test does to the student's objects and says
               what happened (the trust boundary: the only code that runs in the kernel)
judge/      4. in the worker: every test run there as its cell comes, the kernel answering
autograde/  5. nbgrader's own Autograde, one notebook at a time, and the hand grades
publish/    6. grades.csv, exercises.csv, feedback pages, report.html, LMS files

What every phase uses:

rules/      the instructor's rules: deadlines, extensions, late policy, roster
settings    the limits a submission runs under, and what every worker shares
vocabulary  the statuses, the executor's error names, GraderError
outcomes    what the grader did with each notebook (Outcome), kept under OUT
course_dir  OUT as an nbgrader course: every path under OUT, its config, the gradebook
progress    the bar (or log lines) the instructor watches
"""
