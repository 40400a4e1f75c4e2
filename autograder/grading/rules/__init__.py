"""The instructor's rules, used by several phases: deadlines and late work, the roster.

late    deadlines, extensions, the late policy and its nbgrader plugin, submission times
roster  the class list: who should have handed in, and their names for the LMS
"""
