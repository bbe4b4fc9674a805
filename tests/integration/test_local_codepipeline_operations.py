"""Every operation of the local CodePipeline: a walk over botocore's model (each operation answers
a valid request as AWS would, never 501 or InternalFailure), stage transitions holding an
execution, and a custom action moved by a job worker. boto3 against the local cloud only."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.codepipeline_walk import walk_requests
from tests.integration.codepipeline_world import (
    ACCOUNT,
    REGION,
    ClientFactory,
    clients_of,
)
from tests.integration.conftest import SessionLocalCloud
from tests.integration.polling import stays_false, wait_until
from tests.integration.worker_pipeline_world import (
    EXECUTION_URL,
    WORK_STAGE,
    WorkerPipeline,
    WorkerWorld,
)

pytestmark = pytest.mark.integration
SERVER_ERRORS = ("InternalFailure", "InternalError", "NotImplemented", "ServiceUnavailable")


@pytest.fixture(scope="module")
def endpoint(own_cloud: SessionLocalCloud, cloud_settings: Callable[..., object]) -> str:
    # Jobs nobody polls (the walk's executions) give up after a minute instead of an hour.
    cloud_settings(codepipeline_job_timeout_seconds=60)
    return own_cloud.endpoint


@pytest.fixture(scope="module")
def aws(endpoint: str) -> ClientFactory:
    return clients_of(endpoint)


@pytest.fixture(scope="module")
def world(aws: ClientFactory) -> WorkerWorld:
    return WorkerWorld(aws)


def _answer(client: Any, operation: str, request: dict[str, Any]) -> str:
    """What the local cloud answered: "ok" or the AWS error code, with its HTTP status."""
    methods = {api: method for method, api in client.meta.method_to_api_mapping.items()}
    method = getattr(client, methods[operation])
    try:
        method(**request)
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return f"{error.response['Error']['Code']} ({status})"
    return "ok"


def test_every_operation_of_the_model_answers(aws: ClientFactory, world: WorkerWorld) -> None:
    # GIVEN a pipeline and one valid request for each operation of botocore's model
    client = aws("codepipeline")
    requests = walk_requests(world, world.pipeline())
    operations = client.meta.service_model.operation_names
    assert sorted(requests) == sorted(operations), "the walk names every operation of the model"
    # WHEN each is called
    answers = {op: _answer(client, op, requests[op]) for op in operations}
    # THEN none is a server error: an AWS answer, or AWS's error for a made-up name
    server_errors = {op: a for op, a in answers.items() if a.startswith(SERVER_ERRORS) or "(5" in a}
    assert server_errors == {}
    created = ("CreateCustomActionType", "CreatePipeline", "DeleteCustomActionType", "PutWebhook")
    assert all(answers[op] == "ok" for op in created), answers
    assert answers["GetJobDetails"] == "JobNotFoundException (400)"
    assert answers["DeregisterWebhookWithThirdParty"] == "WebhookNotFoundException (400)"
    assert answers["UpdateActionType"] == "RequestFailedException (400)"


def _held(pipeline: WorkerPipeline, execution_id: str) -> None:
    """The execution has finished Source and waits at Work's transition, its action not begun:
    checked for a few seconds, since holding is the absence of progress."""
    wait_until(
        lambda: pipeline.action_status(execution_id, "Source") == "Succeeded",
        "the Source action to succeed",
    )

    def moved_on() -> bool:
        waiting = pipeline.work_stage().get("inboundExecution", {}).get("pipelineExecutionId")
        return (
            waiting != execution_id
            or pipeline.action_status(execution_id, "Build") is not None
            or pipeline.status(execution_id) != "InProgress"
        )

    stays_false(moved_on, f"{execution_id} left the disabled transition", 4)


def test_a_disabled_inbound_transition_holds_the_execution_until_enabled(
    world: WorkerWorld,
) -> None:
    # GIVEN a pipeline whose transition into Work is disabled
    pipeline = world.pipeline()
    pipeline.client.disable_stage_transition(
        pipelineName=pipeline.name,
        stageName=WORK_STAGE,
        transitionType="Inbound",
        reason="Hold for review",
    )
    state = pipeline.work_stage()["inboundTransitionState"]
    assert state["enabled"] is False
    assert state["disabledReason"] == "Hold for review"
    assert state["lastChangedBy"]
    assert isinstance(state["lastChangedAt"], datetime.datetime)
    # WHEN a revision runs
    pipeline.upload("build 1")
    execution_id = pipeline.client.start_pipeline_execution(name=pipeline.name)[
        "pipelineExecutionId"
    ]
    # THEN it waits before Work
    _held(pipeline, execution_id)
    # AND once the transition is enabled it enters Work, where the job worker completes it
    pipeline.client.enable_stage_transition(
        pipelineName=pipeline.name, stageName=WORK_STAGE, transitionType="Inbound"
    )
    assert pipeline.work_stage()["inboundTransitionState"]["enabled"] is True
    job = pipeline.poll_job()
    pipeline.client.acknowledge_job(jobId=job["id"], nonce=job["nonce"])
    pipeline.client.put_job_success_result(jobId=job["id"])
    wait_until(lambda: pipeline.status(execution_id) == "Succeeded", "the run to succeed")


def test_a_disabled_outbound_transition_holds_the_execution_after_the_stage(
    world: WorkerWorld,
) -> None:
    # GIVEN a pipeline whose transition out of Source is disabled
    pipeline = world.pipeline()
    pipeline.client.disable_stage_transition(
        pipelineName=pipeline.name,
        stageName="Source",
        transitionType="Outbound",
        reason="Freeze",
    )
    # WHEN a revision runs, THEN it finishes Source and waits before Work
    pipeline.upload("build 1")
    execution_id = pipeline.client.start_pipeline_execution(name=pipeline.name)[
        "pipelineExecutionId"
    ]
    _held(pipeline, execution_id)
    # AND Work's own inbound transition stays enabled: the outbound one holds it
    assert pipeline.work_stage()["inboundTransitionState"] == {"enabled": True}
    pipeline.client.enable_stage_transition(
        pipelineName=pipeline.name, stageName="Source", transitionType="Outbound"
    )
    job = pipeline.poll_job()
    assert job["data"]["pipelineContext"]["pipelineExecutionId"] == execution_id
    pipeline.client.acknowledge_job(jobId=job["id"], nonce=job["nonce"])
    pipeline.client.put_job_failure_result(
        jobId=job["id"], failureDetails={"type": "JobFailed", "message": "tests failed"}
    )
    wait_until(lambda: pipeline.status(execution_id) == "Failed", "the run to fail")
    assert pipeline.action_status(execution_id, "Build") == "Failed"


def test_a_stage_transition_names_an_existing_stage(world: WorkerWorld) -> None:
    pipeline = world.pipeline()
    with pytest.raises(ClientError) as raised:
        pipeline.client.enable_stage_transition(
            pipelineName=pipeline.name, stageName="Nowhere", transitionType="Inbound"
        )
    assert raised.value.response["Error"]["Code"] == "StageNotFoundException"


def test_a_custom_action_is_completed_by_a_job_worker(world: WorkerWorld) -> None:
    # GIVEN a pipeline whose Work stage runs an action of the account's custom type
    pipeline = world.pipeline()
    version = pipeline.upload("build 2")
    execution_id = pipeline.client.start_pipeline_execution(name=pipeline.name)[
        "pipelineExecutionId"
    ]
    # WHEN the job worker polls for its type's jobs, acknowledges one and reports progress
    job = pipeline.poll_job()
    data = job["data"]
    assert data["actionTypeId"] == world.type_id
    assert data["actionConfiguration"]["configuration"] == {"Project": pipeline.project}
    assert data["pipelineContext"]["pipelineExecutionId"] == execution_id
    assert data["inputArtifacts"][0]["name"] == "SourceArtifact"
    assert pipeline.client.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"] == (
        "InProgress"
    )
    assert pipeline.client.get_job_details(jobId=job["id"])["jobDetails"]["id"] == job["id"]
    pipeline.client.put_job_success_result(
        jobId=job["id"],
        continuationToken="step-2",
        executionDetails={"summary": "halfway", "percentComplete": 50},
    )
    # AND, given the continuation's new job, reports the result
    follow_up = pipeline.poll_job()
    assert follow_up["id"] != job["id"]
    assert follow_up["data"]["continuationToken"] == "step-2"
    pipeline.client.acknowledge_job(jobId=follow_up["id"], nonce=follow_up["nonce"])
    pipeline.client.put_job_success_result(
        jobId=follow_up["id"],
        executionDetails={"summary": "built", "externalExecutionId": "run-7"},
    )
    # THEN the action and the execution succeed with what the worker reported
    wait_until(lambda: pipeline.status(execution_id) == "Succeeded", "the run to succeed")
    details = pipeline.client.list_action_executions(
        pipelineName=pipeline.name, filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    build = next(d for d in details if d["actionName"] == "Build")
    result = build["output"]["executionResult"]
    assert result["externalExecutionSummary"] == "built"
    assert result["externalExecutionUrl"] == EXECUTION_URL.replace(
        "{Config:Project}", pipeline.project
    ).replace("{ExternalExecutionId}", "run-7")
    assert build["output"]["outputArtifacts"][0]["name"] == "BuildArtifact"
    source = next(d for d in details if d["actionName"] == "Source")
    assert source["output"]["outputVariables"]["VersionId"] == version
    # AND a job that has its result takes no other
    with pytest.raises(ClientError) as raised:
        pipeline.client.put_job_failure_result(
            jobId=follow_up["id"], failureDetails={"type": "JobFailed", "message": "late"}
        )
    assert raised.value.response["Error"]["Code"] == "InvalidJobStateException"


def test_a_pipeline_naming_a_custom_type_that_does_not_exist_is_refused(
    world: WorkerWorld,
) -> None:
    declaration = world.declaration(f"op-{uuid.uuid4().hex[:8]}", "none/app.zip", "none")
    declaration["stages"][1]["actions"][0]["actionTypeId"] = {
        **world.type_id,
        "provider": "NoSuchWorker",
    }
    with pytest.raises(ClientError) as raised:
        world.aws("codepipeline").create_pipeline(pipeline=declaration)
    assert raised.value.response["Error"]["Code"] == "InvalidActionDeclarationException"


def test_a_new_action_revision_starts_an_execution_of_it(world: WorkerWorld) -> None:
    # GIVEN a pipeline and two versions of its source object
    pipeline = world.pipeline()
    first = pipeline.upload("build 1")
    pipeline.upload("build 2")

    def put(version: str) -> dict[str, Any]:
        return dict(
            pipeline.client.put_action_revision(
                pipelineName=pipeline.name,
                stageName="Source",
                actionName="Source",
                actionRevision={
                    "revisionId": version,
                    "revisionChangeId": version,
                    "created": datetime.datetime.now(datetime.UTC),
                },
            )
        )

    # WHEN the older version is put as the source action's revision
    answer = put(first)
    # THEN an execution of that version starts, triggered by PutActionRevision
    assert answer["newRevision"] is True
    execution = pipeline.client.get_pipeline_execution(
        pipelineName=pipeline.name, pipelineExecutionId=answer["pipelineExecutionId"]
    )["pipelineExecution"]
    assert execution["trigger"]["triggerType"] == "PutActionRevision"
    assert execution["artifactRevisions"][0]["revisionId"] == first
    # AND the same revision again is no new revision
    again = put(first)
    assert again["newRevision"] is False
    assert again["pipelineExecutionId"] == answer["pipelineExecutionId"]
    with pytest.raises(ClientError) as raised:
        pipeline.client.put_action_revision(
            pipelineName=pipeline.name,
            stageName="Source",
            actionName="Nothing",
            actionRevision={"revisionId": first, "revisionChangeId": "c", "created": 0},
        )
    assert raised.value.response["Error"]["Code"] == "ActionNotFoundException"


def _call(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """What GitHub would do: POST the event to the webhook's URL."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def test_webhooks_are_validated_stored_listed_and_called(world: WorkerWorld) -> None:
    # GIVEN a pipeline and a GitHub-style webhook on its source action
    pipeline = world.pipeline()
    client = pipeline.client
    secret = "s3cret"
    definition = {
        "name": f"hook-{pipeline.name}",
        "targetPipeline": pipeline.name,
        "targetAction": "Source",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/main"}],
        "authentication": "GITHUB_HMAC",
        "authenticationConfiguration": {"SecretToken": secret},
    }
    with pytest.raises(ClientError) as raised:
        client.put_webhook(webhook={**definition, "authenticationConfiguration": {}})
    assert raised.value.response["Error"]["Code"] == (
        "InvalidWebhookAuthenticationParametersException"
    )
    with pytest.raises(ClientError) as raised:
        client.put_webhook(webhook={**definition, "targetPipeline": "no-such-pipeline"})
    assert raised.value.response["Error"]["Code"] == "PipelineNotFoundException"
    webhook = client.put_webhook(webhook=definition)["webhook"]
    assert webhook["arn"] == f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:webhook:{definition['name']}"
    client.register_webhook_with_third_party(webhookName=definition["name"])
    client.tag_resource(resourceArn=webhook["arn"], tags=[{"key": "team", "value": "web"}])
    tags = client.list_tags_for_resource(resourceArn=webhook["arn"])["tags"]
    assert tags == [{"key": "team", "value": "web"}]
    listed = {w["definition"]["name"]: w for w in client.list_webhooks()["webhooks"]}
    assert listed[definition["name"]]["url"] == webhook["url"]
    # WHEN a push to another branch, then a signed push to main are sent to its URL
    pipeline.upload("build 3")
    other = json.dumps({"ref": "refs/heads/feature"}).encode()
    ignored = _call(webhook["url"], other, {"X-Hub-Signature-256": _signed(secret, other)})
    push = json.dumps({"ref": "refs/heads/main"}).encode()
    started = _call(webhook["url"], push, {"X-Hub-Signature-256": _signed(secret, push)})
    # THEN only the push to main started the pipeline, triggered by the webhook
    assert "pipelineExecutionId" not in ignored
    execution = client.get_pipeline_execution(
        pipelineName=pipeline.name, pipelineExecutionId=started["pipelineExecutionId"]
    )["pipelineExecution"]
    assert execution["trigger"] == {"triggerType": "Webhook", "triggerDetail": webhook["arn"]}
    listed = {w["definition"]["name"]: w for w in client.list_webhooks()["webhooks"]}
    assert "lastTriggered" in listed[definition["name"]]
    # AND an unsigned call is refused
    with pytest.raises(urllib.error.HTTPError) as refused:
        _call(webhook["url"], push, {})
    assert refused.value.code == 401
    client.delete_webhook(name=definition["name"])
    assert definition["name"] not in {
        w["definition"]["name"] for w in client.list_webhooks()["webhooks"]
    }


def _signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_action_types_list_the_catalogue_and_the_custom_types(world: WorkerWorld) -> None:
    client = world.aws("codepipeline")
    custom = client.list_action_types(actionOwnerFilter="Custom")["actionTypes"]
    assert world.type_id in [t["id"] for t in custom]
    builtin = [t["id"] for t in client.list_action_types(actionOwnerFilter="AWS")["actionTypes"]]
    assert {"category": "Deploy", "owner": "AWS", "provider": "CodeDeploy", "version": "1"} in (
        builtin
    )
    assert all(t["owner"] == "AWS" for t in builtin)
    type_arn = (
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:actiontype:Custom/Build/"
        f"{world.type_id['provider']}/1"
    )
    client.tag_resource(resourceArn=type_arn, tags=[{"key": "owner", "value": "ci"}])
    client.untag_resource(resourceArn=type_arn, tagKeys=["owner"])
    assert client.list_tags_for_resource(resourceArn=type_arn)["tags"] == []
    with pytest.raises(ClientError) as raised:
        client.get_action_type(category="Deploy", owner="AWS", provider="Nothing", version="1")
    assert raised.value.response["Error"]["Code"] == "ActionTypeNotFoundException"
