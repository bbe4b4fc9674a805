"""Runs executions: stages in order, each stage's actions by runOrder (equal runOrder in
parallel), a failed action failing its stage and the execution; a stage's V2 conditions
(:mod:`.gates`) before and after its actions, and a stage rolled back by them gets a rollback
execution (:mod:`.rollback`). One background thread per execution; the API only starts them
and reads their state.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from xrdeploy_local_cloud.codepipeline import (
    approval,
    custom_action,
    deploy_codedeploy,
    events,
    gates,
    invoke_lambda,
    lanes,
    models,
    rollback,
    source_s3,
)
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.action_types import ActionContext, Outcome, failed
from xrdeploy_local_cloud.codepipeline.declarations import artifact_store
from xrdeploy_local_cloud.codepipeline.execution_states import (
    ActionStatus,
    PipelineStatus,
    StageStatus,
)
from xrdeploy_local_cloud.codepipeline.variables import UnresolvedVariable, resolve_configuration

LOG = logging.getLogger(__name__)

ActionHandler = Callable[[ActionContext], Outcome]
HANDLERS: dict[tuple[str, str, str], ActionHandler] = {
    ("Source", "AWS", "S3"): source_s3.run,
    ("Deploy", "AWS", "CodeDeploy"): deploy_codedeploy.run,
    ("Approval", "AWS", "Manual"): approval.run,
    ("Invoke", "AWS", "Lambda"): invoke_lambda.run,
}
# Event states of the API's statuses (of executions, stages and actions alike).
_STATE: dict[str, str] = {
    PipelineStatus.IN_PROGRESS: "STARTED",
    PipelineStatus.SUCCEEDED: "SUCCEEDED",
    PipelineStatus.FAILED: "FAILED",
    PipelineStatus.STOPPED: "STOPPED",
    PipelineStatus.SUPERSEDED: "SUPERSEDED",
    PipelineStatus.CANCELLED: "CANCELED",
    ActionStatus.ABANDONED: "ABANDONED",
    StageStatus.SKIPPED: "SKIPPED",
}


def start(
    pipeline: models.Pipeline,
    execution: models.Execution,
    first_stage: int = 0,
    retry_mode: str | None = None,
) -> None:
    """Run ``execution`` from ``first_stage`` in a background thread (a rollback execution runs
    that one stage only)."""
    states.run_started(execution)
    events.pipeline_changed(execution, "STARTED" if retry_mode is None else "RESUMED")
    threading.Thread(
        target=_run,
        args=(pipeline, execution, first_stage, retry_mode),
        name=f"codepipeline-{execution.id[:8]}",
        daemon=True,
    ).start()


def _run(
    pipeline: models.Pipeline, execution: models.Execution, first: int, retry_mode: str | None
) -> None:
    status = StageStatus.FAILED
    try:
        status = _run_stages(pipeline, execution, first, retry_mode)
    except Exception:
        LOG.exception("execution %s of %s failed unexpectedly", execution.id, pipeline.name)
    finally:
        _finish(execution, status)


def _run_stages(
    pipeline: models.Pipeline, execution: models.Execution, first: int, retry_mode: str | None
) -> StageStatus:
    """How the execution's stages ended: SUCCEEDED, or the status of the first that did not."""
    stages = execution.declaration["stages"]
    last = first + 1 if execution.execution_type == models.ROLLBACK else len(stages)
    for index in range(first, last):
        name = stages[index]["name"]
        if not lanes.enter(pipeline, execution, name):
            return StageStatus.STOPPED  # or superseded: _finish keeps that status
        try:
            status, roll_back = _run_stage(
                pipeline, execution, stages[index], retry_mode if index == first else None
            )
        finally:
            lanes.leave(pipeline, execution, name)
        if roll_back:
            _start_rollback(pipeline, execution, name)
        if status not in (StageStatus.SUCCEEDED, StageStatus.SKIPPED):
            return status
        if execution.stop:
            return StageStatus.STOPPED
    return StageStatus.SUCCEEDED


def _start_rollback(pipeline: models.Pipeline, failed: models.Execution, stage: str) -> None:
    target = rollback.target_for(pipeline, stage, failed)
    if target is None:
        LOG.info(
            "%s: no earlier successful execution of stage %s to roll back to", failed.id, stage
        )
        return
    trigger = {"triggerType": "AutomatedRollback", "triggerDetail": failed.id}
    execution = rollback.new_execution(pipeline, target, stage, trigger)
    start(pipeline, execution, rollback.stage_index(execution, stage))


def _finish(execution: models.Execution, outcome: StageStatus) -> None:
    status = states.run_ended(execution, outcome)
    events.pipeline_changed(execution, _STATE[status])


def _run_stage(
    pipeline: models.Pipeline,
    execution: models.Execution,
    stage: dict[str, Any],
    retry_mode: str | None,
) -> tuple[StageStatus, bool]:
    """Run one stage with its conditions: its status, and whether it is to be rolled back."""
    name = stage["name"]
    states.begin_stage(execution, name)
    events.stage_changed(execution, name, "STARTED" if retry_mode is None else "RESUMED")
    namespaces = _namespaces(execution)
    roll_back = False
    status = StageStatus.SUCCEEDED if retry_mode else gates.enter(execution, stage, namespaces)
    if status == StageStatus.SUCCEEDED:

        def run_actions(mode: str | None) -> StageStatus:
            return _run_actions(pipeline, execution, stage, mode)

        status = run_actions(retry_mode)
        status, roll_back = gates.after(
            execution, stage, status, _namespaces(execution), run_actions
        )
    status = states.stage_event(execution, name, states.event_for(status))
    events.stage_changed(execution, name, _STATE[status])
    return status, roll_back


