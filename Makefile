# `make demo`: virtual environment + package + the example fit (outputs in ./output).
# `make test`: the fast test tier. `make test-slow`: statistical checks (parameter recovery).
PYTHON ?= python3
VENV ?= .venv
# Test processes (pytest-xdist): compilation is single-threaded, so two workers keep two cores busy.
JOBS ?= 2
BIN := $(VENV)/bin

.PHONY: demo test test-slow test-examples benchmark clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/fit_bandit2arm.py --out output

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n $(JOBS) --durations=15

# The statistical tier runs in float32, the precision users fit in (docs/testing.md).
test-slow: $(VENV)/.installed
	BAYESRL_TEST_PRECISION=float32 $(BIN)/python -m pytest -m slow -n $(JOBS) --dist loadgroup --durations=15

# The README's code, the notebooks and the console script, end to end (tiny sampler settings).
test-examples: $(VENV)/.installed
	$(BIN)/python -m pytest -m examples -n $(JOBS) --durations=15

benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_fit.py --out benchmarks/results

clean:
	rm -rf $(VENV) output .pytest_cache
