"""The Lambda invoke action: the function gets CodePipeline's job event and reports the result.

As on AWS: the function is invoked asynchronously (``InvocationType=Event``) as the pipeline
role, the event carries the job id, the resolved configuration, the input artifacts' locations,
temporary credentials for them and the store's key; the action waits for PutJobSuccessResult /
PutJobFailureResult. A success with a ``continuationToken`` invokes the function again with a
new job carrying that token. No result within the job timeout (AWS: 1 hour;
``XRDEPLOY_CODEPIPELINE_JOB_TIMEOUT_SECONDS`` locally) fails the action.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import jobs, models, settings
from xrdeploy_local_cloud.codepipeline.action_types import ActionContext, Outcome, failed
from xrdeploy_local_cloud.codepipeline.clients import role_clients, role_credentials
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus

_EVENT_KEYS = (
    "actionConfiguration",
    "inputArtifacts",
    "outputArtifacts",
    "artifactCredentials",
    "continuationToken",
    "encryptionKey",
)


def _location(artifact: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "S3",
        "s3Location": {"bucketName": artifact["bucket"], "objectKey": artifact["key"]},
    }


def job_data(
    context: ActionContext, outputs: dict[str, dict[str, str]], token: str | None
) -> dict[str, Any]:
    """The job's data, as GetJobDetails answers it (the Lambda event carries a part of it)."""
    execution, action = context.execution, context.run.declaration
    data: dict[str, Any] = {
        "actionTypeId": action["actionTypeId"],
        "actionConfiguration": {"configuration": context.configuration},
        "pipelineContext": {
            "pipelineName": context.pipeline.name,
            "stage": {"name": context.run.stage},
            "action": {
                "name": action["name"],
                "actionExecutionId": context.run.action_execution_id,
            },
            "pipelineArn": context.pipeline.arn,
            "pipelineExecutionId": execution.id,
        },
        "inputArtifacts": [
            {
                "name": item["name"],
                "revision": execution.artifacts[item["name"]].get("revision"),
                "location": _location(execution.artifacts[item["name"]]),
            }
            for item in action["inputArtifacts"]
        ],
        "outputArtifacts": [
            {"name": name, "revision": None, "location": _location(location)}
            for name, location in outputs.items()
        ],
        "artifactCredentials": role_credentials(execution),
    }
    if token is not None:
        data["continuationToken"] = token
    if key_id := context.kms_key_id():
        data["encryptionKey"] = {"id": key_id, "type": "KMS"}
    return data


def event(job: models.Job) -> dict[str, Any]:
    data = {key: job.data[key] for key in _EVENT_KEYS if key in job.data}
    return {"CodePipeline.job": {"id": job.id, "accountId": job.account_id, "data": data}}


def run(context: ActionContext) -> Outcome:
    function = context.configuration.get("FunctionName", "")
    outputs = {
        item["name"]: context.new_artifact_location(item["name"])
        for item in context.run.declaration["outputArtifacts"]
    }
    lambda_client = role_clients(context.execution).lambda_
    token: str | None = None
    while True:
        job = jobs.create(context.execution, job_data(context, outputs, token))
        try:
            lambda_client.invoke(
                FunctionName=function, InvocationType="Event", Payload=json.dumps(event(job))
            )
        except ClientError as error:
            return failed(f"Could not invoke the Lambda function {function}: {error}")
        result = jobs.wait(job, settings.job_timeout(), context.abandoned)
        if result is None:
            if context.abandoned():
                return Outcome(ActionStatus.ABANDONED)
            return failed(
                f"The AWS Lambda function {function} failed to return a result. Check the "
                "function to verify that it has permission to call the PutJobSuccessResult "
                "action and that it made a call to PutJobSuccessResult.",
                "TimedOut",
            )
        outcome = outcome_of(result, outputs)
        token = result.get("continuationToken")
        if outcome.status != ActionStatus.SUCCEEDED or not token:
            return outcome
        show_progress(context, outcome, result)


def outcome_of(result: dict[str, Any], outputs: dict[str, dict[str, str]]) -> Outcome:
    if result["outcome"] == "Failed":
        details = result.get("failureDetails") or {}
        return failed(
            str(details.get("message", "")),
            str(details.get("type", "JobFailed")),
            external_id=details.get("externalExecutionId"),
        )
    details = result.get("executionDetails") or {}
    return Outcome(
        ActionStatus.SUCCEEDED,
        summary=details.get("summary"),
        external_id=details.get("externalExecutionId"),
        output_artifacts=outputs,
        output_variables=dict(result.get("outputVariables") or {}),
    )


def show_progress(context: ActionContext, outcome: Outcome, result: dict[str, Any]) -> None:
    """A continuation: the action stays in progress and shows what the function reported."""
    percent = (result.get("executionDetails") or {}).get("percentComplete")
    with states.changing():
        context.run.summary = outcome.summary
        context.run.external_id = outcome.external_id
        context.run.percent = percent
        context.run.updated = models.now()
