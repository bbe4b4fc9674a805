"""The engine's view of the rest of the local cloud (runs inside LocalStack only).

* Instances: the running EC2 instances of the group's account and region in LocalStack's EC2
  (moto's backend) that the group's ``ec2TagFilters`` (any filter matches) or ``ec2TagSet`` (every
  set has a matching filter) select, each backed by a local instance
  (:mod:`xrdeploy_local_cloud.instances.host`).
* Registered on-premises instances that the group's ``onPremisesInstanceTagFilters`` or
  ``onPremisesTagSet`` select, each backed by a local instance named after it, started by the
  first deployment that targets it (on AWS the user installs the agent on their own server).
* The bundle is read from LocalStack's S3 with the instance role's credentials, the ones the
  instance's metadata service hands out (EC2 assumes the profile's role as ``ec2.amazonaws.com``),
  as the real agent downloads with its instance profile; an instance without a profile gets the
  agent's "Missing credentials" error. An on-premises instance's agent uses the registered IAM
  identity, as its ``codedeploy.onpremises.yml`` would: an access key of the IAM user (created
  once, as the user would have done for the agent), or the session of the IAM session ARN
  (the role assumed as the account, as the session helper would with its own credentials).
* Alarms: the group's CloudWatch alarms, read from LocalStack's CloudWatch as CodeDeploy polls
  them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from xrdeploy_local_cloud.codedeploy import model, onpremises, tagfilters

if TYPE_CHECKING:
    from xrdeploy_local_cloud.instances.host import InstanceHost

# Each local instance has a network namespace of its own, so every on-premises one can have the
# same address on its LAN.
ON_PREMISES_ADDRESS = "192.168.0.10"


def _on_premises_credentials(
    state: model.RegionState, instance: model.OnPremisesInstance
) -> dict[str, str]:
    """The credentials an on-premises agent is configured with, for its registered identity."""
    from localstack.aws.connect import connect_to

    # The account's own credentials (a 12-digit key is the account's root in the local cloud).
    clients = connect_to(
        aws_access_key_id=state.account_id, aws_secret_access_key="test", region_name=state.region
    )
    if instance.iam_user_arn:
        user = instance.iam_user_arn.rsplit("/", 1)[-1]
        key = clients.iam.create_access_key(UserName=user)["AccessKey"]
        return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    _, role, session = str(instance.iam_session_arn).rsplit("/", 2)
    role_arn = clients.iam.get_role(RoleName=role)["Role"]["Arn"]
    issued = clients.sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return {
        "AccessKeyId": issued["AccessKeyId"],
        "SecretAccessKey": issued["SecretAccessKey"],
        "Token": issued["SessionToken"],
    }


class LocalStackCloud:
    """:class:`.engine.Cloud` backed by LocalStack's services and the local instance host."""

    def __init__(self) -> None:
        self._agent_keys: dict[str, dict[str, str]] = {}  # on-premises instance ARN → user's key

    def unsupported_reason(self) -> str | None:
        reason: str | None = self._host().unsupported_reason()
        return reason

    def _host(self) -> InstanceHost:
        from xrdeploy_local_cloud.instances.host import local_instances

        return local_instances()

    def instances(self, state: model.RegionState, group: model.DeploymentGroup) -> Sequence[Any]:
        from moto.ec2.models import ec2_backends

        from xrdeploy_local_cloud.ec2.instance_specs import spec_of

        backend = ec2_backends[state.account_id][state.region]
        specs = []
        for reservation in list(backend.reservations.values()):
            for instance in reservation.instances:
                if instance.state != "running":
                    continue
                spec = spec_of(backend, instance)
                if tagfilters.selects_ec2(group.settings, dict(spec.tags)):
                    specs.append(spec)
        return [*specs, *self._on_premises(state, group)]

    def _on_premises(self, state: model.RegionState, group: model.DeploymentGroup) -> list[Any]:
        from xrdeploy_local_cloud.instances.spec import InstanceSpec

        return [
            InstanceSpec(
                instance_id=instance.name,
                account_id=state.account_id,
                region=state.region,
                availability_zone="",
                private_ip=ON_PREMISES_ADDRESS,
                instance_type="",
                image_id="",
                tags=dict(instance.tags),
                iam_role_name=None,  # no instance profile: the agent has its own credentials
            )
            for instance in onpremises.selected(state, group)
        ]

    def instance(self, spec: Any) -> Any:
        from xrdeploy_local_cloud.instances.spec import InstanceError

        if spec.platform == "windows":
            raise InstanceError(
                f"{spec.instance_id} runs Windows (image {spec.image_id}); the local cloud "
                "runs Linux instances only"
            )
        return self._host().instance(spec)

    def _agent_credentials(
        self, state: model.RegionState, instance: model.OnPremisesInstance
    ) -> dict[str, str]:
        known = self._agent_keys.get(instance.arn)
        if known is not None:
            return known
        credentials = _on_premises_credentials(state, instance)
        if instance.iam_user_arn:  # the user's key stays in the agent's configuration
            self._agent_keys[instance.arn] = credentials
        return credentials

    def bundle(self, state: model.RegionState, revision: dict[str, Any], spec: Any) -> bytes:
        from localstack.aws.connect import connect_to

        from xrdeploy_local_cloud.instances.credentials import instance_role_credentials

        on_premises = state.on_premises.get(spec.instance_id)
        credentials = (
            self._agent_credentials(state, on_premises)
            if on_premises is not None
            else instance_role_credentials(spec)
        )
        if credentials is None:
            raise RuntimeError(
                "Missing credentials - please check if this instance was started with an IAM "
                "instance profile"
            )
        s3 = connect_to(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("Token"),
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
