"""Test doubles and the two-account moto world used by the copy Lambda's tests.

Names come from the recorded event in tests/events/, so the tests promote exactly what that
event describes.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import boto3
import deadline
import handler
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from clients import ClientFactory
from handles import Source, Target
from job import Destination, S3Location

REPO = Path(__file__).resolve().parents[3]
EVENTS = REPO / "tests" / "events"
PIPELINE_REGION = "eu-west-1"
PIPELINE_ACCOUNT = "123456789012"  # moto's default account, also the events' accountId
DESTINATION_ACCOUNT = "000000000002"
DESTINATION_REGION = "us-east-1"
SAME_ACCOUNT_BUCKET = f"xrdeploy-demo-beta-src-{PIPELINE_ACCOUNT}-{DESTINATION_REGION}"
PROMOTION_ROLE = "xrdeploy-demo-beta-promotion"  # in each account that holds a destination
CROSS_ACCOUNT_ROLE = f"arn:aws:iam::{DESTINATION_ACCOUNT}:role/{PROMOTION_ROLE}"
SAME_ACCOUNT_ROLE = f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/{PROMOTION_ROLE}"
KEY = "sample_app.zip"
MIB = 1024 * 1024
# Destination overrides that turn the recorded cross-account event into a same-account one: the
# next stage in the pipeline's own account, reached through its promotion role there.
SAME_ACCOUNT = {
    "bucket": SAME_ACCOUNT_BUCKET,
    "account_id": PIPELINE_ACCOUNT,
    "role_arn": SAME_ACCOUNT_ROLE,
}

# What the writer of a destination bucket needs (docs/copy-lambda.md lists the same).
WRITER_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:ListBucketMultipartUploads",
]


def load_event(name: str = "codepipeline_promote_job.json") -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def on_bucket(bucket: str, actions: list[str]) -> dict[str, Any]:
    # moto authorises HeadBucket as an action of its own, where AWS checks s3:ListBucket.
    moto_only = ["s3:HeadBucket"] if "s3:ListBucket" in actions else []
    return allow(actions + moto_only, [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])


# moto does not evaluate trust policies; the tests exercise the roles' permission policies.
TRUST_ANYONE = policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})


class JobResults:
    """Stands in for CodePipeline's PutJob*Result (moto does not implement them): botocore
    still validates the parameters against the API model, as for the real call, and the call is
    then recorded instead of sent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refuse_with: str | None = None

    def install(self, session: boto3.session.Session) -> None:
        session.events.register("before-parameter-build.codepipeline", self._record)
        session.events.register("before-call.codepipeline", self._answer)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, copy.deepcopy(params)))

    def _answer(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if self.refuse_with:
            error = {"Error": {"Code": self.refuse_with, "Message": "refused by the test"}}
            return AWSResponse("https://codepipeline.test", 400, {}, None), error
        return AWSResponse("https://codepipeline.test", 200, {}, None), {}

    def only(self) -> tuple[str, dict[str, Any]]:
        assert len(self.calls) == 1, f"expected exactly one job result, got {self.calls}"
        return self.calls[0]


class FakeContext:
    """Lambda context on a fake clock, which the function reads before each part, before each AWS
    request and while it waits for the worker thread.

    With `parts`, time is ample (900 s) until that many parts have been read from the source (hash
    and copy passes alike), then 20 s: below invocation.SAFETY_MARGIN_S, so no further part is
    started, and above deadline.GUARD_S, so the deadline guard stays quiet."""

    AMPLE_S = 900.0
    SHORT_S = 20.0

    def __init__(self, parts: int | None = None) -> None:
        self.remaining_s = self.AMPLE_S
        self._parts = parts
        self.reads = 0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_s * 1000)

    @contextmanager
    def attached(self, session: boto3.session.Session) -> Iterator[None]:
        """Count the source reads of the clients made from session (only those use GetObject)."""
        unique_id = f"fake-clock-{id(self)}"
        session.events.register("after-call.s3.GetObject", self._read, unique_id=unique_id)
        try:
            yield
        finally:
            session.events.unregister("after-call.s3.GetObject", unique_id=unique_id)

    def _read(self, **_: Any) -> None:
        self.reads += 1
        if self._parts is not None and self.reads >= self._parts:
            self.remaining_s = min(self.remaining_s, self.SHORT_S)


class Hang:
    """Holds the `nth` request of one S3 operation until released, after moving the clock to
    `left_s` (inside the deadline guard's time) as the hang begins.

    lands=False: the request never reaches S3; once released it fails as a lost connection.
    lands=True: S3 (moto) has processed the request; only the answer is held back."""

    def __init__(
        self,
        context: FakeContext,
        operation: str,
        *,
        nth: int = 1,
        lands: bool,
        left_s: float = 5.0,
    ) -> None:
        self.context = context
        self.operation = operation
        self.nth = nth
        self.lands = lands
        self.left_s = left_s
        self.seen = 0
        self.entered = threading.Event()
        self._released = threading.Event()

    def install(self, session: boto3.session.Session) -> None:
        if self.lands:
            # Handlers on the bare event run in registration order after the more specific ones:
            # after moto's (registered when the session was made), so moto has stored the request.
            session.events.register("before-send", self._hook)
        else:
            # A handler on the specific event runs before moto's: the request goes nowhere.
            session.events.register(f"before-send.s3.{self.operation}", self._hook)

    def _hook(self, event_name: str, **_: Any) -> None:
        if not event_name.endswith(f".s3.{self.operation}"):
            return
        self.seen += 1
        if self.seen != self.nth:
            return
        self.context.remaining_s = self.left_s
        self.entered.set()
        assert self._released.wait(timeout=30), "hang never released"
        if not self.lands:
            raise EndpointConnectionError(endpoint_url="https://s3.test")

    def release(self) -> None:
        """Let the held request go, and wait until the abandoned worker thread has finished."""
        self._released.set()
        join_workers()


