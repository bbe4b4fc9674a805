"""The model walk's requests: one minimal valid request per CodePipeline operation."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from tests.integration.codepipeline_world import ACCOUNT, REGION
from tests.integration.worker_pipeline_world import WORK_STAGE, WorkerPipeline, WorkerWorld


def walk_requests(world: WorkerWorld, pipeline: WorkerPipeline) -> dict[str, dict[str, Any]]:
    """One minimal valid request per operation; made-up ids are valid input (AWS answers them
    with a not-found error). Run in the model's (alphabetical) order."""
    name, made_up = pipeline.name, str(uuid.uuid4())
    arn = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{name}"
    created = f"walk-{uuid.uuid4().hex[:8]}"
    declaration = world.declaration(created, f"{created}/app.zip", "walk")
    custom = {"category": "Test", "provider": f"Walk{uuid.uuid4().hex[:8]}", "version": "1"}
    github = {"category": "Source", "owner": "ThirdParty", "provider": "GitHub", "version": "1"}
    failure = {"type": "JobFailed", "message": "walk"}
    execution = {"pipelineName": name, "pipelineExecutionId": made_up}
    return {
        "AcknowledgeJob": {"jobId": made_up, "nonce": "1"},
        "AcknowledgeThirdPartyJob": {"jobId": made_up, "nonce": "1", "clientToken": "t"},
        "CreateCustomActionType": {
            **custom,
            "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
            "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
        },
        "CreatePipeline": {"pipeline": declaration},
        "DeleteCustomActionType": custom,
        "DeletePipeline": {"name": created},
        "DeleteWebhook": {"name": "walk-none"},
        "DeregisterWebhookWithThirdParty": {"webhookName": "walk-none"},
        "DisableStageTransition": {
            "pipelineName": name,
            "stageName": WORK_STAGE,
            "transitionType": "Outbound",
            "reason": "walk",
        },
        "EnableStageTransition": {
            "pipelineName": name,
            "stageName": WORK_STAGE,
            "transitionType": "Outbound",
        },
        "GetActionType": {
            "category": "Deploy",
            "owner": "AWS",
            "provider": "CodeDeploy",
            "version": "1",
        },
        "GetJobDetails": {"jobId": made_up},
        "GetPipeline": {"name": name},
        "GetPipelineExecution": execution,
        "GetPipelineState": {"name": name},
        "GetThirdPartyJobDetails": {"jobId": made_up, "clientToken": "t"},
        "ListActionExecutions": {"pipelineName": name},
        "ListActionTypes": {"actionOwnerFilter": "AWS", "regionFilter": REGION},
        "ListDeployActionExecutionTargets": {"actionExecutionId": made_up},
        "ListPipelineExecutions": {"pipelineName": name},
        "ListPipelines": {},
        "ListRuleExecutions": {"pipelineName": name},
        "ListRuleTypes": {},
        "ListTagsForResource": {"resourceArn": arn},
        "ListWebhooks": {},
        "OverrideStageCondition": {
            **execution,
            "stageName": WORK_STAGE,
            "conditionType": "BEFORE_ENTRY",
        },
        "PollForJobs": {"actionTypeId": world.type_id, "queryParam": {"Project": "nobody"}},
        "PollForThirdPartyJobs": {"actionTypeId": github},
        "PutActionRevision": {
            "pipelineName": name,
            "stageName": "Source",
            "actionName": "Source",
            "actionRevision": {
                "revisionId": "walk-version",
                "revisionChangeId": "walk-change",
                "created": datetime.datetime.now(datetime.UTC),
            },
        },
        "PutApprovalResult": {
            "pipelineName": name,
            "stageName": WORK_STAGE,
            "actionName": "Build",
            "result": {"summary": "walk", "status": "Approved"},
            "token": made_up,
        },
        "PutJobFailureResult": {"jobId": made_up, "failureDetails": failure},
        "PutJobSuccessResult": {"jobId": made_up},
        "PutThirdPartyJobFailureResult": {
            "jobId": made_up,
            "clientToken": "t",
            "failureDetails": failure,
        },
        "PutThirdPartyJobSuccessResult": {"jobId": made_up, "clientToken": "t"},
        "PutWebhook": {
            "webhook": {
                "name": f"walk-{name}",
                "targetPipeline": name,
                "targetAction": "Source",
                "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/main"}],
                "authentication": "UNAUTHENTICATED",
                "authenticationConfiguration": {},
            }
        },
        "RegisterWebhookWithThirdParty": {"webhookName": f"walk-{name}"},
        "RetryStageExecution": {
            **execution,
            "stageName": WORK_STAGE,
            "retryMode": "FAILED_ACTIONS",
        },
        "RollbackStage": {
            "pipelineName": name,
            "stageName": WORK_STAGE,
            "targetPipelineExecutionId": made_up,
        },
        "StartPipelineExecution": {"name": name},
        "StopPipelineExecution": execution,
        "TagResource": {"resourceArn": arn, "tags": [{"key": "walk", "value": "yes"}]},
        "UntagResource": {"resourceArn": arn, "tagKeys": ["walk"]},
        "UpdateActionType": {
            "actionType": {
                "executor": {
                    "configuration": {"jobWorkerExecutorConfiguration": {}},
                    "type": "JobWorker",
                },
                "id": github,
                "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
                "outputArtifactDetails": {"minimumCount": 1, "maximumCount": 1},
            }
        },
        "UpdatePipeline": {
            "pipeline": world.declaration(name, f"{name}/app.zip", pipeline.project)
        },
    }
