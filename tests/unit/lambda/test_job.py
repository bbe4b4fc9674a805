"""Parsing the CodePipeline job event and validating UserParameters (pure, no AWS)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from errors import FailureType, MalformedEvent, PromotionFailure
from job import Credentials, Destination, S3Location, parse_job, parse_user_parameters, read_job_id

from .world import load_event

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
        parse_user_parameters("[]")

    # THEN ConfigurationError says so
    assert raised.value.failure_type is FailureType.CONFIGURATION_ERROR
    assert "JSON object" in raised.value.message


DESTINATION = "UserParameters.destination"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            json.dumps({k: v for k, v in VALID.items() if k != "destination"}),
            [DESTINATION],
        ),
        (with_changes(colour="blue"), [DESTINATION, "'colour'"]),
        (with_changes(bucket="Not_A_Bucket"), [f"{DESTINATION}.bucket", "'Not_A_Bucket'"]),
        (with_changes(region="Europe"), [f"{DESTINATION}.region", "'Europe'"]),
        (with_changes(account_id="2"), [f"{DESTINATION}.account_id", "'2'"]),
        (with_changes(key=""), [f"{DESTINATION}.key"]),
        (with_changes(key="k" * 1025), [f"{DESTINATION}.key", "1024"]),
        (with_changes(role_arn="beta-promotion"), [f"{DESTINATION}.role_arn", "'beta-promotion'"]),
        (
            with_changes(role_arn="arn:aws:iam::000000000003:role/other"),
            [f"{DESTINATION}.role_arn", "000000000003", f"{DESTINATION}.account_id"],
        ),
        # Every stage has a promotion role, in its own account as in another.
        (with_changes(role_arn=None), [f"{DESTINATION}.role_arn", "required"]),
        # No key can be chosen: the destination bucket's default encryption applies.
        (with_changes(kms_key_id="alias/beta"), [DESTINATION, "'kms_key_id'"]),
        (with_changes(stage=7), [f"{DESTINATION}.stage"]),
        (with_changes({"app": "démo"}), ["UserParameters.app", "ASCII"]),
        (
            with_changes({"execution_id": "#{codepipeline.PipelineExecutionId}"}),
            ["UserParameters.execution_id", "#{codepipeline.PipelineExecutionId}", "namespace"],
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
        "no-role",
        "kms-key-given",
        "stage-not-text",
        "non-ascii-metadata",
        "unresolved-execution-id",
    ],
)
def test_each_bad_field_is_named_in_one_line(text: str, named: list[str]) -> None:
    # GIVEN UserParameters with one bad field
    # WHEN they are parsed
    with pytest.raises(PromotionFailure) as raised:
        parse_user_parameters(text)

    # THEN ConfigurationError names that field (and the bad value, where there is one)
    assert raised.value.failure_type is FailureType.CONFIGURATION_ERROR
    for name in named:
        assert name in raised.value.message
    assert "\n" not in raised.value.message


def test_a_same_account_destination_is_reached_through_its_role() -> None:
    # GIVEN a destination in another region of the pipeline's own account, with its role there
    text = with_changes(
        account_id="123456789012", role_arn="arn:aws:iam::123456789012:role/beta-promotion"
    )

    # WHEN it is parsed
    destination = parse_user_parameters(text).destination

    # THEN it is accepted as is
    assert (destination.account_id, destination.role_arn) == (
        "123456789012",
        "arn:aws:iam::123456789012:role/beta-promotion",
    )


def test_a_non_s3_input_artifact_is_malformed() -> None:
    # GIVEN an event whose input artifact is not in S3
    event = load_event()
    event["CodePipeline.job"]["data"]["inputArtifacts"][0]["location"]["type"] = "CodeCommit"

    # WHEN it is parsed
    with pytest.raises(PromotionFailure) as raised:
        parse_job(event)

    # THEN JobFailed says which part of the event is wrong
    assert raised.value.failure_type is FailureType.JOB_FAILED
    assert "data.inputArtifacts[0].location" in raised.value.message
