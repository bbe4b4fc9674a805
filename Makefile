# xrdeploy: every target does its own set-up (pipenv, the locked dependencies, and for the
# LocalStack tiers the emulator's own venv, built on first use).
SHELL := /bin/bash
PYTHON ?= python3
PIPENV := PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 $(PYTHON) -m pipenv
# cdktf 0.21 runs on Node.js through jsii, which supports Node 20, 22 and 24. 20 is past its end
# of life: it still works, and every synth says so in one line (xrdeploy/synth.py check_node).
NODE_MIN := 20

.PHONY: setup node-check demo synth test test-fast test-emulator lint check golden least-privilege bench clean

setup: .venv/.synced node-check

node-check:            ## Node.js >= $(NODE_MIN) on PATH, with one line saying what to install
	@version=$$(node --version 2>/dev/null) || { \
	  echo "error: node not found on PATH; cdktf needs Node.js >= $(NODE_MIN): install Node.js 22 or 24 (LTS)" >&2; exit 2; }; \
	major=$${version#v}; major=$${major%%.*}; \
	[ "$$major" -ge $(NODE_MIN) ] 2>/dev/null || { \
	  echo "error: node $$version: cdktf needs Node.js >= $(NODE_MIN); install Node.js 22 or 24 (LTS)" >&2; exit 2; }

# The pinned cdktf CLI (package-lock.json), for `npx cdktf` and its integration test.
node_modules/.package-lock.json: package-lock.json | node-check
	npm ci --no-audit --no-fund

# The local cloud's IAM evaluator (@cloud-copilot/iam-simulate, emulator/iam_evaluator).
emulator/iam_evaluator/node_modules/.package-lock.json: emulator/iam_evaluator/package-lock.json | node-check
	npm ci --no-audit --no-fund --prefix emulator/iam_evaluator

.venv/.synced: Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet pipenv
	$(PIPENV) sync --dev
	@touch $@

# DEMO_ARGS=--approve answers the manual approvals (needed without a terminal).
demo: setup emulator/iam_evaluator/node_modules/.package-lock.json  ## the whole chain in the local cloud: deploy, one upload, watch it flow, pages, destroy
	$(PIPENV) run python main.py demo $(DEMO_ARGS)

synth: setup           ## Terraform JSON for the default chain in cdktf.out/
	$(PIPENV) run python main.py synth

# Two workers (2 cores). Three overlap more of the integration tier's waiting (22 min of pytest
# instead of more) but race on Terraform's shared plugin cache more often (concurrent `terraform
# init`: "installed provider plugins are not consistent"); a per-worker cache is the fix to make.
# One test file per worker at a time, and each shared-deployment folder (tests/integration/chain/,
# tests/integration/wave/) as one unit (tests/conftest.py), so a deployed chain and each module's
# own local cloud are built once. (pytest-xdist 3.8's loadgroup does not group on this pytest.)
PYTEST_WORKERS ?= 2

test: setup node_modules/.package-lock.json emulator/iam_evaluator/node_modules/.package-lock.json test-emulator  ## every tier: the local cloud's unit tier, then unit, synth, terraform, security, integration (LocalStack)
	$(PIPENV) run pytest -n $(PYTEST_WORKERS) --dist loadfile

test-fast: setup test-emulator  ## everything but LocalStack
	$(PIPENV) run pytest -m "not integration"

# The local cloud's own Python: LocalStack's venv (Python 3.13), built or brought up to date with
# the plugin sources first, since the plugin package is installed there rather than imported from
# the tree.
LOCAL_CLOUD_PYTHON = .venv/bin/python -c 'from emulator.venv import ensure_environment, venv_python; print(venv_python(ensure_environment()))'

test-emulator: setup emulator/iam_evaluator/node_modules/.package-lock.json  ## the local cloud's unit tier (emulator/tests) on LocalStack's Python 3.13
	python="$$($(LOCAL_CLOUD_PYTHON))" && "$$python" -m pytest emulator/tests

lint: setup
	$(PIPENV) run ruff check .
	$(PIPENV) run ruff format --check .
	$(PIPENV) run mypy
	cd lambda && ../.venv/bin/mypy --strict --ignore-missing-imports .
	python="$$($(LOCAL_CLOUD_PYTHON))" && "$$python" -m mypy --config-file emulator/mypy.ini

check: lint test       ## the gate: lint, types, then all tests

golden: setup          ## regenerate the committed golden synthesis after an intended change
	XRDEPLOY_UPDATE_GOLDEN=1 $(PIPENV) run pytest tests/synth/test_golden.py

# `make test` runs the same test without rewriting the table; this target rewrites it.
least-privilege: setup emulator/iam_evaluator/node_modules/.package-lock.json  ## one promotion with IAM enforced, the replay of each statement's removal, live mutations; rewrites docs/security-scan.md's table
	XRDEPLOY_UPDATE_DOCS=1 $(PIPENV) run pytest tests/integration/chain/test_least_privilege.py

bench: setup           ## synth and copy benchmarks (figures go in docs/benchmarks.md)
	$(PIPENV) run python benchmarks/bench_synth.py
	$(PIPENV) run python benchmarks/bench_copy.py

clean:
	rm -rf cdktf.out .xrdeploy terraform.*.tfstate*
