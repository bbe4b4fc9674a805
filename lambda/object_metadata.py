"""The x-amz-meta-* the destination object carries: which revision it is, its SHA-256, and, for a
build from a Git source, the commit it was made from."""

from __future__ import annotations

from job import Commit, PromotionParams

APP = "xrdeploy-app"
SOURCE_STAGE = "xrdeploy-source-stage"
EXECUTION_ID = "xrdeploy-execution-id"
SOURCE_VERSION_ID = "xrdeploy-source-version-id"
SHA256 = "xrdeploy-sha256"
COMMIT_ID = "xrdeploy-commit-id"
BRANCH = "xrdeploy-branch"
REPOSITORY = "xrdeploy-repository"


def metadata(params: PromotionParams, sha256: str) -> dict[str, str]:
    commit = params.commit
    carried = (
        {COMMIT_ID: commit.id, BRANCH: commit.branch, REPOSITORY: commit.repository}
        if commit is not None
        else {}
    )
    return {
        APP: params.app,
        SOURCE_STAGE: params.source_stage,
        EXECUTION_ID: params.execution_id,
        SOURCE_VERSION_ID: params.source_version_id,
        SHA256: sha256,
        **carried,
    }


def commit_of(head_metadata: dict[str, str]) -> Commit | None:
    """The commit a promoted object's metadata names; None for a build without one."""
    found = {key.lower(): value for key, value in head_metadata.items()}
    if not all(name in found for name in (COMMIT_ID, BRANCH, REPOSITORY)):
        return None
    return Commit(id=found[COMMIT_ID], branch=found[BRANCH], repository=found[REPOSITORY])
