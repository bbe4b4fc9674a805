"""S3 refuses SSE-KMS work with a disabled KMS key or one pending deletion, as in AWS.

LocalStack checks key state only for an explicit ``SSEKMSKeyId`` and only with
``S3_SKIP_KMS_KEY_VALIDATION=0``; a bucket's default key is never checked, so writes into a bucket
whose key was disabled succeed. :func:`check` runs before LocalStack's S3 provider and raises the
error S3 returns (LocalStack's AWS-validated wording, HTTP 400):

* ``KMS.DisabledException``: ``<key arn> is disabled.``
* ``KMS.KMSInvalidStateException``: ``<key arn> is pending deletion.``

Keys checked: for ``PutObject``, ``CreateMultipartUpload`` and ``CopyObject`` the key the new
object gets (the request's ``SSEKMSKeyId`` when it asks for ``aws:kms``, else the bucket's
default encryption key when that is ``aws:kms``); for ``UploadPart``/``UploadPartCopy`` the key of
the multipart upload; for ``GetObject`` and the source of ``CopyObject``/``UploadPartCopy`` the
key the stored object was encrypted with. A key id, key ARN, alias name or alias ARN is resolved in
LocalStack's KMS store, relative to the bucket's account and region; a key that cannot be
resolved (e.g. the AWS managed ``aws/s3`` key) is not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localstack.aws.api import CommonServiceException, RequestContext
from localstack.services.kms.models import KmsKey, kms_stores
from localstack.services.s3.models import S3Bucket, VersionedKeyStore, s3_stores
from localstack.services.s3.utils import extract_bucket_key_version_id_from_copy_source

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
NEW_OBJECT_OPERATIONS = ("PutObject", "CreateMultipartUpload", "CopyObject")
UPLOAD_OPERATIONS = ("UploadPart", "UploadPartCopy")
COPY_OPERATIONS = ("CopyObject", "UploadPartCopy")


def check(context: RequestContext) -> None:
    """Raise the KMS error S3 returns if the request needs a key that is not usable."""
    assert context.operation is not None
    operation = context.operation.name
    request: Mapping[str, Any] = context.service_request or {}
    bucket = bucket_of(context, request.get("Bucket"))
    if bucket is not None:
        if operation in NEW_OBJECT_OPERATIONS:
            _require_usable(new_object_key(request, bucket), bucket)
        elif operation in UPLOAD_OPERATIONS:
            upload = bucket.multiparts.get(request.get("UploadId", ""))
            if upload is not None:
                _require_usable(upload.object.kms_key_id, bucket)
        elif operation == "GetObject":
            stored = stored_key(bucket, request.get("Key"), request.get("VersionId"))
            _require_usable(stored, bucket)
    if operation in COPY_OPERATIONS and request.get("CopySource"):
        source_name, source_key, version_id = extract_bucket_key_version_id_from_copy_source(
            request["CopySource"]
        )
        source = bucket_of(context, source_name)
        if source is not None:
            _require_usable(stored_key(source, source_key, version_id), source)


def bucket_of(context: RequestContext, name: Any) -> S3Bucket | None:
    """The bucket of that name in whichever account owns it (buckets are global)."""
    if not isinstance(name, str):
        return None
    store = s3_stores[context.account_id][context.region]
    bucket = store.buckets.get(name)
    if bucket is None and (owner := store.global_bucket_map.get(name)):
        bucket = s3_stores[owner][context.region].buckets.get(name)
    return bucket


def new_object_key(request: Mapping[str, Any], bucket: S3Bucket) -> str | None:
    """The KMS key a new object written by ``request`` gets (None: not SSE-KMS)."""
    if request.get("SSECustomerAlgorithm") or request.get("SSECustomerKey"):
        return None
    default = (bucket.encryption_rule or {}).get("ApplyServerSideEncryptionByDefault") or {}
    algorithm = request.get("ServerSideEncryption") or default.get("SSEAlgorithm")
    if algorithm not in KMS_ALGORITHMS:
        return None
    # As LocalStack's S3 decides: the request's key, else the bucket's default key.
    return request.get("SSEKMSKeyId") or default.get("KMSMasterKeyID")


def stored_key(bucket: S3Bucket, key: Any, version_id: Any) -> str | None:
    """The KMS key a stored object (that version, else the current one) was encrypted with."""
    if not isinstance(key, str):
        return None
    objects = bucket.objects
    if isinstance(objects, VersionedKeyStore):
        stored = objects.get(key, version_id)  # the current version when version_id is None
    else:
        stored = objects.get(key)
    return getattr(stored, "kms_key_id", None)  # None for a missing object or a delete marker


def _require_usable(key_ref: str | None, bucket: S3Bucket) -> None:
    key = resolve_key(key_ref, bucket.bucket_account_id, bucket.bucket_region) if key_ref else None
    if key is None:
        return
    state, arn = key.metadata.get("KeyState"), key.metadata.get("Arn")
    if state == "Disabled":
        raise CommonServiceException("KMS.DisabledException", f"{arn} is disabled.")
    if state == "PendingDeletion":
        raise CommonServiceException("KMS.KMSInvalidStateException", f"{arn} is pending deletion.")


def resolve_key(key_ref: str, account_id: str, region: str) -> KmsKey | None:
    """The key a key id, key ARN, alias name or alias ARN names, relative to that account and
    region (None: not in LocalStack's KMS store)."""
    resource = key_ref
    if key_ref.startswith("arn:"):
        parts = key_ref.split(":", 5)
        if len(parts) != 6:
            return None
        region, account_id, resource = parts[3], parts[4], parts[5]
    store = kms_stores[account_id][region]
    if resource.startswith("alias/"):
        alias = store.aliases.get(resource)
        if alias is None:
            return None
        resource = str(alias.metadata.get("TargetKeyId") or "")
    # "key/<id>" of a key ARN, or an alias target given as key id or key ARN.
    key: KmsKey | None = store.keys.get(resource.rsplit("/", 1)[-1])
    return key
