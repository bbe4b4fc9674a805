"""Config and naming in, each construct's typed props out: all that one stage's constructs are
told, derived in one place. Pure: no construct is created here.

Names and ARNs of the neighbouring stages come from `Naming`, never from their state, so every
stack plans on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modules import arns
from modules.codedeploy import CodeDeployConfig
from modules.copy_function import CopyFunctionConfig
from modules.fleet import FleetConfig, RemoteAccess
from modules.notifications import NotificationsConfig, Subscription
from modules.pipeline_source import (
    CodeCommitSource,
    ConnectionSource,
    GitFilter,
    PipelineSource,
    S3Source,
)
from modules.pipeline_stages import PipelineConfig, PromotionTarget, StageGates
from modules.promotion_role import PromotionRoleConfig
from modules.secure_bucket import SecureBucketConfig
from modules.source_connection import SourceConnectionConfig
from modules.stage_key import StageKeyConfig
from xrdeploy.config.model import ChainConfig, Stage
from xrdeploy.config.naming import Naming
from xrdeploy.config.source import GitFilter as GitFilterConfig

# Lets `destroy` remove a bucket that still holds versions. Every bucket of a stage holds only
# what can be made again: the source build came from the upstream stage or the operator, the
# artifacts from the pipeline.
BUCKETS_FORCE_DESTROY = True


@dataclass(frozen=True)
class StageContext:
    """One stage with its chain: where its neighbours are and what everything is called."""

    chain: ChainConfig
    stage: Stage
    names: Naming

    @classmethod
    def of(cls, chain: ChainConfig, stage: Stage) -> StageContext:
        return cls(chain, stage, Naming(chain.app.name))

    @property
    def upstream(self) -> Stage | None:
        return self.chain.upstream_of(self.stage.name)

    @property
    def downstream(self) -> tuple[Stage, ...]:
        """The stages this one promotes into: one, several (a wave), or none."""
        return self.chain.downstream_of(self.stage.name)

    @property
    def reads_git(self) -> bool:
        """The first stage of a chain with a Git source: its Source action reads the repository,
        and it has no source bucket."""
        return self.upstream is None and self.chain.app.source.is_git

    @property
    def source_key(self) -> str:
        return self.chain.app.source_object_key

    @property
    def source_bucket_arn(self) -> str:
        return self.names.bucket_arn(self.names.source_bucket(self.stage))

    @property
    def artifact_bucket_arn(self) -> str:
        return self.names.bucket_arn(self.names.artifact_bucket(self.stage))

    @property
    def promotion_role_arn(self) -> str:
        """The role this stage owns for its upstream stage's copy function."""
        return self.names.role_arn(self.stage, self.names.promotion_role(self.stage))


def stage_key_props(ctx: StageContext) -> StageKeyConfig:
    return StageKeyConfig(
        alias=ctx.names.kms_alias(ctx.stage),
        account_id=ctx.stage.account_id,
        region=ctx.stage.region,
        log_group_arn=ctx.names.log_group_arn(ctx.stage) if ctx.downstream else None,
        partition=ctx.names.partition,
        notification_topic=ctx.chain.notifications_for(ctx.stage) is not None,
    )


def promotion_role_props(ctx: StageContext, upstream: Stage, key_arn: str) -> PromotionRoleConfig:
    return PromotionRoleConfig(
        name=ctx.names.promotion_role(ctx.stage),
        upstream_account_id=upstream.account_id,
        upstream_function_role_arn=ctx.names.role_arn(
            upstream, ctx.names.copy_function_role(upstream)
        ),
        partition=ctx.names.partition,
        bucket_arn=ctx.source_bucket_arn,
        object_key=ctx.source_key,
        kms_key_arn=key_arn,
    )


def source_bucket_props(ctx: StageContext, key_arn: str) -> SecureBucketConfig:
    """Versioned and notifying EventBridge. The promotion role writes it by its identity policy:
    it lives in this account, where that is enough."""
    return SecureBucketConfig(
        name=ctx.names.source_bucket(ctx.stage),
        kms_key_arn=key_arn,
        partition=ctx.names.partition,
        eventbridge_notifications=True,
        force_destroy=BUCKETS_FORCE_DESTROY,
    )


def artifact_bucket_props(ctx: StageContext, key_arn: str) -> SecureBucketConfig:
    return SecureBucketConfig(
        name=ctx.names.artifact_bucket(ctx.stage),
        kms_key_arn=key_arn,
        partition=ctx.names.partition,
        force_destroy=BUCKETS_FORCE_DESTROY,
    )


def fleet_props(ctx: StageContext, key_arn: str) -> FleetConfig:
    fleet = ctx.stage.fleet
    return FleetConfig(
        name=ctx.names.security_group(ctx.stage),
        role_name=ctx.names.instance_role(ctx.stage),
        region=ctx.stage.region,
        partition=ctx.names.partition,
        instance_count=fleet.instance_count,
        instance_type=fleet.instance_type,
        tag_value=fleet.tag_value,
        http_ingress_cidr=fleet.http_ingress_cidr,
        artifact_bucket_arn=ctx.artifact_bucket_arn,
        kms_key_arn=key_arn,
        ssh=RemoteAccess(fleet.ssh.cidr, fleet.ssh.key_pair) if fleet.ssh else None,
        os=fleet.os,
        rdp=RemoteAccess(fleet.rdp.cidr, fleet.rdp.key_pair) if fleet.rdp else None,
    )


def codedeploy_props(ctx: StageContext) -> CodeDeployConfig:
    stage, names = ctx.stage, ctx.names
    return CodeDeployConfig(
        app_name=names.codedeploy_app(stage),
        group_name=names.deployment_group(stage),
        role_name=names.codedeploy_role(stage),
        tag_value=stage.fleet.tag_value,
        deployment_config=stage.deployment_config,
        region=stage.region,
        account_id=stage.account_id,
        partition=names.partition,
        rollback_alarms=stage.gates.rollback_alarms,
        pipeline_rolls_back=stage.gates.rollback_on_failure,
    )


