"""The stage's pipeline as plain data: its props, its stages and actions, and the stage
conditions its gates become. `modules/pipeline.py` builds the resource from this, and each stack
outputs it (`pipeline_definition`) for whoever reads the pipeline's shape.

    Source → Deploy → [Approve] → Promote

Gates sit on Deploy, the stage that changes the fleet, so that they hold everything after it:
- deployment window → before_entry: a DeploymentWindow rule; outside the window the stage
  does not start (result FAIL once the rule gives up);
- bake + alarms → on_success: one CloudWatchAlarm rule per alarm with WaitTime = the bake; an
  alarm in ALARM rolls Deploy back to the last revision that succeeded (result ROLLBACK), so
  neither Approve nor Promote runs;
- rollback on failure → on_failure: result ROLLBACK.
Promote is a stage of its own after them, with one Lambda invoke action per destination (a
wave), all in run order 1, so the destinations receive the build at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from modules.pipeline_source import (
    SOURCE_ACTION,
    PipelineSource,
    S3Source,
    commit_variables,
    revision_variable,
    source_configuration,
)

SOURCE_ARTIFACT = "SourceArtifact"
# The Source action's variable namespace: the Promote action reads the deployed revision (an S3
# VersionId or a commit) from it.
SOURCE_NAMESPACE = "SourceVariables"
DEPLOY_STAGE = "Deploy"
# CodePipeline's values for a condition's result (botocore's codepipeline model, `Result`): an
# on-success or on-failure condition may ROLLBACK (or FAIL); a before-entry one may FAIL or SKIP.
ROLLBACK = "ROLLBACK"
FAIL = "FAIL"


@dataclass(frozen=True)
class PromotionTarget:
    """Where one Promote action delivers: a downstream stage, as the copy function reads it."""

    stage: str
    bucket: str
    key: str
    region: str
    account_id: str
    role_arn: str


@dataclass(frozen=True)
class StageGates:
    """The Deploy stage's conditions; empty means none."""

    bake_minutes: int | None = None
    alarm_names: tuple[str, ...] = ()
    window_cron: str | None = None
    window_time_zone: str | None = None
    rollback_on_failure: bool = False


@dataclass(frozen=True)
class PipelineConfig:
    app: str
    stage: str
    pipeline_name: str
    role_name: str
    events_role_name: str
    rule_name: str
    region: str
    account_id: str
    partition: str
    source: PipelineSource
    artifact_bucket: str
    artifact_bucket_arn: str
    kms_key_arn: str
    codedeploy_app: str
    deployment_group: str
    deployment_config: str
    manual_approval: bool
    copy_function_name: str
    copy_function_arn: str
    # One per downstream stage; several are a wave, promoted at once.
    promotions: tuple[PromotionTarget, ...]
    gates: StageGates = field(default_factory=StageGates)


def promote_user_parameters(config: PipelineConfig, target: PromotionTarget) -> str:
    """The copy function's UserParameters. `#{...}` are CodePipeline variables, resolved per
    execution, so the function is told exactly which revision this run deployed, and, from a Git
    source, which commit of which branch and repository that is."""
    return json.dumps(
        {
            "app": config.app,
            "source_stage": config.stage,
            "execution_id": "#{codepipeline.PipelineExecutionId}",
            "source_version_id": _variable(revision_variable(config.source)),
            **_commit_parameters(config.source),
            "destination": {
                "stage": target.stage,
                "bucket": target.bucket,
                "key": target.key,
                "region": target.region,
                "account_id": target.account_id,
                "role_arn": target.role_arn,
            },
        },
        sort_keys=True,
    )


def _variable(name: str) -> str:
    return f"#{{{SOURCE_NAMESPACE}.{name}}}"


def _commit_parameters(source: PipelineSource) -> dict[str, object]:
    """`commit` where the Source action read Git; `commit_from` where the build came from a
    Git-sourced stage (its commit metadata is on this stage's source object)."""
    variables = commit_variables(source)
    if variables is not None:
        return {"commit": {key: _variable(name) for key, name in variables.items()}}
    if isinstance(source, S3Source) and source.carries_commit:
        return {"commit_from": {"bucket": source.bucket, "key": source.key}}
    return {}


