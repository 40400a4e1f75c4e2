"""The one error that stops a grading run: the grader itself cannot run (exit status 2)."""


class GraderError(Exception):
    """The grader itself cannot run; the message says why."""
