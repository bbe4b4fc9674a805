"""ARNs of the resources xrdeploy names, built in one place for a given partition.

Constructs and the app's naming both build ARNs here; the partition is always passed in (the app
knows which partition its regions are in), never written into an ARN by hand.
"""

from __future__ import annotations


def s3_bucket(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def iam_role(partition: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{name}"


def account_root(partition: str, account_id: str) -> str:
    """The account as a principal: in a key policy, it delegates access to IAM in that account."""
    return f"arn:{partition}:iam::{account_id}:root"


def lambda_function(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:lambda:{region}:{account_id}:function:{name}"


def log_group(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"


def cloudwatch_alarm(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{name}"


def codedeploy(partition: str, region: str, account_id: str, resource: str) -> str:
    """A CodeDeploy resource: `application:<app>`, `deploymentgroup:<app>/<group>` or
    `deploymentconfig:<name>`."""
    return f"arn:{partition}:codedeploy:{region}:{account_id}:{resource}"


def codecommit_repository(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:codecommit:{region}:{account_id}:{name}"
