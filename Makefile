# vmgui developer / CI entry points. `make help` lists the targets.

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
HOST        ?= 127.0.0.1
PORT        ?= 8000
WORKERS     ?= 2
PYTEST_ARGS ?=
TEST_SQLITE := $(CURDIR)/var/test.sqlite3
MARIADB     := scripts/mariadb-test.sh

# bash with errexit/pipefail in every recipe, so a failing command in a
# multi-command line fails the target.
SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.DEFAULT_GOAL := help

.PHONY: help venv setup run dev test test-sqlite test-mysql lint fmt bench clean

help:
	@echo "make setup        venv + migrate + demo data/admin user + collectstatic"
	@echo "make run          setup, then gunicorn on http://\$$HOST:\$$PORT (HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS)) + the sensor simulator on :5029"
	@echo "make dev          setup, then Django's runserver"
	@echo "make test         test-sqlite and test-mysql (fails if either fails)"
	@echo "make test-sqlite  pytest against SQLite (PYTEST_ARGS=... passed to pytest)"
	@echo "make test-mysql   pytest against a private MariaDB (or \$$VMGUI_TEST_MYSQL_URL)"
	@echo "make lint / fmt   ruff check + format check + import-layer contracts / apply formatting and fixes"
	@echo "make bench        benchmarks (python -m bench)"
	@echo "make clean        stop and remove the test MariaDB and test SQLite files"

# The stamp is the real target: (re)install when pyproject.toml changes or the
# venv is new. System packages first: mysqlclient compiles against libmysqlclient.
venv: $(STAMP)

$(STAMP): pyproject.toml
	bash scripts/system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: venv
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	$(PY) manage.py collectstatic --noinput

# The demo's sensors point at 127.0.0.1:5029: a simulated sniffer manager port serves them live
# calls (docs/active-calls.md). It is skipped when the port is taken (a real sniffer), and it
# stops with the recipe (trap, and --exit-with-parent if the shell is killed).
run: setup
	@echo "Serving vmgui on http://$(HOST):$(PORT)/"
	$(PY) manage.py sensor_simulator --if-free --exit-with-parent & sim=$$!; \
	trap 'kill $$sim 2>/dev/null || true' EXIT; \
	$(VENV)/bin/gunicorn vmgui.wsgi:application --config python:vmgui.gunicorn_conf --bind $(HOST):$(PORT) --workers $(WORKERS)

dev: setup
	$(PY) manage.py runserver $(HOST):$(PORT)

# Run both suites even if the first fails (more information per CI run), but
# fail if either failed. Sequential on purpose: both write under var/.
test:
	@rc=0; \
	$(MAKE) --no-print-directory test-sqlite || rc=1; \
	$(MAKE) --no-print-directory test-mysql || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED" >&2; fi; \
	exit $$rc

# pytest's own exit code is the recipe's, so "no tests collected" (5) fails too.
test-sqlite: venv
	mkdir -p var
	rm -f $(TEST_SQLITE)
	VMGUI_DATABASE_URL=sqlite:///$(TEST_SQLITE) $(VENV)/bin/pytest -q $(PYTEST_ARGS)

# VMGUI_REQUIRE_MYSQL=1 makes the suite fail instead of skipping when MySQL is
# unreachable; a MariaDB that cannot start fails the target too. The EXIT trap
# stops the private instance whatever happens (also on Ctrl-C / SIGTERM via the
# INT/TERM traps) and re-exits with the saved status, so pytest's exit code
# survives the trap (otherwise a failing `stop` would replace it).
test-mysql: venv
	@if [ -n "$${VMGUI_TEST_MYSQL_URL:-}" ]; then \
		echo "test-mysql: using VMGUI_TEST_MYSQL_URL"; \
		VMGUI_DATABASE_URL="$$VMGUI_TEST_MYSQL_URL" VMGUI_REQUIRE_MYSQL=1 \
			$(VENV)/bin/pytest -q $(PYTEST_ARGS); \
	else \
		trap 'rc=$$?; bash $(MARIADB) stop || true; exit $$rc' EXIT; \
		trap 'exit 130' INT; trap 'exit 143' TERM; \
		bash $(MARIADB) start; \
		VMGUI_DATABASE_URL="$$(bash $(MARIADB) url)" VMGUI_REQUIRE_MYSQL=1 \
			$(VENV)/bin/pytest -q $(PYTEST_ARGS); \
	fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv
	$(PY) -m bench

clean:
	bash $(MARIADB) stop || true
	rm -rf var/mariadb-test
	rm -f $(TEST_SQLITE) $(TEST_SQLITE)-journal $(TEST_SQLITE)-wal $(TEST_SQLITE)-shm