def copy_function_props(ctx: StageContext, key_arn: str, package: Path) -> CopyFunctionConfig:
    stage, names, downstream = ctx.stage, ctx.names, ctx.downstream
    return CopyFunctionConfig(
        function_name=names.copy_function(stage),
        role_name=names.copy_function_role(stage),
        log_group_name=names.copy_function_log_group(stage),
        log_group_arn=names.log_group_arn(stage),
        package=package,
        kms_key_arn=key_arn,
        downstream_role_arns=tuple(names.role_arn(d, names.promotion_role(d)) for d in downstream),
        commit_source_object_arn=(
            f"{ctx.source_bucket_arn}/{ctx.source_key}"
            if ctx.chain.app.source.is_git and not ctx.reads_git
            else None
        ),
    )


def source_connection_props(ctx: StageContext) -> SourceConnectionConfig | None:
    """The connection xrdeploy creates: only for the first stage, when the config names one
    instead of giving an existing connection's ARN."""
    source = ctx.chain.app.source
    if not ctx.reads_git or source.type != "github" or source.connection_arn is not None:
        return None
    return SourceConnectionConfig(name=source.connection or "")


def _git_filter(config: GitFilterConfig | None) -> GitFilter | None:
    if config is None:
        return None
    return GitFilter(includes=config.includes or (), excludes=config.excludes or ())


def pipeline_source(ctx: StageContext, created_connection_arn: str | None) -> PipelineSource:
    source, stage, names = ctx.chain.app.source, ctx.stage, ctx.names
    if not ctx.reads_git:
        return S3Source(
            bucket=names.source_bucket(stage),
            bucket_arn=ctx.source_bucket_arn,
            key=ctx.source_key,
            carries_commit=source.is_git,
        )
    repository = source.repository or ""  # validated: a Git source names its repository
    if source.type == "codecommit":
        return CodeCommitSource(
            repository=repository,
            repository_arn=arns.codecommit_repository(
                names.partition, stage.region, stage.account_id, repository
            ),
            branch=source.branch,
        )
    push = source.push
    branches = _git_filter(push.branches if push else None)
    return ConnectionSource(
        connection_arn=source.connection_arn or created_connection_arn or "",
        repository=repository,
        branch=source.branch,
        # Without a branch filter, a push to the action's branch starts the stage.
        branches=branches or GitFilter(includes=(source.branch,)),
        file_paths=_git_filter(push.file_paths if push else None),
    )


def pipeline_props(
    ctx: StageContext, key_arn: str, created_connection_arn: str | None = None
) -> PipelineConfig:
    stage, names, downstream = ctx.stage, ctx.names, ctx.downstream
    return PipelineConfig(
        app=ctx.chain.app.name,
        stage=stage.name,
        pipeline_name=names.pipeline(stage),
        role_name=names.pipeline_role(stage),
        events_role_name=names.events_role(stage),
        rule_name=names.source_rule(stage),
        region=stage.region,
        account_id=stage.account_id,
        partition=names.partition,
        source=pipeline_source(ctx, created_connection_arn),
        artifact_bucket=names.artifact_bucket(stage),
        artifact_bucket_arn=ctx.artifact_bucket_arn,
        kms_key_arn=key_arn,
        codedeploy_app=names.codedeploy_app(stage),
        deployment_group=names.deployment_group(stage),
        deployment_config=stage.deployment_config,
        manual_approval=stage.gates.manual_approval,
        copy_function_name=names.copy_function(stage),
        copy_function_arn=names.function_arn(stage),
        promotions=tuple(promotion_target(ctx, d) for d in downstream),
        gates=stage_gates(stage),
    )


def stage_gates(stage: Stage) -> StageGates:
    gates, window = stage.gates, stage.gates.deployment_window
    return StageGates(
        bake_minutes=gates.bake_minutes,
        alarm_names=gates.promote_when_alarms_ok,
        window_cron=window.cron if window else None,
        window_time_zone=window.time_zone if window else None,
        rollback_on_failure=gates.rollback_on_failure,
    )


def promotion_target(ctx: StageContext, downstream: Stage) -> PromotionTarget:
    """Where one Promote action delivers: a downstream stage's source bucket and key."""
    return PromotionTarget(
        stage=downstream.name,
        bucket=ctx.names.source_bucket(downstream),
        key=ctx.source_key,
        region=downstream.region,
        account_id=downstream.account_id,
        role_arn=ctx.names.role_arn(downstream, ctx.names.promotion_role(downstream)),
    )


def notifications_props(ctx: StageContext, key_arn: str) -> NotificationsConfig | None:
    notifications = ctx.chain.notifications_for(ctx.stage)
    if notifications is None:
        return None
    stage, names = ctx.stage, ctx.names
    # Derived like every name in xrdeploy.config.naming: from the stage's prefix, so that the
    # names fit wherever the bucket names fit (EventBridge rule names take 64 characters).
    prefix = names.prefix(stage)
    return NotificationsConfig(
        stage=stage.name,
        topic_name=f"{prefix}-notices",
        rule_name_prefix=f"{prefix}-notify",
        kms_key_arn=key_arn,
        pipeline_name=names.pipeline(stage),
        codedeploy_app=names.codedeploy_app(stage),
        deployment_group=names.deployment_group(stage),
        subscriptions=tuple(
            Subscription(s.sns_protocol, s.sns_endpoint, raw_message_delivery=s.protocol == "sqs")
            for s in notifications.subscribers
        ),
    )
