# The two set-up commands of README.md: `make study` and `make test`.
# Each creates the virtual environment .venv (pinned by requirements.lock) if
# it is absent or out of date, then runs the study or the test suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: study test lint lock

study: $(STAMP)  ## run what is missing or out of date in the study's DVC pipeline (active profile)
	dvc repro --allow-missing

test: $(STAMP)  ## lint, the import contracts (pyproject.toml), then the test suite
	ruff check .
	lint-imports
	pytest

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==26.3
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

lock: $(STAMP)  ## re-pin the whole environment after changing pyproject.toml
	{ head -2 requirements.lock; $(BIN)/pip freeze --exclude-editable \
	  | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock
