"""The stage's CodePipeline (V2): Source → Deploy → [Approve] → Promote, started by EventBridge
(an S3 or CodeCommit source) or by its own trigger on push (a connection source); its shape and
gates are plain data in `modules/pipeline_stages.py`, its source in `modules/pipeline_source.py`."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
    CodepipelineStageBeforeEntry,
    CodepipelineStageBeforeEntryCondition,
    CodepipelineStageBeforeEntryConditionRule,
    CodepipelineStageBeforeEntryConditionRuleRuleTypeId,
    CodepipelineStageOnFailure,
    CodepipelineStageOnSuccess,
    CodepipelineStageOnSuccessCondition,
    CodepipelineStageOnSuccessConditionRule,
    CodepipelineStageOnSuccessConditionRuleRuleTypeId,
    CodepipelineTrigger,
    CodepipelineTriggerGitConfiguration,
    CodepipelineTriggerGitConfigurationPush,
    CodepipelineTriggerGitConfigurationPushBranches,
    CodepipelineTriggerGitConfigurationPushFilePaths,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules import arns
from modules.pipeline_source import (
    SOURCE_ACTION,
    TRIGGER_PROVIDER,
    CodeCommitSource,
    ConnectionSource,
    GitFilter,
    S3Source,
    read_source_statements,
    start_description,
    start_event_pattern,
)
from modules.pipeline_stages import (
    Condition,
    PipelineConfig,
    PipelineStageDefinition,
    pipeline_definition,
)
from modules.policy import Statement, assume_role_statement
from modules.role import Role, RoleConfig


def _rules(condition: Condition, rule_class: Any, type_class: Any) -> list[Any]:
    return [
        rule_class(
            name=rule.name,
            rule_type_id=type_class(
                category="Rule", owner="AWS", provider=rule.provider, version="1"
            ),
            configuration=rule.configuration,
        )
        for rule in condition.rules
    ]


def _conditions(stage: PipelineStageDefinition) -> dict[str, Any]:
    """The stage's before_entry / on_success / on_failure blocks (V2 pipelines only)."""
    blocks: dict[str, Any] = {}
    if stage.before_entry is not None:
        blocks["before_entry"] = CodepipelineStageBeforeEntry(
            condition=CodepipelineStageBeforeEntryCondition(
                result=stage.before_entry.result,
                rule=_rules(
                    stage.before_entry,
                    CodepipelineStageBeforeEntryConditionRule,
                    CodepipelineStageBeforeEntryConditionRuleRuleTypeId,
                ),
            )
        )
    if stage.on_success is not None:
        blocks["on_success"] = CodepipelineStageOnSuccess(
            condition=CodepipelineStageOnSuccessCondition(
                result=stage.on_success.result,
                rule=_rules(
                    stage.on_success,
                    CodepipelineStageOnSuccessConditionRule,
                    CodepipelineStageOnSuccessConditionRuleRuleTypeId,
                ),
            )
        )
    if stage.on_failure_result is not None:
        blocks["on_failure"] = CodepipelineStageOnFailure(result=stage.on_failure_result)
    return blocks


def _stage_resource(stage: PipelineStageDefinition) -> CodepipelineStage:
    return CodepipelineStage(
        name=stage.name,
        action=[
            CodepipelineStageAction(
                name=a.name,
                category=a.category,
                owner=a.owner,
                provider=a.provider,
                version=a.version,
                configuration=a.configuration,
                input_artifacts=list(a.input_artifacts) or None,
                output_artifacts=list(a.output_artifacts) or None,
                namespace=a.namespace,
            )
            for a in stage.actions
        ],
        **_conditions(stage),
    )


def _filter(block: Any, patterns: GitFilter | None) -> Any:
    if patterns is None:
        return None
    return block(includes=list(patterns.includes) or None, excludes=list(patterns.excludes) or None)


def _push_triggers(config: PipelineConfig) -> list[CodepipelineTrigger] | None:
    """A connection source's V2 trigger: a push matching the filters starts the pipeline (and
    turns off the action's own change detection)."""
    source = config.source
    if not isinstance(source, ConnectionSource):
        return None
    push = CodepipelineTriggerGitConfigurationPush(
        branches=_filter(CodepipelineTriggerGitConfigurationPushBranches, source.branches),
        file_paths=_filter(CodepipelineTriggerGitConfigurationPushFilePaths, source.file_paths),
    )
    return [
        CodepipelineTrigger(
            provider_type=TRIGGER_PROVIDER,
            git_configuration=CodepipelineTriggerGitConfiguration(
                source_action_name=SOURCE_ACTION, push=[push]
            ),
        )
    ]


