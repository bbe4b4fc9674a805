"""Fixtures for the copy Lambda's unit tests: moto in-process (no network), a two-account world
built from the event in tests/events/, and a recorder for the CodePipeline job results."""

from __future__ import annotations

import copy
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "lambda"))

from clients import ClientFactory  # noqa: E402  (needs lambda/ on sys.path first)

EVENTS = REPO / "tests" / "events"
PIPELINE_REGION = "eu-west-1"
PIPELINE_ACCOUNT = "123456789012"  # moto's default account, also the events' accountId
DESTINATION_ACCOUNT = "000000000002"
DESTINATION_REGION = "us-east-1"
SAME_ACCOUNT_BUCKET = f"xrdeploy-demo-beta-src-{PIPELINE_ACCOUNT}-{DESTINATION_REGION}"
MIB = 1024 * 1024


def load_event(name: str = "codepipeline_promote_job.json") -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


TRUST_ANYONE_IN_TEST = policy(
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
)
# What the generator must grant the writer of a destination bucket (see docs/copy-lambda.md).
WRITER_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:DeleteObjectVersion",
]


def bucket_policy_statement(bucket: str, actions: list[str]) -> dict[str, Any]:
    return allow(actions, [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])


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


class JobResults:
    """Stands in for CodePipeline's PutJob*Result: botocore still validates the parameters
    against the API model (as it would for the real call), then the call is recorded instead of
    sent. moto does not implement these two operations."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refuse_with: str | None = None

    def install(self, session: boto3.session.Session) -> None:
        session.events.register("before-parameter-build.codepipeline", self._record)
        session.events.register("before-call.codepipeline", self._answer)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, copy.deepcopy(params)))

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if self.refuse_with:
            error = {"Error": {"Code": self.refuse_with, "Message": "refused by the test"}}
            return AWSResponse("https://codepipeline", 400, {}, None), error
        return AWSResponse("https://codepipeline", 200, {}, None), {}

    def only(self) -> tuple[str, dict[str, Any]]:
        assert len(self.calls) == 1, f"expected exactly one job result, got {self.calls}"
        return self.calls[0]

    def last(self) -> tuple[str, dict[str, Any]]:
        assert self.calls, "no job result was reported"
        return self.calls[-1]


class FakeContext:
    """Lambda context whose clock reports ample time for the first `ample_calls` readings, then
    only 10 s. The copy consults the clock once before each part after the first of an
    invocation, so ample_calls=k lets an invocation do k + 1 parts before it pauses."""

    def __init__(self, ample_calls: int | None = None) -> None:
        self._ample_calls = ample_calls
        self.calls = 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        if self._ample_calls is None or self.calls <= self._ample_calls:
            return 900_000
        return 10_000


@dataclass
class World:
    """Pipeline account 123456789012 (eu-west-1) and destination account 000000000002."""

    s3_pipeline: Any  # admin S3 in the pipeline account
    s3_destination_account: Any  # admin S3 in the destination account
    iam_pipeline: Any
    iam_destination_account: Any
    sts: Any
    artifact_bucket: str
    artifact_key: str
    cross_account_bucket: str
    function_session: boto3.session.Session
    results: JobResults = field(default_factory=JobResults)

    def put_artifact(self, data: bytes) -> str:
        put = self.s3_pipeline.put_object(
            Bucket=self.artifact_bucket, Key=self.artifact_key, Body=data
        )
        return str(put["ETag"])

    def artifact_credentials(self, role: str = "xrdeploy-demo-alpha-pipeline") -> dict[str, str]:
        """Temporary credentials like those CodePipeline derives from the pipeline's role."""
        issued = self.sts.assume_role(
            RoleArn=f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/{role}", RoleSessionName="codepipeline"
        )["Credentials"]
        return {
            "accessKeyId": issued["AccessKeyId"],
            "secretAccessKey": issued["SecretAccessKey"],
            "sessionToken": issued["SessionToken"],
        }

    def event(
        self,
        *,
        destination: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        credentials: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The recorded event with a fresh job id, live credentials and the given changes."""
        event = load_event()
        job = event["CodePipeline.job"]
        job["id"] = str(uuid.uuid4())
        data = job["data"]
        data["artifactCredentials"] = credentials or self.artifact_credentials()
        configuration = data["actionConfiguration"]["configuration"]
        user_parameters = json.loads(configuration["UserParameters"])
        user_parameters.update(params or {})
        user_parameters["destination"].update(destination or {})
        configuration["UserParameters"] = json.dumps(user_parameters)
        if token is not None:
            data["continuationToken"] = token
        return event

    def factory(self) -> ClientFactory:
        return ClientFactory(self.function_session)

    def s3_for(self, bucket: str) -> Any:
        return self.s3_destination_account if bucket == self.cross_account_bucket else self.s3_pipeline

    def versions(self, bucket: str, key: str = "sample_app.zip") -> list[dict[str, Any]]:
        listed = self.s3_for(bucket).list_object_versions(Bucket=bucket, Prefix=key)
        return [v for v in listed.get("Versions", []) if v["Key"] == key]

    def uploads(self, bucket: str) -> list[dict[str, Any]]:
        return list(self.s3_for(bucket).list_multipart_uploads(Bucket=bucket).get("Uploads", []))

    def head(self, bucket: str, key: str = "sample_app.zip") -> dict[str, Any]:
        return dict(self.s3_for(bucket).head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED"))

    def body(self, bucket: str, key: str = "sample_app.zip") -> bytes:
        return bytes(self.s3_for(bucket).get_object(Bucket=bucket, Key=key)["Body"].read())


def _session(credentials: dict[str, str], region: str) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        event = load_event()
        location = event["CodePipeline.job"]["data"]["inputArtifacts"][0]["location"]["s3Location"]
        destination = json.loads(
            event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"][
                "UserParameters"
            ]
        )["destination"]
        artifact_bucket, cross_account_bucket = location["bucketName"], destination["bucket"]

        sts = boto3.client("sts", region_name=PIPELINE_REGION)
        iam = boto3.client("iam")
        s3 = boto3.client("s3", region_name=PIPELINE_REGION)
        _versioned_bucket(s3, artifact_bucket, PIPELINE_REGION)
        _versioned_bucket(
            boto3.client("s3", region_name=DESTINATION_REGION), SAME_ACCOUNT_BUCKET, DESTINATION_REGION
        )

        iam.create_role(
            RoleName="xrdeploy-demo-alpha-pipeline", AssumeRolePolicyDocument=TRUST_ANYONE_IN_TEST
        )
        iam.put_role_policy(
            RoleName="xrdeploy-demo-alpha-pipeline",
            PolicyName="read-artifacts",
            PolicyDocument=policy(bucket_policy_statement(artifact_bucket, ["s3:GetObject"])),
        )
        iam.create_role(
            RoleName="xrdeploy-demo-alpha-unrelated", AssumeRolePolicyDocument=TRUST_ANYONE_IN_TEST
        )
        iam.create_role(
            RoleName="xrdeploy-demo-alpha-promote-function",
            AssumeRolePolicyDocument=TRUST_ANYONE_IN_TEST,
        )
        iam.put_role_policy(
            RoleName="xrdeploy-demo-alpha-promote-function",
            PolicyName="promote",
            PolicyDocument=policy(
                allow(
                    ["sts:AssumeRole"],
                    [f"arn:aws:iam::{DESTINATION_ACCOUNT}:role/xrdeploy-demo-beta-promotion"],
                ),
                bucket_policy_statement(SAME_ACCOUNT_BUCKET, WRITER_ACTIONS),
            ),
        )
        function_credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/xrdeploy-demo-alpha-promote-function",
            RoleSessionName="xrdeploy-demo-alpha-promote",
        )["Credentials"]

        # Anything acting in the destination account has to hold credentials from it.
        admin = sts.assume_role(
            RoleArn=f"arn:aws:iam::{DESTINATION_ACCOUNT}:role/admin", RoleSessionName="setup"
        )["Credentials"]
        admin_session = _session(admin, DESTINATION_REGION)
        iam_destination = admin_session.client("iam")
        s3_destination = admin_session.client("s3")
        _versioned_bucket(s3_destination, cross_account_bucket, DESTINATION_REGION)
        iam_destination.create_role(
            RoleName="xrdeploy-demo-beta-promotion", AssumeRolePolicyDocument=TRUST_ANYONE_IN_TEST
        )
        iam_destination.put_role_policy(
            RoleName="xrdeploy-demo-beta-promotion",
            PolicyName="write-source",
            PolicyDocument=policy(bucket_policy_statement(cross_account_bucket, WRITER_ACTIONS)),
        )

        world = World(
            s3_pipeline=s3,
            s3_destination_account=s3_destination,
            iam_pipeline=iam,
            iam_destination_account=iam_destination,
            sts=sts,
            artifact_bucket=artifact_bucket,
            artifact_key=location["objectKey"],
            cross_account_bucket=cross_account_bucket,
            function_session=_session(function_credentials, PIPELINE_REGION),
        )
        world.results.install(world.function_session)
        yield world


def _versioned_bucket(s3: Any, bucket: str, region: str) -> None:
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


SAME_ACCOUNT = {
    "bucket": SAME_ACCOUNT_BUCKET,
    "account_id": PIPELINE_ACCOUNT,
    "role_arn": None,
}
