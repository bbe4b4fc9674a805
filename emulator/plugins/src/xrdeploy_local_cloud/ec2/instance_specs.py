"""What the local instance host needs to know of an EC2 instance in LocalStack's EC2 (moto's
backend): its :class:`~xrdeploy_local_cloud.instances.spec.InstanceSpec`, with the role of its
instance profile and its user data. Used at launch (:mod:`.boots`) and by CodeDeploy's engine."""

from __future__ import annotations

import logging
from typing import Any

from xrdeploy_local_cloud.instances.spec import InstanceSpec

LOG = logging.getLogger(__name__)
IAM_REGION = "us-east-1"  # IAM is global; LocalStack keeps it in cross-region attributes


def _role_name(account_id: str, backend: Any, instance_id: str) -> str | None:
    from localstack.services.iam.models import iam_stores

    association = backend.iam_instance_profile_associations.get(instance_id)
    profile = getattr(association, "iam_instance_profile", None)
    name = getattr(profile, "name", None)
    entity = iam_stores[account_id][IAM_REGION].INSTANCE_PROFILES.get(name or "")
    if entity is None:
        return None
    roles = entity.instance_profile.get("Roles") or []
    return entity.role_name or (roles[0]["RoleName"] if roles else None)


def _user_data(instance: Any) -> str:
    """The instance's user data as text; binary (gzip) user data is not run by the stand-in."""
    try:
        return str(instance.user_data.decode()) if instance.user_data else ""
    except (UnicodeDecodeError, ValueError):
        LOG.warning("user data of %s is not text; the local instance does not run it", instance.id)
        return ""


def spec_of(backend: Any, instance: Any) -> InstanceSpec:
    """The spec of ``instance`` of moto's EC2 ``backend`` (one account and region)."""
    account_id, region = backend.account_id, backend.region_name
    return InstanceSpec(
        instance_id=instance.id,
        account_id=account_id,
        region=region,
        availability_zone=instance._placement.zone or f"{region}a",
        private_ip=instance.private_ip or "",
        instance_type=instance.instance_type,
        image_id=instance.image_id,
        tags={t["key"]: t["value"] for t in instance.get_tags()},
        iam_role_name=_role_name(account_id, backend, instance.id),
        user_data=_user_data(instance),
        platform=instance.platform or "",
    )