def _run_actions(
    pipeline: models.Pipeline,
    execution: models.Execution,
    stage: dict[str, Any],
    retry_mode: str | None,
) -> StageStatus:
    # The latest run of each action of the stage: FAILED_ACTIONS re-runs what did not succeed.
    previous = {r.name: r for r in execution.actions if r.stage == stage["name"]}
    for order in sorted({a["runOrder"] for a in stage["actions"]}):
        group = [a for a in stage["actions"] if a["runOrder"] == order]
        if retry_mode == "FAILED_ACTIONS":
            group = [a for a in group if _needs_retry(previous.get(a["name"]))]
        outcomes = _run_group(pipeline, execution, stage["name"], group)
        if any(o == ActionStatus.ABANDONED for o in outcomes) or execution.stop:
            return StageStatus.STOPPED
        if any(o != ActionStatus.SUCCEEDED for o in outcomes):
            return StageStatus.FAILED
    return StageStatus.SUCCEEDED


def _needs_retry(run: models.ActionRun | None) -> bool:
    return run is None or run.status != ActionStatus.SUCCEEDED


def _run_group(
    pipeline: models.Pipeline, execution: models.Execution, stage: str, group: list[dict[str, Any]]
) -> list[ActionStatus]:
    if len(group) == 1:
        return [_run_action(pipeline, execution, stage, group[0])]
    results: list[ActionStatus] = [ActionStatus.FAILED] * len(group)

    def work(index: int) -> None:
        results[index] = _run_action(pipeline, execution, stage, group[index])

    threads = [
        threading.Thread(target=work, args=(i,), name=f"codepipeline-action-{i}", daemon=True)
        for i in range(len(group))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _run_action(
    pipeline: models.Pipeline, execution: models.Execution, stage: str, action: dict[str, Any]
) -> ActionStatus:
    run = models.ActionRun(
        action_execution_id=str(uuid.uuid4()),
        execution_id=execution.id,
        stage=stage,
        declaration=action,
        resolved_configuration={},
        input_artifacts=[
            {"name": a["name"], "s3location": _s3location(execution.artifacts.get(a["name"]))}
            for a in action["inputArtifacts"]
        ],
    )
    with states.changing():
        execution.actions.append(run)
    events.action_changed(execution, run, "STARTED")
    try:
        run.resolved_configuration = resolve_configuration(
            action.get("configuration", {}), _namespaces(execution)
        )
        type_id = action["actionTypeId"]
        handler = (
            custom_action.run
            if type_id["owner"] == "Custom"
            else HANDLERS.get((type_id["category"], type_id["owner"], type_id["provider"]))
        )
        if handler is None:
            outcome = failed(
                f"Action type {type_id['category']}/{type_id['owner']}/{type_id['provider']} "
                "is not supported by the local cloud",
                "ConfigurationError",
            )
        else:
            store = artifact_store(execution.declaration, action.get("region", execution.region))
            outcome = handler(ActionContext(pipeline, execution, run, store))
    except UnresolvedVariable as error:
        outcome = failed(str(error), "ConfigurationError")
    except Exception as error:
        LOG.exception("action %s of %s failed unexpectedly", action["name"], pipeline.name)
        outcome = failed(f"The local cloud could not run the action: {error}")
    _record(execution, run, outcome)
    events.action_changed(execution, run, _STATE[outcome.status])
    return outcome.status


def _s3location(artifact: dict[str, str] | None) -> dict[str, str]:
    return {"bucket": artifact["bucket"], "key": artifact["key"]} if artifact else {}


def _namespaces(execution: models.Execution) -> dict[str, dict[str, str]]:
    with states.reading():
        namespaces = {ns: dict(values) for ns, values in execution.namespaces.items()}
    namespaces["codepipeline"] = {"PipelineExecutionId": execution.id}
    namespaces["variables"] = dict(execution.variables)
    return namespaces


def _record(execution: models.Execution, run: models.ActionRun, outcome: Outcome) -> None:
    with states.changing():
        states.action_event(run, states.event_for(outcome.status))
        run.summary = outcome.summary if outcome.summary is not None else run.summary
        run.external_id = outcome.external_id or run.external_id
        run.external_url = outcome.external_url or run.external_url
        run.error = outcome.error
        run.updated = models.now()
        if outcome.status == ActionStatus.SUCCEEDED:
            run.percent = None
            run.output_artifacts = [
                {"name": name, "s3location": _s3location(location)}
                for name, location in outcome.output_artifacts.items()
            ]
            run.output_variables = dict(outcome.output_variables)
            execution.artifacts.update(outcome.output_artifacts)
            if namespace := run.declaration.get("namespace"):
                execution.namespaces[namespace] = dict(outcome.output_variables)
        execution.touch()