def service_role_permissions(config: PipelineConfig) -> tuple[Statement, ...]:
    """What the pipeline's own role may do: read its source, use its artifact store and key,
    deploy through its CodeDeploy group, invoke its copy function, and read its gate alarms.
    A stage rollback re-runs Deploy with an earlier revision: the same permissions."""
    permissions = [
        *read_source_statements(config.source),
        # Actions write their output artifacts; only Promote reads one back with the role's
        # session (the copy function's artifact credentials). The agent reads with its own role.
        Statement(
            sid="UseArtifactStore",
            actions=(("s3:GetObject",) if config.promotions else ()) + ("s3:PutObject",),
            resources=(f"{config.artifact_bucket_arn}/*",),
        ),
        Statement(
            sid="UseStageKey",
            actions=("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"),
            resources=(config.kms_key_arn,),
        ),
        *_deploy_statements(config),
    ]
    if config.promotions:
        permissions.append(
            Statement(
                sid="InvokeCopyFunction",
                actions=("lambda:InvokeFunction",),
                resources=(config.copy_function_arn,),
            )
        )
    if config.gates.alarm_names:
        # The CloudWatchAlarm rule reads the alarms' state as the pipeline's role.
        permissions.append(
            Statement(
                sid="ReadGateAlarms",
                actions=("cloudwatch:DescribeAlarms",),
                resources=tuple(
                    arns.cloudwatch_alarm(config.partition, config.region, config.account_id, a)
                    for a in config.gates.alarm_names
                ),
            )
        )
    return tuple(permissions)


def _deploy_statements(config: PipelineConfig) -> tuple[Statement, ...]:
    def codedeploy_arn(resource: str) -> str:
        return arns.codedeploy(config.partition, config.region, config.account_id, resource)

    return (
        Statement(
            sid="Deploy",
            actions=(
                "codedeploy:CreateDeployment",
                "codedeploy:GetApplication",
                "codedeploy:GetApplicationRevision",
                "codedeploy:GetDeployment",
                "codedeploy:RegisterApplicationRevision",
            ),
            resources=(
                codedeploy_arn(f"application:{config.codedeploy_app}"),
                codedeploy_arn(
                    f"deploymentgroup:{config.codedeploy_app}/{config.deployment_group}"
                ),
            ),
        ),
        Statement(
            sid="ReadDeploymentConfig",
            actions=("codedeploy:GetDeploymentConfig",),
            resources=(codedeploy_arn(f"deploymentconfig:{config.deployment_config}"),),
        ),
    )


class Pipeline(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: PipelineConfig
    ) -> None:
        super().__init__(scope, id_)
        role = Role(
            self,
            "role",
            provider=provider,
            config=RoleConfig(
                name=config.role_name,
                description=f"CodePipeline service role for {config.pipeline_name}",
                trust=(assume_role_statement("Service", ("codepipeline.amazonaws.com",)),),
                permissions=service_role_permissions(config),
            ),
        )
        self.pipeline = Codepipeline(
            self,
            "pipeline",
            provider=provider,
            name=config.pipeline_name,
            pipeline_type="V2",
            role_arn=role.arn,
            artifact_store=[
                CodepipelineArtifactStore(
                    location=config.artifact_bucket,
                    type="S3",
                    encryption_key=CodepipelineArtifactStoreEncryptionKey(
                        id=config.kms_key_arn, type="KMS"
                    ),
                )
            ],
            stage=[_stage_resource(stage) for stage in pipeline_definition(config)],
            trigger=_push_triggers(config),
        )
        if not isinstance(config.source, ConnectionSource):  # else the trigger starts it
            self._start_on_new_build(provider, config, config.source)

    def _start_on_new_build(
        self, provider: AwsProvider, config: PipelineConfig, source: S3Source | CodeCommitSource
    ) -> None:
        """EventBridge starts the pipeline when the source key gets a new version, or the
        CodeCommit branch a new commit."""
        events_role = Role(
            self,
            "events-role",
            provider=provider,
            config=RoleConfig(
                name=config.events_role_name,
                description=f"Lets EventBridge start {config.pipeline_name}",
                trust=(assume_role_statement("Service", ("events.amazonaws.com",)),),
                permissions=(
                    Statement(
                        sid="StartPipeline",
                        actions=("codepipeline:StartPipelineExecution",),
                        resources=(self.pipeline.arn,),
                    ),
                ),
            ),
        )
        rule = CloudwatchEventRule(
            self,
            "source-changed",
            provider=provider,
            name=config.rule_name,
            description=start_description(source, config.pipeline_name),
            event_pattern=start_event_pattern(source),
        )
        CloudwatchEventTarget(
            self,
            "start-pipeline",
            provider=provider,
            rule=rule.name,
            arn=self.pipeline.arn,
            role_arn=events_role.arn,
        )
