# Two commands on a fresh machine with Python 3.11+, pip and make:
#   make up    installs and starts the whole system (embedded broker and database, demo feed)
#   make test  installs and runs the whole test suite
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python

.PHONY: install up test lint unit docs clean audit

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
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder --durations=15

# Known vulnerabilities in every locked dependency (PyPI's and OSV's databases: needs the
# network; CI machines here cannot reach them, see docs/RELIABILITY.md). --strict fails when a
# package cannot be checked, so an unreachable database never passes as "no vulnerability".
# AUDIT_IGNORE: --ignore-vuln ID for each finding explained in docs/RELIABILITY.md.
AUDIT_IGNORE ?=
audit: install
	$(UV) export --frozen --no-hashes --no-emit-workspace --format requirements-txt \
		--output-file $(VENV)/audit-requirements.txt --quiet
	$(UV) tool run pip-audit==2.10.1 --strict --no-deps --disable-pip \
		-r $(VENV)/audit-requirements.txt $(AUDIT_IGNORE)

docs: install
	$(PY) -m oncoroute_shared.docs.generate docs

clean:
	rm -rf $(VENV) .oncoroute
