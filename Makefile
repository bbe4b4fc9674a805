# xrdeploy: every target does its own set-up (pipenv, the locked dependencies, and for the
# LocalStack tiers the emulator's own venv, built on first use), as a normal user: nothing needs
# root and nothing is written outside the checkout and the user's caches (~/.cache, ~/.npm).
SHELL := /bin/bash
# The Python 3.11 the project's venv (.venv) is made with; CI passes PYTHON=python3.11.
PYTHON ?= python3
# pipenv lives in a venv of its own in the checkout: Debian 12's and Ubuntu 23.04+'s system Python
# refuse `pip install` outside a venv (PEP 668, "externally-managed-environment").
PIPENV_VERSION := 2026.10.3
PIPENV_HOME := .xrdeploy/pipenv-venv
PIPENV := PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 $(PIPENV_HOME)/bin/pipenv
# Terraform (and the cdktf CLI) call HashiCorp's checkpoint service and write
# ~/.terraform.d/checkpoint_signature unless this is set; every run here goes without.
export CHECKPOINT_DISABLE := 1
# cdktf 0.21 runs on Node.js through jsii, which supports Node 20, 22 and 24. 20 is past its end
# of life: it still works, and every synth says so in one line (xrdeploy/terraform/synth.py check_node).
NODE_MIN := 20

.PHONY: setup environments localstack-venv checkov-venv node-check demo synth test test-fast test-emulator lint check golden least-privilege bench bench-demo container-test clean

setup: .venv/.synced node-check

