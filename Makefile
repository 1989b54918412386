# The two commands of the quick start: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PORT ?= 8000
# Real services for tests/integration (CI sets CI=true and they must be there).
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
SERVICES_BROKER_URL ?= redis://127.0.0.1:6379/14

.PHONY: lint screenshots run test test-unit test-services test-e2e faults loadtest bench setup system-deps npm-deps messages clean seed

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP) system-deps npm-deps messages

# Debian packages the e2e tests and translations need (chromium, its driver,
# a CJK font for screenshots, gettext).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v msgfmt >/dev/null || ! fc-list 2>/dev/null | grep -qi wqy; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei gettext >/dev/null) \
	      || echo "warning: could not install chromium/gettext; e2e tests will skip"; \
	  else echo "warning: chromium or gettext missing and not root; e2e tests will skip"; fi; \
	fi

# axe-core (npm) for tests/e2e/test_accessibility.py, pinned and kept in var/npm:
# the browser tests inject it from disk, as they cannot reach the internet.
AXE_VERSION := 4.14.1
npm-deps:
	@if ! grep -qs '"version": "$(AXE_VERSION)"' var/npm/node_modules/axe-core/package.json; then \
	  if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null) \
	      || echo "warning: could not install npm"; \
	  fi; \
	  if command -v npm >/dev/null; then \
	    npm install --prefix var/npm --no-audit --no-fund --no-save --silent axe-core@$(AXE_VERSION) \
	      || echo "warning: could not install axe-core; accessibility tests will skip (fail under CI=true)"; \
	  else echo "warning: npm missing; accessibility tests will skip (fail under CI=true)"; fi; \
	fi

messages: $(STAMP)
	@if command -v msgfmt >/dev/null && [ -n "$$(find . -path ./.venv -prune -o -name '*.po' -print)" ]; then \
	  $(PY) manage.py compilemessages --ignore=.venv -v 0; fi

var:
	mkdir -p var/broker/out var/broker/processed var/media

# PORTAL_BASE_URL: the simulated payment channels (in the worker) call back
# this server on its own port, whatever PORT is.
run: setup var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v 0
	@echo ""
	@echo "  医保网上服务大厅 → http://127.0.0.1:$(PORT)/   staff site → http://127.0.0.1:$(PORT)/admin/"
	@$(PY) manage.py seed_demo --print-logins
	@echo ""
	WEB_PORT=$(PORT) PORTAL_BASE_URL=http://127.0.0.1:$(PORT) $(VENV)/bin/honcho start -f Procfile

seed: $(STAMP) var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

# The build's own checks, before any test: lint (with Django's rules), format,
# and the layer contract (core <- people <- enrollment <- payments <- transfers | records <- portal).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The whole suite: unit tests on SQLite, then the real-services tests on
# PostgreSQL + Redis + real Celery workers (skipped with a reason when those
# are absent, failing instead when CI=true).
test: setup var lint
	$(PY) manage.py makemigrations --check --dry-run -v 0 --settings=portal.settings.test
	$(PY) -m pytest tests --ignore=tests/integration --ignore=tests/faults -q -n 2 --dist loadfile
	DATABASE_URL=$(SERVICES_DATABASE_URL) CELERY_BROKER_URL=$(SERVICES_BROKER_URL) CELERY_TASK_ALWAYS_EAGER=false \
	  $(PY) -m pytest tests/integration tests/faults -q

# Regenerate the screenshots in docs/screenshots/ (both languages, 1280 and 390 px).
screenshots: setup var
	SCREENSHOTS=1 $(PY) -m pytest tests/e2e -q

faults: setup var
	RECORD_RESULTS=1 DATABASE_URL=$(SERVICES_DATABASE_URL) CELERY_BROKER_URL=$(SERVICES_BROKER_URL) CELERY_TASK_ALWAYS_EAGER=false \
	  $(PY) -m pytest tests/faults -q

# Load run (issue 6): Locust (headless) of mixed citizen traffic against gunicorn
# + PostgreSQL (database portal_load) + Redis + a Celery worker and beat, then the
# invariant check; writes tests/load/results/latest.json.
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
loadtest: $(STAMP) var
	LOAD_USERS=$(LOAD_USERS) LOAD_SECONDS=$(LOAD_SECONDS) $(PY) tests/load/run.py

# Benchmarks (issues 7, 13): one run measures every case against its baseline and
# writes bench/results/latest.json and docs/PERFORMANCE.md. The second pass,
# BENCH_PERSONS=1000000 (a city's scale), seeds its own database portal_bench_1m
# and writes bench/results/latest-1m.json; the report shows both side by side.
# Needs PostgreSQL and Redis; installs wrk if missing.
BENCH_PERSONS ?= 20000
BENCH_DURATION ?= 5
bench: $(STAMP)
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null); \
	  else echo "wrk is missing: apt-get install wrk (as root)"; exit 2; fi; }
	@command -v pgbench >/dev/null || { echo "pgbench is missing (postgresql-contrib / postgresql-client)"; exit 2; }
	BENCH_PERSONS=$(BENCH_PERSONS) BENCH_DURATION=$(BENCH_DURATION) $(PY) bench/run.py

clean:
	rm -rf var staticfiles db.sqlite3
