"""Clients that act as a pipeline's role, as CodePipeline does on AWS.

CodePipeline assumes the pipeline's role (as ``codepipeline.amazonaws.com``: the role's trust
policy is checked by :mod:`..guards.trust`) and makes every call of its actions with
that session: reading the source, writing and reading artifacts, creating deployments, invoking
functions. The same kind of session is handed to Lambda jobs as their artifact credentials.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from localstack.aws.connect import connect_to

from xrdeploy_local_cloud.codepipeline.models import Execution

SERVICE_PRINCIPAL = "codepipeline"  # LocalStack's short form of codepipeline.amazonaws.com
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, s3={"addressing_style": "path"})


def _session_name(execution: Execution) -> str:
    return f"codepipeline-{execution.id[:32]}"


def role_clients(execution: Execution, region: str | None = None) -> Any:
    """A client factory (``.s3``, ``.lambda_``, ``.codedeploy``, ``.cloudwatch``) with the
    pipeline role, in the execution's region unless told otherwise."""
    return connect_to.with_assumed_role(
        role_arn=execution.role_arn,
        service_principal=SERVICE_PRINCIPAL,  # type: ignore[arg-type]
        session_name=_session_name(execution),
        region_name=region or execution.region,
        config=_CONFIG,
    )


def role_credentials(execution: Execution) -> dict[str, str]:
    """Temporary credentials of the pipeline role, in the job event's spelling."""
    sts = connect_to(region_name=execution.region).sts.request_metadata(
        service_principal=SERVICE_PRINCIPAL
    )
    credentials = sts.assume_role(
        RoleArn=execution.role_arn, RoleSessionName=_session_name(execution)
    )["Credentials"]
    return {
        "accessKeyId": credentials["AccessKeyId"],
        "secretAccessKey": credentials["SecretAccessKey"],
        "sessionToken": credentials["SessionToken"],
    }
