# `make demo`: virtual environment + package + the example fit (outputs in ./output).
# `make test`: the fast test tier. `make test-slow`: statistical checks (parameter recovery).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slow benchmark clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/fit_bandit2arm.py --out output

test: $(VENV)/.installed
	$(BIN)/python -m pytest

test-slow: $(VENV)/.installed
	$(BIN)/python -m pytest -m slow

benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_fit.py --out benchmarks/results

clean:
	rm -rf $(VENV) output .pytest_cache
