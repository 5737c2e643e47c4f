# Two commands: `make run` sets up and serves the app, `make test` sets up and runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup system-packages clean bench

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

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	@echo "benchmarks are run by hand: see bench/README.md"

clean:
	rm -rf $(VENV) instance .pytest_cache
