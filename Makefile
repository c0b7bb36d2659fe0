# Wedscale: `make run` serves the demo console, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8050
HASH   := $(shell sha1sum pyproject.toml | cut -c1-12)
RUNTIME_STAMP := $(VENV)/.runtime-$(HASH)
TEST_STAMP    := $(VENV)/.test-$(HASH)
export PIP_DISABLE_PIP_VERSION_CHECK=1
# --no-compile: byte-compiling plotly's thousands of modules at install time roughly doubles the
# install; Python compiles what it imports on first use instead.

.PHONY: install run test test-fast browsers bench clean

install: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --no-compile -e . --config-settings editable_mode=compat
	@touch $@

$(TEST_STAMP): $(RUNTIME_STAMP)
	$(BIN)/python -m pip install -q --no-compile -e '.[test]' --config-settings editable_mode=compat
	@touch $@

run: install
	$(BIN)/wedscale db upgrade
	WEDSCALE_DEMO=1 $(BIN)/wedscale demo seed --users
	$(BIN)/wedscale serve --demo --port $(PORT)

# Debian's Chromium and its matching chromedriver, installed only when missing or mismatched.
browsers:
	@bash .ci/install-browser.sh

test: $(TEST_STAMP) browsers
	$(BIN)/python -m pytest

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not browser"

bench: $(TEST_STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
