"""The copy Lambda end to end: a CodePipeline event in; the job result it reports and what the
destination bucket holds out. moto in-process stands in for S3, STS, IAM and KMS."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import checksums
import handler
import promote
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from moto.core import enable_iam_authentication

from .world import (
    DESTINATION_ACCOUNT,
    KEY,
    MIB,
    PIPELINE_ACCOUNT,
    SAME_ACCOUNT,
    SAME_ACCOUNT_BUCKET,
    WRITER_ACTIONS,
    FakeContext,
    World,
    failure,
    on_bucket,
    policy,
    run,
    success,
)

SOURCE_VERSION = "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
EXECUTION_ID = "4c3b1f7e-2d6a-4a57-9c1e-8f0b5d2e7a91"
ROLE = f"arn:aws:iam::{DESTINATION_ACCOUNT}:role/xrdeploy-demo-beta-promotion"
SAME_ACCOUNT_URI = f"s3://{SAME_ACCOUNT_BUCKET}/{KEY}"
PART = promote.MIN_PART_SIZE
SMALL = os.urandom(256 * 1024)
LARGE = os.urandom(2 * PART + MIB)  # three parts: 8 MiB, 8 MiB, 1 MiB


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def composite(data: bytes) -> str:
    digests = b"".join(
        hashlib.sha256(data[i : i + PART]).digest() for i in range(0, len(data), PART)
    )
    return base64.b64encode(hashlib.sha256(digests).digest()).decode()


def full(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def run_to_completion(
    world: World, event: dict[str, Any], parts: int | None
) -> list[tuple[str, dict[str, Any]]]:
    """Invoke as CodePipeline does: again, with the returned token, until no token comes back."""
    for _ in range(20):
        run(world, event, FakeContext(parts))
        name, params = world.results.calls[-1]
        if name != "PutJobSuccessResult" or "continuationToken" not in params:
            return world.results.calls
        event = world.event(token=params["continuationToken"])
    raise AssertionError("promotion did not finish in 20 invocations")


@pytest.fixture
def promoted_logs() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logger = logging.getLogger("xrdeploy")
    logger.addHandler(keep)
    yield records
    logger.removeHandler(keep)


# --- success -------------------------------------------------------------------------------------


def test_promotes_to_another_region_of_the_same_account(world: World) -> None:
    # GIVEN an artifact in eu-west-1 and a destination bucket of the same account in us-east-1
    world.put_artifact(SMALL)

    # WHEN the job runs with no role to assume
    run(world, world.event(destination=SAME_ACCOUNT))

    # THEN one success is reported, naming the new version
    params = success(world)
    [version] = world.versions(SAME_ACCOUNT_BUCKET)
    assert params["executionDetails"] == {
        "summary": f"Promoted {world.artifact_uri} (262144 bytes, sha256 "
        f"{sha256_hex(SMALL)[:12]}) to {SAME_ACCOUNT_URI} version {version['VersionId']} in "
        "us-east-1",
        "percentComplete": 100,
        "externalExecutionId": version["VersionId"],
    }
    # AND the destination holds the bytes, the metadata and S3's SHA-256 of them
    head = world.head(SAME_ACCOUNT_BUCKET)
    assert world.body(SAME_ACCOUNT_BUCKET) == SMALL
    assert head["Metadata"] == {
        "xrdeploy-app": "xrdeploy-demo",
        "xrdeploy-source-stage": "alpha",
        "xrdeploy-execution-id": EXECUTION_ID,
        "xrdeploy-source-version-id": SOURCE_VERSION,
        "xrdeploy-sha256": sha256_hex(SMALL),
    }
    assert head["ChecksumSHA256"] == full(SMALL)


def test_promotes_to_another_account_through_the_assumed_role(world: World) -> None:
    # GIVEN IAM is enforced, and only the destination account's role may write its bucket
    world.put_artifact(SMALL)
    event = world.event()

    # WHEN the job for the recorded cross-account event runs
    with enable_iam_authentication():
        run(world, event)

    # THEN it succeeds and the object is in the other account's bucket
    [version] = world.versions(world.cross_account_bucket)
    assert success(world)["executionDetails"]["externalExecutionId"] == version["VersionId"]
    assert world.body(world.cross_account_bucket) == SMALL
    assert world.head(world.cross_account_bucket)["Metadata"]["xrdeploy-sha256"] == sha256_hex(
        SMALL
    )


def test_promotes_a_large_artifact_in_parts(world: World) -> None:
    # GIVEN an artifact of three parts
    world.put_artifact(LARGE)

    # WHEN the job runs
    run(world, world.event())

    # THEN it succeeds, and S3 reports the composite SHA-256 of the three parts
    [version] = world.versions(world.cross_account_bucket)
    assert success(world)["executionDetails"]["externalExecutionId"] == version["VersionId"]
    head = world.head(world.cross_account_bucket)
    assert head["ChecksumSHA256"].split("-")[0] == composite(LARGE)
    assert head["Metadata"]["xrdeploy-sha256"] == sha256_hex(LARGE)
    assert world.body(world.cross_account_bucket) == LARGE
    assert world.uploads(world.cross_account_bucket) == []


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["whole", "parts"])
def test_encrypts_with_the_destination_kms_key(world: World, data: bytes) -> None:
    # GIVEN a KMS key in the destination region
    key_id = world.kms_destination_region.create_key()["KeyMetadata"]["KeyId"]
    world.put_artifact(data)

    # WHEN the job names it as destination.kms_key_id
    run(world, world.event(destination={**SAME_ACCOUNT, "kms_key_id": key_id}))

    # THEN the object is encrypted with that key
    assert success(world)["executionDetails"]["percentComplete"] == 100
    head = world.head(SAME_ACCOUNT_BUCKET)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_id)
    assert world.body(SAME_ACCOUNT_BUCKET) == data


# --- idempotency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["whole", "parts"])
def test_a_retried_job_writes_nothing_new(world: World, data: bytes) -> None:
    # GIVEN the revision was already promoted
    world.put_artifact(data)
    run(world, world.event())
    [first] = world.versions(world.cross_account_bucket)

    # WHEN the job is retried (new job id, and a new execution re-running the same revision)
    run(world, world.event(params={"execution_id": "a-later-execution"}))

    # THEN success is reported without a new version, so the next pipeline is not started twice
    name, params = world.results.calls[-1]
    assert name == "PutJobSuccessResult"
    assert params["executionDetails"] == {
        "summary": f"s3://{world.cross_account_bucket}/{KEY} already holds source version "
        f"{SOURCE_VERSION} (sha256 {sha256_hex(data)[:12]}) as version {first['VersionId']}: "
        "nothing written",
        "percentComplete": 100,
        "externalExecutionId": first["VersionId"],
    }
    assert world.versions(world.cross_account_bucket) == [first]
    assert world.uploads(world.cross_account_bucket) == []


def test_a_new_revision_is_written_as_a_new_version(world: World) -> None:
    # GIVEN an earlier revision was promoted
    world.put_artifact(SMALL)
    run(world, world.event())

    # WHEN the same bytes come from a new source version
    run(world, world.event(params={"source_version_id": "aNewerSourceVersion"}))

    # THEN a second version is written: idempotency keys on revision and content together
    assert [name for name, _ in world.results.calls] == ["PutJobSuccessResult"] * 2
    assert len(world.versions(world.cross_account_bucket)) == 2
    head = world.head(world.cross_account_bucket)
    assert head["Metadata"]["xrdeploy-source-version-id"] == "aNewerSourceVersion"


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["whole", "parts"])
def test_the_right_metadata_over_other_bytes_is_not_taken_for_the_revision(
    world: World, data: bytes
) -> None:
    # GIVEN the destination holds the revision's metadata over other bytes, as a version that
    # failed verification and could not be deleted would
    world.put_artifact(data)
    world.s3_destination_account.put_object(
        Bucket=world.cross_account_bucket,
        Key=KEY,
        Body=b"not the artifact",
        ChecksumAlgorithm="SHA256",
        Metadata={
            promote.META_SHA256: sha256_hex(data),
            promote.META_SOURCE_VERSION_ID: SOURCE_VERSION,
        },
    )

    # WHEN the job runs
    run(world, world.event())

    # THEN S3's checksum tells them apart, and the revision is written as a new version
    assert success(world)["executionDetails"]["summary"].startswith(
        f"Promoted {world.artifact_uri}"
    )
    assert len(world.versions(world.cross_account_bucket)) == 2
    assert world.body(world.cross_account_bucket) == data


# --- continuation --------------------------------------------------------------------------------


def test_continues_a_large_artifact_across_two_invocations(world: World) -> None:
    # GIVEN a three-part artifact and an invocation with time for four parts
    # (three hashed, one copied)
    world.put_artifact(LARGE)

    # WHEN the first invocation runs out of time
    run(world, world.event(), FakeContext(parts=4))

    # THEN it reports success with a continuation token, and nothing is visible yet
    _, first = world.results.calls[0]
    token = first["continuationToken"]
    assert len(token) < 2048
    assert json.loads(token)["phase"] == "copy"
    assert first["executionDetails"] == {
        "summary": f"Promoting {world.artifact_uri} to s3://{world.cross_account_bucket}/{KEY}: "
        "copy pass at part 2 of 3, continuing in the next invocation",
        "percentComplete": 66,
    }
    assert world.versions(world.cross_account_bucket) == []
    [upload] = world.uploads(world.cross_account_bucket)

    # WHEN CodePipeline invokes again with the token
    run(world, world.event(token=token))

    # THEN the upload is resumed and completed, and success is reported without a token
    name, second = world.results.calls[1]
    assert name == "PutJobSuccessResult"
    assert "continuationToken" not in second
    [version] = world.versions(world.cross_account_bucket)
    assert second["executionDetails"]["externalExecutionId"] == version["VersionId"]
    assert world.body(world.cross_account_bucket) == LARGE
    assert world.head(world.cross_account_bucket)["Metadata"]["xrdeploy-sha256"] == sha256_hex(
        LARGE
    )
    assert world.uploads(world.cross_account_bucket) == []
    assert upload["Key"] == KEY


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 5])
def test_every_pause_point_resumes_to_the_same_object(world: World, parts: int) -> None:
    # GIVEN a three-part artifact (six parts of work: three hashed, three copied)
    world.put_artifact(LARGE)

    # WHEN each invocation only has time for `parts` parts
    calls = run_to_completion(world, world.event(), parts)

    # THEN every intermediate result carries a token, the last does not, and one version exists
    *paused, (last_name, last) = calls
    assert all("continuationToken" in params for _, params in paused)
    assert len(paused) == -(-6 // parts) - 1
    assert last_name == "PutJobSuccessResult" and "continuationToken" not in last
    assert world.body(world.cross_account_bucket) == LARGE
    assert len(world.versions(world.cross_account_bucket)) == 1
    assert world.uploads(world.cross_account_bucket) == []


def test_the_recorded_continuation_event_parses() -> None:
    # GIVEN the recorded event of a continued job
    from job import parse_job

    from .world import load_event

    # WHEN it is parsed
    job = parse_job(load_event("codepipeline_promote_job_continued.json"))

    # THEN its token is a copy-phase token for the same key
    import continuation

    assert job.continuation_token is not None
    progress = continuation.decode(job.continuation_token)
    assert (progress.phase, progress.key, progress.offset) == ("copy", KEY, PART)


# --- failures: artifact, permissions, configuration ----------------------------------------------


def test_missing_artifact_fails_the_job(world: World) -> None:
    # GIVEN no artifact at the event's location
    # WHEN the job runs
    run(world, world.event())

    # THEN JobFailed names the artifact, and nothing is written
    assert failure(world) == {
        "type": "JobFailed",
        "message": f"input artifact {world.artifact_uri} does not exist (NotFound): re-run the "
        "pipeline from its source stage (a lifecycle rule may have expired the artifact)",
    }
    assert world.versions(world.cross_account_bucket) == []


def test_artifact_credentials_that_cannot_read_are_a_permission_error(world: World) -> None:
    # GIVEN IAM is enforced and the job's credentials come from a role without s3:GetObject
    world.put_artifact(SMALL)
    event = world.event(credentials=world.artifact_credentials("xrdeploy-demo-alpha-unrelated"))

    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)

    # THEN PermissionError says which credentials, which object and what to grant
    assert failure(world) == {
        "type": "PermissionError",
        "message": "the job's artifact credentials cannot read input artifact "
        f"{world.artifact_uri} (AccessDenied): the pipeline's service role needs s3:GetObject on "
        f"{world.artifact_bucket} and kms:Decrypt on "
        f"arn:aws:kms:eu-west-1:{PIPELINE_ACCOUNT}:alias/aws/s3",
    }
    assert world.versions(world.cross_account_bucket) == []


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["whole", "parts"])
def test_a_role_that_cannot_write_is_a_permission_error(world: World, data: bytes) -> None:
    # GIVEN IAM is enforced and the destination role may read its bucket but not write it
    world.put_artifact(data)
    world.iam_destination_account.put_role_policy(
        RoleName="xrdeploy-demo-beta-promotion",
        PolicyName="inline",
        PolicyDocument=policy(
            on_bucket(world.cross_account_bucket, ["s3:GetObject", "s3:ListBucket"])
        ),
    )
    event = world.event()

    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)

    # THEN PermissionError names the role, the object and the permission
    doing = "write" if data is SMALL else "start a multipart upload to"
    assert failure(world) == {
        "type": "PermissionError",
        "message": f"role {ROLE} cannot {doing} s3://{world.cross_account_bucket}/{KEY} "
        "(AccessDenied): grant it s3:PutObject on the bucket, and check that account "
        f"{DESTINATION_ACCOUNT} owns {world.cross_account_bucket}",
    }
    assert world.versions(world.cross_account_bucket) == []
    assert world.uploads(world.cross_account_bucket) == []


def test_a_role_that_cannot_be_assumed_is_a_permission_error(world: World) -> None:
    # GIVEN IAM is enforced and the function's role lost sts:AssumeRole
    world.put_artifact(SMALL)
    world.iam_pipeline.delete_role_policy(
        RoleName="xrdeploy-demo-alpha-promote-function", PolicyName="inline"
    )
    event = world.event()

    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)

    # THEN PermissionError names the role to fix
    assert failure(world) == {
        "type": "PermissionError",
        "message": f"cannot assume UserParameters.destination.role_arn {ROLE} (AccessDenied): "
        "its trust policy must allow this function's execution role, and that role needs "
        "sts:AssumeRole on it",
    }


def test_a_missing_destination_bucket_is_a_configuration_error(world: World) -> None:
    # GIVEN the destination stage was never deployed
    world.put_artifact(SMALL)

    # WHEN the job runs
    run(world, world.event(destination={**SAME_ACCOUNT, "bucket": "xrdeploy-demo-beta-gone"}))

    # THEN ConfigurationError names the bucket and the field
    assert failure(world) == {
        "type": "ConfigurationError",
        "message": "destination bucket xrdeploy-demo-beta-gone does not exist "
        "(UserParameters.destination.bucket): deploy the beta stage first or fix the name",
    }


def test_a_destination_bucket_in_another_region_is_a_configuration_error(world: World) -> None:
    # GIVEN UserParameters name the wrong region for the destination bucket
    world.put_artifact(SMALL)

    # WHEN the job runs
    run(world, world.event(destination={**SAME_ACCOUNT, "region": "eu-central-1"}))

    # THEN ConfigurationError says where the bucket really is
    assert failure(world) == {
        "type": "ConfigurationError",
        "message": f"destination bucket {SAME_ACCOUNT_BUCKET} is in us-east-1, not eu-central-1: "
        "fix UserParameters.destination.region",
    }
    assert world.versions(SAME_ACCOUNT_BUCKET) == []


def test_an_event_without_a_job_id_is_logged_and_not_reported(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN an event that is not a CodePipeline job
    # WHEN it arrives
    run(world, {"Records": [{"eventSource": "aws:s3"}]})

    # THEN there is no job to report to: nothing is reported and the error is logged
    assert world.results.calls == []
    [record] = promoted_logs
    assert (record.levelname, record.getMessage()) == (
        "ERROR",
        "event has no CodePipeline.job.id: not a CodePipeline job event",
    )


def test_an_event_without_input_artifacts_is_a_configuration_error(world: World) -> None:
    # GIVEN a job whose action has no input artifact
    event = world.event()
    event["CodePipeline.job"]["data"]["inputArtifacts"] = []

    # WHEN it runs
    run(world, event)

    # THEN ConfigurationError says what to set
    assert failure(world) == {
        "type": "ConfigurationError",
        "message": "the promote action has 0 input artifacts, expected exactly 1: set the "
        "source stage's output artifact as its only input",
    }


def test_an_event_without_artifact_credentials_fails_the_job(world: World) -> None:
    # GIVEN a job event missing its artifact credentials
    event = world.event()
    del event["CodePipeline.job"]["data"]["artifactCredentials"]

    # WHEN it runs
    run(world, event)

    # THEN JobFailed names the missing field
    assert failure(world) == {
        "type": "JobFailed",
        "message": "malformed CodePipeline event: data.artifactCredentials is missing; this "
        "function only handles Invoke jobs",
    }


@pytest.mark.parametrize(
    ("user_parameters", "message"),
    [
        (
            None,
            "UserParameters is missing: set the promote action's UserParameters to the "
            "promotion JSON (app, source_stage, execution_id, source_version_id, destination)",
        ),
        (
            "{not json",
            "UserParameters is not valid JSON (Expecting property name enclosed in "
            "double quotes at char 1)",
        ),
        (
            {"colour": "blue"},
            "UserParameters has unknown field 'colour'; allowed fields: app, source_stage, "
            "execution_id, source_version_id, destination",
        ),
        ({"source_version_id": None}, "UserParameters.source_version_id is required"),
        (
            {"source_version_id": "#{SourceVariables.VersionId}"},
            "UserParameters.source_version_id is the unresolved variable "
            "'#{SourceVariables.VersionId}': check the variable namespace of the action that "
            "produces it",
        ),
    ],
    ids=["missing", "not-json", "unknown-field", "missing-field", "unresolved-variable"],
)
def test_bad_user_parameters_are_a_configuration_error(
    world: World, user_parameters: Any, message: str
) -> None:
    # GIVEN an artifact and an action whose UserParameters are wrong
    world.put_artifact(SMALL)
    event = world.event()
    configuration = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    if user_parameters is None:
        del configuration["UserParameters"]
    elif isinstance(user_parameters, str):
        configuration["UserParameters"] = user_parameters
    else:
        configuration["UserParameters"] = json.dumps(
            {**json.loads(configuration["UserParameters"]), **user_parameters}
        )

    # WHEN the job runs
    run(world, event)

    # THEN ConfigurationError names the field, and nothing is written
    assert failure(world) == {"type": "ConfigurationError", "message": message}
    assert world.versions(world.cross_account_bucket) == []


# --- integrity -----------------------------------------------------------------------------------


def test_parts_that_differ_from_the_hashed_source_are_never_completed(world: World) -> None:
    # GIVEN a three-part artifact, and a second read of part 2 that comes back corrupted
    world.put_artifact(LARGE)
    reads: list[str] = []

    def corrupt_second_read_of_part_2(parsed: dict[str, Any], **_: Any) -> None:
        if "ContentRange" in parsed:
            reads.append(parsed["ContentRange"])
            if reads.count(parsed["ContentRange"]) == 2 and parsed["ContentRange"].startswith(
                f"bytes {PART}-"
            ):
                body = bytearray(parsed["Body"].read())
                body[0] ^= 0xFF
                parsed["Body"] = StreamingBody(io.BytesIO(bytes(body)), len(body))

    world.function_session.events.register("after-call.s3.GetObject", corrupt_second_read_of_part_2)

    # WHEN the job runs
    run(world, world.event())

    # THEN the mismatch is reported before completion: the upload is aborted, nothing is visible
    assert failure(world) == {
        "type": "JobFailed",
        "message": f"checksum mismatch: the parts uploaded to s3://{world.cross_account_bucket}/"
        f"{KEY} differ from {world.artifact_uri} as first read; the upload was aborted and "
        "nothing was written: retry the stage",
    }
    assert world.versions(world.cross_account_bucket) == []
    assert world.uploads(world.cross_account_bucket) == []


def test_a_stored_object_whose_checksum_differs_is_deleted_again(world: World) -> None:
    # GIVEN an earlier promotion, and an upload path that alters a part's bytes after they were
    # hashed (real S3 would refuse the part with BadDigest; moto stores what it gets)
    world.put_artifact(SMALL)
    run(world, world.event(params={"source_version_id": "anEarlierVersion"}))
    [earlier] = world.versions(world.cross_account_bucket)
    world.put_artifact(LARGE)

    def alter_part_3(params: dict[str, Any], **_: Any) -> None:
        if params["PartNumber"] == 3:
            params["Body"] = b"\x00" + params["Body"][1:]

    world.function_session.events.register("before-parameter-build.s3.UploadPart", alter_part_3)

    # WHEN the job runs
    run(world, world.event())

    # THEN the new version is deleted, the earlier one is current again, and JobFailed says so
    name, params = world.results.calls[-1]
    assert name == "PutJobFailureResult"
    message = params["failureDetails"]["message"]
    assert params["failureDetails"]["type"] == "JobFailed"
    assert message.startswith("checksum mismatch: S3 reports SHA-256 ") and message.endswith(
        f", expected {composite(LARGE)}-3; that version was deleted: retry the stage"
    )
    assert world.versions(world.cross_account_bucket) == [earlier]
    assert world.body(world.cross_account_bucket) == SMALL


def test_a_read_that_breaks_off_is_read_again(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN a source whose first body breaks off mid-stream (botocore retries requests, not this)
    world.put_artifact(SMALL)
    broken: list[bool] = []

    class BreaksOff:
        def read(self, amt: int | None = None) -> bytes:
            raise ReadTimeoutError(endpoint_url="https://s3.eu-west-1.amazonaws.com")

    def break_first_body(parsed: dict[str, Any], **_: Any) -> None:
        if not broken:
            broken.append(True)
            parsed["Body"] = StreamingBody(BreaksOff(), len(SMALL))

    world.function_session.events.register("after-call.s3.GetObject", break_first_body)

    # WHEN the job runs
    run(world, world.event())

    # THEN the part is read again, the promotion succeeds, and the retry is logged
    assert success(world)["executionDetails"]["percentComplete"] == 100
    assert world.body(world.cross_account_bucket) == SMALL
    assert "source read broke off; reading the part again" in [
        r.getMessage() for r in promoted_logs
    ]


# --- multipart clean-up --------------------------------------------------------------------------


def test_the_upload_is_aborted_when_the_artifact_changes_between_invocations(world: World) -> None:
    # GIVEN a promotion paused after copying its first part
    world.put_artifact(LARGE)
    run(world, world.event(), FakeContext(parts=4))
    token = world.results.calls[0][1]["continuationToken"]
    assert len(world.uploads(world.cross_account_bucket)) == 1

    # WHEN the artifact is replaced before CodePipeline invokes again
    new_etag = world.put_artifact(LARGE[::-1])
    run(world, world.event(token=token))

    # THEN JobFailed says the artifact changed, and the upload is aborted
    old_etag = json.loads(token)["etag"]
    assert world.results.calls[1] == (
        "PutJobFailureResult",
        {
            "jobId": world.results.calls[1][1]["jobId"],
            "failureDetails": {
                "type": "JobFailed",
                "message": f"input artifact {world.artifact_uri} changed since this promotion "
                f"started (ETag {old_etag} is now {new_etag}): retry the stage",
            },
        },
    )
    assert world.uploads(world.cross_account_bucket) == []
    assert world.versions(world.cross_account_bucket) == []


def test_the_upload_is_aborted_when_writing_is_refused_mid_copy(world: World) -> None:
    # GIVEN IAM is enforced and a promotion paused after copying its first part
    world.put_artifact(LARGE)
    event = world.event()
    with enable_iam_authentication():
        run(world, event, FakeContext(parts=4))
    token = world.results.calls[0][1]["continuationToken"]

    # WHEN the role loses s3:PutObject (but may still abort) before the next invocation
    world.iam_destination_account.put_role_policy(
        RoleName="xrdeploy-demo-beta-promotion",
        PolicyName="inline",
        PolicyDocument=policy(
            on_bucket(
                world.cross_account_bucket,
                ["s3:GetObject", "s3:ListBucket", "s3:AbortMultipartUpload"],
            )
        ),
    )
    event = world.event(token=token)
    with enable_iam_authentication():
        run(world, event)

    # THEN PermissionError is reported and no upload or object is left behind
    _, params = world.results.calls[1]
    assert params["failureDetails"] == {
        "type": "PermissionError",
        "message": f"role {ROLE} cannot upload a part to s3://{world.cross_account_bucket}/{KEY} "
        "(AccessDenied): grant it s3:PutObject on the bucket, and check that account "
        f"{DESTINATION_ACCOUNT} owns {world.cross_account_bucket}",
    }
    assert world.uploads(world.cross_account_bucket) == []
    assert world.versions(world.cross_account_bucket) == []


def test_a_runtime_that_cannot_save_the_hash_fails_instead_of_pausing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a runtime without OpenSSL's SHA256_* functions, and too little time for the copy
    monkeypatch.setattr(checksums, "_LIBCRYPTO", None)
    world.put_artifact(LARGE)

    # WHEN the job would have to pause
    run(world, world.event(), FakeContext(parts=4))

    # THEN JobFailed says what to change, and the started upload is aborted
    assert failure(world) == {
        "type": "JobFailed",
        "message": f"cannot pause the promotion of {world.artifact_uri} (17.0 MiB): this "
        "runtime's libcrypto does not export SHA256_Init/Update/Final; raise the function's "
        "timeout so the copy fits in one invocation",
    }
    assert world.uploads(world.cross_account_bucket) == []


class Killed(BaseException):
    """The invocation dies (Lambda's timeout, a crash): nothing in the function can catch it."""


def test_a_fresh_job_aborts_the_upload_an_interrupted_invocation_left(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN a multipart promotion that died after uploading its first part, reporting nothing
    world.put_artifact(LARGE)

    def die_after_part_1(**_: Any) -> None:
        raise Killed

    world.function_session.events.register("after-call.s3.UploadPart", die_after_part_1)
    with pytest.raises(Killed):
        run(world, world.event())
    world.function_session.events.unregister("after-call.s3.UploadPart", die_after_part_1)
    assert world.results.calls == []
    [stale] = world.uploads(world.cross_account_bucket)

    # WHEN a fresh job (no continuation token) promotes the same revision
    run(world, world.event(params={"execution_id": "a-retried-execution"}))

    # THEN the stale upload is aborted and logged, and the revision lands as one version
    assert success(world)["executionDetails"]["percentComplete"] == 100
    assert world.uploads(world.cross_account_bucket) == []
    assert len(world.versions(world.cross_account_bucket)) == 1
    assert world.body(world.cross_account_bucket) == LARGE
    [aborted] = [r for r in promoted_logs if r.getMessage() == "stale multipart upload aborted"]
    assert aborted.fields["upload_id"] == stale["UploadId"]  # type: ignore[attr-defined]


def test_only_this_functions_uploads_to_exactly_this_key_count_as_stale(world: World) -> None:
    # GIVEN unfinished uploads: one like ours, one to a longer key, one by another writer (CRC32)
    world.put_artifact(SMALL)
    s3 = world.s3_destination_account
    bucket = world.cross_account_bucket

    def start(key: str, algorithm: str) -> str:
        created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm)
        return str(created["UploadId"])

    start(KEY, "SHA256")
    longer = start(f"{KEY}.previous", "SHA256")
    other_writer = start(KEY, "CRC32")

    # WHEN a fresh job runs
    run(world, world.event())

    # THEN only the upload like ours is aborted
    assert success(world)["executionDetails"]["percentComplete"] == 100
    assert sorted(u["UploadId"] for u in world.uploads(bucket)) == sorted([longer, other_writer])


def test_a_role_that_cannot_list_uploads_still_promotes(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN IAM is enforced and the destination role lacks s3:ListBucketMultipartUploads
    world.put_artifact(SMALL)
    world.iam_destination_account.put_role_policy(
        RoleName="xrdeploy-demo-beta-promotion",
        PolicyName="inline",
        PolicyDocument=policy(
            on_bucket(
                world.cross_account_bucket,
                [a for a in WRITER_ACTIONS if a != "s3:ListBucketMultipartUploads"],
            )
        ),
    )
    event = world.event()

    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)

    # THEN the clean-up is skipped with a warning saying what to grant, and the promotion succeeds
    assert success(world)["executionDetails"]["percentComplete"] == 100
    [warning] = [r for r in promoted_logs if r.levelname == "WARNING"]
    assert warning.getMessage() == (
        f"cannot list unfinished multipart uploads to s3://{world.cross_account_bucket}/{KEY}: "
        f"grant role {ROLE} s3:ListBucketMultipartUploads on the bucket so interrupted copies "
        "are cleaned up"
    )


# --- reporting and logging -----------------------------------------------------------------------


def test_an_unexpected_exception_is_reported_then_logged(
    world: World, monkeypatch: pytest.MonkeyPatch, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN a bug deep in the promotion
    def broken(*_: Any, **__: Any) -> None:
        raise KeyError("Body")

    monkeypatch.setattr(handler, "promote", broken)
    event = world.event()

    # WHEN the job runs
    run(world, event)

    # THEN JobFailed is reported, and the traceback is logged for the job
    job_id = event["CodePipeline.job"]["id"]
    assert failure(world) == {
        "type": "JobFailed",
        "message": f"unexpected KeyError while promoting: 'Body'; see the function's logs for "
        f"job {job_id}",
    }
    record = promoted_logs[-1]
    assert record.getMessage() == "unexpected error"
    assert record.exc_info is not None
    assert record.fields["job_id"] == job_id  # type: ignore[attr-defined]


def test_a_refused_job_result_is_logged_not_raised(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN CodePipeline no longer accepts a result for the job (it timed out meanwhile)
    world.put_artifact(SMALL)
    world.results.refuse_with = "InvalidJobStateException"

    # WHEN the job runs
    run(world, world.event())

    # THEN the refusal is logged; the invocation itself succeeds (a retry cannot help)
    assert [r.getMessage() for r in promoted_logs if r.levelname == "ERROR"] == [
        "job result refused"
    ]


def test_logs_are_structured_and_free_of_credentials(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN an artifact
    world.put_artifact(SMALL)
    event = world.event()
    secret = event["CodePipeline.job"]["data"]["artifactCredentials"]["secretAccessKey"]

    # WHEN the job runs
    run(world, event)

    # THEN each record is one JSON document with the job id, the stages and the outcome
    formatted = [handler._LOG.handlers[0].format(record) for record in promoted_logs]
    documents = [json.loads(line) for line in formatted]
    assert {d["job_id"] for d in documents} == {event["CodePipeline.job"]["id"]}
    finished = documents[-1]
    assert finished["message"] == "promotion promoted"
    assert (finished["outcome"], finished["bytes_written"], finished["source_stage"]) == (
        "promoted",
        len(SMALL),
        "alpha",
    )
    assert finished["destination_stage"] == "beta" and finished["duration_ms"] >= 0
    # AND the artifact credentials appear nowhere
    assert not any(secret in line for line in formatted)


def test_lambda_handler_builds_its_clients_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the runtime's entry point, with the factory it builds from the environment
    built: list[object] = []

    def from_environment() -> Any:
        built.append(object())
        return world.factory()

    monkeypatch.setattr(handler, "_clients", None)
    monkeypatch.setattr(handler.ClientFactory, "from_environment", staticmethod(from_environment))
    world.put_artifact(SMALL)

    # WHEN two jobs arrive on the same warm runtime
    handler.lambda_handler(world.event(), FakeContext())
    handler.lambda_handler(world.event(), FakeContext())

    # THEN both are reported and the clients were built once
    assert [name for name, _ in world.results.calls] == ["PutJobSuccessResult"] * 2
    assert len(built) == 1
