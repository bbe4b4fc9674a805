"""Who CodePipeline may act as: a pipeline's role must exist and trust the CodePipeline service.

AWS checks this at CreatePipeline/UpdatePipeline by assuming the role; the answer when it cannot
is ``InvalidStructureException`` "CodePipeline is not authorized to perform AssumeRole on role
<arn>". The role is read from LocalStack's own IAM (the one boto3 and Terraform write to), with
the trust evaluation of :mod:`xrdeploy_local_cloud.guards.trust`.
"""

from __future__ import annotations

from xrdeploy_local_cloud.guards import trust
from xrdeploy_local_cloud.kit.errors import ServiceError

SERVICE = "codepipeline.amazonaws.com"
_CODEPIPELINE = trust.Caller(arn=SERVICE, service=SERVICE)


def check_pipeline_role(role_arn: str) -> None:
    """Raise AWS's error unless CodePipeline may assume ``role_arn``."""
    policy = trust.trust_policy(role_arn)  # the role with exactly this ARN, or None
    if policy is None or not trust.trust_allows(policy, _CODEPIPELINE):
        raise ServiceError(
            "InvalidStructureException",
            f"CodePipeline is not authorized to perform AssumeRole on role {role_arn}",
        )
