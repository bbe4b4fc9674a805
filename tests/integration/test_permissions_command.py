"""`python main.py permissions` against a running local cloud (IAM enforced, the default): a role
that was allowed one thing, denied another and holds a grant it never used, reported as such.

The role and bucket are this module's own (unique names), so the ledger may hold other tests'
principals; `--role` picks ours out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import LocalCloud
from xrdeploy.aws_clients import local_cloud_client

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "111111111111"
REGION = "us-east-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})


def _client(endpoint: str, service: str, **credentials: str) -> Any:
    return local_cloud_client(
        service,
        endpoint=endpoint,
        account_id=ACCOUNT,  # 12 digits: the root, unless a role session's credentials are given
        region=REGION,
        credentials=credentials,
        config=NO_RETRIES,
    )


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _main(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def exercised_role(local_cloud: LocalCloud) -> dict[str, str]:
    """A role that read an object (allowed), listed its bucket (denied) and never wrote."""
    suffix = uuid.uuid4().hex[:8]
    bucket, role = f"perms-test-{suffix}", f"perms-test-role-{suffix}"
    s3, iam = _client(local_cloud.endpoint, "s3"), _client(local_cloud.endpoint, "iam")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="build.zip", Body=b"build")
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=_policy(trust))
    grants = _policy(
        {
            "Sid": "ReadBuild",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        },
        {
            "Sid": "WriteReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/reports/*",
        },
    )
    iam.put_role_policy(RoleName=role, PolicyName="grants", PolicyDocument=grants)
    credentials = _client(local_cloud.endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="perms"
    )["Credentials"]
    session = _client(local_cloud.endpoint, "s3", **credentials)
    assert session.get_object(Bucket=bucket, Key="build.zip")["Body"].read() == b"build"
    with pytest.raises(ClientError) as denied:
        session.list_objects_v2(Bucket=bucket)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    return {"bucket": bucket, "role": role, "endpoint": local_cloud.endpoint}


def _env(**overrides: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("LOCALSTACK_ENDPOINT", "AWS_ENDPOINT_URL")
    }
    return {**env, **overrides}


def test_the_report_shows_used_denied_and_never_used(exercised_role: dict[str, str]) -> None:
    bucket, role = exercised_role["bucket"], exercised_role["role"]
    env = _env(LOCALSTACK_ENDPOINT=exercised_role["endpoint"])
    result = _main("permissions", "--role", role, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"role {role} (arn:aws:iam::{ACCOUNT}:role/{role})",
        "  1 used (1 requests), 1 denied, 0 unchecked; 1 of 2 granted statements never used",
        "  used (allowed, by):",
        f"    s3:GetObject  arn:aws:s3:::{bucket}/build.zip  x1  inline:grants ReadBuild",
        "  denied:",
        f"    s3:ListBucket  arn:aws:s3:::{bucket}  x1  because no identity-based policy allows"
        " the s3:ListBucket action",
        "  granted, never used:",
        f"    inline:grants WriteReports: Allow s3:PutObject on arn:aws:s3:::{bucket}/reports/*",
    ]


def test_the_json_report_says_the_same(exercised_role: dict[str, str]) -> None:
    role = exercised_role["role"]
    env = _env(LOCALSTACK_ENDPOINT=exercised_role["endpoint"])
    result = _main("permissions", "--json", "--role", role, env=env)
    assert result.returncode == 0, result.stderr
    (report,) = json.loads(result.stdout)["principals"]
    assert report["sessions"] == [f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/perms"]
    assert [(u["action"], u["count"]) for u in report["used"]] == [("s3:GetObject", 1)]
    assert report["used"][0]["statements"][0]["sid"] == "ReadBuild"
    assert [d["action"] for d in report["denied"]] == ["s3:ListBucket"]
    assert [(u["sid"], u["actions"]) for u in report["unused"]] == [
        ("WriteReports", ["s3:PutObject"])
    ]


def test_the_emulator_lists_the_raw_decisions(exercised_role: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "permissions", "--endpoint", exercised_role["endpoint"]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    principal = f"arn:aws:iam::{ACCOUNT}:role/{exercised_role['role']}"
    ours = [line for line in result.stdout.splitlines() if line.startswith(principal + " ")]
    bucket = exercised_role["bucket"]
    assert sorted(ours) == [
        f"{principal} allowed s3:GetObject arn:aws:s3:::{bucket}/build.zip x1",
        f"{principal} denied s3:ListBucket arn:aws:s3:::{bucket} x1",
    ]


def test_without_a_local_cloud_it_is_one_line_and_exit_1(tmp_path: Path) -> None:
    # An empty LocalStack home: no `local up` record, and no endpoint in the environment.
    result = _main("permissions", env=_env(XRDEPLOY_LOCALSTACK_HOME=str(tmp_path)))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "error: no local cloud is running; start one with: python main.py local up"
    ]
