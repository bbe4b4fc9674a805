"""Every name and ARN xrdeploy creates, derived from the config in one place.

Stacks never read each other's outputs: a stage finds its neighbours' buckets and roles by these
names, so each stack plans on its own in a pull request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from modules import arns

if TYPE_CHECKING:
    from collections.abc import Iterator

# S3's rules for a bucket name (we also refuse periods, which break virtual-hosted TLS).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
MAX_ROLE_NAME = 64
# Config accepts commercial AWS regions only (config.py), which are all in this partition.
PARTITION = "aws"


class StageLike(Protocol):
    """What naming needs of a stage; config.Stage satisfies it."""

    @property
    def name(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def region(self) -> str: ...


@dataclass(frozen=True)
class Naming:
    """Names for one app; each method takes the stage the resource belongs to."""

    app: str
    partition: str = PARTITION

    def prefix(self, stage: StageLike) -> str:
        return f"{self.app.replace('.', '-')}-{stage.name}"

    # S3 bucket names are global: account and region make them unique without a random suffix,
    # so the upstream stage can name its downstream bucket without reading its state.
    def source_bucket(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-src-{stage.account_id}-{stage.region}"

    def artifact_bucket(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-art-{stage.account_id}-{stage.region}"

    def kms_alias(self, stage: StageLike) -> str:
        return f"alias/{self.prefix(stage)}"

    def copy_function(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-promote"

    def copy_function_log_group(self, stage: StageLike) -> str:
        return f"/aws/lambda/{self.copy_function(stage)}"

    def copy_function_role(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-promote-fn"

    def promotion_role(self, stage: StageLike) -> str:
        """The role a stage owns for its upstream stage to write the build into its bucket."""
        return f"{self.prefix(stage)}-promotion"

    def pipeline(self, stage: StageLike) -> str:
        return self.prefix(stage)

    def pipeline_role(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-pipeline"

    def source_rule(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-source-changed"

    def events_role(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-events"

    def codedeploy_app(self, stage: StageLike) -> str:
        return self.prefix(stage)

    def deployment_group(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-fleet"

    def codedeploy_role(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-codedeploy"

    def instance_role(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-instance"

    def security_group(self, stage: StageLike) -> str:
        return f"{self.prefix(stage)}-fleet"

    # ARNs of things in other stacks.
    def role_arn(self, stage: StageLike, role_name: str) -> str:
        return arns.iam_role(self.partition, stage.account_id, role_name)

    def bucket_arn(self, bucket: str) -> str:
        return arns.s3_bucket(self.partition, bucket)

    def function_arn(self, stage: StageLike) -> str:
        return arns.lambda_function(
            self.partition, stage.region, stage.account_id, self.copy_function(stage)
        )

    def log_group_arn(self, stage: StageLike) -> str:
        return arns.log_group(
            self.partition, stage.region, stage.account_id, self.copy_function_log_group(stage)
        )

    def problems(self, stage: StageLike) -> Iterator[tuple[str, str, str]]:
        """(field, name, problem) for every derived name AWS would refuse."""
        # One line per kind of name: the longest one says how much to shorten.
        bucket = max((self.source_bucket(stage), self.artifact_bucket(stage)), key=len)
        if len(bucket) > 63:
            yield (
                "name",
                bucket,
                f"would be a {len(bucket)}-character bucket name; S3 "
                "allows 63: shorten app.name or the stage name",
            )
        elif not BUCKET_NAME.fullmatch(bucket):
            yield ("name", bucket, "is not a valid S3 bucket name")
        role = max(
            (
                self.copy_function_role(stage),
                self.promotion_role(stage),
                self.pipeline_role(stage),
                self.events_role(stage),
                self.codedeploy_role(stage),
                self.instance_role(stage),
            ),
            key=len,
        )
        if len(role) > MAX_ROLE_NAME:
            yield (
                "name",
                role,
                f"would be a {len(role)}-character IAM role name; IAM "
                f"allows {MAX_ROLE_NAME}: shorten app.name or the stage name",
            )
