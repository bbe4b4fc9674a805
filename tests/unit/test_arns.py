"""ARNs: every one xrdeploy builds has AWS's documented shape and the partition it was given."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from modules import arns
from xrdeploy.config.naming import Naming


@dataclass(frozen=True)
class StageStub:
    name: str = "beta"
    account_id: str = "222222222222"
    region: str = "cn-north-1"


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (arns.s3_bucket("aws", "b"), "arn:aws:s3:::b"),
        (arns.iam_role("aws", "111111111111", "r"), "arn:aws:iam::111111111111:role/r"),
        (arns.account_root("aws", "111111111111"), "arn:aws:iam::111111111111:root"),
        (
            arns.lambda_function("aws", "us-east-1", "111111111111", "f"),
            "arn:aws:lambda:us-east-1:111111111111:function:f",
        ),
        (
            arns.log_group("aws", "us-east-1", "111111111111", "/aws/lambda/f"),
            "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/f",
        ),
        (
            arns.cloudwatch_alarm("aws", "us-east-1", "111111111111", "errors"),
            "arn:aws:cloudwatch:us-east-1:111111111111:alarm:errors",
        ),
        (
            arns.codecommit_repository("aws", "us-east-1", "111111111111", "shop"),
            "arn:aws:codecommit:us-east-1:111111111111:shop",
        ),
        (
            arns.codedeploy("aws", "us-east-1", "111111111111", "deploymentgroup:app/fleet"),
            "arn:aws:codedeploy:us-east-1:111111111111:deploymentgroup:app/fleet",
        ),
    ],
)
def test_arns_have_the_documented_shape(built: str, expected: str) -> None:
    assert built == expected


def test_naming_builds_its_arns_in_the_partition_it_is_given() -> None:
    # GIVEN naming for a partition other than the commercial one
    names = Naming("shop", partition="aws-cn")
    stage = StageStub()
    # WHEN it builds the ARNs of another stack's resources
    built = [
        names.role_arn(stage, names.promotion_role(stage)),
        names.bucket_arn(names.source_bucket(stage)),
        names.function_arn(stage),
        names.log_group_arn(stage),
    ]
    # THEN every one is in that partition and names the stage's own resource
    assert built == [
        "arn:aws-cn:iam::222222222222:role/shop-beta-promotion",
        "arn:aws-cn:s3:::shop-beta-src-222222222222-cn-north-1",
        "arn:aws-cn:lambda:cn-north-1:222222222222:function:shop-beta-promote",
        "arn:aws-cn:logs:cn-north-1:222222222222:log-group:/aws/lambda/shop-beta-promote",
    ]


def test_naming_defaults_to_the_partition_of_the_regions_config_accepts() -> None:
    assert Naming("shop").bucket_arn("b") == "arn:aws:s3:::b"
