"""Parsing the CodePipeline job event and validating UserParameters (pure, no AWS)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from errors import FailureType, MalformedEvent, PromotionFailure
from job import Credentials, Destination, S3Location, parse_job, parse_user_parameters, read_job_id

from .world import load_event

PIPELINE_ACCOUNT = "123456789012"
VALID: dict[str, Any] = {
    "app": "xrdeploy-demo",
    "source_stage": "alpha",
    "execution_id": "4c3b1f7e-2d6a-4a57-9c1e-8f0b5d2e7a91",
    "source_version_id": "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
    "destination": {
        "stage": "beta",
        "bucket": "xrdeploy-demo-beta-src-000000000002-us-east-1",
        "key": "sample_app.zip",
        "region": "us-east-1",
        "account_id": "000000000002",
        "role_arn": "arn:aws:iam::000000000002:role/xrdeploy-demo-beta-promotion",
        "kms_key_id": None,
    },
}


def with_changes(top: dict[str, Any] | None = None, **destination: Any) -> str:
    doc = json.loads(json.dumps(VALID))
    doc.update(top or {})
    doc["destination"].update(destination)
    return json.dumps(doc)


def test_the_recorded_event_parses_into_a_typed_job() -> None:
    # GIVEN the recorded CodePipeline event
    event = load_event()

    # WHEN it is parsed
    job = parse_job(event)

    # THEN every part the promotion needs is typed
    assert job.id == "11111111-abcd-1111-abcd-111111abcdef"
    assert job.account_id == PIPELINE_ACCOUNT
    assert job.artifact == S3Location(
        "xrdeploy-demo-alpha-artifacts-123456789012-eu-west-1",
        "xrdeploy-demo-alpha/SourceArti/q1Xz9Rk",
    )
    assert job.artifact_key_id == "arn:aws:kms:eu-west-1:123456789012:alias/aws/s3"
    assert job.continuation_token is None
    assert job.params.destination == Destination(
        stage="beta",
        bucket="xrdeploy-demo-beta-src-000000000002-us-east-1",
        key="sample_app.zip",
        region="us-east-1",
        account_id="000000000002",
        role_arn="arn:aws:iam::000000000002:role/xrdeploy-demo-beta-promotion",
        kms_key_id=None,
    )
    assert job.params.source_version_id == "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


def test_credentials_never_appear_in_a_repr() -> None:
    # GIVEN parsed credentials
    credentials = Credentials("ASIAEXAMPLE", "secret-part", "token-part")

    # WHEN they are formatted, as a stray log line would
    shown = repr(credentials)

    # THEN only the key id shows
    assert "ASIAEXAMPLE" in shown
    assert "secret-part" not in shown and "token-part" not in shown


@pytest.mark.parametrize(
    "event", [None, [], {}, {"CodePipeline.job": {}}, {"CodePipeline.job": {"id": ""}}]
)
def test_an_event_without_a_job_id_is_malformed(event: Any) -> None:
    # GIVEN / WHEN / THEN an event with no job id cannot be reported on at all
    with pytest.raises(MalformedEvent):
        read_job_id(event)


def test_user_parameters_must_be_an_object() -> None:
    # GIVEN UserParameters that are JSON but not an object
    # WHEN they are parsed
    with pytest.raises(PromotionFailure) as raised:
        parse_user_parameters("[]", pipeline_account=PIPELINE_ACCOUNT)

    # THEN ConfigurationError says so
    assert raised.value.failure_type is FailureType.CONFIGURATION_ERROR
    assert raised.value.message == "UserParameters must be a JSON object"


DESTINATION = "UserParameters.destination"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            json.dumps({k: v for k, v in VALID.items() if k != "destination"}),
            f"{DESTINATION} is required and must be an object",
        ),
        (
            with_changes(colour="blue"),
            f"{DESTINATION} has unknown field 'colour'; allowed fields: stage, bucket, key, "
            "region, account_id, role_arn, kms_key_id",
        ),
        (
            with_changes(bucket="Not_A_Bucket"),
            f"{DESTINATION}.bucket 'Not_A_Bucket' is not a valid S3 bucket name",
        ),
        (
            with_changes(region="Europe"),
            f"{DESTINATION}.region 'Europe' is not an AWS region name like us-east-1",
        ),
        (
            with_changes(account_id="2"),
            f"{DESTINATION}.account_id '2' must be a 12-digit account id",
        ),
        (with_changes(key=""), f"{DESTINATION}.key must be a non-empty string"),
        (with_changes(key="k" * 1025), f"{DESTINATION}.key is longer than S3's 1024-byte limit"),
        (
            with_changes(role_arn="beta-promotion"),
            f"{DESTINATION}.role_arn 'beta-promotion' is not an IAM role ARN",
        ),
        (
            with_changes(role_arn="arn:aws:iam::000000000003:role/other"),
            f"{DESTINATION}.role_arn is in account 000000000003 but {DESTINATION}.account_id is "
            "000000000002: they must name the same account",
        ),
        (
            with_changes(role_arn=None),
            f"{DESTINATION}.account_id 000000000002 is not the pipeline's account 123456789012: "
            f"set {DESTINATION}.role_arn to a role in 000000000002 that may write "
            "xrdeploy-demo-beta-src-000000000002-us-east-1",
        ),
        (with_changes(kms_key_id=""), f"{DESTINATION}.kms_key_id must be a non-empty string"),
        (with_changes(stage=7), f"{DESTINATION}.stage must be a non-empty string"),
        (
            with_changes({"app": "démo"}),
            "UserParameters.app must be 1-256 printable ASCII characters (it becomes S3 metadata)",
        ),
        (
            with_changes({"execution_id": "#{codepipeline.PipelineExecutionId}"}),
            "UserParameters.execution_id is the unresolved variable "
            "'#{codepipeline.PipelineExecutionId}': check the variable namespace of the action "
            "that produces it",
        ),
    ],
    ids=[
        "no-destination",
        "unknown-destination-field",
        "bucket",
        "region",
        "account",
        "empty-key",
        "long-key",
        "role-arn",
        "role-in-other-account",
        "cross-account-without-role",
        "empty-kms-key",
        "stage-not-text",
        "non-ascii-metadata",
        "unresolved-execution-id",
    ],
)
def test_each_bad_field_is_named_in_one_line(text: str, message: str) -> None:
    # GIVEN UserParameters with one bad field
    # WHEN they are parsed
    with pytest.raises(PromotionFailure) as raised:
        parse_user_parameters(text, pipeline_account=PIPELINE_ACCOUNT)

    # THEN ConfigurationError names that field and what is wrong
    assert raised.value.failure_type is FailureType.CONFIGURATION_ERROR
    assert raised.value.message == message
    assert "\n" not in raised.value.message


def test_a_same_account_destination_needs_no_role() -> None:
    # GIVEN a destination in the pipeline's own account, without a role, with a KMS key
    text = with_changes(
        account_id=PIPELINE_ACCOUNT, role_arn=None, kms_key_id="alias/xrdeploy-beta"
    )

    # WHEN it is parsed
    destination = parse_user_parameters(text, pipeline_account=PIPELINE_ACCOUNT).destination

    # THEN it is accepted as is
    assert (destination.role_arn, destination.kms_key_id) == (None, "alias/xrdeploy-beta")


def test_a_non_s3_input_artifact_is_malformed() -> None:
    # GIVEN an event whose input artifact is not in S3
    event = load_event()
    event["CodePipeline.job"]["data"]["inputArtifacts"][0]["location"]["type"] = "CodeCommit"

    # WHEN it is parsed
    with pytest.raises(PromotionFailure) as raised:
        parse_job(event)

    # THEN JobFailed says which part of the event is wrong
    assert raised.value.failure_type is FailureType.JOB_FAILED
    assert raised.value.message == (
        "malformed CodePipeline event: data.inputArtifacts[0].location is not an S3 location; "
        "this function only handles Invoke jobs"
    )
