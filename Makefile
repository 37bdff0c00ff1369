# Every target installs the pinned grading environment first (requirements.txt: CPU torch 2.13.0).
PYTHON ?= python3
PIP = $(PYTHON) -m pip
STAMP = .make-installed
SEED ?= 0

.PHONY: install test template template-check demo grade-example check-example bench budgets tolerances clean

install: $(STAMP)
$(STAMP): requirements.txt setup.py
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -e .
	touch $(STAMP)

test: install
	$(PYTHON) -m pytest -q -n 2 tests

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

budgets: install
	$(PYTHON) scripts/measure_budgets.py

tolerances: install
	$(PYTHON) scripts/measure_tolerances.py

clean:
	rm -rf out dist build *.egg-info $(STAMP)

.PHONY: autograder
autograder:
	$(PYTHON) scripts/build_autograder.py

.PHONY: bench-batch
bench-batch: install
	$(PYTHON) scripts/bench_batch.py
