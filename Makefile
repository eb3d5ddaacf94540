# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
# Optional extras to install (pyproject.toml), e.g. `make test EXTRAS=dev,spark` (.ci/run does:
# the Spark parity test then runs instead of skipping; docs/scaling_out.md).
EXTRAS ?= dev
comma  := ,
STAMP  := $(VENV)/.installed.$(subst $(comma),-,$(EXTRAS))
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

# Sample size for `make run` / `make sample` (ignored when data/landing already has drops)
ACCOUNTS ?= 500
DAYS     ?= 540
SEED     ?= 7
LANDING  ?= data/landing
# Where `make serve` puts the UI (deploy/serve.sh)
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 3000
# Benchmark preset for `make bench` (bench/run.py: tiny, small, medium, large)
PRESET   ?= small

.PHONY: run test test-quick lint sample dev serve docs bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: config/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp config/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## run: create the environment, make the sample landing zone if there is none, build everything
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	@if [ -z "$$(ls -A $(LANDING) 2>/dev/null)" ]; then \
		$(PY) -m orchestration.lib.sample_data --accounts $(ACCOUNTS) --days $(DAYS) --seed $(SEED) --out $(LANDING); \
	else echo "landing zone $(LANDING) already has drops: not regenerating"; fi
	CSP_LANDING_DIR=$(LANDING) $(VENV)/bin/csp build || [ $$? -eq 1 ]   # 1 = nothing to do (up to date)

## sample: (re)generate the sample landing zone
sample: $(STAMP)
	$(PY) -m orchestration.lib.sample_data --accounts $(ACCOUNTS) --days $(DAYS) --seed $(SEED) --out $(LANDING)

## test: lint, then the test suite (slow end-to-end tests included; `make test-quick` skips them)
test: $(STAMP) lint
	$(PY) -m pytest -q -p no:cacheprovider

test-quick: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not browser"

## lint: ruff for the Python (pyproject.toml [tool.ruff]), sqlfluff for the dbt models (.sqlfluff;
## its dbt templater compiles each model against an in-memory warehouse)
lint: $(STAMP)
	$(VENV)/bin/ruff check orchestration expectations tests bench
	CSP_WAREHOUSE_PATH=:memory: $(VENV)/bin/sqlfluff lint dbt_project/models

## dev: the Dagster UI on http://127.0.0.1:3000
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## docs: the dbt docs as one offline HTML file (data/docs/dbt/static_index.html), from a copy
## of the warehouse (never the file a run writes), and where the newest GX Data Docs are
docs: $(STAMP)
	$(VENV)/bin/csp docs

## serve: the daemon (schedules, sensors, run queue, run monitoring) and the UI, in the
## foreground against $(DAGSTER_HOME), as a host runs them unattended (docs/running_unattended.md)
serve: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	VENV_BIN=$(VENV)/bin SERVE_HOST=$(SERVE_HOST) SERVE_PORT=$(SERVE_PORT) deploy/serve.sh

## bench: benchmarks at scale (not part of the tests): `make bench PRESET=small|medium|large`;
## prints every figure, writes bench/results/$(PRESET).json and BENCHMARKS.md
bench: $(STAMP)
	$(PY) bench/run.py --preset $(PRESET)

clean:
	rm -rf data/raw data/warehouse data/serving data/gx_docs $(DAGSTER_HOME)
