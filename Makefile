# Two commands for a newcomer:  `make demo` (platform with demo data)  and  `make test` (all tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: demo serve test lint bench clean

# The virtual environment, rebuilt when the dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## Start the platform on an embedded SQLite database with demo data: http://127.0.0.1:$(PORT)
demo: $(VENV)/.installed
	$(BIN)/hotline demo --if-empty
	$(BIN)/hotline serve --port $(PORT)

serve: $(VENV)/.installed
	$(BIN)/hotline serve --port $(PORT)

## Lint, import layers, and the whole suite on SQLite and PostgreSQL (skipped with a reason if absent).
test: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 -q

bench: $(VENV)/.installed
	$(BIN)/python bench/intake.py --quick

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
