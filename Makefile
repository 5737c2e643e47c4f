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

.PHONY: run test check lint setup test-setup system-packages test-system-packages clean bench

# Debian packages serving needs: the fallback barcode decoder and the font labels print Cyrillic text with.
RUN_PACKAGES := libzbar0 fonts-dejavu-core
# Debian packages only the tests need: the browser the page tests drive, pdftotext/pdftoppm/pdfinfo for PDFs.
TEST_PACKAGES := chromium poppler-utils
TEST_STAMP := $(VENV)/.installed-test

# Installs those of the Debian packages $(1) that dpkg does not list as installed, in one apt-get run.
define apt_install
	@if ! command -v dpkg-query >/dev/null; then echo "no dpkg here: install $(strip $(1)) or their equivalents"; exit 0; fi; \
	missing=""; \
	for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

# Serving: the runtime packages and a virtual environment with the package alone.
setup: system-packages $(STAMP)

# Tests, lint and types: the serving set-up plus the test packages and the package's `test` extra.
test-setup: setup test-system-packages $(TEST_STAMP)

# Debian's own Python leaves ensurepip to python3-venv; without it `python3 -m venv` cannot make .venv.
system-packages:
	$(call apt_install,$(RUN_PACKAGES) $(shell [ -x $(BIN)/python ] || $(PYTHON) -c 'import ensurepip' 2>/dev/null || echo python3-venv))

test-system-packages:
	$(call apt_install,$(TEST_PACKAGES))

$(STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	@touch $(TEST_STAMP)

run: setup
	$(BIN)/serialtrace init
	$(BIN)/serialtrace demo --if-empty
	$(BIN)/serialtrace serve --host $(HOST) --port $(PORT)

# ruff over the whole tree, mypy over the pure packages; both configured in pyproject.toml.
lint: test-setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

check: lint
	$(BIN)/python -m pytest -q -m "not slow" -n $(JOBS) $(PYTEST_ARGS)

bench: test-setup
	@echo "benchmarks are run by hand: see bench/README.md"

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache

# Translations: extract the strings marked in the code and templates into the template catalog, merge it into
# each language's catalog (new strings appear untranslated), compile the catalogs the app loads. The compiled
# .mo files are committed, so a clone serves Russian without this step.
.PHONY: i18n-extract i18n-update i18n-compile
I18N_DIR := serialtrace/translations
POT ?= $(I18N_DIR)/messages.pot
PYBABEL ?= $(BIN)/pybabel
i18n-extract:
	$(PYBABEL) -q extract -w 120 -F babel.cfg -k _l -k _n:1,2 -k lazy_gettext --no-location --sort-output \
	  --project serialtrace -o $(POT) serialtrace

i18n-update: i18n-extract
	$(PYBABEL) -q update -w 120 -i $(POT) -d $(I18N_DIR) --no-fuzzy-matching --ignore-obsolete

i18n-compile:
	$(PYBABEL) compile -d $(I18N_DIR) --statistics
