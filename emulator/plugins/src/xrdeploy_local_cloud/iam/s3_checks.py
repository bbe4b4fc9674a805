"""The checks AWS makes for an S3 request, including the KMS work S3 does for the caller.

IAM action names follow the S3 authorization reference: several API operations share an action
(``ListObjects``/``ListObjectsV2``/``HeadBucket`` → ``s3:ListBucket``, ``HeadObject`` →
``s3:GetObject``, every step of a multipart upload → ``s3:PutObject``), a ``VersionId`` turns
object reads and deletes into their ``...Version`` action, and a copy also reads its source.

SSE-KMS: S3 calls KMS with the caller's credentials, so AWS evaluates ``kms:GenerateDataKey``
(writes) and ``kms:Decrypt`` (reads, copy sources, completing a multipart upload) for the caller
against its identity policies and the key policy, with ``kms:ViaService`` =
``s3.<region>.amazonaws.com`` and the encryption context ``aws:s3:arn`` (the object's ARN, the
bucket's with an S3 Bucket Key). LocalStack's S3 does not call KMS through the gateway, so these
checks are made here, before the S3 provider, and a denial is S3's ``AccessDenied``.
"""

from __future__ import annotations

from typing import Any

from localstack.aws.api import RequestContext
from localstack.services.s3.models import S3Bucket, VersionedKeyStore
from localstack.services.s3.utils import extract_bucket_key_version_id_from_copy_source

from xrdeploy_local_cloud.guards import kms_state
from xrdeploy_local_cloud.iam.checks import Check, ContextValues, NamedPolicy, request_parameters
from xrdeploy_local_cloud.iam.policies import parse_document

# API operation → IAM action; the resource is the object when the request has a Key.
ACTIONS = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListParts": "s3:ListMultipartUploadParts",
    "ListBuckets": "s3:ListAllMyBuckets",
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "GetObjectAttributes": "s3:GetObjectAttributes",
    "CopyObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "DeleteBucketTagging": "s3:PutBucketTagging",
}
# Actions that become "<action>Version" when the request names a version.
VERSIONED = {
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectTagging",
    "s3:PutObjectTagging",
    "s3:DeleteObjectTagging",
    "s3:DeleteObject",
    "s3:GetObjectAttributes",
}
KMS_READS = ("GetObject",)


def s3_checks(context: RequestContext) -> list[Check]:
    assert context.operation is not None
    operation = context.operation.name
    request = request_parameters(context)
    bucket = kms_state.bucket_of(context, request.get("Bucket"))
    if operation in ("ListBuckets", "CreateBucket"):
        name = request.get("Bucket")
        resource = f"arn:aws:s3:::{name}" if name and operation != "ListBuckets" else "*"
        return [Check(ACTIONS.get(operation, f"s3:{operation}"), resource, context.account_id)]
    if bucket is None:
        # S3 answers NoSuchBucket (404) to anyone who asks about a bucket that does not exist:
        # there is no owner or policy to authorize against (and bucket names are global).
        return []
    policy = _bucket_policy(bucket)
    action = ACTIONS.get(operation, f"s3:{operation}")
    version_id = request.get("VersionId")
    checks = [
        _main_check(action, bucket, request, version_id, policy, key)
        for key in _keys(operation, request)
    ]
    if operation == "GetObjectAttributes":  # also needs read access to the object itself
        checks.append(_main_check("s3:GetObject", bucket, request, version_id, policy, None))
    if operation in ("CopyObject", "UploadPartCopy") and request.get("CopySource"):
        checks += _copy_source_checks(context, request["CopySource"])
    checks += _kms_checks(context, operation, bucket, request)
    return checks


def _keys(operation: str, request: dict[str, Any]) -> list[str | None]:
    if operation == "DeleteObjects":
        objects = (request.get("Delete") or {}).get("Objects") or []
        return [item.get("Key") for item in objects] or [None]
    return [request.get("Key")]


def _main_check(
    action: str,
    bucket: S3Bucket,
    request: dict[str, Any],
    version_id: Any,
    policy: NamedPolicy | None,
    key: str | None,
) -> Check:
    key = key if key is not None else request.get("Key")
    if version_id and action in VERSIONED:
        action += "Version"
    resource = f"arn:aws:s3:::{bucket.name}" + (f"/{key}" if key else "")
    return Check(action, resource, bucket.bucket_account_id, _s3_keys(request, bucket), policy)


