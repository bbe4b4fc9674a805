"""Security tier: Checkov over the synthesized stacks and over plans of them, and our own rules.

The Checkov venv is built on first use (tools/checkov_env.py, about a minute, once per machine);
the stacks come from the session's `synthesized` fixture, shared with tests/synth.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.checkov_env import ensure_venv
from tools.security_scan import PLAN_CONFIGS, SCAN_CONFIGS, Scan, plan_stacks_against, scan


@pytest.fixture(scope="session")
def checkov_venv() -> Path:
    return ensure_venv()


@pytest.fixture(scope="session")
def hcl_json_scan(synthesized, checkov_venv: Path) -> Scan:
    files = [stack.json_path for name in SCAN_CONFIGS for stack in synthesized(name).stacks]
    return scan(checkov_venv, "HCL-JSON", "terraform_json", files)


@pytest.fixture(scope="session")
def plan_files(
    synthesized,
    default_chain_plans: list[Path],
    moto_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Path]:
    # The default chain's plans are the session's (tests/conftest.py), shared with tests/terraform.
    others = [n for n in PLAN_CONFIGS if n != "default"]
    stacks = [(name, stack) for name in others for stack in synthesized(name).stacks]
    planned = plan_stacks_against(moto_endpoint, stacks, tmp_path_factory.mktemp("plans"))
    return [*default_chain_plans, *planned]


@pytest.fixture(scope="session")
def plan_scan(plan_files: list[Path], checkov_venv: Path) -> Scan:
    return scan(checkov_venv, "plan", "terraform_plan", plan_files)
