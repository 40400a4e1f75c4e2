"""The pieces of ``python -m autograder grade``: one idea per module.

ingest    find the students' notebooks (folder, zip, nbgrader tree) and recognise their lessons
lessons   what a lesson's solutions say: cells, grade ids, hidden tests
repair    put back deleted, duplicated, retyped or stripped test and locked cells
sandbox   the command that starts a kernel under bubblewrap with limits
execute   run a notebook cell by cell, surviving loops, dead kernels and floods of output
record    the kernel side of a test: what the student's objects returned, as plain data
trusted   each test judged in the grading worker from its record, with the course's own modules
borrowed  answers that hand their exercise to the course's own code, pointed out
nbgrader_phase  nbgrader's own Autograde, fed with the executed notebooks, one at a time
results   grades.csv / exercises.csv from the gradebook
feedback  the student's page;  report  the instructor's page
"""
