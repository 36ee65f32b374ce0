# The two commands: `make run` (whole system, embedded PostgreSQL and Redis unless
# DATABASE_URL / CELERY_BROKER_URL are set) and `make test` (whole suite against the
# local PostgreSQL and Redis, started if installed and down).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test lint bench venv messages

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m cs_desk.launcher

messages: $(STAMP)
	@if command -v msgfmt >/dev/null; then \
	  DJANGO_SETTINGS_MODULE=cs_desk.settings.test $(PY) manage.py compilemessages --ignore=$(VENV) -v 0; \
	else echo "msgfmt missing (apt-get install gettext): UI stays in English"; fi

test: $(STAMP)
	bin/services-up
	$(MAKE) --no-print-directory messages
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=cs_desk.settings.test $(PY) manage.py makemigrations --check --dry-run

bench: $(STAMP)
	bin/services-up
	$(PY) bench/sweep.py $(BENCH_ARGS)
	$(PY) bench/lag.py
	$(PY) bench/queue.py