def join_workers() -> None:
    for thread in threading.enumerate():
        if thread.name == deadline.THREAD_NAME:
            thread.join(timeout=30)
            assert not thread.is_alive(), "the promotion's worker thread did not finish"


@dataclass
class World:
    """Pipeline account 123456789012 (eu-west-1) and destination account 000000000002."""

    s3_pipeline: Any  # admin S3 client in the pipeline account
    s3_destination_account: Any  # admin S3 client in the destination account
    iam_pipeline: Any
    iam_destination_account: Any
    kms_destination_region: Any
    sts: Any
    artifact_bucket: str
    artifact_key: str
    cross_account_bucket: str
    function_session: boto3.session.Session
    results: JobResults = field(default_factory=JobResults)

    @property
    def artifact_uri(self) -> str:
        return f"s3://{self.artifact_bucket}/{self.artifact_key}"

    def put_artifact(self, data: bytes) -> str:
        put = self.s3_pipeline.put_object(
            Bucket=self.artifact_bucket, Key=self.artifact_key, Body=data
        )
        return str(put["ETag"])

    def artifact_credentials(self, role: str = "xrdeploy-demo-alpha-pipeline") -> dict[str, str]:
        """Temporary credentials, like those CodePipeline derives from the pipeline's role."""
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

    def allow_destination_role(self, actions: list[str]) -> None:
        """Only these actions for the cross-account promotion role, on its bucket."""
        self.iam_destination_account.put_role_policy(
            RoleName=PROMOTION_ROLE,
            PolicyName="inline",
            PolicyDocument=policy(on_bucket(self.cross_account_bucket, actions)),
        )

    def factory(self) -> ClientFactory:
        return ClientFactory(self.function_session)

    def s3_for(self, bucket: str) -> Any:
        if bucket == self.cross_account_bucket:
            return self.s3_destination_account
        return self.s3_pipeline

    def versions(self, bucket: str) -> list[dict[str, Any]]:
        listed = self.s3_for(bucket).list_object_versions(Bucket=bucket, Prefix=KEY)
        return [v for v in listed.get("Versions", []) if v["Key"] == KEY]

    def uploads(self, bucket: str) -> list[dict[str, Any]]:
        return list(self.s3_for(bucket).list_multipart_uploads(Bucket=bucket).get("Uploads", []))

    def head(self, bucket: str) -> dict[str, Any]:
        return dict(self.s3_for(bucket).head_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED"))

    def body(self, bucket: str) -> bytes:
        return bytes(self.s3_for(bucket).get_object(Bucket=bucket, Key=KEY)["Body"].read())


def run(world: World, event: dict[str, Any], context: FakeContext | None = None) -> None:
    """Invoke the function as Lambda does, counting source reads on the fake clock."""
    context = context or FakeContext()
    with context.attached(world.function_session):
        handler.handle(event, context, world.factory())


def failure(world: World) -> dict[str, str]:
    name, params = world.results.only()
    assert name == "PutJobFailureResult"
    return dict(params["failureDetails"])


def failed(world: World, failure_type: str, *named: str, results: int = 1) -> str:
    """The last of `results` job results is a failure of failure_type whose one-line message names
    each of `named` (the field, resource or permission at fault); returns the message."""
    assert len(world.results.calls) == results, world.results.calls
    name, params = world.results.calls[-1]
    assert name == "PutJobFailureResult"
    details = params["failureDetails"]
    message = details["message"]
    assert details["type"] == failure_type, details
    assert "\n" not in message
    for name in named:
        assert name in message, f"{name!r} not named in {message!r}"
    return message


def success(world: World) -> dict[str, Any]:
    name, params = world.results.only()
    assert name == "PutJobSuccessResult"
    return params


# --- the two ends without AWS, for the pure parts ------------------------------------------------

NO_CLIENT = cast(Any, None)  # the pure parts never call S3


def source_end(size: int) -> Source:
    return Source(NO_CLIENT, S3Location("artifacts", "build.zip"), '"etag"', size, None, None)


def target_end() -> Target:
    role_arn = f"arn:aws:iam::{DESTINATION_ACCOUNT}:role/{PROMOTION_ROLE}"
    destination = Destination(
        stage="beta",
        bucket="beta-src",
        key=KEY,
        region=DESTINATION_REGION,
        account_id=DESTINATION_ACCOUNT,
        role_arn=role_arn,
    )
    return Target(NO_CLIENT, destination, writer=f"role {role_arn}")
