# Paylinks — `make run` to start everything, `make test` to run the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
CHECKOUT_PORT ?= 3000
PYTHON ?= $(shell scripts/find-python)
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
NPM    ?= npm
CHECKOUT_STAMP := checkout/node_modules/.installed-$(shell sha1sum checkout/package-lock.json | cut -c1-12)
OIDC_STAMP := tests/oidc/node_modules/.installed-$(shell sha1sum tests/oidc/package-lock.json | cut -c1-12)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: help venv deps run migrate demo test lint format bench bench-analytics bench-analytics-browser scale checkout checkout-test clean

help:
	@echo "make run     create the venv, migrate, load demo data, start web + worker + checkout"
	@echo "make test    the whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL)"
	@echo "make lint    ruff (lint + format check), mypy, migrations check"
	@echo "make bench   benchmarks (PostgreSQL + gunicorn); figures go to docs/scaling.md"
	@echo "make deps    recompile requirements*.txt from requirements*.in (UPGRADE=pkg or UPGRADE=all)"
	@echo "make bench-analytics   the analytics benchmark (seeds 1M+ payments; PostgreSQL)"
	@echo "make bench-analytics-browser   navigation -> charts drawn in Chromium, same database"
	@echo "make scale   two web hosts behind nginx, two workers: the several-hosts checks"

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { scripts/find-python; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# requirements*.in name what Paylinks chose; pip-compile pins them and everything they pull in
# into requirements*.txt, keeping every existing pin that still fits (docs/operations.md,
# "Upgrading dependencies"). `make deps UPGRADE=stripe` (or UPGRADE="stripe wagtail") moves
# those packages to their newest allowed release; `make deps UPGRADE=all` moves everything.
# The command each file's header names: the .in file is what you edit, this one recompiles.
pip_compile = CUSTOM_COMPILE_COMMAND='make deps    \# after editing $(1); see docs/operations.md, "Upgrading dependencies"' \
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	--no-emit-trusted-host $(if $(filter all,$(UPGRADE)),--upgrade,$(addprefix --upgrade-package ,$(UPGRADE))) \
	--output-file $(2) $(1)

deps: venv
	$(call pip_compile,requirements.in,requirements.txt)
	$(call pip_compile,requirements-dev.in,requirements-dev.txt)

# The checkout page (Next.js): npm ci from the lock file whenever it changes.
$(CHECKOUT_STAMP): checkout/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "The checkout page needs Node.js 20.9+ and npm: install them first."; exit 1; }
	cd checkout && $(NPM) ci --no-audit --no-fund
	@rm -f checkout/node_modules/.installed-*
	@touch $@

$(OIDC_STAMP): tests/oidc/package-lock.json
	$(NPM) ci --no-audit --no-fund --prefix tests/oidc
	@rm -f tests/oidc/node_modules/.installed-*
	@touch $@

checkout: $(CHECKOUT_STAMP)
	cd checkout && $(NPM) run build

checkout-test: $(CHECKOUT_STAMP)
	cd checkout && $(NPM) run typecheck && $(NPM) test

.env:
	@$(PYTHON) scripts/write-dotenv .env

migrate: venv .env
	@mkdir -p var
	$(PY) manage.py migrate --no-input

demo: migrate
	@if [ ! -f var/.demo-loaded ]; then $(PY) manage.py load_demo_data && touch var/.demo-loaded; fi

# SITE_URL follows PORT (unless set), so the printed URLs, the sandbox's checkout links and
# its webhooks point at the server that is actually running (honcho's default is 5000).
# The checkout page forwards the customer's address in X-Forwarded-For: trust one hop.
run: export SITE_URL ?= http://localhost:$(PORT)
run: export CHECKOUT_PORT := $(CHECKOUT_PORT)
run: export PUBLIC_CHECKOUT_URL ?= http://localhost:$(CHECKOUT_PORT)
run: export PAYLINKS_TRUSTED_PROXIES ?= 1
run: demo checkout
	@$(PY) manage.py welcome
	$(VENV)/bin/honcho -f Procfile.dev start --port $(PORT)

# The checkout page is type-checked and unit-tested first; the Python suite then builds it
# (tests/e2e) and drives it in Chromium together with Django and the worker.
test: venv checkout-test $(OIDC_STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy paylinks dashboards theme project storefront
	DEBUG=true PAYLINKS_SKIP_DOTENV=1 $(PY) manage.py makemigrations --check --dry-run

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs PostgreSQL (BENCH_PG_URL, default 127.0.0.1:5432); wrk when installed; Node for the
# checkout page. `make bench BENCH_ARGS=--write-docs` puts the figures into docs/scaling.md.
bench: venv
	$(PY) bench/run.py $(BENCH_ARGS)

# Seeds its own database with a million payments and more (bench/analytics.py): minutes.
bench-analytics: venv
	$(PY) bench/run.py --analytics $(BENCH_ARGS)

bench-analytics-browser: venv
	$(PY) bench/run.py --analytics-browser $(BENCH_ARGS)

# Two gunicorn web hosts behind nginx (Debian's nginx-light, installed when missing and
# root), two workers, one PostgreSQL database and one Redis index (bench/scale.py). Not part
# of `make test`: it needs nginx and takes a few minutes.
scale: venv
	$(PY) bench/scale.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache checkout/.next checkout/node_modules tests/oidc/node_modules