node-check:            ## Node.js >= $(NODE_MIN) on PATH, with one line saying what to install
	@version=$$(node --version 2>/dev/null) || { \
	  echo "error: node not found on PATH; cdktf needs Node.js >= $(NODE_MIN): install Node.js 22 or 24 (LTS)" >&2; exit 2; }; \
	major=$${version#v}; major=$${major%%.*}; \
	[ "$$major" -ge $(NODE_MIN) ] 2>/dev/null || { \
	  echo "error: node $$version: cdktf needs Node.js >= $(NODE_MIN); install Node.js 22 or 24 (LTS)" >&2; exit 2; }

# The pinned cdktf CLI (package-lock.json), for `npx cdktf` and its integration test: installed
# once per package-lock.json in the user's cache, hard-linked into each checkout (tools/cdktf_cli_env.py).
node_modules/.package-lock.json: package.json package-lock.json | node-check
	$(PYTHON) -m tools.cdktf_cli_env

# The local cloud's IAM evaluator (@cloud-copilot/iam-simulate, emulator/iam_evaluator).
emulator/iam_evaluator/node_modules/.package-lock.json: emulator/iam_evaluator/package-lock.json | node-check
	npm ci --no-audit --no-fund --prefix emulator/iam_evaluator

# The stamp names the version: changing PIPENV_VERSION rebuilds the venv.
$(PIPENV_HOME)/.pipenv-$(PIPENV_VERSION):
	rm -rf $(PIPENV_HOME)
	$(PYTHON) -m venv $(PIPENV_HOME)
	$(PIPENV_HOME)/bin/python -m pip install --quiet --disable-pip-version-check pipenv==$(PIPENV_VERSION)
	@touch $@

# --python with the interpreter's real path: given a bare name, pipenv may pick another version.
# pip would byte-compile all 2,137 modules of the AWS provider binding (175 MB of source, about
# 16 s of CPU), of which a synth imports a few dozen (modules/provider_binding.py): everything
# else is compiled as pip would, and those few when first imported. (PIP_COMPILE=0 is pip's
# --no-compile; pip reads PIP_NO_COMPILE=1 the other way round and compiles.)
.venv/.synced: Pipfile.lock $(PIPENV_HOME)/.pipenv-$(PIPENV_VERSION)
	PIP_COMPILE=0 $(PIPENV) sync --dev --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	.venv/bin/python -m compileall -q -j 0 -x '/cdktf_cdktf_provider_aws/' .venv/lib
	@touch $@

# Every environment the gate uses, none needing another: `make -j4 environments` builds them at
# once (.ci/run does). Each venv builder is stdlib-only Python with a lock of its own, so the
# system Python runs it before the project's venv exists.
environments: setup node_modules/.package-lock.json emulator/iam_evaluator/node_modules/.package-lock.json localstack-venv checkov-venv

localstack-venv:       ## LocalStack's venv (.localstack/venv), built or brought up to date
	$(PYTHON) -c 'from emulator.venv import ensure_environment; ensure_environment()'

checkov-venv:          ## Checkov's venv (~/.cache/xrdeploy/checkov-venv, shared by clones) for the security tier
	$(PYTHON) -c 'from tools.checkov_env import ensure_venv; ensure_venv()'

# DEMO_ARGS=--approve answers the manual approvals (needed without a terminal).
demo: setup emulator/iam_evaluator/node_modules/.package-lock.json  ## the whole chain in the local cloud: deploy, one upload, watch it flow, pages, destroy
	$(PIPENV) run python main.py demo $(DEMO_ARGS)

synth: setup           ## Terraform JSON for the default chain in cdktf.out/
	$(PIPENV) run python main.py synth

# Four workers on 2 cores: much of the integration tier waits (the AWS provider's fixed wait on
# each S3 lifecycle configuration, pipelines running), and four overlap more of it
# (docs/benchmarks.md). Each worker
# has its own Terraform plugin cache (tests/conftest.py sets XRDEPLOY_TERRAFORM_HOME), since
# concurrent `terraform init`s race on a shared one. One test file per worker at a time, and the
# files that share a session fixture (a deployed chain, the default chain's plans) as one unit
# (SHARED_FIXTURE_GROUPS, tests/conftest.py), so each is built once. (pytest-xdist 3.8's loadgroup
# does not group on this pytest.)
PYTEST_WORKERS ?= 4

# The local cloud's unit tier (one process, on LocalStack's Python) runs beside the workers, its
# output shown after theirs: on its own first, it left a core idle for half a minute.
test: setup node_modules/.package-lock.json emulator/iam_evaluator/node_modules/.package-lock.json  ## every tier: unit, synth, terraform, security, integration (LocalStack), and beside them the local cloud's unit tier
	@python="$$($(LOCAL_CLOUD_PYTHON))" && log="$$(mktemp)" && \
	{ "$$python" -m pytest emulator/tests >"$$log" 2>&1 & emulator=$$!; } && \
	status=0 && { $(PIPENV) run pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25 || status=$$?; } && \
	emulator_status=0 && { wait $$emulator || emulator_status=$$?; } && \
	echo "== the local cloud's unit tier (emulator/tests; ran beside the others, exit $$emulator_status)" && \
	cat "$$log" && rm -f "$$log" && \
	echo "== make test: pytest exit $$status, the local cloud's unit tier exit $$emulator_status" && \
	[ $$status -eq 0 ] && [ $$emulator_status -eq 0 ]

test-fast: setup test-emulator  ## everything but LocalStack
	$(PIPENV) run pytest -m "not integration"

# The local cloud's own Python: LocalStack's venv (Python 3.13), built or brought up to date with
# the plugin sources first, since the plugin package is installed there rather than imported from
# the tree.
LOCAL_CLOUD_PYTHON = .venv/bin/python -c 'from emulator.venv import ensure_environment, venv_python; print(venv_python(ensure_environment()))'

test-emulator: setup emulator/iam_evaluator/node_modules/.package-lock.json  ## the local cloud's unit tier (emulator/tests) on LocalStack's Python 3.13
	python="$$($(LOCAL_CLOUD_PYTHON))" && "$$python" -m pytest emulator/tests

# mypy's incremental cache lives in the user's cache, one per checked tree, so a new clone or
# worktree rechecks only what differs from the last check (a module whose file changed, and what
# imports it; mypy compares content hashes): the app's check, which reads the AWS provider
# binding's modules, takes about 50 s of CPU cold and under 1 s warm (docs/benchmarks.md).
MYPY_CACHE := $${XDG_CACHE_HOME:-$$HOME/.cache}/xrdeploy/mypy

lint: setup
	$(PIPENV) run ruff check .
	$(PIPENV) run ruff format --check .
	$(PIPENV) run mypy --cache-dir "$(MYPY_CACHE)/app"
	cd lambda && ../.venv/bin/mypy --strict --ignore-missing-imports --cache-dir "$(MYPY_CACHE)/lambda" .
	python="$$($(LOCAL_CLOUD_PYTHON))" && "$$python" -m mypy --config-file emulator/mypy.ini --cache-dir "$(MYPY_CACHE)/emulator"

check: lint test       ## the gate: lint, types, then all tests

golden: setup          ## regenerate the committed golden synthesis after an intended change
	XRDEPLOY_UPDATE_GOLDEN=1 $(PIPENV) run pytest tests/synth/test_golden.py

# `make test` runs the same test without rewriting the table; this target rewrites it.
least-privilege: setup emulator/iam_evaluator/node_modules/.package-lock.json  ## one promotion with IAM enforced (default, Git- and CodeCommit-sourced chains), each statement's and action's removal and each granted value's tightening replayed, live mutations; rewrites docs/security-scan.md's tables
	XRDEPLOY_UPDATE_DOCS=1 $(PIPENV) run pytest tests/integration/chain/test_least_privilege.py tests/integration/test_local_git_chain.py tests/integration/test_local_codecommit_chain.py

container-test: setup node_modules/.package-lock.json  ## build the local cloud's image with podman, run a one-stage demo against it, check an instance's /etc
	$(PIPENV) run python tools/container_test.py

bench: setup           ## synth and copy benchmarks (figures go in docs/benchmarks.md)
	$(PIPENV) run python benchmarks/bench_synth.py
	$(PIPENV) run python benchmarks/bench_copy.py

bench-demo: setup node_modules/.package-lock.json emulator/iam_evaluator/node_modules/.package-lock.json  ## the demo's phases, peak memory, five stages vs one (docs/benchmarks.md)
	$(PIPENV) run python benchmarks/bench_demo.py

clean:
	rm -rf cdktf.out .xrdeploy terraform.*.tfstate*
