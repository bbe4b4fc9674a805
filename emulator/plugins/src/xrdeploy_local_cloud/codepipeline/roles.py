"""Who CodePipeline may act as: a pipeline's role must exist and trust the CodePipeline service.

AWS checks this at CreatePipeline/UpdatePipeline by assuming the role; the answer when it cannot
is ``InvalidStructureException`` "CodePipeline is not authorized to perform AssumeRole on role
<arn>". The check itself is the kit's (:mod:`xrdeploy_local_cloud.kit.roles`).
"""

from __future__ import annotations

from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.roles import service_may_assume

SERVICE = "codepipeline.amazonaws.com"


def check_pipeline_role(role_arn: str) -> None:
    """Raise AWS's error unless CodePipeline may assume ``role_arn``."""
    if not service_may_assume(role_arn, SERVICE):
        raise ServiceError(
            "InvalidStructureException",
            f"CodePipeline is not authorized to perform AssumeRole on role {role_arn}",
        )
