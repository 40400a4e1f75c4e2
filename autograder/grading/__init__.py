"""The pieces of ``python -m autograder grade``: one idea per module.

ingest    find the students' notebooks (folder, zip, nbgrader tree) and recognise their lessons
lessons   what a lesson's solutions say: cells, grade ids, hidden tests
repair    put back deleted, duplicated, retyped or stripped test and locked cells
sandbox   the command that starts a kernel under bubblewrap with limits
execute   run a notebook cell by cell, surviving loops, dead kernels and floods of output
nbgrader_phase  nbgrader's own Autograde, fed with the executed notebooks, one at a time
results   grades.csv / exercises.csv from the gradebook
feedback  the student's page;  report  the instructor's page
"""
