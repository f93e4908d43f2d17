# remag: the two commands a newcomer needs are `make run` and `make test`.
# Everything here works on a fresh machine: the virtual environment is created when missing.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_SUPPLIERS ?= 300
# The suite's processes (pytest-xdist): each has its own test database, and every test its
# own cache prefix and Celery queues. Two suit a 2-core machine and keep within a shared
# PostgreSQL's connections; 0 runs the suite in this one process.
PYTEST_WORKERS ?= 2
TOKEN_USER ?= demo-sme
# The queues a worker serves (remag/queues.py): all of them unless told otherwise,
# e.g. `make worker QUEUES=matching` for a worker that only runs match runs.
QUEUES ?= $(or $(CELERY_TASK_DEFAULT_QUEUE),celery),$(CELERY_QUEUE_PREFIX)matching,$(CELERY_QUEUE_PREFIX)imports,$(CELERY_QUEUE_PREFIX)webhooks
# Development only: settings refuse to start without SECRET_KEY when DEBUG is off.
export DEBUG ?= 1

.PHONY: run serve test lint format worker beat bench install install-dev clean token

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files re-install when pyproject.toml changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# The API docs' and admin's assets, collected into STATIC_ROOT once per install (hashed
# names and far-future caching when DEBUG=0; without them the pages still work, served
# from the packages' own files: remag/storage.py).
$(VENV)/.collected: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@touch $@

install: $(VENV)/.collected
install-dev: $(VENV)/.installed-dev

run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_taxonomy
	$(BIN)/python manage.py seed_demo --if-empty --with-accounts --suppliers $(DEMO_SUPPLIERS) --seed 1
	$(BIN)/python manage.py seed_demo_requests
	$(BIN)/python manage.py seed_demo_calls
	$(BIN)/python manage.py seed_demo_magnets
	$(BIN)/python manage.py refresh_representations
	@echo
	@echo "  remag is serving on http://127.0.0.1:$(PORT)/"
	@echo "  API docs:  http://127.0.0.1:$(PORT)/api/docs/   (Redoc: /api/redoc/, schema: /api/schema/)"
	@echo "  Admin:     http://127.0.0.1:$(PORT)/admin/"
	@echo
	@if [ -n "$$REDIS_URL" ]; then \
		echo "  REDIS_URL is set: starting a Celery worker with beat alongside the web server"; \
		$(BIN)/celery -A remag worker -B --schedule var/celerybeat-schedule --loglevel=INFO --concurrency=2 -Q $(QUEUES) & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	else \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	fi

# The production server (gunicorn with remag/gunicorn_conf.py), on PORT; set DEBUG=0,
# SECRET_KEY and ALLOWED_HOSTS as in production. `make run` keeps the development server.
serve: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	PORT=$(PORT) $(BIN)/gunicorn -c python:remag.gunicorn_conf remag.wsgi

test: install-dev
	@mkdir -p var
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: install
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL (without it tasks run in-process)"; exit 2; }
	$(BIN)/celery -A remag worker --loglevel=INFO -Q $(QUEUES)

beat: install
	@test -n "$$REDIS_URL" || { echo "make beat needs REDIS_URL"; exit 2; }
	$(BIN)/celery -A remag beat --loglevel=INFO --schedule var/celerybeat-schedule

bench: install-dev
	@set -e; for f in bench/bench_*.py bench/match_run.py; do [ -e "$$f" ] || { echo "no benchmarks yet"; break; }; \
		echo "== $$f"; (cd bench && ../$(BIN)/python "$$(basename $$f)"); done

# Print a new personal token for TOKEN_USER (default demo-sme), for curl and scripts.
token: install
	@$(BIN)/python manage.py issue_token $(TOKEN_USER)

clean:
	rm -rf $(VENV) var/*.sqlite3
