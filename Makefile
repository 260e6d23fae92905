# One entry point for people and CI. `make run` and `make test` set up everything they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app admin_app:create_app
# PORT=8000 make run moves the console; unset, devserver reads PORT from .env (default 5000).
PORT ?=

.PHONY: install install-dev system-deps run worker test smoke-prod lint db-upgrade bench bench-import translations translations-update clean bench-pdf bench-proposals bench-pages bench-export bench-register

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime only (requirements.txt), every file checked against its pinned hash; `make test`
# adds the test, lint and load tools (requirements-dev.txt). Both are compiled by pip-tools
# from the .in files beside them.
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d admin_app/translations >/dev/null

# After adding or changing user-visible text: new messages land untranslated in the Dutch
# catalog (messages.po); translate them there. tests/test_translations.py fails until done.
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o admin_app/translations/messages.pot .
	$(BIN)/pybabel update -i admin_app/translations/messages.pot -d admin_app/translations -l nl --no-fuzzy-matching

# What the tests need from Debian: PostgreSQL, wkhtmltopdf, Chromium (never a downloaded browser).
system-deps:
	@bash scripts/system-deps.sh

db-upgrade: install
	mkdir -p instance
	$(FLASK) db upgrade

# wkhtmltopdf ("Printen (PDF)"): installed when root, else the apt-get command is printed.
run: install
	@bash scripts/run-deps.sh
	$(BIN)/python -m admin_app.devserver $(if $(PORT),--port $(PORT))

worker: install
	$(BIN)/python -m admin_app.jobs.worker

test: install-dev system-deps
	bash scripts/test.sh

# Issue 17: deploy/ as production runs it (gunicorn, 2 workers, PostgreSQL, Redis), over HTTP.
# The driver uses requests and aiosmtpd: the dev set.
smoke-prod: install-dev system-deps
	scripts/with-postgres.sh $(BIN)/python scripts/smoke_prod.py

# The layers as drawn (issue 20): import-linter's contracts are in .importlinter.
# The size limits (issue 20: complexity <= 15, service modules <= 500 lines): scripts/complexity.py.
lint: install-dev
	$(BIN)/ruff check admin_app tests config.py bench scripts deploy
	$(BIN)/ruff format --check admin_app tests config.py bench scripts deploy
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python scripts/complexity.py

bench: bench-import bench-pdf bench-proposals bench-pages

bench-register: install-dev system-deps
	scripts/with-postgres.sh $(BIN)/python bench/bench_register.py

bench-import: install-dev system-deps
	scripts/with-postgres.sh $(BIN)/python bench/import.py

bench-pdf: install-dev system-deps
	$(BIN)/python bench/pdf.py

bench-proposals: install-dev system-deps
	scripts/with-postgres.sh $(BIN)/python bench/proposals.py

bench-pages: install-dev system-deps
	scripts/with-postgres.sh sh -c '$(BIN)/python bench/seed_scale.py && $(BIN)/python bench/pages.py'

bench-export: install-dev system-deps
	scripts/with-postgres.sh $(BIN)/python bench/export.py

clean:
	rm -rf $(VENV) instance .pytest_cache

# Issue 13: the same 60,000-row list on SQLite (`make run`'s database) and PostgreSQL.
.PHONY: bench-import-sqlite
bench-import-sqlite: install-dev system-deps
	scripts/with-postgres.sh $(BIN)/python bench/import_sqlite.py
