"""Pipelines with V2 stage conditions for the local CodePipeline tests, on the shared world of
:mod:`tests.integration.codepipeline_world` (buckets, key, roles, the job worker)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.codepipeline_world import Pipeline, World
from tests.integration.polling import wait_until

GATED_STAGE = "Promote"  # the job worker's stage, which the conditions are put on


def alarm_rule(alarm: str, wait_minutes: int) -> dict[str, Any]:
    return {
        "name": "Bake",
        "ruleTypeId": {
            "category": "Rule",
            "owner": "AWS",
            "provider": "CloudWatchAlarm",
            "version": "1",
        },
        "configuration": {
            "AlarmName": alarm,
            "AlarmStates": "ALARM",
            "WaitTime": str(wait_minutes),
        },
    }


def window_rule(cron: str, time_zone: str = "UTC") -> dict[str, Any]:
    return {
        "name": "Window",
        "ruleTypeId": {
            "category": "Rule",
            "owner": "AWS",
            "provider": "DeploymentWindow",
            "version": "1",
        },
        "configuration": {"Cron": cron, "TimeZone": time_zone},
    }


class GatedPipeline(Pipeline):
    """A V2 pipeline Source → [Deploy] → Promote whose worker does what the ``mode`` pipeline
    variable says (default ``succeed``), started through the API."""

    def start(self, mode: str = "succeed") -> str:
        started = self.client.start_pipeline_execution(
            name=self.name, variables=[{"name": "mode", "value": mode}]
        )
        return str(started["pipelineExecutionId"])

    def stage_state(self, stage: str = GATED_STAGE) -> dict[str, Any]:
        state = self.client.get_pipeline_state(name=self.name)
        return dict(next(s for s in state["stageStates"] if s["stageName"] == stage))

    def wait_for_condition(self, execution_id: str, key: str, status: str) -> dict[str, Any]:
        """The stage's condition state ``key`` once it has ``status`` for ``execution_id``."""

        def reached() -> dict[str, Any] | None:
            stage = self.stage_state()
            latest = stage.get("latestExecution", {})
            condition = stage.get(key, {})
            if latest.get("pipelineExecutionId") != execution_id:
                return None
            if condition.get("latestExecution", {}).get("status") != status:
                return None
            return dict(condition)

        return wait_until(reached)

    def rollback_of(self, target_id: str) -> dict[str, Any]:
        """The summary of the rollback execution whose target is ``target_id``, once ended."""

        def ended() -> dict[str, Any] | None:
            for execution in self.executions():
                metadata = execution.get("rollbackMetadata", {})
                if (
                    metadata.get("rollbackTargetPipelineExecutionId") == target_id
                    and execution["status"] != "InProgress"
                ):
                    return execution
            return None

        return wait_until(ended)


def gated_pipeline(
    world: World, conditions: dict[str, Any], deploy: tuple[str, str] | None = None
) -> GatedPipeline:
    """A pipeline whose Promote stage carries ``conditions`` (``beforeEntry``/``onSuccess``/
    ``onFailure``), after AWS's creation execution ended (it fails: no source object yet)."""
    name = f"cp-gated-{uuid.uuid4().hex[:8]}"
    key = f"{name}/app.zip"
    stages = world.stages(key, approval=False, mode="#{variables.mode}", deploy=deploy)
    for stage in stages:
        if stage["name"] == GATED_STAGE:
            stage.update(conditions)
    codepipeline = world.aws("codepipeline")
    codepipeline.create_pipeline(
        pipeline={
            "name": name,
            "roleArn": world.pipeline_role,
            "pipelineType": "V2",
            "executionMode": "QUEUED",
            "variables": [{"name": "mode", "defaultValue": "succeed"}],
            "artifactStore": {
                "type": "S3",
                "location": world.artifact_bucket,
                "encryptionKey": {"id": world.key_arn, "type": "KMS"},
            },
            "stages": stages,
        }
    )
    pipeline = GatedPipeline(world, name, key, rule_arn="")
    [created] = wait_until(pipeline.executions)
    pipeline.wait_for_status(created["pipelineExecutionId"], "Failed")
    return pipeline
