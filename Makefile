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
	  awk -F':.*## ' '{ printf "  make %-12s %s\n", $$1, $$2 }'

# --- environment ------------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -e '.[$(EXTRAS)]'
	touch $@

install: $(STAMP) ## create .venv and install the project (only when pyproject.toml changed)

# --- the book -----------------------------------------------------------------------

book: $(STAMP) ## build the book into _build/html and open it
	$(PY) -m nncourse.book build . $(BOOK_FLAGS)
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
# `make bench BENCH_ARGS="--only grading --quick"` runs a part, or a fast smoke run.
BENCH_ARGS ?=

.PHONY: bench

bench: $(STAMP) ## benchmarks (nnlib vs scikit-learn and PyTorch, the book, grading) -> benchmarks/results.json
	$(PIP) install -q -e '.[$(EXTRAS),bench]' 'torch==2.13.0'
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# --- instructor course steps --------------------------------------------------------
# The course steps, in course order, as `python -m nncourse <step>` (nncourse/, over
# nbgrader). Each runs in the course root COURSE_DIR (where nbgrader_config.py is) for
# every assignment in ASSIGNMENTS (by default every solutions/NN-*/ folder); for one
# assignment: make autograde ASSIGNMENTS=04-perceptron.
# The exchange is $(NBGRADER_EXCHANGE), or .exchange/ in the course root when unset.

COURSE_DIR ?= .
ASSIGNMENTS ?= $(sort $(notdir $(patsubst %/,%,$(wildcard $(COURSE_DIR)/solutions/[0-9][0-9]-*/))))
# LMS downloads for `make zip-collect`: $(ZIP_DIR)/<assignment>/archive/<student>_<notebook>.ipynb (or .zip)
ZIP_DIR ?= downloaded
# `make autograde AUTOGRADE_FLAGS=--force` grades again submissions that were graded before;
# JOBS=n concurrent graders (default: one more than the cores)
AUTOGRADE_FLAGS ?=
JOBS ?=
GRADES ?= grades.csv
REPORT_DIR ?= report
# `make roster ROSTER=students.csv`: a CSV with the column id (and first_name, last_name, email)
ROSTER ?= students.csv
# `make due ASSIGNMENTS=02-strawman DUE="2025-11-03 23:59:00 Europe/Berlin"`
DUE ?=
DEMO_DIR ?= demo
NNCOURSE := $(PY) -m nncourse
# the assignments named on the command line, or none (= every assignment in the gradebook)
NAMED_ASSIGNMENTS = $(if $(filter file,$(origin ASSIGNMENTS)),,$(ASSIGNMENTS))

.PHONY: release publish roster due collect zip-collect autograde feedback grades report demo

release: $(STAMP) ## solutions/ -> exercises/ for every assignment (nbgrader generate_assignment)
	$(NNCOURSE) release $(ASSIGNMENTS) --course $(COURSE_DIR)

publish: $(STAMP) ## copy exercises/ to the exchange, for nbgrader fetch_assignment
	$(NNCOURSE) publish $(ASSIGNMENTS) --course $(COURSE_DIR)

roster: $(STAMP) ## add the students of ROSTER (CSV) to the gradebook
	$(NNCOURSE) roster $(ROSTER) --course $(COURSE_DIR)

due: $(STAMP) ## set the due date DUE of the ASSIGNMENTS named on the command line
	@if [ -z "$(DUE)" ] || [ -z "$(NAMED_ASSIGNMENTS)" ]; then \
	  echo 'usage: make due ASSIGNMENTS=02-strawman DUE="2025-11-03 23:59:00 Europe/Berlin"' >&2; exit 2; fi
	@set -e; for a in $(NAMED_ASSIGNMENTS); do $(NNCOURSE) due "$$a" "$(DUE)" --course $(COURSE_DIR); done

collect: $(STAMP) ## gather the submissions from the exchange into submitted/
	$(NNCOURSE) collect $(ASSIGNMENTS) --course $(COURSE_DIR)

zip-collect: $(STAMP) ## gather LMS downloads from ZIP_DIR/<assignment>/archive into submitted/
	$(NNCOURSE) zip-collect $(ASSIGNMENTS) --course $(COURSE_DIR) --from $(ZIP_DIR)

# Every core grades; a submission that cannot be graded is retried once alone, reported,
# and makes the target fail at the end, after the others have been graded. Student code runs
# in nncourse/sandbox.py under limits the step sets itself (NNCOURSE_KERNEL_MEMORY_MB=4096,
# NNCOURSE_FILE_SIZE_MB=512, ...; README, "Autograding untrusted code"); run it as root.
autograde: $(STAMP) ## grade every new submission on every core (nbgrader autograde); checks none is lost
	$(NNCOURSE) autograde $(ASSIGNMENTS) --course $(COURSE_DIR) $(if $(JOBS),--jobs $(JOBS)) $(AUTOGRADE_FLAGS)

feedback: $(STAMP) ## write HTML feedback into feedback/ and return it through the exchange
	$(NNCOURSE) feedback $(ASSIGNMENTS) --course $(COURSE_DIR)

grades: $(STAMP) ## export the gradebook to grades.csv (one row per student and assignment)
	$(NNCOURSE) grades --course $(COURSE_DIR) --to $(GRADES)

report: $(STAMP) ## the grade report in report/: score histograms, item analysis, late and missing students
	$(NNCOURSE) report $(NAMED_ASSIGNMENTS) --course $(COURSE_DIR) --out $(REPORT_DIR)

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