def _s3_keys(request: dict[str, Any], bucket: S3Bucket) -> ContextValues:
    values: ContextValues = {"s3:ResourceAccount": bucket.bucket_account_id}
    for name, key in (
        ("Prefix", "s3:prefix"),
        ("Delimiter", "s3:delimiter"),
        ("MaxKeys", "s3:max-keys"),
        ("VersionId", "s3:VersionId"),
        ("ServerSideEncryption", "s3:x-amz-server-side-encryption"),
        ("SSEKMSKeyId", "s3:x-amz-server-side-encryption-aws-kms-key-id"),
        ("CopySource", "s3:x-amz-copy-source"),
        ("MetadataDirective", "s3:x-amz-metadata-directive"),
    ):
        if request.get(name) is not None:
            values[key] = str(request[name])
    return values


def _copy_source_checks(context: RequestContext, copy_source: str) -> list[Check]:
    name, key, version_id = extract_bucket_key_version_id_from_copy_source(copy_source)
    source = kms_state.bucket_of(context, name)
    if source is None:
        return []
    action = "s3:GetObjectVersion" if version_id else "s3:GetObject"
    checks = [
        Check(
            action,
            f"arn:aws:s3:::{name}/{key}",
            source.bucket_account_id,
            {"s3:ResourceAccount": source.bucket_account_id},
            _bucket_policy(source),
        )
    ]
    stored = kms_state.stored_key(source, key, version_id)
    checks += _kms_check(
        context, "kms:Decrypt", source, key, stored, _stored_bucket_key(source, key, version_id)
    )
    return checks


def _kms_checks(
    context: RequestContext, operation: str, bucket: S3Bucket, request: dict[str, Any]
) -> list[Check]:
    key = request.get("Key")
    if operation in ("PutObject", "CopyObject", "CreateMultipartUpload"):
        default = (bucket.encryption_rule or {}).get("BucketKeyEnabled") is True
        bucket_key = bool(request.get("BucketKeyEnabled", default))
        new_key = kms_state.new_object_key(request, bucket)
        return _kms_check(context, "kms:GenerateDataKey", bucket, key, new_key, bucket_key)
    if operation in ("UploadPart", "UploadPartCopy", "CompleteMultipartUpload"):
        upload = bucket.multiparts.get(str(request.get("UploadId")))
        if upload is None:
            return []
        action = "kms:Decrypt" if operation == "CompleteMultipartUpload" else "kms:GenerateDataKey"
        bucket_key = bool(upload.object.bucket_key_enabled)
        return _kms_check(context, action, bucket, key, upload.object.kms_key_id, bucket_key)
    if operation in KMS_READS:
        version_id = request.get("VersionId")
        stored = kms_state.stored_key(bucket, key, version_id)
        bucket_key = _stored_bucket_key(bucket, key, version_id)
        return _kms_check(context, "kms:Decrypt", bucket, key, stored, bucket_key)
    return []


def _stored_bucket_key(bucket: S3Bucket, key: Any, version_id: Any) -> bool:
    objects = bucket.objects
    if not isinstance(key, str):
        return False
    if isinstance(objects, VersionedKeyStore):
        stored = objects.get(key, version_id)
    else:
        stored = objects.get(key)
    return bool(getattr(stored, "bucket_key_enabled", False))


def _kms_check(
    context: RequestContext,
    action: str,
    bucket: S3Bucket,
    key: Any,
    key_ref: str | None,
    bucket_key: bool,
) -> list[Check]:
    kms_key = (
        kms_state.resolve_key(key_ref, bucket.bucket_account_id, bucket.bucket_region)
        if key_ref
        else None
    )
    if kms_key is None:  # not SSE-KMS, or a key LocalStack does not know (aws/s3)
        return []
    arn = str(kms_key.metadata["Arn"])
    s3_arn = f"arn:aws:s3:::{bucket.name}" + ("" if bucket_key or not key else f"/{key}")
    values: ContextValues = {
        "kms:ViaService": f"s3.{bucket.bucket_region}.amazonaws.com",
        "kms:CallerAccount": context.account_id,
        "kms:EncryptionContext:aws:s3:arn": s3_arn,
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
    }
    policy = parse_document(kms_key.policy)
    key_policy = NamedPolicy(f"key-policy:{arn}", policy) if policy else None
    return [Check(action, arn, arn.split(":")[4], values, key_policy)]


def _bucket_policy(bucket: S3Bucket) -> NamedPolicy | None:
    document = parse_document(bucket.policy)
    return NamedPolicy(f"bucket-policy:{bucket.name}", document) if document else None
