# mktapp — `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

HTMX_VERSION := 2.0.11
HTMX_SHA256 := d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
AXE_VERSION := 4.14.1
AXE_SHA256 := 29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c

RUN_DEB := fonts-noto-cjk libharfbuzz-subset0
TEST_DEB := $(RUN_DEB) chromium poppler-utils
LOCALES := zh_Hans en

.PHONY: run test setup test-setup system-deps test-system-deps vendor translations update-translations compile-translations fmt lint db clean bench

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo
	@echo "  mktapp on http://127.0.0.1:5000 — demo logins (password mktapp-demo-2026, demo only):"
	@echo "  admin manager market1 market2 sales1 sales2 sales3 service1 service2 finance1 boss"
	@echo
	$(FLASK) run --host 127.0.0.1 --port 5000

# The suite runs on every core (pytest-xdist; work stealing evens out the browser tests).
PYTEST_WORKERS ?= auto

test: test-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

setup: system-deps $(VENV)/.installed vendor compile-translations

test-setup: test-system-deps $(VENV)/.installed vendor compile-translations build/vendor/axe.min.js

system-deps:
	@scripts/system-deps.sh $(RUN_DEB)

test-system-deps:
	@scripts/system-deps.sh $(TEST_DEB)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

vendor: static/vendor/htmx.min.js

static/vendor/htmx.min.js:
	scripts/fetch-npm.sh htmx.org@$(HTMX_VERSION) dist/htmx.min.js $@ $(HTMX_SHA256)

build/vendor/axe.min.js:
	scripts/fetch-npm.sh axe-core@$(AXE_VERSION) axe.min.js $@ $(AXE_SHA256)

# Compile the message catalogues (part of set-up; the .mo files are not committed).
compile-translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d mktapp/translations

# Extract the messages, update both catalogues, fill English, compile.
# zh_Hans entries that come out empty must then be translated in its .po
# (the test suite lists them).
translations update-translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs='.* __pycache__' -o mktapp/translations/messages.pot .
	for l in $(LOCALES); do \
	  test -f mktapp/translations/$$l/LC_MESSAGES/messages.po || \
	    $(BIN)/pybabel -q init -i mktapp/translations/messages.pot -d mktapp/translations -l $$l; \
	done
	$(BIN)/pybabel -q update -i mktapp/translations/messages.pot -d mktapp/translations --no-fuzzy-matching
	$(BIN)/python scripts/i18n_fill_en.py
	$(BIN)/pybabel compile -d mktapp/translations --statistics

fmt: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

db: setup
	$(FLASK) db upgrade

bench: setup
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) static/vendor build test-artifacts .pytest_cache
