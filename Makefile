# Neural Networks: Part I — a course with nnlib
#
#   make book    build the book into _build/html (and open it when a screen is available)
#   make test    run the whole test suite
#
# Both create the virtual environment .venv on first use and reinstall the project
# only when pyproject.toml has changed since the last install.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# extras installed by `make book` / `make test`; `bench` is installed by `make bench`
EXTRAS ?= book,grading,dev,progress
# written after a successful install; older than pyproject.toml means "install again"
STAMP := $(VENV)/.installed

BUILD_DIR := _build
HTML_DIR := $(BUILD_DIR)/html
# jupyter-book 1.x: -W warnings are errors, -n nit-picky cross-references,
# --keep-going reports every warning before failing
BOOK_FLAGS ?= -W -n --keep-going
PYTEST_ARGS ?=

# Everything a recipe starts comes from the virtual environment first: nbgrader starts
# `alembic` from PATH, and notebooks run on the venv's python3 kernel, not on a kernel a
# user may have registered elsewhere.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export JUPYTER_PATH := $(abspath $(VENV))/share/jupyter$(if $(JUPYTER_PATH),:$(JUPYTER_PATH))
# silence the debugger's "frozen modules" notice that ipykernel prints on Python 3.11
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help install book test clean

help: ## list the targets
	@echo "Targets:"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{ printf "  make %-10s %s\n", $$1, $$2 }'

# --- environment ------------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -e '.[$(EXTRAS)]'
	touch $@

install: $(STAMP) ## create .venv and install the project (only when pyproject.toml changed)

# --- the book -----------------------------------------------------------------------

book: $(STAMP) ## build the book into _build/html and open it
	$(VENV)/bin/jupyter-book build . $(BOOK_FLAGS)
	@test -f $(HTML_DIR)/index.html || { echo "error: $(HTML_DIR)/index.html was not built" >&2; exit 1; }
	@touch $(BOOK_STAMP)
	@echo
	@echo "The book is at $(abspath $(HTML_DIR))/index.html"
	@if [ -z "$${CI:-}" ] && { [ -n "$${DISPLAY:-}" ] || [ -n "$${WAYLAND_DISPLAY:-}" ] || [ "$$(uname -s)" = Darwin ]; }; then \
	  $(PY) -m webbrowser -t "file://$(abspath $(HTML_DIR))/index.html" >/dev/null 2>&1 || true; \
	fi

# --- tests --------------------------------------------------------------------------

# The book tests check _build/html, so `make test` first builds the book when it is missing
# or older than a source (CI=1: do not open a browser window).
BOOK_STAMP := $(BUILD_DIR)/.book-built
$(BOOK_STAMP): _config.yml _toc.yml $(wildcard book/* book/*/*) $(wildcard nnlib/*.py) $(STAMP)
	CI=1 $(MAKE) --no-print-directory book

test: $(STAMP) $(BOOK_STAMP) ## run the test suite (pytest, testpaths = tests); builds the book first if needed
	$(PY) -m pytest $(PYTEST_ARGS)

# --- benchmarks ---------------------------------------------------------------------
# (reserved) `make bench`: install the `bench` extra and torch, run benchmarks/ and
# write benchmarks/results.json.

# --- instructor course steps --------------------------------------------------------
# nbgrader steps, in course order. Each runs in the course root COURSE_DIR (where
# nbgrader_config.py is) for every assignment in ASSIGNMENTS (by default every
# solutions/NN-*/ folder); for one assignment: make autograde ASSIGNMENTS=04-perceptron.
# The exchange is $(NBGRADER_EXCHANGE), or .exchange/ in the course root when unset.

COURSE_DIR ?= .
ASSIGNMENTS ?= $(sort $(notdir $(patsubst %/,%,$(wildcard $(COURSE_DIR)/solutions/[0-9][0-9]-*/))))
# LMS downloads for `make zip-collect`: $(ZIP_DIR)/<assignment>/archive/<student>_<notebook>.ipynb (or .zip)
ZIP_DIR ?= downloaded
# `make autograde AUTOGRADE_FLAGS=--force` grades again submissions that were graded before
AUTOGRADE_FLAGS ?=
GRADES ?= grades.csv
DEMO_DIR ?= demo
NBGRADER := cd $(abspath $(COURSE_DIR)) && nbgrader

.PHONY: release publish collect zip-collect autograde feedback grades demo

release: $(STAMP) ## solutions/ -> exercises/ for every assignment (nbgrader generate_assignment)
	@set -e; for a in $(ASSIGNMENTS); do \
	  echo "== release $$a"; $(NBGRADER) generate_assignment "$$a" --force; \
	done

publish: $(STAMP) ## copy exercises/ to the exchange, for nbgrader fetch_assignment
	@set -e; for a in $(ASSIGNMENTS); do \
	  echo "== publish $$a"; $(NBGRADER) release_assignment "$$a" --force; \
	done

collect: $(STAMP) ## gather the submissions from the exchange into submitted/
	@set -e; for a in $(ASSIGNMENTS); do \
	  echo "== collect $$a"; $(NBGRADER) collect "$$a" --update; \
	done

# (nbgrader looks for the downloads relative to the course root)
zip-collect: $(STAMP) ## gather LMS downloads from ZIP_DIR/<assignment>/archive into submitted/
	@set -e; found=; \
	rel=$$($(abspath $(PY)) -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$(abspath $(ZIP_DIR))" "$(abspath $(COURSE_DIR))"); \
	for a in $(ASSIGNMENTS); do \
	  if [ -d "$(ZIP_DIR)/$$a" ]; then \
	    found=1; echo "== zip-collect $$a"; \
	    $(NBGRADER) zip_collect "$$a" --force --ZipCollectApp.downloaded_directory="$$rel"; \
	  fi; \
	done; \
	if [ -z "$$found" ]; then echo "error: no $(ZIP_DIR)/<assignment>/archive folders (set ZIP_DIR=...)" >&2; exit 1; fi

# A notebook that cannot be graded (a broken file, a kernel that dies) is reported and
# skipped by nbgrader; the loop goes on with the other assignments and fails at the end.
autograde: $(STAMP) ## grade every submitted notebook (nbgrader autograde), assignment by assignment
	@failed=; for a in $(ASSIGNMENTS); do \
	  if ! ls -d $(COURSE_DIR)/submitted/*/"$$a" >/dev/null 2>&1; then echo "== autograde $$a: no submissions"; continue; fi; \
	  echo "== autograde $$a"; \
	  $(NBGRADER) autograde "$$a" $(AUTOGRADE_FLAGS) || failed="$$failed $$a"; \
	done; \
	if [ -n "$$failed" ]; then echo "error: some submissions of$$failed could not be graded (see the log above)" >&2; exit 1; fi

feedback: $(STAMP) ## write HTML feedback into feedback/ and return it through the exchange
	@set -e; for a in $(ASSIGNMENTS); do \
	  if ! ls -d $(COURSE_DIR)/autograded/*/"$$a" >/dev/null 2>&1; then echo "== feedback $$a: nothing graded"; continue; fi; \
	  echo "== feedback $$a"; \
	  $(NBGRADER) generate_feedback "$$a" --force; \
	  $(NBGRADER) release_feedback "$$a"; \
	done

grades: $(STAMP) ## export the gradebook to grades.csv (one row per student and assignment)
	$(NBGRADER) export --to="$(GRADES)"
	@echo "The grades are in $(abspath $(COURSE_DIR)/$(GRADES))"

# The whole flow on a throw-away course in DEMO_DIR with a demo class made from the
# catalogue in tests/grading/cases: demo-perfect hands in the solution, demo-partial
# the first catalogued mistake, demo-untouched the released notebook as it came.
demo: $(STAMP) ## run every course step on a demo class in demo/ and print its grades
	rm -rf $(DEMO_DIR)
	$(PY) tests/grading/demo.py setup $(DEMO_DIR) $(ASSIGNMENTS)
	$(MAKE) --no-print-directory release publish COURSE_DIR=$(DEMO_DIR) ASSIGNMENTS="$(ASSIGNMENTS)" NBGRADER_EXCHANGE=
	$(PY) tests/grading/demo.py students $(DEMO_DIR) $(ASSIGNMENTS)
	$(MAKE) --no-print-directory collect autograde COURSE_DIR=$(DEMO_DIR) ASSIGNMENTS="$(ASSIGNMENTS)" NBGRADER_EXCHANGE=
	$(PY) tests/grading/demo.py grade-by-hand $(DEMO_DIR) $(ASSIGNMENTS)
	$(MAKE) --no-print-directory feedback grades COURSE_DIR=$(DEMO_DIR) ASSIGNMENTS="$(ASSIGNMENTS)" NBGRADER_EXCHANGE=
	@echo
	@cat $(DEMO_DIR)/$(GRADES)

# --- housekeeping -------------------------------------------------------------------

clean: ## remove the built book (_build)
	rm -rf $(BUILD_DIR)
