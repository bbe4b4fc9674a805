"""The commit a build was made from travels with it: named by a Git-sourced stage's Promote action,
read back from the stage's own source object by every later stage, written as metadata on each
promoted object. moto stands in for S3, STS and IAM."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from errors import PromotionFailure
from job import parse_user_parameters
from moto.core import enable_iam_authentication

from .world import (
    KEY,
    PIPELINE_ACCOUNT,
    PIPELINE_REGION,
    SAME_ACCOUNT,
    SAME_ACCOUNT_BUCKET,
    World,
    failed,
    run,
    success,
)

COMMIT = {
    "id": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    "branch": "main",
    "repository": "octo-org/shop",
}
COMMIT_METADATA = {
    "xrdeploy-commit-id": COMMIT["id"],
    "xrdeploy-branch": COMMIT["branch"],
    "xrdeploy-repository": COMMIT["repository"],
}
# This stage's own source bucket, which the version being promoted came into.
OWN_SOURCE = f"xrdeploy-demo-alpha-src-{PIPELINE_ACCOUNT}-{PIPELINE_REGION}"
BUILD = os.urandom(64 * 1024)


def own_source_version(world: World, metadata: dict[str, str]) -> str:
    s3 = world.s3_pipeline
    s3.create_bucket(
        Bucket=OWN_SOURCE, CreateBucketConfiguration={"LocationConstraint": PIPELINE_REGION}
    )
    s3.put_bucket_versioning(Bucket=OWN_SOURCE, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=OWN_SOURCE, Key=KEY, Body=BUILD, Metadata=metadata)
    return str(put["VersionId"])


def commit_from(version: str) -> dict[str, Any]:
    return {"source_version_id": version, "commit_from": {"bucket": OWN_SOURCE, "key": KEY}}


def test_a_git_sourced_stage_writes_its_commit_on_the_promoted_object(world: World) -> None:
    # GIVEN the Promote action of a Git-sourced stage, naming the commit it deployed
    world.put_artifact(BUILD)
    params = {"source_version_id": COMMIT["id"], "commit": COMMIT}
    # WHEN the job runs
    run(world, world.event(destination=SAME_ACCOUNT, params=params))
    # THEN the promoted object carries the commit beside the usual provenance
    success(world)
    metadata = world.head(SAME_ACCOUNT_BUCKET)["Metadata"]
    assert {k: metadata[k] for k in COMMIT_METADATA} == COMMIT_METADATA
    assert metadata["xrdeploy-source-version-id"] == COMMIT["id"]


def test_a_later_stage_carries_the_commit_of_the_version_it_deployed(world: World) -> None:
    # GIVEN the version this stage deployed, promoted into it with the commit's metadata
    world.put_artifact(BUILD)
    version = own_source_version(world, {**COMMIT_METADATA, "xrdeploy-source-stage": "dev"})
    # WHEN the job runs, told where that version is
    run(world, world.event(destination=SAME_ACCOUNT, params=commit_from(version)))
    # THEN the next stage's object carries the same commit
    success(world)
    metadata = world.head(SAME_ACCOUNT_BUCKET)["Metadata"]
    assert {k: metadata[k] for k in COMMIT_METADATA} == COMMIT_METADATA


def test_a_version_without_a_commit_is_promoted_without_one(world: World) -> None:
    # GIVEN a build uploaded by hand into this stage: no commit metadata
    world.put_artifact(BUILD)
    version = own_source_version(world, {})
    # WHEN the job runs
    run(world, world.event(destination=SAME_ACCOUNT, params=commit_from(version)))
    # THEN the promotion succeeds and names no commit
    success(world)
    assert not set(COMMIT_METADATA) & set(world.head(SAME_ACCOUNT_BUCKET)["Metadata"])


def test_a_missing_version_fails_the_job_naming_it(world: World) -> None:
    world.put_artifact(BUILD)
    own_source_version(world, COMMIT_METADATA)
    run(world, world.event(destination=SAME_ACCOUNT, params=commit_from("nosuchversion")))
    failed(world, "JobFailed", f"s3://{OWN_SOURCE}/{KEY}", "nosuchversion")
    assert world.versions(SAME_ACCOUNT_BUCKET) == []


def test_a_role_that_cannot_read_the_metadata_is_a_permission_error(world: World) -> None:
    # GIVEN IAM is enforced and the function's role has no s3:GetObjectVersion on its source
    world.put_artifact(BUILD)
    version = own_source_version(world, COMMIT_METADATA)
    event = world.event(destination=SAME_ACCOUNT, params=commit_from(version))
    # WHEN the job runs
    with enable_iam_authentication():
        run(world, event)
    # THEN it fails naming the grant it needs, and nothing is written
    failed(world, "PermissionError", "s3:GetObjectVersion", f"{OWN_SOURCE}/{KEY}")
    assert world.versions(SAME_ACCOUNT_BUCKET) == []


BASE_PARAMETERS = {
    "app": "a",
    "source_stage": "alpha",
    "execution_id": "e",
    "source_version_id": "v",
    "destination": {
        "stage": "beta",
        "bucket": "b-src",
        "key": "app.zip",
        "region": "us-east-1",
        "account_id": "111111111111",
        "role_arn": "arn:aws:iam::111111111111:role/r",
    },
}


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"commit": "9fceb02"}, "UserParameters.commit must be an object"),
        ({"commit": {**COMMIT, "author": "me"}}, "UserParameters.commit has unknown field"),
        ({"commit": {**COMMIT, "branch": "#{SourceVariables.BranchName}"}}, "unresolved"),
        ({"commit": {"id": "x", "branch": "main"}}, "UserParameters.commit.repository"),
        ({"commit_from": {"bucket": "Bad_Bucket", "key": "k"}}, "UserParameters.commit_from"),
    ],
)
def test_bad_commit_parameters_are_a_configuration_error(extra: dict[str, Any], named: str) -> None:
    with pytest.raises(PromotionFailure) as raised:
        parse_user_parameters(json.dumps({**BASE_PARAMETERS, **extra}))
    assert raised.value.failure_type.value == "ConfigurationError"
    assert named in str(raised.value)
