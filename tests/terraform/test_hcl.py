"""`synth --hcl` (cdktf's HCL output, for teams leaving CDKTF) is the same Terraform as the
HCL-JSON: init + validate with no warnings, and a plan of every stack of the default chain equal
to the JSON stack's plan, resource by resource (both against the session's moto server on
loopback; the JSON stacks' plans are the ones tests/security scans).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tools.security_scan import plan_environment, stack_account
from xrdeploy.config.model import load_config
from xrdeploy.config.target import DeployTarget
from xrdeploy.terraform.command import Terraform, terraform_env
from xrdeploy.terraform.runner import PLAN_FILE
from xrdeploy.terraform.synth import Synthesis, SynthesizedStack, synthesize, tidy_hcl


@pytest.fixture(scope="module")
def hcl_synthesis(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    outdir = tmp_path_factory.mktemp("hcl") / "cdktf.out"
    return synthesize(load_config(None), DeployTarget(), outdir, hcl=True)


def test_hcl_stacks_are_hcl_and_pass_validate_with_no_warnings(hcl_synthesis: Synthesis):
    for stack in hcl_synthesis.stacks:
        assert stack.stack_file.name == "cdk.tf"
        assert not stack.json_path.exists()
        assert stack.stack_file.read_text().startswith("terraform {")
        terraform = Terraform(stack.directory)
        terraform.init(backend=False)
        report = terraform.validate()
        assert report["valid"] is True, (stack.name, report["diagnostics"])
        assert report["warning_count"] == 0, (stack.name, report["diagnostics"])


def test_multi_line_strings_keep_their_exact_value(tmp_path: Path):
    # cdktf 0.21 writes a multi-line string S as <<EOF, S, EOF: S plus a newline.
    values = ["x\ny", "x\ny\n", "#!/bin/bash\n\nset -e\n\n"]
    rendered = "".join(f"v{i} = <<EOF\n{value}\nEOF\n" for i, value in enumerate(values))
    (tmp_path / "main.tf").write_text(tidy_hcl("locals {\n" + rendered + "}\n"))
    result = subprocess.run(
        ["terraform", "console", "-no-color"],
        input="jsonencode([local.v0, local.v1, local.v2])\n",
        cwd=tmp_path,
        env={**os.environ, **terraform_env()},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(json.loads(result.stdout)) == values


def comparable(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each planned resource change by address: what would be created, and how."""
    return {
        change["address"]: {
            "provider": change["provider_name"],
            "actions": change["change"]["actions"],
            "after": change["change"]["after"],
            "after_unknown": change["change"]["after_unknown"],
            "after_sensitive": change["change"]["after_sensitive"],
        }
        for change in plan["resource_changes"]
    }


def plan_copy(stack: SynthesizedStack, directory: Path, endpoint: str, account: str) -> Any:
    # A copy at the same depth as <outdir>/stacks/<stack>: the local backend's relative state
    # path stays inside it, and the shared synthesis is not touched.
    shutil.copytree(stack.directory, directory, ignore=shutil.ignore_patterns(".terraform"))
    terraform = Terraform(directory, extra_env=plan_environment(endpoint, account))
    terraform.init()
    terraform.plan(PLAN_FILE)
    return terraform.show_json(PLAN_FILE)


def test_hcl_and_json_plans_of_the_default_chain_are_the_same(
    synthesized,
    default_chain_plans: list[Path],
    moto_endpoint: str,
    hcl_synthesis: Synthesis,
    tmp_path: Path,
):
    # The JSON stacks' plans are the session's (tests/conftest.py, also scanned by Checkov), made
    # against the same moto server as these.
    json_synthesis = synthesized("default", "aws")
    assert [s.name for s in hcl_synthesis.stacks] == [s.name for s in json_synthesis.stacks]

    accounts = {stack.name: stack_account(stack.document()) for stack in json_synthesis.stacks}

    def plan(stack: SynthesizedStack) -> Any:
        directory = tmp_path / "hcl" / "out" / "stacks" / stack.name
        return plan_copy(stack, directory, moto_endpoint, accounts[stack.name])

    with ThreadPoolExecutor(max_workers=2) as pool:
        hcl_plans = list(pool.map(plan, hcl_synthesis.stacks))
    json_plans = [json.loads(path.read_text()) for path in default_chain_plans]
    for stack, json_plan, hcl_plan in zip(hcl_synthesis.stacks, json_plans, hcl_plans, strict=True):
        from_json, from_hcl = comparable(json_plan), comparable(hcl_plan)
        assert len(from_json) > 20, stack.name
        assert sorted(from_hcl) == sorted(from_json), stack.name
        for address, change in from_json.items():
            differing = sorted(
                f"{part}.{key}"
                for part in ("after", "after_unknown", "after_sensitive")
                if isinstance(change[part], dict)
                for key in set(change[part]) | set(from_hcl[address][part] or {})
                if change[part].get(key) != (from_hcl[address][part] or {}).get(key)
            )
            assert from_hcl[address] == change, (stack.name, address, differing)
