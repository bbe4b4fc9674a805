"""The commit a build was made from, carried from stage to stage.

A Git-sourced stage's Promote action names the commit itself (UserParameters.commit, from the
Source action's variables). A stage after it names its own source object instead
(UserParameters.commit_from): the version it deployed carries the commit as metadata, written
by the promotion into it, and this function reads it with its own role (HeadObject, no data).
"""

from __future__ import annotations

from dataclasses import replace

from aws_errors import DENIED, NETWORK_ERRORS, NOT_FOUND, error_code, unexpected, unreachable
from botocore.exceptions import ClientError
from clients import ClientFactory
from errors import FailureType, PromotionFailure
from invocation import Invocation
from job import PromotionParams
from object_metadata import commit_of


def with_commit(
    params: PromotionParams, clients: ClientFactory, run: Invocation
) -> PromotionParams:
    """params with the commit filled in from commit_from, when it names one."""
    where = params.commit_from
    if params.commit is not None or where is None:
        return params
    version = params.source_version_id
    doing = f"reading the commit metadata of {where.uri} version {version}"
    run.guard.doing(doing)
    client = clients.s3(region=None, credentials=None, before_attempt=run.before_attempt)
    try:
        head = client.head_object(Bucket=where.bucket, Key=where.key, VersionId=version)
    except ClientError as error:
        code = error_code(error)
        if code in DENIED:
            raise PromotionFailure(
                FailureType.PERMISSION_ERROR,
                f"cannot read the commit metadata of {where.uri} ({code}): this function's "
                f"role needs s3:GetObjectVersion on {where.bucket}/{where.key}",
            ) from error
        if code in NOT_FOUND | {"NoSuchVersion", "NoSuchBucket", "400"}:
            raise PromotionFailure(
                FailureType.JOB_FAILED,
                f"{where.uri} has no version {version} to read the commit from ({code}): "
                "re-run the pipeline from its source stage",
            ) from error
        raise unexpected(error, doing) from error
    except NETWORK_ERRORS as error:
        raise unreachable(error, doing) from error
    # None for a build uploaded by hand into a later stage: there is no commit to carry on.
    return replace(params, commit=commit_of(dict(head.get("Metadata") or {})))
