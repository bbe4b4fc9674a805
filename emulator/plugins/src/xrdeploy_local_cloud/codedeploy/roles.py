"""The deployment group's service role, checked as CodeDeploy does when a group is saved.

CodeDeploy assumes the role to find instances and read alarms, so a role that does not exist or
whose trust policy does not admit ``codedeploy.amazonaws.com`` is refused with
``InvalidRoleException`` (the AWS provider retries that error for a while, as IAM is eventually
consistent on AWS). The check itself is the kit's (:mod:`xrdeploy_local_cloud.kit.roles`).
"""

from __future__ import annotations

from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.roles import service_may_assume

SERVICE = "codedeploy.amazonaws.com"


def check_service_role(role_arn: str | None) -> None:
    if not role_arn:
        raise ServiceError("RoleRequiredException", "The service role ARN must be specified.")
    if not service_may_assume(role_arn, SERVICE):
        raise ServiceError("InvalidRoleException", "Cannot assume role provided.")
