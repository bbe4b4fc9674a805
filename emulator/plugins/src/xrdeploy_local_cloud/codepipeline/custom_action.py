"""Actions of a custom action type: a job that the account's job worker moves, as on AWS.

The engine queues a job (its data as GetJobDetails answers it, the same as a Lambda job's);
a worker finds it with PollForJobs (by action type, optionally by the queryable property),
acknowledges it and reports PutJobSuccessResult (with a ``continuationToken``, a new job is
queued for the same action) or PutJobFailureResult. No result within the job timeout
(``XRDEPLOY_CODEPIPELINE_JOB_TIMEOUT_SECONDS``, AWS: 1 hour) fails the action. The type's
``executionUrlTemplate`` gives the action's external URL, with ``{ExternalExecutionId}`` and
``{Config:Name}`` filled in.
"""

from __future__ import annotations

from xrdeploy_local_cloud.codepipeline import jobs, settings, stores
from xrdeploy_local_cloud.codepipeline.action_types import ActionContext, Outcome, failed
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus
from xrdeploy_local_cloud.codepipeline.invoke_lambda import job_data, outcome_of, show_progress


def execution_url(template: str, external_id: str, configuration: dict[str, str]) -> str:
    url = template.replace("{ExternalExecutionId}", external_id)
    for name, value in configuration.items():
        url = url.replace(f"{{Config:{name}}}", value)
    return url


def run(context: ActionContext) -> Outcome:
    type_id = context.run.declaration["actionTypeId"]
    action_type = stores.custom_type(
        context.execution.account_id, context.execution.region, type_id
    )
    if action_type is None:
        return failed(
            f"Action type {type_id['category']}/Custom/{type_id['provider']}/"
            f"{type_id['version']} does not exist",
            "ConfigurationError",
        )
    outputs = {
        item["name"]: context.new_artifact_location(item["name"])
        for item in context.run.declaration["outputArtifacts"]
    }
    template = action_type.action_type["settings"].get("executionUrlTemplate")
    token: str | None = None
    while True:
        job = jobs.create(context.execution, job_data(context, outputs, token), "Queued")
        result = jobs.wait(job, settings.job_timeout(), context.abandoned)
        if result is None:
            if context.abandoned():
                return Outcome(ActionStatus.ABANDONED)
            return failed(f"No job worker reported a result for job {job.id}", "TimedOut")
        outcome = outcome_of(result, outputs)
        if template and outcome.external_id:
            outcome.external_url = execution_url(
                template, outcome.external_id, context.configuration
            )
        token = result.get("continuationToken")
        if outcome.status != ActionStatus.SUCCEEDED or not token:
            return outcome
        show_progress(context, outcome, result)
