"""The instance profile's credentials for the metadata service, obtained when an instance starts:
EC2 assumes the profile's role as ``ec2.amazonaws.com`` with the instance id as session name, so
the trust guard checks the role's trust policy as AWS does. Runs inside LocalStack only.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from xrdeploy_local_cloud.instances.spec import InstanceSpec

LOG = logging.getLogger(__name__)

SESSION_SECONDS = 6 * 3600  # what EC2 hands out; not refreshed while the instance runs


def _iso(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def instance_role_credentials(spec: InstanceSpec) -> dict[str, str] | None:
    """IMDS's ``iam/security-credentials/<role>`` document, or None (logged) if not available."""
    if not spec.iam_role_name:
        return None
    from localstack.aws.connect import connect_to

    try:
        iam = connect_to(
            aws_access_key_id=spec.account_id, aws_secret_access_key="test", region_name=spec.region
        ).iam
        role_arn = iam.get_role(RoleName=spec.iam_role_name)["Role"]["Arn"]
        sts = connect_to(region_name=spec.region).sts.request_metadata(service_principal="ec2")
        issued = sts.assume_role(
            RoleArn=role_arn, RoleSessionName=spec.instance_id, DurationSeconds=SESSION_SECONDS
        )["Credentials"]
    except Exception as error:  # any failure only costs the instance its credentials
        LOG.warning(
            "instance %s gets no role credentials (role %s): %s",
            spec.instance_id,
            spec.iam_role_name,
            error,
        )
        return None
    return {
        "Code": "Success",
        "LastUpdated": _iso(datetime.datetime.now(datetime.UTC)),
        "Type": "AWS-HMAC",
        "AccessKeyId": issued["AccessKeyId"],
        "SecretAccessKey": issued["SecretAccessKey"],
        "Token": issued["SessionToken"],
        "Expiration": _iso(issued["Expiration"]),
    }
