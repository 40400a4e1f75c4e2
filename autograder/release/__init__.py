"""Lessons for students: the student versions and their standard cells, from solutions/.

build      the release itself: standard cells, nbgrader's GenerateAssignment, normal form
quiz_cell  the quiz feedback cell written after each quiz's test cell
"""
