"""The role a stage owns so that its upstream stage's copy function can deliver a build.

Trusted by exactly one principal (the upstream copy function's role), allowed to write exactly one
object key, and to use the stage key for it. The blog granted `s3:*` to the whole upstream account.
The role lives in the bucket's own account, so its identity policy is all S3 needs: the bucket
policy does not name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.policy import Statement, assume_role_statement
from modules.role import Role, RoleConfig

# What the copy function does with the destination object: read its head (idempotency and
# checksum check), write it (single or multipart), and clean up a multipart upload it abandoned.
# No delete: S3 verifies each write's SHA-256 before storing it, so a bad write never lands
# (docs/copy-lambda.md), and a delete grant would reach every version, rollback history included.
DELIVERY_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)


@dataclass(frozen=True)
class PromotionRoleConfig:
    name: str
    upstream_function_role_arn: str
    bucket_arn: str
    object_key: str
    kms_key_arn: str


class PromotionRole(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: PromotionRoleConfig
    ) -> None:
        super().__init__(scope, id_)
        self.role = Role(
            self,
            "role",
            provider=provider,
            config=RoleConfig(
                name=config.name,
                description="Lets the upstream stage's copy function deliver one build object",
                trust=(assume_role_statement("AWS", (config.upstream_function_role_arn,)),),
                permissions=(
                    Statement(
                        sid="DeliverBuild",
                        actions=DELIVERY_ACTIONS,
                        resources=(f"{config.bucket_arn}/{config.object_key}",),
                    ),
                    # Bucket-level: ListBucket lets HeadObject say 404 rather than 403;
                    # ListBucketMultipartUploads finds uploads an interrupted copy left behind.
                    Statement(
                        sid="BucketLevelReads",
                        actions=("s3:ListBucket", "s3:ListBucketMultipartUploads"),
                        resources=(config.bucket_arn,),
                    ),
                    Statement(
                        sid="EncryptBuild",
                        actions=("kms:GenerateDataKey", "kms:Decrypt"),
                        resources=(config.kms_key_arn,),
                    ),
                ),
            ),
        )
        self.arn = self.role.arn