@dataclass(frozen=True)
class Action:
    name: str
    category: str
    provider: str
    configuration: dict[str, str]
    input_artifacts: tuple[str, ...] = ()
    output_artifacts: tuple[str, ...] = ()
    namespace: str | None = None
    owner: str = "AWS"
    version: str = "1"


@dataclass(frozen=True)
class Rule:
    """A condition rule (category Rule, owner AWS, version 1)."""

    name: str
    provider: str
    configuration: dict[str, str]


@dataclass(frozen=True)
class Condition:
    result: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class PipelineStageDefinition:
    name: str
    actions: tuple[Action, ...]
    before_entry: Condition | None = None
    on_success: Condition | None = None
    # on_failure's result without a condition: what CodePipeline does when the stage fails.
    on_failure_result: str | None = None


def pipeline_definition(config: PipelineConfig) -> list[PipelineStageDefinition]:
    stages = [_source_stage(config), _deploy_stage(config)]
    if not config.promotions:
        return stages
    if config.manual_approval:
        stages.append(_approve_stage(config.promotions))
    stages.append(_promote_stage(config))
    return stages


def _source_stage(config: PipelineConfig) -> PipelineStageDefinition:
    provider, configuration = source_configuration(config.source)
    source = Action(
        SOURCE_ACTION,
        "Source",
        provider,
        configuration,
        namespace=SOURCE_NAMESPACE,
        output_artifacts=(SOURCE_ARTIFACT,),
    )
    return PipelineStageDefinition("Source", (source,))


def _deploy_stage(config: PipelineConfig) -> PipelineStageDefinition:
    deploy = Action(
        "Deploy",
        "Deploy",
        "CodeDeploy",
        {
            "ApplicationName": config.codedeploy_app,
            "DeploymentGroupName": config.deployment_group,
        },
        input_artifacts=(SOURCE_ARTIFACT,),
    )
    gates = config.gates
    return PipelineStageDefinition(
        DEPLOY_STAGE,
        (deploy,),
        before_entry=_window_condition(gates),
        on_success=_bake_condition(gates),
        on_failure_result=ROLLBACK if gates.rollback_on_failure else None,
    )


def _window_condition(gates: StageGates) -> Condition | None:
    if gates.window_cron is None:
        return None
    configuration = {"Cron": gates.window_cron}
    if gates.window_time_zone:
        configuration["TimeZone"] = gates.window_time_zone
    return Condition(FAIL, (Rule("DeploymentWindow", "DeploymentWindow", configuration),))


def _bake_condition(gates: StageGates) -> Condition | None:
    if not gates.alarm_names:
        return None
    wait = {"WaitTime": str(gates.bake_minutes)} if gates.bake_minutes else {}
    # CloudWatchAlarm takes one AlarmName per rule; a condition holds up to 5 rules.
    rules = tuple(
        Rule(f"AlarmOk{index}", "CloudWatchAlarm", {"AlarmName": alarm, **wait})
        for index, alarm in enumerate(gates.alarm_names, start=1)
    )
    return Condition(ROLLBACK, rules)


def _approve_stage(targets: tuple[PromotionTarget, ...]) -> PipelineStageDefinition:
    names = ", ".join(t.stage for t in targets)
    approve = Action("Approve", "Approval", "Manual", {"CustomData": f"Promote to {names}?"})
    return PipelineStageDefinition("Approve", (approve,))


def promote_action_name(config: PipelineConfig, target: PromotionTarget) -> str:
    """`Promote` for a single destination (as before waves); `Promote-<stage>` in a wave."""
    return "Promote" if len(config.promotions) == 1 else f"Promote-{target.stage}"


def _promote_stage(config: PipelineConfig) -> PipelineStageDefinition:
    actions = tuple(
        Action(
            promote_action_name(config, target),
            "Invoke",
            "Lambda",
            {
                "FunctionName": config.copy_function_name,
                "UserParameters": promote_user_parameters(config, target),
            },
            input_artifacts=(SOURCE_ARTIFACT,),
        )
        for target in config.promotions
    )
    return PipelineStageDefinition("Promote", actions)
