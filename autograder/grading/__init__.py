"""The pieces of ``python -m autograder grade``: one idea per module.

The phases, in the order :func:`autograder.grade.run` calls them:

batch       read SUBMISSIONS, recognise each notebook's lesson, choose, stage and repair: tasks
workers     the worker pool and its warm kernels; WorkerSettings sent to each worker once
autograde   each executed notebook through nbgrader's own Autograde, one at a time: Outcomes
publish     records, grades.csv, exercises.csv, feedback pages, run.json, report.html
progress    the bar (or log lines) the instructor watches

What the phases use:

ingest      find the students' notebooks (folder, zip, nbgrader tree)
lessons     what a lesson's solutions say: cells, grade ids, hidden tests; recognise a notebook
course_dir  OUT as an nbgrader course: every path under OUT, its config, the gradebook
repair      put back deleted, duplicated, retyped or stripped test and locked cells
kernel_code the code the grader runs inside each kernel (checkers, the recorder); the tests
sandbox     the command that starts a kernel under bubblewrap with limits
execute     run a notebook cell by cell, surviving loops, dead kernels and floods of output
record      the kernel side of a test: what the student's objects returned, as plain data
trusted     each test judged in the grading worker from its record, with the course's own modules
borrowed    answers that hand their exercise to the course's own code, pointed out
limits      the limits a submission runs under, and their defaults
nbgrader_phase  nbgrader's Autograde preprocessors fed with the workers' executed notebooks
messages    what a student may be told about each test cell (Verdict)
results     Outcome records; grades.csv / exercises.csv from the gradebook
feedback    the student's page;  report  the instructor's page
status      the one vocabulary of statuses (Status) and the executor's error names
samples     sample submissions built from the solutions (the demo, the tests, the benchmark)
errors      GraderError: the grader itself cannot run
"""
