"""The two ends of a promotion: the input artifact and the destination object, each with the S3
client that reaches it and the error translation for its requests (aws_errors.py)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aws_errors
from job import Destination, S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# What writing the destination needs, for error messages. The bucket's default encryption picks
# the KMS key: the function never names one.
WRITE_GRANT = "s3:PutObject on the bucket"


@dataclass(frozen=True)
class Source:
    """The input artifact, as it was when the promotion looked it up."""

    client: S3Client
    location: S3Location
    etag: str  # every read is pinned to it with If-Match
    size: int
    content_type: str | None
    kms_key_id: str | None  # the artifact store's key, named in error messages only

    @property
    def uri(self) -> str:
        return self.location.uri

    def reading(self) -> AbstractContextManager[None]:
        return aws_errors.reading(self.location, self.kms_key_id)

    def content_type_args(self) -> dict[str, Any]:
        """ContentType for the destination object: the artifact's, if it has one."""
        return {"ContentType": self.content_type} if self.content_type else {}


@dataclass(frozen=True)
class Target:
    """The destination object, reached as the destination account's role."""

    client: S3Client
    destination: Destination
    writer: str  # who writes, for error messages

    @property
    def uri(self) -> str:
        return self.destination.location.uri

    @property
    def owner(self) -> dict[str, Any]:
        # S3 refuses with 403 if someone else owns a bucket of that name.
        return {"ExpectedBucketOwner": self.destination.account_id}

    @property
    def object_args(self) -> dict[str, Any]:
        """Bucket, Key and expected owner: what every request about the object sends."""
        return {"Bucket": self.destination.bucket, "Key": self.destination.key, **self.owner}

    def writing(self, doing: str, *, grant: str) -> AbstractContextManager[None]:
        """Error translation for a request that would `doing` this object ("write")."""
        return aws_errors.writing(self.destination, self.writer, doing, grant=grant)
