# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BUILT := $(VENV)/.compiled
LINTED := sim tests benchmarks notebooks setup.py

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $(BUILT)

# The engine's compiled modules (setup.py) are rebuilt once a source is newer than the build;
# until then an edited module runs from its .py (sim/_accel.py), so nothing runs stale code.
$(BUILT): $(STAMP) $(wildcard sim/*.py)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BUILT)

run: $(BUILT)
	$(BIN)/overdue run scenarios/baseline.toml --borrowers 10000 --seed 1 --out results/baseline --plots

test: $(BUILT)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/pytest -q
	$(BIN)/pytest -q --nbmake --nbmake-timeout=300 notebooks

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)

format: $(STAMP)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

bench: $(BUILT)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache build sim/*.c sim/*.so sim/_compiled.json
