# Calculus for Deep Learning: the two commands a person needs.
#   make lab    set up .venv (first time only) and open the lessons in JupyterLab
#   make test   set up .venv (first time only) and run the whole test suite
#   make demo   run a graded term on a sample class: hand-out, LMS downloads, grading, grading by
#               hand, grading again, LMS files and feedback (SQLite; needs only bubblewrap)
# A fresh machine needs python3 (with venv and pip), make and git; nothing else.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader finds `alembic` on PATH when it creates a gradebook: the venv's bin must be on it.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv lab test demo html bench bench-grading release check-release system-packages \
	sandbox clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,dev,cluster]"
	@# jsonschema, which nbformat loads, imports rfc3987-syntax when it is there, and that
	@# builds 38 Earley parsers: a second of CPU in every process that reads a notebook
	@# (python-jsonschema/jsonschema#1428), hundreds of them in a test run. It only checks
	@# the "iri" string formats, which no notebook or Jupyter schema uses.
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	@touch $(STAMP)

# Jupyter refuses to start as root ("Running as root is not recommended"), which is how
# containers and many cloud machines run: there it gets --allow-root, and says so.
lab: venv
	@if [ "$$(id -u)" = 0 ]; then \
		echo "make lab: running as root, so JupyterLab is started with --allow-root"; \
		$(BIN)/jupyter lab --allow-root lessons/; \
	else \
		$(BIN)/jupyter lab lessons/; \
	fi

# Browser tests need Debian's chromium; sandboxed grading needs bubblewrap. Installed here,
# as root, when missing (CI runs as root); otherwise the tests say what to install.
system-packages:
	@./.ci/system-packages

# Sandboxed grading needs bubblewrap, and the demo nothing else (no browser, no database).
sandbox:
	@./.ci/system-packages bubblewrap

# One pytest worker per core. The modules that build an environment or grade a class (the
# Colab-like venv, JupyterLab, formgrader, the Dask cluster, each lesson's nbgrader run, ...)
# each keep to one worker (xdist groups), and tests/support/shared.py builds each of them once
# per run; a group seen on two workers fails its tests (tests/support/xdist_groups.py).
test: venv system-packages
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

# The lessons from the solutions, and the explorers' fallback pictures the lessons show.
release: venv
	$(BIN)/python -m autograder release
	$(BIN)/python -m helpers.explore --write

check-release: venv
	$(BIN)/python -m autograder release --check
	$(BIN)/python -m helpers.explore --check

# A graded term on a sample class built from the solutions (autograder/demo/run.py): hand-out,
# Canvas and Moodle downloads, grading with a late policy, grading by hand, grading again
# without the flags, the LMS files and the feedback zips; prints where everything is.
demo: venv sandbox
	$(BIN)/python -m autograder.demo

# Every lesson executed and exported to build/html/<id>.html with the course's accessible
# nbconvert template (autograder/nbconvert_templates/accessible); the pages show the answers.
html: venv
	$(BIN)/python -m autograder html

bench: venv
	$(BIN)/python -m benchmarks

bench-grading: venv sandbox
	$(BIN)/python -m benchmarks.grading

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
