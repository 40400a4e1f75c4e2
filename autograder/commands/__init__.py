"""The command line, one module per command: each keeps only its arguments and ``main``.

grade    grade submissions into an nbgrader course folder (the run: autograder.grading.pipeline)
release  student versions of the lessons from solutions/ (autograder.release)
export   grades.csv as Canvas, Moodle or spreadsheet files (autograder.grading.publish.lms)
html     the lessons as accessible HTML pages
"""
