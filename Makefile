# Two commands matter: `make demo` (the main job on bundled demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,aim]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p demo
	$(BIN)/dpshowcase demo-data --rows 250000 --output demo/cases.csv
	$(BIN)/dpshowcase schema infer demo/cases.csv --output demo/schema.toml
	$(BIN)/dpshowcase aggregate demo/cases.csv --schema demo/schema.toml --reporting-length 3 --resolution 10 --output demo/counts-k10.csv
	$(BIN)/dpshowcase release demo/cases.csv --schema demo/schema.toml --epsilon 4 --reporting-length 3 --overwrite --output demo/release

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

# Debian's Chromium for the browser tests (tests/e2e); Playwright drives it, never
# downloading a browser of its own. Installed when missing and we are root (CI is).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium (apt-get) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: browser tests will be skipped (apt-get install chromium)"; \
	  fi; \
	fi

test: $(STAMP) lint typecheck browser
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_aggregate.py

clean:
	rm -rf $(VENV) demo
