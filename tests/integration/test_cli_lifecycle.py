"""The operator's commands against LocalStack: plan (with its PR summary), deploy, plan again,
destroy, on a one-stage chain with local state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CONFIGS
from xrdeploy.aws_clients import local_cloud_client
from xrdeploy.cli.main import run
from xrdeploy.terraform.command import Terraform
from xrdeploy.terraform.runner import PLAN_FILE

CONFIG = CONFIGS / "one_stage.yaml"
TERRAFORM_PLAN_LINE = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


def cli(*args: str, endpoint: str, workdir: Path) -> int:
    return run(
        [
            *args,
            "--config",
            str(CONFIG),
            "--target",
            f"localstack={endpoint}",
            "--outdir",
            str(workdir / "cdktf.out"),
        ]
    )


def test_plan_summary_matches_terraforms_own_counts(localstack_endpoint, workdir, capsys):
    # WHEN the chain is planned before anything exists
    summary = workdir / "summary.md"
    code = cli("plan", "--summary", str(summary), endpoint=localstack_endpoint, workdir=workdir)
    # THEN the exit code says there are changes, and the summary's row equals what Terraform
    # itself prints for the saved plan
    assert code == 3
    stack_dir = workdir / "cdktf.out" / "stacks" / "only"
    shown = Terraform(stack_dir).run("show", PLAN_FILE).stdout
    adds, changes, destroys = TERRAFORM_PLAN_LINE.search(shown).groups()  # type: ignore[union-attr]
    assert int(adds) > 20
    text = summary.read_text()
    assert f"| only | {adds} | {changes} | {destroys} |" in text
    assert "**IAM changes**" in text  # roles are created: a reviewer is told
    assert text in capsys.readouterr().out


def test_deploy_then_plan_shows_no_changes_then_destroy(localstack_endpoint, workdir, capsys):
    assert cli("deploy", "--yes", endpoint=localstack_endpoint, workdir=workdir) == 0
    assert "deployed: only" in capsys.readouterr().out
    assert cli("plan", endpoint=localstack_endpoint, workdir=workdir) == 0
    assert "No changes." in capsys.readouterr().out
    assert cli("destroy", "--yes", endpoint=localstack_endpoint, workdir=workdir) == 0
    assert "destroyed: only" in capsys.readouterr().out
    state = (workdir / "terraform.only.tfstate").read_text()
    assert '"resources": []' in state
    assert_nothing_left(localstack_endpoint)


def assert_nothing_left(endpoint: str) -> None:
    """The stage's account and region hold nothing the chain created (a fresh account's defaults
    aside); keys await deletion, as on AWS, where destroy only schedules it."""
    account, region = "444444444444", "ap-southeast-2"

    def client(service: str) -> Any:
        return local_cloud_client(service, endpoint=endpoint, account_id=account, region=region)

    ec2, kms, iam = client("ec2"), client("kms"), client("iam")
    instances = ec2.describe_instances()["Reservations"]
    left = {
        "buckets": [b["Name"] for b in client("s3").list_buckets()["Buckets"]],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "instance profiles": [
            p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
        ],
        "functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
        "instances": [
            i["InstanceId"]
            for r in instances
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ],
        "security groups": [
            g["GroupName"]
            for g in ec2.describe_security_groups()["SecurityGroups"]
            if g["GroupName"] != "default"
        ],
        "pipelines": [p["name"] for p in client("codepipeline").list_pipelines()["pipelines"]],
        "codedeploy apps": client("codedeploy").list_applications()["applications"],
        "event rules": [r["Name"] for r in client("events").list_rules()["Rules"]],
        "log groups": [
            g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]
        ],
        "usable keys": [
            k["KeyId"]
            for k in kms.list_keys()["Keys"]
            if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"
        ],
        "key aliases": [
            a["AliasName"]
            for a in kms.list_aliases()["Aliases"]
            if not a["AliasName"].startswith("alias/aws/")
        ],
    }
    assert {kind: names for kind, names in left.items() if names} == {}
