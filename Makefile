# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/overdue run scenarios/baseline.toml --borrowers 10000 --seed 1 --out results/baseline --plots

test: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks notebooks
	$(BIN)/ruff format --check sim tests benchmarks notebooks
	$(BIN)/pytest -q
	$(BIN)/pytest -q --nbmake --nbmake-timeout=300 notebooks

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks notebooks

format: $(STAMP)
	$(BIN)/ruff format sim tests benchmarks notebooks
	$(BIN)/ruff check --fix sim tests benchmarks notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache
