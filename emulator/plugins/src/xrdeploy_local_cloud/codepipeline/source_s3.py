"""The S3 source action: the object version an execution runs, copied into the artifact store.

The revision is pinned when the execution starts (the object's current version, or the one
StartPipelineExecution's ``sourceRevisions`` names); the action then copies exactly that version
to ``<store>/<pipeline>/<artifact>/<random>``, encrypted with the store's KMS key, as the
pipeline role. Output variables: ``ETag`` and ``VersionId``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.action_types import ActionContext, Outcome, failed
from xrdeploy_local_cloud.codepipeline.clients import role_clients
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus

SUMMARY_METADATA = "codepipeline-artifact-revision-summary"


def source_actions(declaration: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action
        for action in declaration["stages"][0]["actions"]
        if action["actionTypeId"]["provider"] == "S3"
    ]


def pin_revisions(execution: models.Execution, overrides: dict[str, str]) -> None:
    """Record which object version each S3 source action of ``execution`` will use."""
    actions = source_actions(execution.declaration)
    if not actions:
        return
    try:
        s3 = role_clients(execution).s3
    except ClientError as error:  # the role changed or went away since the pipeline was saved
        for action in actions:
            execution.source_revisions[action["name"]] = {
                "error": f"CodePipeline could not assume the pipeline role: {error}"
            }
        return
    for action in actions:
        config = action.get("configuration", {})
        request = {"Bucket": config.get("S3Bucket", ""), "Key": config.get("S3ObjectKey", "")}
        if action["name"] in overrides:
            request["VersionId"] = overrides[action["name"]]
        try:
            head = s3.head_object(**request)
        except ClientError as error:
            execution.source_revisions[action["name"]] = {"error": _read_error(request, error)}
            continue
        execution.source_revisions[action["name"]] = {
            "revisionId": str(head.get("VersionId") or "null"),
            "etag": str(head.get("ETag", "")).strip('"'),
            "created": head["LastModified"].isoformat(),
            "summary": str(head.get("Metadata", {}).get(SUMMARY_METADATA, "")),
        }


def _read_error(request: dict[str, str], error: ClientError) -> str:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 404:
        return f"The object with key '{request['Key']}' does not exist."
    return f"Could not read s3://{request['Bucket']}/{request['Key']}: {error}"


def run(context: ActionContext) -> Outcome:
    revision = context.execution.source_revisions.get(context.run.name, {})
    if "revisionId" not in revision:
        return failed(revision.get("error", "The source revision could not be read"))
    config = context.configuration
    outputs = {}
    s3 = role_clients(context.execution).s3
    source = {"Bucket": config["S3Bucket"], "Key": config["S3ObjectKey"]}
    if revision["revisionId"] != "null":
        source["VersionId"] = revision["revisionId"]
    try:
        for artifact in context.run.declaration["outputArtifacts"]:
            location = context.new_artifact_location(artifact["name"])
            extra: dict[str, str] = {}
            if key_id := context.kms_key_id():
                extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}
            s3.copy_object(
                Bucket=location["bucket"], Key=location["key"], CopySource=source, **extra
            )
            outputs[artifact["name"]] = {**location, "revision": revision["revisionId"]}
    except ClientError as error:
        return failed(f"Could not copy the source revision into the artifact store: {error}")
    return Outcome(
        ActionStatus.SUCCEEDED,
        summary=revision["summary"] or None,
        external_id=revision["revisionId"],
        output_artifacts=outputs,
        output_variables={"ETag": revision["etag"], "VersionId": revision["revisionId"]},
    )
