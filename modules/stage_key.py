"""The stage's customer-managed KMS key: encrypts its buckets, logs and pipeline artifacts."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules import arns
from modules.policy import Condition, Statement, policy_json

# What CloudWatch Logs does with the key, spelled out: exactly what AWS's documented
# "kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*" grant on a key today,
# without also granting whatever KMS adds under those prefixes later. AWS's example also lists
# "kms:Describe*", but its statement holds only under the log group's encryption context, which
# DescribeKey never carries: such a grant could never match, so it is left out rather than
# widened to every use of the key.
LOGS_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
)


@dataclass(frozen=True)
class StageKeyConfig:
    alias: str
    account_id: str
    region: str
    partition: str
    # The copy function's log group, which CloudWatch Logs encrypts with this key; None for a
    # stage that promotes nowhere and so has no copy function.
    log_group_arn: str | None
    deletion_window_days: int = 7
    # Lets EventBridge publish to the stage's notification topic, which this key encrypts.
    notification_topic: bool = False


def _copy_function_logs_statements(config: StageKeyConfig) -> tuple[Statement, ...]:
    if config.log_group_arn is None:
        return ()
    return (
        Statement(
            sid="CloudWatchLogsForCopyFunction",
            actions=LOGS_KEY_ACTIONS,
            resources=("*",),
            principals=(("Service", (f"logs.{config.region}.amazonaws.com",)),),
            conditions=(
                Condition(
                    "ArnEquals", "kms:EncryptionContext:aws:logs:arn", (config.log_group_arn,)
                ),
            ),
        ),
    )


def _notification_topic_statements(config: StageKeyConfig) -> tuple[Statement, ...]:
    if not config.notification_topic:
        return ()
    # SNS asks KMS for the topic's data key on the publisher's behalf, so EventBridge needs these
    # two (AWS's documented key policy for an encrypted topic that EventBridge targets).
    return (
        Statement(
            sid="EventBridgeForNotificationTopic",
            actions=("kms:GenerateDataKey", "kms:Decrypt"),
            resources=("*",),
            principals=(("Service", ("events.amazonaws.com",)),),
        ),
    )


class StageKey(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: StageKeyConfig
    ) -> None:
        super().__init__(scope, id_)
        account_root = arns.account_root(config.partition, config.account_id)
        # A key policy's Resource can only be "*": it means "this key" (AWS KMS key policy rules).
        policy = policy_json(
            [
                # Delegates to IAM in this account only; each role's own policy names this key.
                # kms:* for the account root is what keeps the key manageable (AWS's default key
                # policy); a narrower list can lock the account out of its own key.
                Statement(
                    sid="AccountIamDelegation",
                    actions=("kms:*",),
                    resources=("*",),
                    principals=(("AWS", (account_root,)),),
                ),
                *_copy_function_logs_statements(config),
                *_notification_topic_statements(config),
            ]
        )
        self.key = KmsKey(
            self,
            "key",
            provider=provider,
            description=f"xrdeploy {config.alias}: source, artifacts and logs",
            enable_key_rotation=True,
            deletion_window_in_days=config.deletion_window_days,
            policy=policy,
        )
        KmsAlias(self, "alias", provider=provider, name=config.alias, target_key_id=self.key.key_id)
        self.arn = self.key.arn
