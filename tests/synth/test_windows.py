"""The Windows config's stacks (tests/configs/windows.yaml): Windows Server from AWS's public SSM
parameter, the CodeDeploy agent installed at boot by PowerShell from the stage's own region, no
SSH anywhere, RDP only in the stage that asks for it and only from its network."""

from __future__ import annotations

from tests.synth.tfjson import data_sources, one, resources

WINDOWS_AMI = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"


def ports(doc):
    return sorted(
        (r["from_port"], r["to_port"], r["cidr_ipv4"])
        for r in resources(doc, "aws_vpc_security_group_ingress_rule")
    )


def test_a_windows_fleet_runs_windows_server_with_the_agent_installed_by_powershell(synthesized):
    # GIVEN alpha's stack of the Windows config
    doc = synthesized("windows").stack("alpha").document()
    # THEN its AMI is the latest Windows Server 2022 ...
    assert one(data_sources(doc, "aws_ssm_parameter"))["name"] == WINDOWS_AMI
    instance = one(resources(doc, "aws_instance"))
    assert instance["instance_type"] == "t3.medium"
    # ... booting PowerShell that installs and starts the agent from us-east-2's bucket
    user_data = instance["user_data"]
    assert user_data.startswith("<powershell>\n") and user_data.endswith("</powershell>\n")
    assert "Read-S3Object -BucketName aws-codedeploy-us-east-2 " in user_data
    assert "latest/codedeploy-agent.msi" in user_data
    assert "Start-Service -Name codedeployagent" in user_data
    assert "dnf" not in user_data
    # ... on an encrypted root volume as large as the AMI's snapshot, IMDSv2 only
    root = instance["root_block_device"]
    assert (root["encrypted"], root["volume_size"]) == (True, 30)
    assert instance["metadata_options"]["http_tokens"] == "required"
    # ... and no SSH, no RDP, no key pair where none is asked for
    assert ports(doc) == [(80, 80, "10.0.0.0/8")]
    assert "key_name" not in instance


def test_rdp_opens_only_from_the_network_the_stage_names(synthesized):
    doc = synthesized("windows").stack("beta").document()
    assert ports(doc) == [(80, 80, "10.0.0.0/8"), (3389, 3389, "203.0.113.0/24")]
    rdp = one(resources(doc, "aws_vpc_security_group_ingress_rule"), from_port=3389)
    assert rdp["description"] == "RDP from the operator's network"
    assert one(resources(doc, "aws_instance"))["key_name"] == "ops-windows"
    assert "aws-codedeploy-eu-central-1 " in one(resources(doc, "aws_instance"))["user_data"]


def test_linux_fleets_keep_amazon_linux_and_bash(synthesized):
    doc = synthesized("default").stack("alpha").document()
    assert "ami-amazon-linux-latest" in one(data_sources(doc, "aws_ssm_parameter"))["name"]
    assert one(resources(doc, "aws_instance"))["user_data"].startswith("#!/bin/bash\n")
