"""The operator's commands against LocalStack: plan (with its PR summary), deploy, plan again,
destroy, on a one-stage chain with local state."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import CONFIGS
from xrdeploy.cli import run
from xrdeploy.stacks import PLAN_FILE
from xrdeploy.terraform import Terraform

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
    """No pipeline, deployment group, instance, bucket, role or function of the app remains;
    the stage key awaits deletion (KMS never deletes at once)."""
    account, region = "444444444444", "ap-southeast-2"

    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=account,
            aws_secret_access_key="test",
        )

    assert not [p for p in client("codepipeline").list_pipelines()["pipelines"]]
    assert "solo" not in " ".join(client("codedeploy").list_applications()["applications"])
    reservations = client("ec2").describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["pending", "running", "stopped"]}]
    )["Reservations"]
    assert not [i for r in reservations for i in r["Instances"]]
    assert not [b for b in client("s3").list_buckets()["Buckets"] if b["Name"].startswith("solo-")]
    assert not [r for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith("solo-")]
    assert not client("lambda").list_functions()["Functions"]
    keys = client("kms").list_keys()["Keys"]
    states = {client("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] for k in keys}
    assert states <= {"PendingDeletion"}


def test_deploy_refuses_without_yes_when_not_interactive(localstack_endpoint, workdir, capsys):
    result = subprocess.run(
        [
            sys.executable,
            "main.py",
            "deploy",
            "--config",
            str(CONFIG),
            "--target",
            f"localstack={localstack_endpoint}",
            "--outdir",
            str(workdir / "cdktf.out"),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: deploy needs --yes when not run from a terminal"
