"""The engine's view of the rest of the local cloud (runs inside LocalStack only).

* Instances: the running EC2 instances of the group's account and region in LocalStack's EC2
  (moto's backend) that the group's ``ec2TagFilters`` (any filter matches) or ``ec2TagSet`` (every
  set has a matching filter) select, each backed by a local instance
  (:mod:`xrdeploy_local_cloud.instances.host`).
* The bundle is read from LocalStack's S3 with the instance role's credentials, the ones the
  instance's metadata service hands out (EC2 assumes the profile's role as ``ec2.amazonaws.com``),
  as the real agent downloads with its instance profile; an instance without a profile gets the
  agent's "Missing credentials" error.
* Alarms: the group's CloudWatch alarms, read from LocalStack's CloudWatch as CodeDeploy polls
  them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from xrdeploy_local_cloud.codedeploy import model

if TYPE_CHECKING:
    from xrdeploy_local_cloud.instances.host import InstanceHost

LOG = logging.getLogger(__name__)
IAM_REGION = "us-east-1"  # IAM is global; LocalStack keeps it in cross-region attributes


def _tag_filter_matches(tag_filter: dict[str, Any], tags: dict[str, str]) -> bool:
    key, value = tag_filter.get("Key"), tag_filter.get("Value")
    kind = tag_filter.get("Type") or "KEY_AND_VALUE"
    if kind == "KEY_ONLY":
        return key in tags
    if kind == "VALUE_ONLY":
        return value in tags.values()
    return key in tags and tags[key] == value


def selects(settings: dict[str, Any], tags: dict[str, str]) -> bool:
    """Whether a group's EC2 tag filters select an instance with these tags."""
    filters = settings.get("ec2TagFilters") or []
    tag_sets = (settings.get("ec2TagSet") or {}).get("ec2TagSetList") or []
    if filters:
        return any(_tag_filter_matches(f, tags) for f in filters)
    if tag_sets:
        return all(any(_tag_filter_matches(f, tags) for f in group) for group in tag_sets)
    return False


def _role_name(account_id: str, backend: Any, reservation: Any, instance_id: str) -> str | None:
    from localstack.services.iam.models import iam_stores

    associations = backend.iam_instance_profile_associations
    association = associations.get(instance_id)
    if association is None:
        # moto associates RunInstances' profile with the reservation's first instance only;
        # EC2 gives it to every instance the call launched.
        siblings = (associations.get(i.id) for i in reservation.instances)
        association = next((a for a in siblings if a is not None), None)
    profile = getattr(association, "iam_instance_profile", None)
    name = getattr(profile, "name", None)
    entity = iam_stores[account_id][IAM_REGION].INSTANCE_PROFILES.get(name or "")
    if entity is None:
        return None
    roles = entity.instance_profile.get("Roles") or []
    return entity.role_name or (roles[0]["RoleName"] if roles else None)


class LocalStackCloud:
    """:class:`.engine.Cloud` backed by LocalStack's services and the local instance host."""

    def unsupported_reason(self) -> str | None:
        return self._host().unsupported_reason()

    def _host(self) -> InstanceHost:
        from xrdeploy_local_cloud.instances.host import local_instances

        return local_instances()

    def instances(self, state: model.RegionState, group: model.DeploymentGroup) -> Sequence[Any]:
        from moto.ec2.models import ec2_backends

        from xrdeploy_local_cloud.instances.spec import InstanceSpec

        backend = ec2_backends[state.account_id][state.region]
        specs = []
        for reservation in list(backend.reservations.values()):
            for instance in reservation.instances:
                if instance.state != "running":
                    continue
                tags = {t["key"]: t["value"] for t in instance.get_tags()}
                if not selects(group.settings, tags):
                    continue
                specs.append(
                    InstanceSpec(
                        instance_id=instance.id,
                        account_id=state.account_id,
                        region=state.region,
                        availability_zone=instance._placement.zone or f"{state.region}a",
                        private_ip=instance.private_ip or "",
                        instance_type=instance.instance_type,
                        image_id=instance.image_id,
                        tags=tags,
                        iam_role_name=_role_name(
                            state.account_id, backend, reservation, instance.id
                        ),
                    )
                )
        return specs

    def instance(self, spec: Any) -> Any:
        return self._host().instance(spec)

    def bundle(self, state: model.RegionState, revision: dict[str, Any], spec: Any) -> bytes:
        from localstack.aws.connect import connect_to

        from xrdeploy_local_cloud.instances.credentials import instance_role_credentials

        credentials = instance_role_credentials(spec)
        if credentials is None:
            raise RuntimeError(
                "Missing credentials - please check if this instance was started with an IAM "
                "instance profile"
            )
        s3 = connect_to(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["Token"],
            region_name=state.region,
        ).s3
        location = revision["s3Location"]
        request = {"Bucket": location["bucket"], "Key": location["key"]}
        if location.get("version"):
            request["VersionId"] = location["version"]
        answer = s3.get_object(**request)
        expected = (location.get("eTag") or "").strip('"')
        if expected and expected != answer["ETag"].strip('"'):
            raise RuntimeError(
                f"Expected deployment artifact bundle etag {expected} but was actually "
                f"{answer['ETag']}"
            )
        return bytes(answer["Body"].read())

    def alarms_in_alarm(self, state: model.RegionState, names: Sequence[str]) -> list[str]:
        from localstack.aws.connect import connect_to

        cloudwatch = connect_to(
            aws_access_key_id=state.account_id,
            aws_secret_access_key="test",
            region_name=state.region,
        ).cloudwatch
        found = cloudwatch.describe_alarms(AlarmNames=list(names))
        alarms = [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]
        return [a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM"]
