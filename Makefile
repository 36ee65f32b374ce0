# The two commands: `make run` (whole system, embedded PostgreSQL and Redis unless
# DATABASE_URL / CELERY_BROKER_URL are set) and `make test` (whole suite against the
# local PostgreSQL and Redis, started if installed and down). `make test-fast` leaves
# out the tests marked slow or browser; `make bench` runs every benchmark at full
# scale, `make bench-smoke` every one at small scale (what CI runs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test test-fast lint bench bench-smoke venv messages

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

# In TEST_WORKERS processes (below): serial, the suite took 849 s of CI's 20 minutes.
test: $(STAMP)
	bin/services-up
	$(MAKE) --no-print-directory messages
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# In parallel: TEST_WORKERS processes (pytest-xdist), each with a test database of its
# own and the Redis database of REDIS_URL plus its number (cs_desk/settings/test.py).
# Two suit a 2-core machine (more only add contention there); raise it on a bigger one.
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: otherwise every worker
# rewrites the asserts of every test module and pytest plugin again on every run.
TEST_WORKERS ?= 2

test-fast: $(STAMP)
	bin/services-up
	$(MAKE) --no-print-directory messages
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -m "not slow and not browser" -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=cs_desk.settings.test $(PY) manage.py makemigrations --check --dry-run

# Every script in bench/; each makes a database and a Redis of its own, so runs may overlap.
# BENCH_ARGS go to sweep.py (e.g. BENCH_ARGS="--tickets 200000").
BENCH_SCRIPTS := calculator sweep lag queue reports email live chat web merchants

bench: $(STAMP)
	bin/services-up
	@set -e; for script in $(BENCH_SCRIPTS); do \
	  args=; if [ $$script = sweep ]; then args="$(BENCH_ARGS)"; fi; \
	  echo "[bench] bench/$$script.py $$args"; \
	  $(PY) bench/$$script.py $$args; \
	done

# A few thousand tickets each: fails when a benchmark no longer runs (a schema or code
# change); figures printed, not judged, RESULTS.md untouched.
bench-smoke: $(STAMP)
	bin/services-up
	@set -e; for script in $(BENCH_SCRIPTS); do \
	  echo "[bench-smoke] bench/$$script.py --smoke"; \
	  started=$$(date +%s); \
	  $(PY) bench/$$script.py --smoke; \
	  echo "[bench-smoke] bench/$$script.py: $$(( $$(date +%s) - started )) s"; \
	done
