# Two commands on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# The developers' data sets beside the checkout; the library itself only reads MMSK_DATA.
ifneq ($(wildcard ../shared/data),)
export MMSK_DATA ?= $(abspath ../shared/data)
endif

.PHONY: venv demo test test-all lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# The CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[dev,text,pretrained]"
	# librosa compiles its numba code on first use (about 25 s) and caches it in the venv:
	# once here, not once in each test worker of a fresh venv.
	$(PY) -c "from mmsk.extract import AudioFeatures; AudioFeatures().warm_up()"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m mmsk demo

# Bytecode is written even where the environment asks Python not to: the two test workers, the
# CLI's subprocesses and the joblib and Dask workers import the same modules, compiled once, not in each.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n 2 --dist worksteal -m "not slow" --durations=15 --doctest-modules mmsk tests

test-all: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n 2 --dist worksteal --durations=15 --doctest-modules mmsk tests

# The docs with every example run (minutes); the tests build them without running the examples.
docs: $(STAMP)
	MMSK_DOCS_RUN_EXAMPLES=True $(VENV)/bin/sphinx-build -W -b html docs docs/_build/html

lint: $(STAMP)
	$(VENV)/bin/ruff check mmsk tests examples benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/generated docs/auto_examples docs/api.rst
