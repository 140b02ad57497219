# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi.py
LOCALES := en lv pl ru zh_Hans ar

.PHONY: bench totp run test install migrate seed translations extract-messages lint typecheck pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel -q compile -d portal/translations --use-fuzzy

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask portal seed-demo

run: seed translations
	@$(BIN)/flask portal banner --host $(HOST) --port $(PORT)
	@$(BIN)/flask portal serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check portal tests bench config.py wsgi.py
	$(BIN)/ruff format --check portal tests bench config.py wsgi.py

typecheck: install
	$(BIN)/mypy

pytest: install translations
	$(BIN)/pytest -q -p no:cacheprovider
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the whole suite again on $$TEST_DATABASE_URL =="; \
		PORTAL_TEST_DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest -q -p no:cacheprovider; \
	fi

test: lint typecheck pytest

extract-messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
	$(BIN)/pybabel -q update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

totp: install
	@$(BIN)/flask portal demo-totp admin@example.com

bench: install translations
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
