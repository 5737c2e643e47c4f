# Two commands: `make run` sets up and serves the app, `make test` sets up and runs the whole suite (CI);
# `make check` is the quick lane while working: lint, types and the tests not marked slow.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
# Test processes of the quick lane (pytest-xdist): one per core.
JOBS ?= auto
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test check lint setup system-packages clean bench

setup: system-packages $(STAMP)

# System libraries the decoders and tests need; installed only when missing.
system-packages:
	@missing=""; \
	[ -e /usr/lib/x86_64-linux-gnu/libzbar.so.0 ] || ldconfig -p | grep -q 'libzbar.so.0' || missing="$$missing libzbar0"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

run: setup
	$(BIN)/serialtrace init
	$(BIN)/serialtrace demo --if-empty
	$(BIN)/serialtrace serve --host $(HOST) --port $(PORT)

# ruff over the whole tree, mypy over the pure packages; both configured in pyproject.toml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

check: lint
	$(BIN)/python -m pytest -q -m "not slow" -n $(JOBS) $(PYTEST_ARGS)

bench: setup
	@echo "benchmarks are run by hand: see bench/README.md"

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
