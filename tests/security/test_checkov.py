"""Checkov on every synthesized stack and on plans of them: nothing fails, and the only checks
kept from failing are the ones .checkov.yaml lists, each with its reason."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pytest
import yaml

from emulator.pinned_venv import STAMP_FILE
from tools.checkov_env import REQUIREMENTS, ensure_venv
from tools.security_scan import (
    CHECKOV_CONFIG,
    PLAN_CONFIGS,
    SCAN_CONFIGS,
    Finding,
    listed_skips,
)

SCANS = ["hcl_json_scan", "plan_scan"]
# One check per kind of resource the stacks create, so a scan that silently read nothing (or
# stopped reading a resource type) fails here rather than reporting "0 failed".
EVIDENCE = {
    "CKV_AWS_145": "S3 bucket encrypted with KMS by default",
    "CKV_AWS_7": "KMS key rotation",
    "CKV_AWS_60": "IAM role trust limited",
    "CKV_AWS_79": "IMDSv2 on the instance",
    "CKV_AWS_24": "no SSH from the world",
    "CKV_AWS_158": "log group encrypted with KMS",
    "CKV_AWS_338": "log group retention of a year",
    "CKV_AWS_219": "CodePipeline artifact store encrypted with a CMK",
    "CKV_AWS_115": "Lambda reserved concurrency",
}


def _describe(findings: Sequence[Finding]) -> str:
    return "\n".join(f"{f.check_id} {f.resource} ({f.file})" for f in findings)


@pytest.mark.parametrize("scan_fixture", SCANS)
def test_checkov_finds_nothing_with_the_listed_skips(request, scan_fixture):
    # GIVEN Checkov run with .checkov.yaml over the stacks (or their plans)
    result = request.getfixturevalue(scan_fixture).configured
    # THEN every file parsed, checks ran on every kind of resource, and none failed
    assert result.parsing_errors == 0
    assert set(EVIDENCE) <= result.passed_ids, set(EVIDENCE) - result.passed_ids
    assert result.failed == (), _describe(result.failed)


def test_every_listed_skip_is_needed_and_no_unlisted_check_fails(hcl_json_scan, plan_scan):
    # GIVEN the same scans without the skip list
    skips = set(listed_skips())
    unskipped = {s.name: s.unskipped.failed_ids for s in (hcl_json_scan, plan_scan)}
    # THEN each fails only listed checks, and together they fail every listed one
    for name, failing in unskipped.items():
        assert failing <= skips, f"{name}: unlisted failures {sorted(failing - skips)}"
    assert set().union(*unskipped.values()) == skips, "stale skips: remove them from .checkov.yaml"


def test_every_skip_has_a_one_line_reason_and_checkov_reads_the_same_list():
    skips = listed_skips()
    assert skips
    assert all(len(reason.split()) >= 5 for reason in skips.values()), skips
    # What Checkov itself reads from the file (a YAML list), in the same order, and nothing else:
    # the scans apply exactly this list to one run of every check (tools/security_scan.py).
    assert yaml.safe_load(CHECKOV_CONFIG.read_text()) == {"skip-check": list(skips)}


def test_the_plans_hold_what_only_the_aws_target_creates(plan_files):
    # The emulator target leaves CodePipeline and CodeDeploy out; these plans must not.
    assert {p.name.split("-", 1)[0] for p in plan_files} == set(PLAN_CONFIGS)
    planned = {
        change["type"]
        for path in plan_files
        for change in json.loads(path.read_text())["resource_changes"]
    }
    assert {"aws_codepipeline", "aws_codedeploy_deployment_group", "aws_instance"} <= planned


def test_scans_cover_every_config_and_run_the_pinned_checkov(hcl_json_scan, plan_scan):
    # default 3 + single_account 1 + one_stage 1 + five_stage 5 + wave 5 + windows 2
    # + github_source 3 + codecommit_source 2
    assert hcl_json_scan.inputs == 22
    assert len(SCAN_CONFIGS) == 8 and plan_scan.inputs == 5
    pinned = re.search(r"^checkov==(\S+)$", REQUIREMENTS.read_text(), re.MULTILINE)
    assert pinned is not None
    assert hcl_json_scan.configured.version == plan_scan.configured.version == pinned[1]


def test_the_checkov_venv_is_built_once_and_then_only_checked(checkov_venv):
    stamp = checkov_venv / STAMP_FILE
    before = stamp.stat().st_mtime_ns
    assert ensure_venv() == checkov_venv
    assert stamp.stat().st_mtime_ns == before


def test_skip_lines_are_read_with_their_reasons(tmp_path):
    config = tmp_path / ".checkov.yaml"
    config.write_text(
        "# header\nskip-check:\n  - CKV_AWS_1  # why one\n  - CKV2_AWS_2\nframework:\n  - x\n"
    )
    assert listed_skips(config) == {"CKV_AWS_1": "why one", "CKV2_AWS_2": ""}
