# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi.py
LOCALES := en lv pl ru zh_Hans ar

.PHONY: static bench totp run test install migrate seed translations extract-messages lint typecheck pytest clean test-tools check-translations apt-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

# Static files served compressed: a .br and a .gz beside each file (WhiteNoise serves them).
STATIC_SOURCES := $(shell find portal/static -type f ! -name '*.gz' ! -name '*.br' ! -name '.compressed')
portal/static/.compressed: $(STATIC_SOURCES) | $(VENV)/.installed
	$(BIN)/python -m whitenoise.compress -q portal/static
	touch $@

static: portal/static/.compressed

translations: install
	$(BIN)/pybabel -q compile -d portal/translations --use-fuzzy
	$(BIN)/pybabel -q compile -D flask_security -d portal/translations --use-fuzzy

migrate: install
	$(BIN)/flask db upgrade

# The demo's mail links point at the address `make run` serves on, unless PUBLIC_BASE_URL says.
seed: migrate
	PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/flask portal seed-demo

run: seed translations static
	@$(BIN)/flask portal banner --host $(HOST) --port $(PORT)
	@$(BIN)/flask portal serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check portal tests bench scripts config.py wsgi.py
	$(BIN)/ruff format --check portal tests bench scripts config.py wsgi.py

typecheck: install
	$(BIN)/mypy

# What the browser tests need besides Python: Debian's chromium and a Java runtime (for the
# Nu HTML checker) from apt when missing, and axe-core and vnu-jar from npm.
test-tools: node_modules/.installed
	@[ -x /usr/bin/chromium ] || $(MAKE) --no-print-directory apt-packages APT_PACKAGES=chromium
	@command -v java >/dev/null 2>&1 || $(MAKE) --no-print-directory apt-packages APT_PACKAGES=default-jre-headless

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory apt-packages APT_PACKAGES=npm
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

apt-packages:
	@if [ "$$(id -u)" != 0 ]; then echo "Install as root: apt-get install -y $(APT_PACKAGES)"; exit 1; fi
	apt-get update && apt-get install -y --no-install-recommends $(APT_PACKAGES)

# Two pytest-xdist workers (one per core) for everything but the browser journeys, which share
# one portal process and one browser and run after them. On PostgreSQL each worker gets a
# database of its own; the journeys run on their own SQLite portal, so the second pass on
# another database leaves them out.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -p no:cacheprovider

pytest: install translations static test-tools
	$(PYTEST) -n $(TEST_WORKERS) -m "not e2e"
	$(PYTEST) -m e2e
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the whole suite again on $$TEST_DATABASE_URL (browser journeys excluded) =="; \
		PORTAL_TEST_DATABASE_URL="$$TEST_DATABASE_URL" $(PYTEST) -n $(TEST_WORKERS) -m "not e2e"; \
	fi

# Every catalog complete: no missing or fuzzy translation, the right number of plural forms.
check-translations: install
	$(BIN)/python scripts/check_translations.py

test: lint typecheck check-translations pytest

extract-messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k N_plural:1,2 -o portal/translations/messages.pot .
	$(BIN)/pybabel -q update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules tests/e2e/artifacts

totp: install
	@$(BIN)/flask portal demo-totp admin@example.com

# Every page under wrk on SQLite, then on PostgreSQL when it answers; survey answers from
# four processes; Lighthouse. All into bench/results.md. On the small scale data by default
# (seeded once, a few minutes); BENCH_SEED=full for the whole data set (about an hour to seed
# on SQLite), demo for the demo data alone. A PostgreSQL database per data set.
BENCH_SEED ?= small
BENCH_PG_DB ?= portal_bench_$(BENCH_SEED)
BENCH_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/$(BENCH_PG_DB)
bench: install translations static test-tools
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py --seed $(BENCH_SEED) $(BENCH_ARGS)
	@if pg_isready -h 127.0.0.1 -q 2>/dev/null; then \
		psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(BENCH_PG_DB)'" | grep -q 1 \
			|| createdb -h 127.0.0.1 -U postgres $(BENCH_PG_DB); \
		$(BIN)/python bench/run.py --seed $(BENCH_SEED) --database-url $(BENCH_PG_URL) $(BENCH_ARGS); \
	else echo "PostgreSQL is not running: its section is left out"; fi
	PYTHONPATH=. $(BIN)/python bench/surveys.py --skip-single --output bench/results.md
	$(BIN)/python bench/lighthouse.py --seed $(BENCH_SEED)
