# Two commands for a newcomer:  `make demo` (platform with demo data)  and  `make test` (all tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: demo serve test lint bench clean browser

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

## Debian's chromium and CJK fonts for the browser tests (installed once; needs root or sudo).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing chromium and fonts-noto-cjk for the browser tests"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >/dev/null \
	  || { $$SUDO apt-get update -q >/dev/null && \
	       $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }; \
	fi

## Lint, import layers, and the whole suite on SQLite and PostgreSQL (skipped with a reason if absent).
test: $(VENV)/.installed browser
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 -q

bench: $(VENV)/.installed
	$(BIN)/python bench/intake.py --quick

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
