"""The role a stage owns so that its upstream stage's copy function can deliver a build.

Trusted by exactly one principal (the upstream copy function's role), allowed to write exactly one
object key, and to use the stage key for it. The blog granted `s3:*` to the whole upstream account.
The role lives in the bucket's own account, so its identity policy is all S3 needs: the bucket
policy does not name it.

The trust names the upstream account and pins the caller with `aws:PrincipalArn`, rather than
naming the upstream role in `Principal`: IAM refuses a `Principal` naming a role that does not
exist yet (so stages would have to be created in chain order), and stores such a principal as the
role's unique id (so a re-created upstream role would silently stop matching). A condition key
is compared by ARN, at request time: no creation order, and no trust lost to a re-creation.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules import arns
from modules.policy import Condition, Statement
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
    upstream_account_id: str
    upstream_function_role_arn: str  # a role of the upstream account
    partition: str
    bucket_arn: str
    object_key: str
    kms_key_arn: str


def upstream_trust(config: PromotionRoleConfig) -> Statement:
    """Only the upstream copy function's role may assume this role.

    The account as principal lets IAM in that account decide who may ask (the caller needs its own
    sts:AssumeRole grant; the copy function's role has one naming exactly this role), and the
    condition narrows the askers to exactly that role: another role of the account, even one
    granted sts:AssumeRole on every role, is refused. ArnEquals, not ArnLike: the ARN is pinned
    whole, no wildcard. No aws:PrincipalAccount condition besides: the principal is that account
    alone, and the pinned ARN names it again.
    """
    return Statement(
        sid="Trust",
        actions=("sts:AssumeRole",),
        principals=(("AWS", (arns.account_root(config.partition, config.upstream_account_id),)),),
        conditions=(
            Condition("ArnEquals", "aws:PrincipalArn", (config.upstream_function_role_arn,)),
        ),
    )


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
                trust=(upstream_trust(config),),
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
