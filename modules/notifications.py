"""The stage's notifications: an SNS topic encrypted with the stage key, fed by EventBridge rules
on the events CodePipeline and CodeDeploy publish, with readable messages and the subscribers
the caller names.

Events: the pipeline execution FAILED or SUPERSEDED; a manual approval waiting (its action
STARTED); a CodeDeploy deployment of the stage's group FAILURE or STOP (a failed or alarm-stopped
deployment is what CodeDeploy rolls back). Only EventBridge, and only these rules, may publish.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.policy import Condition, Statement, policy_document


@dataclass(frozen=True)
class Subscription:
    protocol: str  # an SNS protocol: email, https, sqs
    endpoint: str
    # SQS gets the readable text itself rather than SNS's JSON envelope around it.
    raw_message_delivery: bool = False


@dataclass(frozen=True)
class NotificationsConfig:
    stage: str
    topic_name: str
    # Rule names are `<prefix>-<event>`.
    rule_name_prefix: str
    kms_key_arn: str
    pipeline_name: str
    codedeploy_app: str
    deployment_group: str
    subscriptions: tuple[Subscription, ...]


@dataclass(frozen=True)
class NoticeRule:
    """One EventBridge rule: what it matches and the one line it sends."""

    key: str
    description: str
    pattern: dict[str, object]
    input_paths: dict[str, str]
    text: str

    @property
    def input_template(self) -> str:
        # A JSON string: EventBridge then delivers plain text, with <name> filled from the event.
        return json.dumps(self.text)


def notice_rules(config: NotificationsConfig) -> tuple[NoticeRule, ...]:
    stage, pipeline = config.stage, config.pipeline_name
    return (
        NoticeRule(
            "pipeline",
            f"{pipeline}: an execution failed or was superseded",
            {
                "source": ["aws.codepipeline"],
                "detail-type": ["CodePipeline Pipeline Execution State Change"],
                "detail": {"pipeline": [pipeline], "state": ["FAILED", "SUPERSEDED"]},
            },
            {"execution": "$.detail.execution-id", "state": "$.detail.state", "time": "$.time"},
            f"xrdeploy {stage}: pipeline {pipeline} execution <execution> <state> at <time>",
        ),
        NoticeRule(
            "approval",
            f"{pipeline}: a manual approval is waiting",
            {
                "source": ["aws.codepipeline"],
                "detail-type": ["CodePipeline Action Execution State Change"],
                "detail": {
                    "pipeline": [pipeline],
                    "type": {"category": ["Approval"]},
                    "state": ["STARTED"],
                },
            },
            {"action": "$.detail.action", "execution": "$.detail.execution-id"},
            f"xrdeploy {stage}: approval <action> of pipeline {pipeline} is waiting (execution "
            f"<execution>); answer it with: python main.py approve {stage}",
        ),
        NoticeRule(
            "deployment",
            f"{config.deployment_group}: a deployment failed or was stopped",
            {
                "source": ["aws.codedeploy"],
                "detail-type": ["CodeDeploy Deployment State-change Notification"],
                "detail": {
                    "application": [config.codedeploy_app],
                    "deploymentGroup": [config.deployment_group],
                    "state": ["FAILURE", "STOP"],
                },
            },
            {"deployment": "$.detail.deploymentId", "state": "$.detail.state", "time": "$.time"},
            f"xrdeploy {stage}: deployment <deployment> to {config.deployment_group} <state> at "
            "<time>; CodeDeploy rolls the fleet back to its last good revision when it has one",
        ),
    )


def _subscription_id(subscription: Subscription) -> str:
    # A stable key per subscriber (never its list position: ids become Terraform addresses).
    digest = hashlib.sha256(f"{subscription.protocol}:{subscription.endpoint}".encode())
    return f"subscriber-{subscription.protocol}-{digest.hexdigest()[:10]}"


class Notifications(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: NotificationsConfig
    ) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(
            self,
            "topic",
            provider=provider,
            name=config.topic_name,
            kms_master_key_id=config.kms_key_arn,
        )
        rules = [self._rule(provider, config, notice) for notice in notice_rules(config)]
        document = policy_document(
            self,
            "topic-policy-document",
            provider=provider,
            statements=[
                Statement(
                    sid="EventBridgeRulesPublish",
                    actions=("sns:Publish",),
                    resources=(self.topic.arn,),
                    principals=(("Service", ("events.amazonaws.com",)),),
                    conditions=(
                        Condition("ArnEquals", "aws:SourceArn", tuple(r.arn for r in rules)),
                    ),
                )
            ],
        )
        SnsTopicPolicy(
            self, "topic-policy", provider=provider, arn=self.topic.arn, policy=document.json
        )
        for subscription in config.subscriptions:
            SnsTopicSubscription(
                self,
                _subscription_id(subscription),
                provider=provider,
                topic_arn=self.topic.arn,
                protocol=subscription.protocol,
                endpoint=subscription.endpoint,
                raw_message_delivery=subscription.raw_message_delivery or None,
            )

    def _rule(
        self, provider: AwsProvider, config: NotificationsConfig, notice: NoticeRule
    ) -> CloudwatchEventRule:
        rule = CloudwatchEventRule(
            self,
            f"{notice.key}-rule",
            provider=provider,
            name=f"{config.rule_name_prefix}-{notice.key}",
            description=notice.description,
            event_pattern=json.dumps(notice.pattern, sort_keys=True),
        )
        CloudwatchEventTarget(
            self,
            f"{notice.key}-target",
            provider=provider,
            rule=rule.name,
            arn=self.topic.arn,
            input_transformer=CloudwatchEventTargetInputTransformer(
                input_paths=notice.input_paths, input_template=notice.input_template
            ),
        )
        return rule
