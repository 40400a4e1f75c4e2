"""nbgrader configuration of the course: solutions/ is the source, lessons/ the release.

One assignment per lesson: solutions/<id>/<id>.ipynb -> lessons/<id>/<id>.ipynb.
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "calculus-for-deep-learning"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
# Lessons live in lessons/<id>/, not in nbgrader's default release/<id>/ per course id.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 60
