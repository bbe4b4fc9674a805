"""A hardened S3 bucket: versioned, private, SSE-KMS, TLS-only, old versions expired."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from modules import arns
from modules.policy import Condition, Statement, policy_document


@dataclass(frozen=True)
class SecureBucketConfig:
    name: str
    kms_key_arn: str
    partition: str
    # Source buckets send "Object Created" to EventBridge, which starts the pipeline.
    eventbridge_notifications: bool = False
    noncurrent_version_days: int = 30
    # True lets `destroy` remove the bucket while it still holds objects (and their versions).
    # Off unless the caller says its contents can be made again.
    force_destroy: bool = False


class SecureBucket(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: SecureBucketConfig
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = S3Bucket(
            self,
            "bucket",
            provider=provider,
            bucket=config.name,
            force_destroy=config.force_destroy,
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self._block_public_access(provider)
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            provider=provider,
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        self._encrypt(provider, config.kms_key_arn)
        self._expire_old_versions(provider, config.noncurrent_version_days)
        if config.eventbridge_notifications:
            S3BucketNotification(
                self, "notifications", provider=provider, bucket=self.bucket.id, eventbridge=True
            )
        self._attach_policy(provider, config)

    def _block_public_access(self, provider: AwsProvider) -> None:
        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            provider=provider,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        # ACLs off: objects written by another account's role belong to this bucket's owner.
        S3BucketOwnershipControls(
            self,
            "ownership",
            provider=provider,
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )

    def _encrypt(self, provider: AwsProvider, kms_key_arn: str) -> None:
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            provider=provider,
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    bucket_key_enabled=True,
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms",
                            kms_master_key_id=kms_key_arn,
                        )
                    ),
                )
            ],
        )

    def _expire_old_versions(self, provider: AwsProvider, noncurrent_days: int) -> None:
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            provider=provider,
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=noncurrent_days,
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=1,
                        )
                    ],
                )
            ],
            depends_on=[self.versioning],
        )

    def _attach_policy(self, provider: AwsProvider, config: SecureBucketConfig) -> None:
        """TLS-only for everyone. Grants live in identity policies: every principal that uses a
        bucket is in the bucket's own account."""
        bucket_arn = arns.s3_bucket(config.partition, config.name)
        policy = policy_document(
            self,
            "policy-document",
            provider=provider,
            statements=[
                Statement(
                    sid="DenyInsecureTransport",
                    effect="Deny",
                    actions=("s3:*",),  # a Deny: every action must require TLS
                    resources=(bucket_arn, f"{bucket_arn}/*"),
                    principals=(("*", ("*",)),),
                    conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
                ),
            ],
        )
        S3BucketPolicy(
            self,
            "policy",
            provider=provider,
            bucket=self.bucket.id,
            policy=policy.json,
        )
