"""Versions of a stage's source object as HeadObject shows them: the provenance the copy function
wrote on them (lambda/object_metadata.py) and their SHA-256, each read once."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from xrdeploy.console.pipelines import StagePipeline

# What the copy function writes on every promoted object.
META_SHA256 = "xrdeploy-sha256"
META_SOURCE_STAGE = "xrdeploy-source-stage"
META_SOURCE_VERSION_ID = "xrdeploy-source-version-id"
META_EXECUTION_ID = "xrdeploy-execution-id"


class SourceReads(Protocol):
    def source_head(self, pipeline: StagePipeline, version_id: str) -> dict[str, Any] | None: ...
    def source_sha256(self, pipeline: StagePipeline, version_id: str) -> str: ...


@dataclass(frozen=True)
class SourceObject:
    """One version of a stage's source object, as HeadObject shows it."""

    version_id: str
    metadata: Mapping[str, str]
    # S3's own SHA-256 of the whole object (hex), when the writer asked S3 for one.
    checksum_sha256: str

    @property
    def sha256(self) -> str:
        return self.metadata.get(META_SHA256, "") or self.checksum_sha256

    @property
    def promoted(self) -> bool:
        return META_SOURCE_STAGE in self.metadata


def source_object(head: Mapping[str, Any]) -> SourceObject:
    return SourceObject(
        version_id=str(head.get("VersionId") or ""),
        metadata={str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()},
        checksum_sha256=_full_object_sha256(str(head.get("ChecksumSHA256") or "")),
    )


def _full_object_sha256(checksum: str) -> str:
    # A multipart upload's checksum is a checksum of part checksums ("…-3"), not the object's.
    if not checksum or "-" in checksum:
        return ""
    try:
        return base64.b64decode(checksum, validate=True).hex()
    except (binascii.Error, ValueError):
        return ""


class SourceObjects:
    """Source object versions with their SHA-256, each read once: the metadata's, else S3's
    checksum, else the bytes' (a build uploaded by hand into the first stage carries neither).
    A Git-sourced first stage has no source object."""

    def __init__(self, reads: SourceReads) -> None:
        self._reads = reads
        self._seen: dict[tuple[str, str], tuple[SourceObject | None, str]] = {}

    def get(self, pipeline: StagePipeline, version_id: str) -> tuple[SourceObject | None, str]:
        key = (pipeline.stage, version_id)
        if pipeline.reads_git:  # its revisions are commits, and it has no source bucket
            return None, ""
        if key not in self._seen:
            head = self._reads.source_head(pipeline, version_id) if version_id else None
            obj = source_object(head) if head is not None else None
            sha256 = obj.sha256 if obj is not None else ""
            if obj is not None and not sha256:
                sha256 = self._reads.source_sha256(pipeline, version_id)
            self._seen[key] = (obj, sha256)
        return self._seen[key]
