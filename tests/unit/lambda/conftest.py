"""Fixtures for the copy Lambda's unit tests: moto in-process, so nothing touches the network."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from xrdeploy.aws_clients import AwsClients
from xrdeploy.config.target import DeployTarget

from .world import (
    DESTINATION_ACCOUNT,
    DESTINATION_REGION,
    PIPELINE_ACCOUNT,
    PIPELINE_REGION,
    PROMOTION_ROLE,
    SAME_ACCOUNT_BUCKET,
    SAME_ACCOUNT_ROLE,
    TRUST_ANYONE,
    WRITER_ACTIONS,
    World,
    allow,
    load_event,
    on_bucket,
    policy,
)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no endpoint overrides, so nothing can reach a real AWS account."""
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_CODEPIPELINE",
        "AWS_S3_ADDRESSING_STYLE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", PIPELINE_REGION)
    monkeypatch.setenv("AWS_REGION", PIPELINE_REGION)


@pytest.fixture
def promoted_logs() -> Iterator[list[logging.LogRecord]]:
    """The records the function's logger writes during the test."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logger = logging.getLogger("xrdeploy")
    logger.addHandler(keep)
    yield records
    logger.removeHandler(keep)


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        event = load_event()["CodePipeline.job"]["data"]
        artifact = event["inputArtifacts"][0]["location"]["s3Location"]
        destination = json.loads(event["actionConfiguration"]["configuration"]["UserParameters"])[
            "destination"
        ]
        # moto stands in for AWS here, so the clients are the factory's AWS ones.
        aws = AwsClients(DeployTarget())
        sts = aws.client("sts", PIPELINE_ACCOUNT, PIPELINE_REGION)
        iam = aws.client("iam", PIPELINE_ACCOUNT, PIPELINE_REGION)
        s3 = aws.client("s3", PIPELINE_ACCOUNT, PIPELINE_REGION)
        _versioned_bucket(s3, artifact["bucketName"], PIPELINE_REGION)
        _versioned_bucket(
            aws.client("s3", PIPELINE_ACCOUNT, DESTINATION_REGION),
            SAME_ACCOUNT_BUCKET,
            DESTINATION_REGION,
        )
        _role(
            iam, "xrdeploy-demo-alpha-pipeline", on_bucket(artifact["bucketName"], ["s3:GetObject"])
        )
        _role(iam, "xrdeploy-demo-alpha-unrelated")
        _role(
            iam,
            "xrdeploy-demo-alpha-promote-function",
            allow(["sts:AssumeRole"], [destination["role_arn"], SAME_ACCOUNT_ROLE]),
        )
        _role(iam, PROMOTION_ROLE, on_bucket(SAME_ACCOUNT_BUCKET, WRITER_ACTIONS))

        # Anything acting in the destination account needs credentials from that account.
        admin = _session(sts, f"arn:aws:iam::{DESTINATION_ACCOUNT}:role/admin", DESTINATION_REGION)
        s3_destination = admin.client("s3")
        iam_destination = admin.client("iam")
        _versioned_bucket(s3_destination, destination["bucket"], DESTINATION_REGION)
        _role(iam_destination, PROMOTION_ROLE, on_bucket(destination["bucket"], WRITER_ACTIONS))

        world = World(
            s3_pipeline=s3,
            s3_destination_account=s3_destination,
            iam_pipeline=iam,
            iam_destination_account=iam_destination,
            kms_destination_region=aws.client("kms", PIPELINE_ACCOUNT, DESTINATION_REGION),
            sts=sts,
            artifact_bucket=artifact["bucketName"],
            artifact_key=artifact["objectKey"],
            cross_account_bucket=destination["bucket"],
            function_session=_session(
                sts,
                f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/xrdeploy-demo-alpha-promote-function",
                PIPELINE_REGION,
            ),
        )
        world.results.install(world.function_session)
        yield world


def _role(iam: Any, name: str, *statements: dict[str, Any]) -> None:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_ANYONE)
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy(*statements))


def _session(sts: Any, role_arn: str, region: str) -> boto3.session.Session:
    issued = sts.assume_role(RoleArn=role_arn, RoleSessionName="test")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        aws_session_token=issued["SessionToken"],
        region_name=region,
    )


def _versioned_bucket(s3: Any, bucket: str, region: str) -> None:
    configuration = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=bucket, **configuration)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
