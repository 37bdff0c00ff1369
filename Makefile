# Every target installs the pinned grading environment first: requirements/lock-py3.X.txt for this
# Python (requirements.txt's direct pins where there is no lock), CPU torch 2.13.0.
#
# Where that environment lives (README, "Where the environment lives"):
# - an active venv (VIRTUAL_ENV) or conda environment (CONDA_PREFIX): that one;
# - otherwise .venv/ here, made by $(BASE_PYTHON) (default python3): a system Python that refuses pip
#   installs (PEP 668, externally managed) is never installed into;
# - `make ... PYTHON=/path/to/python`: that interpreter's own environment, as it is.
BASE_PYTHON ?= python3
VENV ?= .venv
ifeq ($(origin PYTHON),command line)
  ENV_DIR := $(shell $(PYTHON) -c 'import sys; print(sys.prefix)')
else ifneq ($(VIRTUAL_ENV),)
  ENV_DIR := $(VIRTUAL_ENV)
  PYTHON := $(VIRTUAL_ENV)/bin/python
else ifneq ($(CONDA_PREFIX),)
  ENV_DIR := $(CONDA_PREFIX)
  PYTHON := $(CONDA_PREFIX)/bin/python
else
  ENV_DIR := $(VENV)
  PYTHON := $(VENV)/bin/python
  MAKE_VENV := $(PYTHON)
endif
PIP = $(PYTHON) -m pip
STAMP = $(ENV_DIR)/.rnn-hw8-grader-installed
PYVER := $(shell $(if $(MAKE_VENV),$(if $(wildcard $(MAKE_VENV)),$(MAKE_VENV),$(BASE_PYTHON)),$(PYTHON)) \
                 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
LOCK := $(firstword $(wildcard requirements/lock-py$(PYVER).txt) requirements.txt)
SEED ?= 0
TESTS ?= tests

.PHONY: install test template template-check demo grade-example check-example bench budgets tolerances timings clean

install: $(STAMP)
$(STAMP): requirements.txt $(LOCK) requirements-test.txt pyproject.toml setup.py | $(MAKE_VENV)
	$(PIP) install -q -r $(LOCK) -r requirements-test.txt
	$(PIP) install -q --no-deps -e .
	@touch $(STAMP)
	@echo "make: the grading environment is $(ENV_DIR) (Python $(PYVER)); its command: $(ENV_DIR)/bin/hw8-grade"

$(VENV)/bin/python:
	$(BASE_PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "make: $(BASE_PYTHON) cannot make a venv;" \
	    "on Debian or Ubuntu: sudo apt install python3-venv (or run make inside a venv or conda environment)"; exit 1; }

# 3 workers on 2 cores: the CUDA-torch venv tests wait on the disk (import torch there: 2.8 s of CPU in 41 s), and a
# third worker uses that core (README, Tests: 20 min 15 s against 22 min 30 s with 2, same code, one after the other).
# worksteal: an idle worker takes queued tests from the busy one.
test: install  # TESTS=tests/test_cli.py runs only those
	$(PYTHON) -m pytest -q -n 3 --dist worksteal $(TESTS)

grade-example: install
	$(PYTHON) -m grader grade examples/reference -o out/example-results.json --seed $(SEED)

check-example: install
	$(PYTHON) -m grader check examples/reference

template: install
	$(PYTHON) scripts/make_template.py

template-check: install
	$(PYTHON) scripts/make_template.py --check

demo: install
	$(PYTHON) scripts/demo.py

bench: install
	$(PYTHON) scripts/bench.py

.PHONY: mutation
mutation: install  # every mutant of the reference graded at 5 seeds: out/mutation/report.md (JOBS=N workers, default 2)
	nice -n 10 $(PYTHON) scripts/mutation.py -j $(or $(JOBS),2)

budgets: install
	$(PYTHON) scripts/measure_budgets.py

tolerances: install
	$(PYTHON) scripts/measure_tolerances.py

timings: install  # the reference's training times behind every probe's time limit (grader/timeouts.py)
	$(PYTHON) scripts/measure_timings.py

clean:  # leaves the environment; `rm -rf .venv` removes make's own
	rm -rf out dist build *.egg-info $(STAMP) .make-installed

.PHONY: autograder
autograder: | $(MAKE_VENV)
	$(PYTHON) scripts/build_autograder.py

.PHONY: lock
lock: install  # re-pin requirements/lock-py3.{10,11,12}.txt from requirements.txt (needs pyenv's builds)
	$(PYTHON) scripts/lock_requirements.py

.PHONY: student-kit
student-kit: install  # what students get: dist/student-kit/ and dist/student-kit.zip (no solutions inside)
	$(PYTHON) scripts/build_student_kit.py

.PHONY: bench-batch
bench-batch: install
	$(PYTHON) scripts/bench_batch.py
