"""One stage of the chain: wires its key, buckets, fleet, deployment, pipeline and copy function.

Names of neighbouring stages' resources come from `Naming`, never from their state.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cdktf import Aspects, TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.codedeploy import CodeDeploy, CodeDeployConfig
from modules.copy_function import CopyFunction, CopyFunctionConfig
from modules.fleet import Fleet, FleetConfig, SshAccess
from modules.pipeline import Pipeline, PipelineConfig, PromotionTarget, pipeline_definition
from modules.policy import Statement
from modules.promotion_role import PromotionRole, PromotionRoleConfig, delivery_grant
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from modules.stage_key import StageKey, StageKeyConfig
from modules.tagging import StageTagger
from xrdeploy.config import ChainConfig, Stage
from xrdeploy.naming import Naming
from xrdeploy.target import DeployTarget


@dataclass(frozen=True)
class StageDeploymentConfig:
    chain: ChainConfig
    stage: Stage
    target: DeployTarget
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
        chain, stage = config.chain, config.stage
        names = Naming(chain.app.name)
        upstream = chain.previous_stage(stage)
        downstream = chain.next_stage(stage)
        source_key = chain.app.source_object_key
        log_group = names.copy_function_log_group(stage)
        log_group_arn = f"arn:aws:logs:{stage.region}:{stage.account_id}:log-group:{log_group}"
        Aspects.of(self).add(StageTagger(stage.name))

        key = StageKey(
            self,
            "key",
            provider=provider,
            config=StageKeyConfig(
                alias=names.kms_alias(stage),
                account_id=stage.account_id,
                region=stage.region,
                log_group_arn=log_group_arn,
            ),
        )

        promotion_role_arn = names.role_arn(stage, names.promotion_role(stage))
        source_bucket_name = names.source_bucket(stage)
        grants: tuple[Statement, ...] = ()
        promotion: PromotionRole | None = None
        if upstream is not None:
            promotion = PromotionRole(
                self,
                "promotion-role",
                provider=provider,
                config=PromotionRoleConfig(
                    name=names.promotion_role(stage),
                    upstream_function_role_arn=names.role_arn(
                        upstream, names.copy_function_role(upstream)
                    ),
                    bucket_arn=names.bucket_arn(source_bucket_name),
                    object_key=source_key,
                    kms_key_arn=key.arn,
                ),
            )
            grants = (
                delivery_grant(
                    promotion_role_arn, names.bucket_arn(source_bucket_name), source_key
                ),
            )
        source = SecureBucket(
            self,
            "source-bucket",
            provider=provider,
            config=SecureBucketConfig(
                name=source_bucket_name,
                kms_key_arn=key.arn,
                eventbridge_notifications=True,
                grants=grants,
            ),
        )
        if promotion is not None:
            # The bucket policy names the role; IAM refuses a policy naming a missing role.
            source.node.add_dependency(promotion)
        artifacts = SecureBucket(
            self,
            "artifact-bucket",
            provider=provider,
            config=SecureBucketConfig(
                name=names.artifact_bucket(stage),
                kms_key_arn=key.arn,
            ),
        )

        Fleet(
            self,
            "fleet",
            provider=provider,
            config=FleetConfig(
                name=names.security_group(stage),
                role_name=names.instance_role(stage),
                region=stage.region,
                instance_count=stage.fleet.instance_count,
                instance_type=stage.fleet.instance_type,
                tag_value=stage.fleet.tag_value,
                http_ingress_cidr=stage.fleet.http_ingress_cidr,
                artifact_bucket_arn=names.bucket_arn(names.artifact_bucket(stage)),
                kms_key_arn=key.arn,
                ssh=SshAccess(stage.fleet.ssh.cidr, stage.fleet.ssh.key_pair)
                if stage.fleet.ssh
                else None,
            ),
        )

        CodeDeploy(
            self,
            "codedeploy",
            provider=provider,
            config=CodeDeployConfig(
                app_name=names.codedeploy_app(stage),
                group_name=names.deployment_group(stage),
                role_name=names.codedeploy_role(stage),
                tag_value=stage.fleet.tag_value,
                deployment_config=stage.deployment_config,
                region=stage.region,
                account_id=stage.account_id,
                rollback_alarms=stage.gates.rollback_alarms,
            ),
        )

        downstream_role_arn = (
            names.role_arn(downstream, names.promotion_role(downstream)) if downstream else None
        )
        copy = CopyFunction(
            self,
            "copy-function",
            provider=provider,
            config=CopyFunctionConfig(
                function_name=names.copy_function(stage),
                role_name=names.copy_function_role(stage),
                log_group_name=log_group,
                log_group_arn=log_group_arn,
                package=config.function_package,
                kms_key_arn=key.arn,
                downstream_role_arn=downstream_role_arn,
            ),
        )

        pipeline_config = PipelineConfig(
            app=chain.app.name,
            stage=stage.name,
            pipeline_name=names.pipeline(stage),
            role_name=names.pipeline_role(stage),
            events_role_name=names.events_role(stage),
            rule_name=names.source_rule(stage),
            region=stage.region,
            account_id=stage.account_id,
            source_bucket=source_bucket_name,
            source_bucket_arn=names.bucket_arn(source_bucket_name),
            source_key=source_key,
            artifact_bucket=names.artifact_bucket(stage),
            artifact_bucket_arn=names.bucket_arn(names.artifact_bucket(stage)),
            kms_key_arn=key.arn,
            codedeploy_app=names.codedeploy_app(stage),
            deployment_group=names.deployment_group(stage),
            deployment_config=stage.deployment_config,
            manual_approval=stage.gates.manual_approval,
            copy_function_name=names.copy_function(stage),
            copy_function_arn=names.function_arn(stage),
            promotion=PromotionTarget(
                stage=downstream.name,
                bucket=names.source_bucket(downstream),
                key=source_key,
                region=downstream.region,
                account_id=downstream.account_id,
                role_arn=names.role_arn(downstream, names.promotion_role(downstream)),
            )
            if downstream
            else None,
        )
        Pipeline(self, "pipeline", provider=provider, config=pipeline_config)

        # What operators and the LocalStack harness read after apply, instead of guessing names.
        TerraformOutput(
            self,
            "outputs",
            value={
                "stage": stage.name,
                "account_id": stage.account_id,
                "region": stage.region,
                "source_bucket": source.name,
                "source_key": source_key,
                "artifact_bucket": artifacts.name,
                "kms_key_arn": key.arn,
                "copy_function_name": copy.function.function_name,
                "copy_function_role_arn": copy.role.arn,
                "promotion_role_arn": promotion_role_arn if upstream else "",
                "pipeline_name": names.pipeline(stage),
                "pipeline_definition": json.dumps(
                    [asdict(s) for s in pipeline_definition(pipeline_config)], sort_keys=True
                ),
            },
        ).override_logical_id(f"stage_{stage.name.replace('-', '_')}")
