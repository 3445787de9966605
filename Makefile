# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,fast]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/spyglass sample_posts

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two worker processes (pytest-xdist); worksteal evens out the few long tests. A single test runs without.
# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: each worker otherwise rewrites and compiles
# every test module again (about 4 CPU seconds a run); the files go to the ignored __pycache__ folders.
test: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2 --dist worksteal

clean:
	rm -rf $(VENV) build *.egg-info
