"""Opening both ends of a promotion, and reading the input artifact part by part.

The destination is always reached through UserParameters.destination.role_arn, a role in the
destination's account (the generator gives every stage one, same account or not).
"""

from __future__ import annotations

from aws_errors import (
    DENIED,
    NOT_FOUND,
    STREAM_ERRORS,
    bucket_missing,
    error_code,
    reading,
    unexpected,
)
from botocore.exceptions import ClientError
from clients import ClientFactory
from errors import FailureType, PromotionFailure
from handles import Source, Target
from invocation import Invocation
from job import Job

# botocore retries requests, not a body that breaks off half-way through reading it.
READ_ATTEMPTS = 3


def open_target(job: Job, clients: ClientFactory, run: Invocation) -> Target:
    destination = job.params.destination
    role_arn = destination.role_arn
    run.guard.doing(f"assuming {role_arn}")
    try:
        credentials = clients.assume_role(
            role_arn, session_name=f"xrdeploy-{job.id}"[:64], before_attempt=run.before_attempt
        )
    except ClientError as error:
        code = error_code(error)
        if code in DENIED:
            raise PromotionFailure(
                FailureType.PERMISSION_ERROR,
                f"cannot assume UserParameters.destination.role_arn {role_arn} ({code}): its "
                "trust policy must allow this function's execution role, and that role needs "
                "sts:AssumeRole on it",
            ) from error
        raise unexpected(error, f"assuming {role_arn}") from error
    client = clients.s3(
        region=destination.region, credentials=credentials, before_attempt=run.before_attempt
    )
    return Target(client, destination, writer=f"role {role_arn}")


def check_bucket(target: Target, run: Invocation) -> None:
    """The destination bucket must exist, in the region UserParameters name."""
    destination = target.destination
    run.guard.doing(f"looking up bucket {destination.bucket}")
    with target.writing("find the bucket of", grant="s3:ListBucket on the bucket"):
        try:
            found = target.client.head_bucket(Bucket=destination.bucket, **target.owner)
        except ClientError as error:
            if error_code(error) not in NOT_FOUND | {"NoSuchBucket"}:
                raise
            raise bucket_missing(destination) from error
    region = found.get("BucketRegion")
    if region and region != destination.region:
        raise PromotionFailure(
            FailureType.CONFIGURATION_ERROR,
            f"destination bucket {destination.bucket} is in {region}, not {destination.region}: "
            "fix UserParameters.destination.region",
        )


def open_source(job: Job, clients: ClientFactory, run: Invocation) -> Source:
    client = clients.s3(
        region=None, credentials=job.artifact_credentials, before_attempt=run.before_attempt
    )
    run.guard.doing(f"looking up input artifact {job.artifact.uri}")
    with reading(job.artifact, job.artifact_key_id):
        head = client.head_object(Bucket=job.artifact.bucket, Key=job.artifact.key)
    return Source(
        client,
        job.artifact,
        etag=head["ETag"],
        size=head["ContentLength"],
        content_type=head.get("ContentType"),
        kms_key_id=job.artifact_key_id,
    )


def read_range(source: Source, start: int, length: int, run: Invocation) -> bytes:
    """Bytes start..start+length-1 of the artifact as it was looked up (If-Match its ETag)."""
    if length == 0:
        return b""
    last = start + length - 1
    run.guard.doing(f"reading bytes {start}-{last} of {source.uri}")
    with source.reading():
        for attempt in range(1, READ_ATTEMPTS + 1):
            response = source.client.get_object(
                Bucket=source.location.bucket,
                Key=source.location.key,
                Range=f"bytes={start}-{last}",
                IfMatch=source.etag,
            )
            try:
                data = response["Body"].read()
            except STREAM_ERRORS:
                if attempt == READ_ATTEMPTS:
                    raise
                run.log.warning(
                    "source read broke off; reading the part again",
                    extra={"fields": {"offset": start, "attempt": attempt}},
                )
                continue
            break
    if len(data) != length:
        raise PromotionFailure(
            FailureType.JOB_FAILED,
            f"read {len(data)} bytes at offset {start} of {source.uri}, expected {length}: "
            "retry the stage",
        )
    run.bytes_read += length
    return data
