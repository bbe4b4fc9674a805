"""The service-role check every service we emulate makes when a resource names its role.

AWS's services assume the role when it is saved; here the role is looked up in LocalStack's IAM
(the one boto3 and Terraform write to) and its trust policy judged by the STS guard's reading
(:mod:`xrdeploy_local_cloud.guards.trust`), so the local cloud has one reading of trust policies.
Each service answers a refusal with its own error (its ``roles`` module).
"""

from __future__ import annotations

from xrdeploy_local_cloud.guards import trust


def service_may_assume(role_arn: str, service: str) -> bool:
    """Whether the role with exactly this ARN exists and trusts ``service`` (its principal, e.g.
    ``codepipeline.amazonaws.com``)."""
    policy = trust.trust_policy(role_arn)
    return policy is not None and trust.trust_allows(
        policy, trust.Caller(arn=service, service=service)
    )
