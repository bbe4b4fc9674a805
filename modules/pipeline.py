"""The stage's CodePipeline (V2): Source → Deploy → [Approve] → Promote, started by EventBridge."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules import arns
from modules.policy import Statement, assume_role_statement
from modules.role import Role, RoleConfig

SOURCE_ARTIFACT = "SourceArtifact"
# The Source action's variable namespace: the Promote action reads the deployed VersionId from it.
SOURCE_NAMESPACE = "SourceVariables"


@dataclass(frozen=True)
class PromotionTarget:
    """Where the Promote action delivers: the next stage, as the copy function reads it."""

    stage: str
    bucket: str
    key: str
    region: str
    account_id: str
    role_arn: str


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
    source_bucket: str
    source_bucket_arn: str
    source_key: str
    artifact_bucket: str
    artifact_bucket_arn: str
    kms_key_arn: str
    codedeploy_app: str
    deployment_group: str
    deployment_config: str
    manual_approval: bool
    copy_function_name: str
    copy_function_arn: str
    promotion: PromotionTarget | None


def promote_user_parameters(config: PipelineConfig, target: PromotionTarget) -> str:
    """The copy function's UserParameters. `#{...}` are CodePipeline variables, resolved per
    execution, so the function is told exactly which revision this run deployed."""
    return json.dumps(
        {
            "app": config.app,
            "source_stage": config.stage,
            "execution_id": "#{codepipeline.PipelineExecutionId}",
            "source_version_id": f"#{{{SOURCE_NAMESPACE}.VersionId}}",
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


def source_event_pattern(bucket: str, key: str) -> str:
    return json.dumps(
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [bucket]}, "object": {"key": [key]}},
        }
    )


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
class PipelineStageDefinition:
    name: str
    actions: tuple[Action, ...]


def pipeline_definition(config: PipelineConfig) -> list[PipelineStageDefinition]:
    """The pipeline's stages as plain data: the resource is built from it, and the stack also
    outputs it so that the LocalStack harness plays exactly this pipeline where CodePipeline
    itself is not available."""
    stages = [_source_stage(config), _deploy_stage(config)]
    if config.promotion is None:
        return stages
    if config.manual_approval:
        stages.append(_approve_stage(config.promotion))
    stages.append(_promote_stage(config, config.promotion))
    return stages


def _source_stage(config: PipelineConfig) -> PipelineStageDefinition:
    source = Action(
        "Source",
        "Source",
        "S3",
        {
            "S3Bucket": config.source_bucket,
            "S3ObjectKey": config.source_key,
            "PollForSourceChanges": "false",
        },
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
    return PipelineStageDefinition("Deploy", (deploy,))


def _approve_stage(target: PromotionTarget) -> PipelineStageDefinition:
    approve = Action("Approve", "Approval", "Manual", {"CustomData": f"Promote to {target.stage}?"})
    return PipelineStageDefinition("Approve", (approve,))


def _promote_stage(config: PipelineConfig, target: PromotionTarget) -> PipelineStageDefinition:
    promote = Action(
        "Promote",
        "Invoke",
        "Lambda",
        {
            "FunctionName": config.copy_function_name,
            "UserParameters": promote_user_parameters(config, target),
        },
        input_artifacts=(SOURCE_ARTIFACT,),
    )
    return PipelineStageDefinition("Promote", (promote,))


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
    )


def service_role_permissions(config: PipelineConfig) -> tuple[Statement, ...]:
    """What the pipeline's own role may do: read its source, use its artifact store and key,
    deploy through its CodeDeploy group, and invoke its copy function."""
    permissions = [
        Statement(
            sid="ReadSource",
            actions=("s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning"),
            resources=(
                config.source_bucket_arn,
                f"{config.source_bucket_arn}/{config.source_key}",
            ),
        ),
        Statement(
            sid="UseArtifactStore",
            actions=(
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:GetBucketVersioning",
            ),
            resources=(config.artifact_bucket_arn, f"{config.artifact_bucket_arn}/*"),
        ),
        Statement(
            sid="UseStageKey",
            actions=("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"),
            resources=(config.kms_key_arn,),
        ),
        *_deploy_statements(config),
    ]
    if config.promotion is not None:
        permissions.append(
            Statement(
                sid="InvokeCopyFunction",
                actions=("lambda:InvokeFunction",),
                resources=(config.copy_function_arn,),
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
        )
        self._start_on_new_build(provider, config)

    def _start_on_new_build(self, provider: AwsProvider, config: PipelineConfig) -> None:
        """EventBridge starts the pipeline when the source key gets a new version."""
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
            description=f"A new build in {config.source_bucket} starts {config.pipeline_name}",
            event_pattern=source_event_pattern(config.source_bucket, config.source_key),
        )
        CloudwatchEventTarget(
            self,
            "start-pipeline",
            provider=provider,
            rule=rule.name,
            arn=self.pipeline.arn,
            role_arn=events_role.arn,
        )
