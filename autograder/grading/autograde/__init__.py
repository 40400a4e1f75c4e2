"""Phase 5, autograde: each executed notebook through nbgrader's own Autograde, one at a time.

serial         the serial Autograde in the grader's process (one gradebook writer)
preprocessors  nbgrader's preprocessor lists with our RestoreCells and LoadExecuted
hand_grades    grades and comments given in formgrader, kept across regrades
checkpoint     what an unfinished cluster run already autograded
"""
