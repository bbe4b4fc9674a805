"""The synthesized stacks: resources, providers, trust and least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.synth.tfjson import all_blocks, data_sources, one, resources, statements

TAGGABLE = {
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_iam_role",
    "aws_instance",
    "aws_security_group",
    "aws_lambda_function",
    "aws_cloudwatch_log_group",
    "aws_codepipeline",
    "aws_codedeploy_app",
    "aws_cloudwatch_event_rule",
    "aws_sns_topic",
    "aws_codestarconnections_connection",
}
CONFIGS = [
    "default",
    "single_account",
    "one_stage",
    "five_stage",
    "wave",
    "github_source",
    "codecommit_source",
]
# Statements allowed a "*" resource, each because AWS offers nothing narrower (see modules/).
WILDCARD_RESOURCE_SIDS = {
    "FindInstancesByTag",  # ec2:Describe*, tag:GetResources: no resource-level permissions
    "ReportJobResult",  # codepipeline:PutJob*Result act on a job id
}


@pytest.mark.parametrize("config", CONFIGS)
def test_every_block_names_an_aliased_provider_of_its_stack(synthesized, config):
    # GIVEN every stack of a config
    for stack in synthesized(config).stacks:
        doc = stack.document()
        # THEN the stack declares no default provider, one alias per (account, region) ...
        aliases = [p["alias"] for p in doc["provider"]["aws"]]
        assert len(aliases) == len(set(aliases))
        assert all("alias" in p for p in doc["provider"]["aws"])
        assert sorted(aliases) == list(stack.provider_aliases)
        # ... and every resource and data source names one of them.
        for _section, kind, body in all_blocks(doc):
            assert body.get("provider", "").removeprefix("aws.") in aliases, kind


@pytest.mark.parametrize("config", CONFIGS)
def test_each_provider_is_pinned_to_its_account(synthesized, config):
    for stack in synthesized(config).stacks:
        for provider in stack.document()["provider"]["aws"]:
            account = provider["alias"].split("_")[1]
            assert provider["allowed_account_ids"] == [account]
            assert provider["region"].replace("-", "_") in provider["alias"]


def test_default_chain_has_one_stack_per_stage_in_order(synthesized):
    result = synthesized()
    assert [s.name for s in result.stacks] == ["alpha", "beta", "prod"]
    assert {s.provider_aliases for s in result.stacks} == {
        ("aws_111111111111_us_west_2",),
        ("aws_111111111111_us_east_1",),
        ("aws_222222222222_eu_west_1",),
    }


def test_single_layout_puts_the_chain_in_one_stack_with_a_provider_per_pair(synthesized):
    result = synthesized("single_account")
    assert [s.name for s in result.stacks] == ["shop-web"]
    assert result.stacks[0].provider_aliases == (
        "aws_333333333333_us_east_2",
        "aws_333333333333_us_west_1",
    )


def test_stage_resources_are_hardened(synthesized):
    doc = synthesized().stack("alpha").document()
    buckets = {b["bucket"] for b in resources(doc, "aws_s3_bucket")}
    assert buckets == {
        "xrdeploy-demo-alpha-src-111111111111-us-west-2",
        "xrdeploy-demo-alpha-art-111111111111-us-west-2",
    }
    assert all(
        v["versioning_configuration"]["status"] == "Enabled"
        for v in resources(doc, "aws_s3_bucket_versioning")
    )
    assert len(resources(doc, "aws_s3_bucket_versioning")) == 2
    for sse in resources(doc, "aws_s3_bucket_server_side_encryption_configuration"):
        default = sse["rule"][0]["apply_server_side_encryption_by_default"]
        assert default["sse_algorithm"] == "aws:kms"
        assert default["kms_master_key_id"].startswith("${aws_kms_key.")
    for block in resources(doc, "aws_s3_bucket_public_access_block"):
        assert all(
            block[k]
            for k in (
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            )
        )
    assert [n["eventbridge"] for n in resources(doc, "aws_s3_bucket_notification")] == [True]
    for lifecycle in resources(doc, "aws_s3_bucket_lifecycle_configuration"):
        assert lifecycle["rule"][0]["noncurrent_version_expiration"][0]["noncurrent_days"] > 0
    key = one(resources(doc, "aws_kms_key"))
    assert key["enable_key_rotation"] is True
    tls = [s for s in statements(doc) if s["sid"] == "DenyInsecureTransport"]
    assert len(tls) == 2 and all(s["effect"] == "Deny" for s in tls)
    assert all(s["condition"][0]["values"] == ["false"] for s in tls)


def test_fleet_uses_al2023_imdsv2_encrypted_and_own_region_agent(synthesized):
    doc = synthesized().stack("prod").document()
    instance = one(resources(doc, "aws_instance"))
    assert instance["count"] == 2 and instance["instance_type"] == "t3.small"
    assert instance["metadata_options"]["http_tokens"] == "required"
    assert instance["root_block_device"]["encrypted"] is True
    assert instance["tags"]["DeploymentStage"] == "Prod"
    assert "aws-codedeploy-eu-west-1.s3.eu-west-1.amazonaws.com" in instance["user_data"]
    ami = one(data_sources(doc, "aws_ssm_parameter"))
    assert ami["name"] == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    ingress = resources(doc, "aws_vpc_security_group_ingress_rule")
    assert [(r["from_port"], r["cidr_ipv4"]) for r in ingress] == [(80, "10.0.0.0/8")]


def test_ssh_opens_only_when_configured_and_graviton_gets_arm_ami(synthesized):
    doc = synthesized("single_account").stacks[0].document()
    ports = sorted(
        (r["from_port"], r["cidr_ipv4"])
        for r in resources(doc, "aws_vpc_security_group_ingress_rule")
    )
    assert ports == [(22, "203.0.113.0/24"), (80, "0.0.0.0/0"), (80, "10.1.0.0/16")]
    names = {p["name"] for p in data_sources(doc, "aws_ssm_parameter")}
    assert names == {"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"}
    live = one(resources(doc, "aws_instance"), instance_type="m7g.large")
    assert live["key_name"] == "ops"


def _pipeline_stages(doc):
    pipeline = one(resources(doc, "aws_codepipeline"))
    assert pipeline["pipeline_type"] == "V2"
    return pipeline, [stage["name"] for stage in pipeline["stage"]]


def test_pipelines_source_deploy_gate_promote_and_last_has_no_promote(synthesized):
    result = synthesized()
    _, alpha = _pipeline_stages(result.stack("alpha").document())
    _, beta = _pipeline_stages(result.stack("beta").document())
    _, prod = _pipeline_stages(result.stack("prod").document())
    assert alpha == ["Source", "Deploy", "Promote"]
    assert beta == ["Source", "Deploy", "Approve", "Promote"]
    assert prod == ["Source", "Deploy"]


def test_promote_action_names_the_next_stage_and_the_tested_revision(synthesized):
    doc = synthesized().stack("beta").document()
    pipeline, _ = _pipeline_stages(doc)
    source = pipeline["stage"][0]["action"][0]
    assert source["configuration"]["PollForSourceChanges"] == "false"
    promote = pipeline["stage"][-1]["action"][0]
    assert promote["provider"] == "Lambda" and promote["input_artifacts"] == ["SourceArtifact"]
    params = json.loads(promote["configuration"]["UserParameters"])
    assert params == {
        "app": "xrdeploy-demo",
        "source_stage": "beta",
        "execution_id": "#{codepipeline.PipelineExecutionId}",
        "source_version_id": "#{SourceVariables.VersionId}",
        "destination": {
            "stage": "prod",
            "bucket": "xrdeploy-demo-prod-src-222222222222-eu-west-1",
            "key": "sample_app.zip",
            "region": "eu-west-1",
            "account_id": "222222222222",
            "role_arn": "arn:aws:iam::222222222222:role/xrdeploy-demo-prod-promotion",
        },
    }
    rule = one(resources(doc, "aws_cloudwatch_event_rule"))
    pattern = json.loads(rule["event_pattern"])
    assert pattern["detail"]["bucket"]["name"] == ["xrdeploy-demo-beta-src-111111111111-us-east-1"]


@pytest.mark.parametrize("config", CONFIGS)
def test_the_copy_function_accepts_every_generated_promote_action(synthesized, config):
    # The generator and the copy function agree on UserParameters: what one writes, the other
    # parses (with the CodePipeline variables resolved, as CodePipeline hands them over).
    parse_user_parameters = _copy_function_parser()
    result = synthesized(config)
    promotes = [
        action["configuration"]["UserParameters"]
        for stack in result.stacks
        for pipeline in resources(stack.document(), "aws_codepipeline")
        for stage in pipeline["stage"]
        for action in stage["action"]
        if action["provider"] == "Lambda"
    ]
    assert len(promotes) == sum(len(stack.stages) for stack in result.stacks) - 1
    for text in promotes:
        resolved = text
        for variable, value in RESOLVED_VARIABLES.items():
            resolved = resolved.replace(f"#{{{variable}}}", value)
        params = parse_user_parameters(resolved)
        assert params.destination.role_arn.endswith(f"-{params.destination.stage}-promotion")


# Values CodePipeline gives the variables the Promote actions name (S3 and Git sources).
RESOLVED_VARIABLES = {
    "codepipeline.PipelineExecutionId": "4c3b1f7e",
    "SourceVariables.VersionId": "3sL4kqtJlcpXroDTDmJ",
    "SourceVariables.CommitId": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    "SourceVariables.BranchName": "main",
    "SourceVariables.FullRepositoryName": "octo-org/shop",
    "SourceVariables.RepositoryName": "shop",
}


def _copy_function_parser() -> Any:
    import job  # the copy function's module (lambda/ is on pytest's pythonpath)

    return job.parse_user_parameters


def test_codedeploy_group_selects_the_stage_tag_and_rolls_back(synthesized):
    doc = synthesized("single_account").stacks[0].document()
    live = one(
        resources(doc, "aws_codedeploy_deployment_group"),
        deployment_group_name="shop-web-live-fleet",
    )
    assert live["ec2_tag_filter"] == [
        {"key": "DeploymentStage", "type": "KEY_AND_VALUE", "value": "Live"}
    ]
    assert live["auto_rollback_configuration"]["events"] == [
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
    ]
    assert live["alarm_configuration"]["alarms"] == ["live-5xx", "live-latency"]


def test_cross_account_trust_admits_only_the_upstream_copy_role(synthesized):
    doc = synthesized().stack("prod").document()
    trust = [
        s
        for body in data_sources(doc, "aws_iam_policy_document")
        for s in body["statement"]
        if s["sid"] == "Trust" and s["principals"][0]["type"] == "AWS"
    ]
    # The upstream account as principal (IAM needs no role of it to exist yet), narrowed to
    # exactly the upstream copy function's role by its ARN.
    assert len(trust) == 1
    assert trust[0]["principals"] == [
        {"type": "AWS", "identifiers": ["arn:aws:iam::111111111111:root"]}
    ]
    assert trust[0]["condition"] == [
        {
            "test": "ArnEquals",
            "variable": "aws:PrincipalArn",
            "values": ["arn:aws:iam::111111111111:role/xrdeploy-demo-beta-promote-fn"],
        }
    ]
    # The role writes the one key by its identity policy; the bucket policy names no one.
    grant = one([s for s in statements(doc) if s["sid"] == "DeliverBuild"])
    assert grant["resources"] == [
        "arn:aws:s3:::xrdeploy-demo-prod-src-222222222222-eu-west-1/sample_app.zip"
    ]
    policies = doc["data"]["aws_iam_policy_document"]
    source_policy = one(
        [
            r
            for r in resources(doc, "aws_s3_bucket_policy")
            if "source" in r["//"]["metadata"]["path"]
        ]
    )
    document = source_policy["policy"].removeprefix("${data.aws_iam_policy_document.")
    assert [s["sid"] for s in policies[document.removesuffix(".json}")]["statement"]] == [
        "DenyInsecureTransport"
    ]
    assert "depends_on" not in source_policy
    # The upstream function may assume exactly that role.
    beta = synthesized().stack("beta").document()
    assume = one([s for s in statements(beta) if s["sid"] == "AssumeDownstreamPromotionRole"])
    assert assume["resources"] == ["arn:aws:iam::222222222222:role/xrdeploy-demo-prod-promotion"]


def test_first_stage_has_no_promotion_role_and_last_may_assume_nothing(synthesized):
    alpha = synthesized().stack("alpha").document()
    assert not [s for s in statements(alpha) if s["sid"] == "DeliverBuild"]
    prod = synthesized().stack("prod").document()
    assert not [s for s in statements(prod) if s["sid"] == "AssumeDownstreamPromotionRole"]


@pytest.mark.parametrize("config", CONFIGS)
def test_no_iam_wildcards(synthesized, config):
    for stack in synthesized(config).stacks:
        for statement in statements(stack.document()):
            if statement["effect"] == "Deny":
                continue  # a Deny over all actions only narrows access
            for action in statement["actions"]:
                assert action != "*" and action != "s3:*", (stack.name, statement["sid"])
            if "*" in statement.get("resources", []):
                assert statement["sid"] in WILDCARD_RESOURCE_SIDS, (stack.name, statement)


@pytest.mark.parametrize("config", CONFIGS)
def test_every_taggable_resource_carries_app_stage_and_managed_by(synthesized, config):
    result = synthesized(config)
    for stack in result.stacks:
        doc = stack.document()
        app_names = set()
        for provider in doc["provider"]["aws"]:
            tags = provider["default_tags"][0]["tags"]
            assert set(tags) == {"App", "ManagedBy"} and tags["ManagedBy"] == "xrdeploy"
            app_names.add(tags["App"])
        assert len(app_names) == 1
        taggable = [
            (kind, body)
            for section, kind, body in all_blocks(doc)
            if section == "resource" and kind in TAGGABLE
        ]
        assert taggable
        for kind, body in taggable:
            assert body["tags"]["Stage"] in stack.stages, kind


def test_five_stage_chain_assumes_deploy_role_and_uses_s3_state_with_lockfile(synthesized):
    result = synthesized("five_stage")
    assert [s.name for s in result.stacks] == ["s1", "s2", "s3", "s4", "s5"]
    s4 = result.stack("s4").document()
    provider = s4["provider"]["aws"][0]
    assert provider["assume_role"] == [
        {"role_arn": "arn:aws:iam::100000000003:role/xrdeploy-deployer", "session_name": "xrdeploy"}
    ]
    backend = s4["terraform"]["backend"]["s3"]
    assert backend["bucket"] == "five-tf-state" and backend["key"] == "chains/five/s4.tfstate"
    assert backend["use_lockfile"] is True and backend["encrypt"] is True


def test_stacks_do_not_read_each_others_state(synthesized):
    for stack in synthesized("five_stage").stacks:
        doc = stack.document()
        assert "terraform_remote_state" not in doc.get("data", {})


def test_emulator_target_points_every_alias_at_localstack(synthesized):
    result = synthesized("default", "localstack=http://127.0.0.1:4599")
    for stack in result.stacks:
        provider = stack.document()["provider"]["aws"][0]
        endpoints = provider["endpoints"][0]
        assert set(endpoints.values()) == {"http://127.0.0.1:4599"}
        assert {"s3", "sts", "iam", "kms", "lambda", "cloudwatchlogs"} <= set(endpoints)
        assert {"ec2", "codepipeline", "codedeploy", "cloudwatchevents"} <= set(endpoints)
        assert provider["s3_use_path_style"] is True
        assert provider["access_key"] == provider["allowed_account_ids"][0]


def test_emulator_target_creates_the_same_resources_as_aws(synthesized):
    # GIVEN the default chain synthesized for AWS and for the local cloud
    aws = synthesized("default")
    local = synthesized("default", "localstack=http://127.0.0.1:4599")
    for aws_stack, local_stack in zip(aws.stacks, local.stacks, strict=True):
        aws_doc, local_doc = aws_stack.document(), local_stack.document()
        # THEN only providers (and the backend) differ: every resource and data source, fleet
        # instances, pipeline, deployment group and trigger included, is the one AWS gets.
        assert local_doc["resource"] == aws_doc["resource"]
        assert local_doc["data"] == aws_doc["data"]
        for kind in (
            "aws_instance",
            "aws_codepipeline",
            "aws_codedeploy_app",
            "aws_codedeploy_deployment_group",
            "aws_cloudwatch_event_rule",
            "aws_cloudwatch_event_target",
        ):
            assert kind in local_doc["resource"], kind


def test_function_package_holds_only_function_code(synthesized):
    import zipfile

    stack = synthesized().stack("alpha")
    function = one(resources(stack.document(), "aws_lambda_function"))
    assert function["handler"] == "handler.lambda_handler"
    assert function["runtime"] == "python3.12"
    archive = stack.directory / function["filename"]
    names = zipfile.ZipFile(archive).namelist()
    assert "handler.py" in names
    assert all(n.endswith(".py") for n in names), names
    assert not [n for n in names if "test" in n or "__pycache__" in n]
