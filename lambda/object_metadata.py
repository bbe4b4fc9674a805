"""The x-amz-meta-* the destination object carries: which revision it is, and its SHA-256."""

from __future__ import annotations

from job import PromotionParams

APP = "xrdeploy-app"
SOURCE_STAGE = "xrdeploy-source-stage"
EXECUTION_ID = "xrdeploy-execution-id"
SOURCE_VERSION_ID = "xrdeploy-source-version-id"
SHA256 = "xrdeploy-sha256"


def metadata(params: PromotionParams, sha256: str) -> dict[str, str]:
    return {
        APP: params.app,
        SOURCE_STAGE: params.source_stage,
        EXECUTION_ID: params.execution_id,
        SOURCE_VERSION_ID: params.source_version_id,
        SHA256: sha256,
    }
