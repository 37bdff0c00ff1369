# Every target installs the pinned grading environment first: requirements/lock-py3.X.txt for this
# Python (requirements.txt's direct pins where there is no lock), CPU torch 2.13.0.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
STAMP = .make-installed
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
LOCK := $(firstword $(wildcard requirements/lock-py$(PYVER).txt) requirements.txt)
SEED ?= 0

.PHONY: install test template template-check demo grade-example check-example bench budgets tolerances timings clean

install: $(STAMP)
$(STAMP): requirements.txt $(LOCK) requirements-test.txt setup.py
	$(PIP) install -q -r $(LOCK) -r requirements-test.txt
	$(PIP) install -q --no-deps -e .
	touch $(STAMP)

test: install
	$(PYTHON) -m pytest -q -n 2 --dist worksteal tests  # worksteal: an idle worker takes queued tests from the busy one

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

clean:
	rm -rf out dist build *.egg-info $(STAMP)

.PHONY: autograder
autograder:
	$(PYTHON) scripts/build_autograder.py

.PHONY: lock
lock:  # re-pin requirements/lock-py3.{10,11,12}.txt from requirements.txt (needs pyenv's builds)
	$(PYTHON) scripts/lock_requirements.py

.PHONY: student-kit
student-kit: install  # what students get: dist/student-kit/ and dist/student-kit.zip (no solutions inside)
	$(PYTHON) scripts/build_student_kit.py

.PHONY: bench-batch
bench-batch: install
	$(PYTHON) scripts/bench_batch.py
