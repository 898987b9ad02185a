# Two commands matter: `make demo` (the main job on bundled demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p demo
	$(BIN)/dpshowcase demo-data --rows 250000 --output demo/cases.csv
	$(BIN)/dpshowcase schema infer demo/cases.csv --output demo/schema.toml
	$(BIN)/dpshowcase aggregate demo/cases.csv --schema demo/schema.toml --reporting-length 3 --resolution 10 --output demo/counts-k10.csv

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_aggregate.py

clean:
	rm -rf $(VENV) demo
