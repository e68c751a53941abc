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
# (reserved) nbgrader steps, in course order:
#   make release    solutions/ -> exercises/ (nbgrader generate_assignment)
#   make collect    gather student submissions
#   make autograde  grade the submissions (in parallel)
#   make feedback   generate feedback for the students
#   make export     export the gradebook and the grade report

# --- housekeeping -------------------------------------------------------------------

clean: ## remove the built book (_build)
	rm -rf $(BUILD_DIR)
