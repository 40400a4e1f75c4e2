"""Phase 1, collect: from SUBMISSIONS to one repaired notebook per student and lesson.

ingest     find the students' notebooks (folder, zip, nbgrader tree)
batch      the batch as found: Submissions, Task, Batch; read()
recognise  a notebook's lesson from its content
choose     recognise each notebook, choose the newest copy per student and lesson
stage      install the lessons in the gradebook, stage and repair each chosen notebook
repair     put back deleted, duplicated, retyped or stripped test and locked cells
borrowed   answers that hand their exercise to the course's own code, pointed out
"""
