"""CodeDeploy application and deployment group for the stage's fleet."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.codedeploy_app import CodedeployApp
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import (
    CodedeployDeploymentGroup,
    CodedeployDeploymentGroupAlarmConfiguration,
    CodedeployDeploymentGroupAutoRollbackConfiguration,
    CodedeployDeploymentGroupEc2TagFilter,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules import arns
from modules.fleet import DEPLOYMENT_TAG_KEY
from modules.policy import Statement, assume_role_statement
from modules.role import Role, RoleConfig


@dataclass(frozen=True)
class CodeDeployConfig:
    app_name: str
    group_name: str
    role_name: str
    tag_value: str
    deployment_config: str
    region: str
    account_id: str
    partition: str
    rollback_alarms: tuple[str, ...] = ()
    # The pipeline rolls the stage back on failure (V2 onFailure ROLLBACK): CodeDeploy must not
    # start its own rollback too, or the pipeline's finds the group busy and fails.
    pipeline_rolls_back: bool = False


def service_role_permissions(config: CodeDeployConfig) -> tuple[Statement, ...]:
    permissions = [
        # CodeDeploy finds instances by tag: EC2 Describe* and the tagging API have no
        # resource-level permissions, so AWS allows nothing narrower than "*".
        Statement(
            sid="FindInstancesByTag",
            actions=(
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "tag:GetResources",
            ),
            resources=("*",),
        ),
    ]
    if config.rollback_alarms:
        # DescribeAlarms does take alarm ARNs: the group may read its own alarms only.
        permissions.append(
            Statement(
                sid="ReadRollbackAlarms",
                actions=("cloudwatch:DescribeAlarms",),
                resources=tuple(
                    arns.cloudwatch_alarm(config.partition, config.region, config.account_id, alarm)
                    for alarm in config.rollback_alarms
                ),
            )
        )
    return tuple(permissions)


class CodeDeploy(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: CodeDeployConfig
    ) -> None:
        super().__init__(scope, id_)
        role = Role(
            self,
            "role",
            provider=provider,
            config=RoleConfig(
                name=config.role_name,
                description=f"CodeDeploy service role for {config.group_name}",
                trust=(assume_role_statement("Service", ("codedeploy.amazonaws.com",)),),
                permissions=service_role_permissions(config),
            ),
        )
        self.app = CodedeployApp(
            self, "app", provider=provider, name=config.app_name, compute_platform="Server"
        )
        rollback_events = [] if config.pipeline_rolls_back else ["DEPLOYMENT_FAILURE"]
        if config.rollback_alarms:
            rollback_events.append("DEPLOYMENT_STOP_ON_ALARM")
        self.group = CodedeployDeploymentGroup(
            self,
            "group",
            provider=provider,
            app_name=self.app.name,
            deployment_group_name=config.group_name,
            service_role_arn=role.arn,
            deployment_config_name=config.deployment_config,
            ec2_tag_filter=[
                CodedeployDeploymentGroupEc2TagFilter(
                    key=DEPLOYMENT_TAG_KEY,
                    type="KEY_AND_VALUE",
                    value=config.tag_value,
                )
            ],
            auto_rollback_configuration=CodedeployDeploymentGroupAutoRollbackConfiguration(
                enabled=bool(rollback_events),
                events=rollback_events or None,
            ),
            alarm_configuration=CodedeployDeploymentGroupAlarmConfiguration(
                enabled=True,
                alarms=list(config.rollback_alarms),
            )
            if config.rollback_alarms
            else None,
        )
