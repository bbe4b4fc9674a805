"""The codepipeline service of the local cloud: control plane and execution engine.

Every operation is ours (no moto): moto's CodePipeline keeps declarations only and checks roles
in moto's IAM, which LocalStack's native IAM never fills. Operations not listed answer 501.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.codepipeline import (
    approval,
    condition_views,
    control,
    jobs,
    runs,
    views,
)

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]


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
        "GetPipelineExecution": views.get_pipeline_execution,
        "ListPipelineExecutions": views.list_pipeline_executions,
        "ListActionExecutions": views.list_action_executions,
        "PutApprovalResult": approval.put_approval_result,
        "PutJobSuccessResult": jobs.put_job_success_result,
        "PutJobFailureResult": jobs.put_job_failure_result,
        "GetJobDetails": jobs.get_job_details,
        "AcknowledgeJob": jobs.acknowledge_job,
    }


def create_service() -> Any:
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.plugins import Service

    spec = load_service("codepipeline")
    return Service("codepipeline", skeleton=Skeleton(spec, _operations()))
