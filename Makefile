# `make run` and `make test` are the whole contract with a new user (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: setup run test test-unit test-e2e lint bench fuzz emulator clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo
	scripts/run-dev

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run

test-unit: setup
	$(BIN)/python -m pytest

test-e2e: setup
	scripts/ensure-chromium
	$(BIN)/python -m pytest -m e2e

test: lint test-unit test-e2e

bench: setup
	$(BIN)/python manage.py bench

# The property-based test of the emulator against OpenAI's spec, run long (make test runs a
# few seconds of it). FUZZ_EXAMPLES is per operation and mode.
FUZZ_EXAMPLES ?= 400
fuzz: setup
	STUDIO_FUZZ=1 STUDIO_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/imageapi/test_emulator_fuzz.py

# The offline Images API over HTTP, for any OpenAI client: OPENAI_BASE_URL=http://127.0.0.1:8765/v1
emulator: setup
	$(BIN)/python manage.py serve_emulator --port 8765

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
