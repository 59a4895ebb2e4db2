# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint unit bench bench-data venv clean

run:
	@deploy/local/run.sh

test: lint
	$(PY) -m pytest --durations=15 $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

unit: venv
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench: venv
	$(PY) -m bench $(BENCH_ARGS)

# A generated dealer group (50 stores, 1M leads, 5M follow-ups) in PostgreSQL databases
# dealerflow_bench_<service>; BENCH_DATA_ARGS="--leads 20000 --followups 100000" for a quick one.
bench-data: venv
	$(PY) -m bench.dataset $(BENCH_DATA_ARGS)

# The virtualenv, rebuilt only when the pinned requirements change.
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

clean:
	rm -rf var $(VENV)

# The web app's libraries, re-fetched from npm at their pinned versions.
.PHONY: vendor
vendor:
	scripts/vendor.sh
