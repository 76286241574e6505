# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINTED := sim tests benchmarks notebooks setup.py

.PHONY: run test fuzz lint format bench report-check clean

# Installing is editable (pip install -e) and compiles the engine's modules with Cython
# (setup.py; skipped without a C compiler). An edited engine source is a reason to reinstall,
# which recompiles what changed; until then sim/_accel.py runs the engine from its .py files,
# so nothing ever runs stale code.
ENGINE_SOURCES := $(shell find sim/engine -name "*.py" -o -name "*.pxd")
$(STAMP): pyproject.toml setup.py $(ENGINE_SOURCES)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/overdue run scenarios/baseline.toml --borrowers 10000 --seed 1 --out results/baseline --plots --trace
	$(BIN)/overdue report results/baseline

test: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/pytest -q
	$(BIN)/pytest -q --nbmake --nbmake-timeout=300 notebooks

# The property tests on 2,000 fresh random scenarios (make test replays a fixed 25); a failure
# prints the example to replay with @reproduce_failure.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=explore $(BIN)/pytest -q -p no:cacheprovider tests/test_invariants.py -k random

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)

format: $(STAMP)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py --scaling 10000,100000,300000,1000000

# A documented check of `overdue report` in a real browser: installs Chromium (a system
# package) if missing, renders the baseline's traced report and writes a screenshot to look at.
report-check: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/overdue run scenarios/regulated.toml --borrowers 3000 --trace --out results/report-check --quiet
	$(BIN)/overdue report results/report-check
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,7000 \
		--screenshot=results/report-check/report.png file://$(CURDIR)/results/report-check/report.html
	$(BIN)/pytest -q -m slow tests/test_report.py
	@echo "look at results/report-check/report.png"

clean:
	rm -rf $(VENV) .pytest_cache build sim/_compiled.json
	find sim \( -name "*.c" -o -name "*.so" \) -delete
