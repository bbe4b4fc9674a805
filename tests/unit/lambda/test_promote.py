"""The promotion end to end through the handler: a CodePipeline event in; the job result it
reports and what the destination bucket holds out. moto in-process stands in for S3, STS and IAM.
The pure parts are tested directly, in the test file named after each module."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
from dataclasses import replace
from typing import Any

import object_metadata
import parts
import promote
import pytest
import resumable_sha256
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from continuation import Progress
from errors import FailureType, PromotionFailure
from moto.core import enable_iam_authentication

from .world import (
    CROSS_ACCOUNT_ROLE,
    DESTINATION_ACCOUNT,
    KEY,
    MIB,
    PIPELINE_ACCOUNT,
    SAME_ACCOUNT,
    SAME_ACCOUNT_BUCKET,
    WRITER_ACTIONS,
    FakeContext,
    World,
    failed,
    run,
    source_end,
    success,
    target_end,
)

SOURCE_VERSION = "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
EXECUTION_ID = "4c3b1f7e-2d6a-4a57-9c1e-8f0b5d2e7a91"
ROLE = CROSS_ACCOUNT_ROLE
SAME_ACCOUNT_URI = f"s3://{SAME_ACCOUNT_BUCKET}/{KEY}"
PART = parts.MIN_PART_SIZE
SMALL = os.urandom(256 * 1024)
LARGE = os.urandom(2 * PART + MIB)  # three parts: 8 MiB, 8 MiB, 1 MiB
LARGE_SIZE = len(LARGE)


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


def test_promotes_to_another_region_of_the_same_account(world: World) -> None:
    # GIVEN an artifact in eu-west-1 and a destination bucket of the same account in us-east-1
    world.put_artifact(SMALL)

    # WHEN the job runs, through the promotion role of the same account
    run(world, world.event(destination=SAME_ACCOUNT))

    # THEN one success is reported, naming the new version
    details = success(world)["executionDetails"]
    [version] = world.versions(SAME_ACCOUNT_BUCKET)
    assert (details["percentComplete"], details["externalExecutionId"]) == (
        100,
        version["VersionId"],
    )
    for named in (world.artifact_uri, SAME_ACCOUNT_URI, version["VersionId"], "us-east-1"):
        assert named in details["summary"]
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
    details = params["executionDetails"]
    assert (details["percentComplete"], details["externalExecutionId"]) == (100, first["VersionId"])
    assert details["summary"].endswith("nothing written")
    assert SOURCE_VERSION in details["summary"]
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
            object_metadata.SHA256: sha256_hex(data),
            object_metadata.SOURCE_VERSION_ID: SOURCE_VERSION,
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
    assert first["executionDetails"]["percentComplete"] == 66
    assert "copy pass at part 2 of 3" in first["executionDetails"]["summary"]
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


def test_missing_artifact_fails_the_job(world: World) -> None:
    # GIVEN no artifact at the event's location
    # WHEN the job runs
    run(world, world.event())

    # THEN JobFailed names the artifact, and nothing is written
    failed(world, "JobFailed", world.artifact_uri, "does not exist")
    assert world.versions(world.cross_account_bucket) == []


def test_artifact_credentials_that_cannot_read_are_a_permission_error(world: World) -> None:
    # GIVEN IAM is enforced and the job's credentials come from a role without s3:GetObject
    world.put_artifact(SMALL)
    event = world.event(credentials=world.artifact_credentials("xrdeploy-demo-alpha-unrelated"))

    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)

    # THEN PermissionError says which credentials, which object and what to grant
    failed(
        world,
        "PermissionError",
        "artifact credentials",
        world.artifact_uri,
        f"s3:GetObject on {world.artifact_bucket}",
        f"kms:Decrypt on arn:aws:kms:eu-west-1:{PIPELINE_ACCOUNT}:alias/aws/s3",
    )
    assert world.versions(world.cross_account_bucket) == []


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["whole", "parts"])
def test_a_role_that_cannot_write_is_a_permission_error(world: World, data: bytes) -> None:
    # GIVEN IAM is enforced and the destination role may read its bucket but not write it
    world.put_artifact(data)
    world.allow_destination_role(["s3:GetObject", "s3:ListBucket"])
    event = world.event()

    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)

    # THEN PermissionError names the role, the object and the permission
    doing = "write" if data is SMALL else "start a multipart upload to"
    failed(
        world,
        "PermissionError",
        f"role {ROLE} cannot {doing} s3://{world.cross_account_bucket}/{KEY}",
        "s3:PutObject",
        DESTINATION_ACCOUNT,
    )
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
    failed(
        world, "PermissionError", f"UserParameters.destination.role_arn {ROLE}", "sts:AssumeRole"
    )


@pytest.mark.parametrize(
    ("destination", "named"),
    [
        (
            {"bucket": "xrdeploy-demo-beta-gone"},
            ["xrdeploy-demo-beta-gone", "UserParameters.destination.bucket", "beta stage"],
        ),
        (
            {"region": "eu-central-1"},
            [SAME_ACCOUNT_BUCKET, "us-east-1", "UserParameters.destination.region"],
        ),
    ],
    ids=["never-deployed", "in-another-region"],
)
def test_a_destination_bucket_not_where_named_is_a_configuration_error(
    world: World, destination: dict[str, str], named: list[str]
) -> None:
    # GIVEN UserParameters naming a bucket that was never deployed, or the wrong region for it
    world.put_artifact(SMALL)

    # WHEN the job runs
    run(world, world.event(destination={**SAME_ACCOUNT, **destination}))

    # THEN ConfigurationError names the bucket (and where it really is) and the field to fix
    failed(world, "ConfigurationError", *named)
    assert world.versions(SAME_ACCOUNT_BUCKET) == []


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
    destination = f"s3://{world.cross_account_bucket}/{KEY}"
    failed(world, "JobFailed", "checksum mismatch", destination, world.artifact_uri)
    assert world.versions(world.cross_account_bucket) == []
    assert world.uploads(world.cross_account_bucket) == []


def test_a_stored_object_whose_checksum_differs_fails_and_the_retry_replaces_it(
    world: World,
) -> None:
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
    deletes: list[str] = []
    world.function_session.events.register(
        "before-call.s3.DeleteObject", lambda **_: deletes.append("DeleteObject")
    )

    # WHEN the job runs
    run(world, world.event())

    # THEN JobFailed names the bad version, which the function does not (and may not) delete
    expected = f"expected {composite(LARGE)}-3"
    failed(world, "JobFailed", "checksum mismatch", expected, "retry the stage", results=2)
    assert deletes == []
    versions = [v["VersionId"] for v in world.versions(world.cross_account_bucket)]
    assert len(versions) == 2 and earlier["VersionId"] in versions
    # AND a retry, with the bytes intact, writes a good version over it instead of accepting it
    world.function_session.events.unregister("before-parameter-build.s3.UploadPart", alter_part_3)
    run(world, world.event())
    assert world.results.calls[-1][0] == "PutJobSuccessResult"
    assert len(world.versions(world.cross_account_bucket)) == 3
    assert world.body(world.cross_account_bucket) == LARGE


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
    failed(world, "JobFailed", world.artifact_uri, old_etag, new_etag, results=2)
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
    world.allow_destination_role(["s3:GetObject", "s3:ListBucket", "s3:AbortMultipartUpload"])
    event = world.event(token=token)
    with enable_iam_authentication():
        run(world, event)

    # THEN PermissionError is reported and no upload or object is left behind
    failed(
        world,
        "PermissionError",
        f"role {ROLE} cannot upload a part to s3://{world.cross_account_bucket}/{KEY}",
        "s3:PutObject",
        results=2,
    )
    assert world.uploads(world.cross_account_bucket) == []
    assert world.versions(world.cross_account_bucket) == []


def test_a_runtime_that_cannot_save_the_hash_fails_instead_of_pausing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a runtime without OpenSSL's SHA256_* functions, and too little time for the copy
    monkeypatch.setattr(resumable_sha256, "_LIBCRYPTO", None)
    world.put_artifact(LARGE)

    # WHEN the job would have to pause
    run(world, world.event(), FakeContext(parts=4))

    # THEN JobFailed says what to change, and the started upload is aborted
    failed(world, "JobFailed", world.artifact_uri, "SHA256_Init", "timeout")
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
    world.allow_destination_role(
        [a for a in WRITER_ACTIONS if a != "s3:ListBucketMultipartUploads"]
    )
    event = world.event()

    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)

    # THEN the clean-up is skipped with a warning saying what to grant, and the promotion succeeds
    assert success(world)["executionDetails"]["percentComplete"] == 100
    [warning] = [r for r in promoted_logs if r.levelname == "WARNING"]
    for named in (f"s3://{world.cross_account_bucket}/{KEY}", ROLE, "ListBucketMultipartUploads"):
        assert named in warning.getMessage()


# --- the orchestration's pure part ---------------------------------------------------------------


def resume_point(**changes: Any) -> Progress:
    point = Progress(
        phase="copy",
        key=KEY,
        etag='"etag"',
        part_size=PART,
        offset=PART,
        full_state=None,
        parts_state=None,
        sha256="ab" * 32,
        parts_digest="cGFydHM=",
        upload_id="u1",
    )
    return replace(point, **changes)


@pytest.mark.parametrize(
    ("changes", "failure_type", "named"),
    [
        ({"key": "other.zip"}, FailureType.CONFIGURATION_ERROR, ["'other.zip'", "destination.key"]),
        ({"etag": '"older"'}, FailureType.JOB_FAILED, ['"older"', '"etag"', "s3://artifacts/"]),
    ],
    ids=["other-key", "artifact-changed"],
)
def test_a_token_resumes_only_the_same_key_and_artifact(
    changes: dict[str, Any], failure_type: FailureType, named: list[str]
) -> None:
    # GIVEN / WHEN / THEN the token of the same key and artifact fits
    promote.check_resumable(resume_point(), source_end(LARGE_SIZE), target_end())
    # AND one for another key, or an artifact that changed since, does not
    with pytest.raises(PromotionFailure) as raised:
        promote.check_resumable(resume_point(**changes), source_end(LARGE_SIZE), target_end())
    assert raised.value.failure_type is failure_type
    for name in named:
        assert name in raised.value.message
