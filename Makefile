# Two commands on a fresh machine with Python 3.11+, pip and make:
#   make up    installs and starts the whole system (embedded broker and database, demo feed)
#   make test  installs and runs the whole test suite
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python

.PHONY: install up test lint unit docs clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet uv

install: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet

up: install
	$(VENV)/bin/oncoroute up --demo

lint: install
	$(VENV)/bin/ruff check shared services tests $(wildcard bench)
	$(VENV)/bin/mypy shared/oncoroute_shared services/*/oncoroute_* --no-error-summary

test: install lint
	$(PY) -m pytest -q -p no:cacheprovider

docs: install
	$(PY) -m oncoroute_shared.docs.generate docs

clean:
	rm -rf $(VENV) .oncoroute
