"""One stage of the chain: its key, buckets, fleet, deployment, copy function and pipeline,
wired together from the props `stage_props` derives."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cdktf import Aspects, TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.codedeploy import CodeDeploy
from modules.copy_function import CopyFunction
from modules.fleet import Fleet
from modules.notifications import Notifications
from modules.pipeline import Pipeline
from modules.pipeline_stages import PipelineConfig, pipeline_definition
from modules.promotion_role import PromotionRole
from modules.secure_bucket import SecureBucket
from modules.source_connection import SourceConnection
from modules.stage_key import StageKey
from modules.tagging import StageTagger
from xrdeploy.config.model import ChainConfig, Stage
from xrdeploy.terraform.assembly.stage_props import (
    StageContext,
    artifact_bucket_props,
    codedeploy_props,
    copy_function_props,
    fleet_props,
    notifications_props,
    pipeline_props,
    promotion_role_props,
    source_bucket_props,
    source_connection_props,
    stage_key_props,
)


@dataclass(frozen=True)
class StageDeploymentConfig:
    chain: ChainConfig
    stage: Stage
    function_package: Path


class StageDeployment(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: AwsProvider,
        config: StageDeploymentConfig,
    ) -> None:
        super().__init__(scope, id_)
        ctx = StageContext.of(config.chain, config.stage)
        Aspects.of(self).add(StageTagger(ctx.stage.name))
        key = StageKey(self, "key", provider=provider, config=stage_key_props(ctx))
        if ctx.upstream is not None:
            PromotionRole(
                self,
                "promotion-role",
                provider=provider,
                config=promotion_role_props(ctx, ctx.upstream, key.arn),
            )
        source = None
        if not ctx.reads_git:  # a Git-sourced first stage reads the repository instead
            source = SecureBucket(
                self, "source-bucket", provider=provider, config=source_bucket_props(ctx, key.arn)
            )
        artifacts = SecureBucket(
            self, "artifact-bucket", provider=provider, config=artifact_bucket_props(ctx, key.arn)
        )
        Fleet(self, "fleet", provider=provider, config=fleet_props(ctx, key.arn))
        CodeDeploy(self, "codedeploy", provider=provider, config=codedeploy_props(ctx))
        copy = None
        if ctx.downstream:  # the last stage promotes nowhere: no function to invoke
            copy = CopyFunction(
                self,
                "copy-function",
                provider=provider,
                config=copy_function_props(ctx, key.arn, config.function_package),
            )
        connection = source_connection_props(ctx)
        connection_arn = None
        if connection is not None:
            connection_arn = SourceConnection(
                self, "source-connection", provider=provider, config=connection
            ).arn
        pipeline = pipeline_props(ctx, key.arn, connection_arn)
        Pipeline(self, "pipeline", provider=provider, config=pipeline)
        notices = notifications_props(ctx, key.arn)
        topic_arn = ""
        if notices is not None:
            topic_arn = Notifications(
                self, "notifications", provider=provider, config=notices
            ).topic.arn
        self._outputs(ctx, source, artifacts, key, copy, pipeline, topic_arn)

    def _outputs(
        self,
        ctx: StageContext,
        source: SecureBucket | None,
        artifacts: SecureBucket,
        key: StageKey,
        copy: CopyFunction | None,
        pipeline: PipelineConfig,
        topic_arn: str,
    ) -> None:
        """What operators and the LocalStack harness read after apply, instead of guessing
        names."""
        stage = ctx.stage
        TerraformOutput(
            self,
            "outputs",
            value={
                "stage": stage.name,
                "account_id": stage.account_id,
                "region": stage.region,
                "source_bucket": source.name if source else "",
                "source_key": ctx.source_key if source else "",
                "artifact_bucket": artifacts.name,
                "kms_key_arn": key.arn,
                "copy_function_name": copy.function.function_name if copy else "",
                "copy_function_role_arn": copy.role.arn if copy else "",
                "promotion_role_arn": ctx.promotion_role_arn if ctx.upstream else "",
                "upstream_stage": ctx.upstream.name if ctx.upstream else "",
                "downstream_stages": [d.name for d in ctx.downstream],
                "notification_topic_arn": topic_arn,
                "pipeline_name": ctx.names.pipeline(stage),
                "pipeline_definition": json.dumps(
                    [asdict(s) for s in pipeline_definition(pipeline)], sort_keys=True
                ),
            },
        ).override_logical_id(f"stage_{stage.name.replace('-', '_')}")
