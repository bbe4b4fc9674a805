"""The deployment group's service role, checked as CodeDeploy does when a group is saved.

CodeDeploy assumes the role to find instances and read alarms, so a role that does not exist or
whose trust policy does not admit ``codedeploy.amazonaws.com`` is refused with
``InvalidRoleException`` (the AWS provider retries that error for a while, as IAM is eventually
consistent on AWS). Roles live in LocalStack's native IAM store, not in moto's; the lookup and the
trust evaluation are the STS guard's (:mod:`xrdeploy_local_cloud.guards.trust`).
"""

from __future__ import annotations

from xrdeploy_local_cloud.guards import trust
from xrdeploy_local_cloud.kit.errors import ServiceError

SERVICE = "codedeploy.amazonaws.com"


def check_service_role(role_arn: str | None) -> None:
    if not role_arn:
        raise ServiceError("RoleRequiredException", "The service role ARN must be specified.")
    # The guard's role lookup (exact ARN, LocalStack's IAM store) is private to it; sharing it
    # keeps one reading of trust policies in the local cloud.
    policy = trust.trust_policy(role_arn)
    if policy is None or not trust.trust_allows(policy, trust.Caller(arn=SERVICE, service=SERVICE)):
        raise ServiceError("InvalidRoleException", "Cannot assume role provided.")
