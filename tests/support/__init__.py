"""Machinery shared by the test modules (not tests themselves).

- ``env``: the checkout, the venv's bin on PATH, private Jupyter/IPython/matplotlib folders,
  a copy of the checkout;
- ``cli``: ``python -m autograder ...`` (or any ``python -m``) as a subprocess, as an
  instructor runs it;
- ``shared``: ``shared_once(name, build)``, an expensive build done once per test run however
  many pytest-xdist workers ask for it;
- ``xdist_groups``: the check that every ``xdist_group`` stays on one worker;
- ``packing``: which answer-fixture variants may share one nbgrader submission.
"""
