"""The codepipeline service of the local cloud: control plane and execution engine.

Every operation is ours (no moto): moto's CodePipeline keeps declarations only and checks roles
in moto's IAM, which LocalStack's native IAM never fills. Every operation of botocore's
CodePipeline model is listed here.
"""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import (
    action_type_api,
    approval,
    condition_views,
    control,
    deploy_targets,
    jobs,
    revisions,
    runs,
    third_party,
    transition_api,
    views,
    webhooks,
)
from xrdeploy_local_cloud.codepipeline.stores import State, state_of
from xrdeploy_local_cloud.kit import dispatch

Handler = dispatch.Handler[State]


def _operations() -> dict[str, Handler]:
    return {
        "CreatePipeline": runs.create_pipeline,
        "GetPipeline": control.get_pipeline,
        "UpdatePipeline": control.update_pipeline,
        "DeletePipeline": control.delete_pipeline,
        "ListPipelines": control.list_pipelines,
        "ListTagsForResource": control.list_tags_for_resource,
        "TagResource": control.tag_resource,
        "UntagResource": control.untag_resource,
        "StartPipelineExecution": runs.start_pipeline_execution,
        "StopPipelineExecution": runs.stop_pipeline_execution,
        "RetryStageExecution": runs.retry_stage_execution,
        "RollbackStage": runs.rollback_stage,
        "OverrideStageCondition": runs.override_stage_condition,
        "ListRuleExecutions": condition_views.list_rule_executions,
        "ListRuleTypes": condition_views.list_rule_types,
        "GetPipelineState": views.get_pipeline_state,
        "DisableStageTransition": transition_api.disable_stage_transition,
        "EnableStageTransition": transition_api.enable_stage_transition,
        "GetPipelineExecution": views.get_pipeline_execution,
        "ListPipelineExecutions": views.list_pipeline_executions,
        "ListActionExecutions": views.list_action_executions,
        "PutApprovalResult": approval.put_approval_result,
        "PutJobSuccessResult": jobs.put_job_success_result,
        "PutJobFailureResult": jobs.put_job_failure_result,
        "GetJobDetails": jobs.get_job_details,
        "AcknowledgeJob": jobs.acknowledge_job,
        "PollForJobs": jobs.poll_for_jobs,
        "ListActionTypes": action_type_api.list_action_types,
        "GetActionType": action_type_api.get_action_type,
        "UpdateActionType": action_type_api.update_action_type,
        "CreateCustomActionType": action_type_api.create_custom_action_type,
        "DeleteCustomActionType": action_type_api.delete_custom_action_type,
        "PollForThirdPartyJobs": third_party.poll_for_third_party_jobs,
        "AcknowledgeThirdPartyJob": third_party.acknowledge_third_party_job,
        "GetThirdPartyJobDetails": third_party.get_third_party_job_details,
        "PutThirdPartyJobSuccessResult": third_party.put_third_party_job_success_result,
        "PutThirdPartyJobFailureResult": third_party.put_third_party_job_failure_result,
        "PutWebhook": webhooks.put_webhook,
        "ListWebhooks": webhooks.list_webhooks,
        "DeleteWebhook": webhooks.delete_webhook,
        "RegisterWebhookWithThirdParty": webhooks.register_webhook_with_third_party,
        "DeregisterWebhookWithThirdParty": webhooks.deregister_webhook_with_third_party,
        "PutActionRevision": revisions.put_action_revision,
        "ListDeployActionExecutionTargets": deploy_targets.list_deploy_action_execution_targets,
    }


def create_service() -> Any:
    return dispatch.create_service("codepipeline", _operations(), state_of)
