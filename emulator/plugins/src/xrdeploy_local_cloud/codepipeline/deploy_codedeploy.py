"""The CodeDeploy deploy action: a deployment of the input artifact, followed to its end.

As the pipeline role, through this LocalStack's own CodeDeploy API: CreateDeployment with the
artifact's S3 location (``bundleType`` zip), then GetDeployment until the deployment is
Succeeded (the action succeeds) or Failed/Stopped (it fails with the deployment's error).
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import settings
from xrdeploy_local_cloud.codepipeline.action_types import ActionContext, Outcome, failed
from xrdeploy_local_cloud.codepipeline.clients import role_clients
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus

_ENDED = ("Succeeded", "Failed", "Stopped")


def deployment_url(region: str, deployment_id: str) -> str:
    return (
        f"https://console.aws.amazon.com/codedeploy/home?region={region}"
        f"#/deployments/{deployment_id}"
    )


def run(context: ActionContext) -> Outcome:
    inputs = context.run.declaration["inputArtifacts"]
    if not inputs:
        return failed("The CodeDeploy action needs an input artifact", "ConfigurationError")
    artifact = context.execution.artifacts[inputs[0]["name"]]
    config = context.configuration
    codedeploy = role_clients(context.execution).codedeploy
    try:
        deployment_id = codedeploy.create_deployment(
            applicationName=config.get("ApplicationName", ""),
            deploymentGroupName=config.get("DeploymentGroupName", ""),
            revision={
                "revisionType": "S3",
                "s3Location": {
                    "bucket": artifact["bucket"],
                    "key": artifact["key"],
                    "bundleType": "zip",
                },
            },
            description=f"CodePipeline {context.pipeline.name} execution {context.execution.id}",
        )["deploymentId"]
    except ClientError as error:
        return failed(f"Could not create the deployment: {error}")
    url = deployment_url(context.execution.region, deployment_id)
    with states.changing():
        context.run.external_id, context.run.external_url = deployment_id, url
    return _follow(context, codedeploy, deployment_id, url)


def _follow(context: ActionContext, codedeploy: Any, deployment_id: str, url: str) -> Outcome:
    while True:
        try:
            info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except ClientError as error:
            return failed(
                f"Could not read deployment {deployment_id}: {error}",
                external_id=deployment_id,
                external_url=url,
            )
        status = info.get("status")
        if status == "Succeeded":
            return Outcome(
                ActionStatus.SUCCEEDED,
                summary=f"Deployment {deployment_id} succeeded",
                external_id=deployment_id,
                external_url=url,
            )
        if status in _ENDED:
            message = (info.get("errorInformation") or {}).get("message")
            return failed(
                message or f"Deployment {deployment_id} {status.lower()}",
                external_id=deployment_id,
                external_url=url,
            )
        if context.abandoned():
            return Outcome(ActionStatus.ABANDONED, external_id=deployment_id, external_url=url)
        time.sleep(settings.poll_interval())
