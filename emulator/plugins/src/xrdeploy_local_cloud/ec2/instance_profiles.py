"""EC2 finds instance profiles in LocalStack's IAM, where IAM calls create them.

LocalStack's IAM is native (``localstack.services.iam``), but EC2 falls through to moto, whose
``filter_iam_instance_profiles`` looks in moto's own IAM backend, which nothing fills: every
RunInstances with ``IamInstanceProfile`` failed with ``NoSuchEntity``. The lookup here reads
LocalStack's IAM store instead, and refuses an unknown profile with the error AWS gives
(``InvalidParameterValue``, "... Invalid IAM Instance Profile name"), on which the AWS provider
retries while a new profile propagates.

moto's modules import the function by name, so each of them gets the replacement. An
association also sets the instance's ``IamInstanceProfile`` to the profile's ARN and id (moto
put the association's id there; AWS shows the profile's). moto's RunInstances associates the
profile with the reservation's first instance only; as on AWS, every instance the call launches
gets it (its own association, so DescribeIamInstanceProfileAssociations lists each one).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from localstack.utils.patch import Patch
from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.iam_instance_profile import IamInstanceProfileAssociation
from moto.ec2.responses.instances import InstanceResponse

FUNCTION = "filter_iam_instance_profiles"
# Where moto defines the lookup and where it imported it by name.
MODULES = (
    "moto.ec2.utils",
    "moto.ec2.responses.instances",
    "moto.ec2.models.iam_instance_profile",
)
# IAM is global: LocalStack keeps instance profiles in a cross-region attribute of the store,
# so any region's store of the account holds them.
STORE_REGION = "us-east-1"


@dataclass(frozen=True)
class InstanceProfile:
    """What moto's EC2 reads of a profile: ``arn`` and ``id`` (the association's
    ``IamInstanceProfile``), and the name."""

    arn: str
    id: str
    name: str


class InvalidInstanceProfile(EC2ClientError):
    def __init__(self, value: str, parameter: str, kind: str) -> None:
        super().__init__(
            "InvalidParameterValue",
            f"Value ({value}) for parameter iamInstanceProfile.{parameter} is invalid. "
            f"Invalid IAM Instance Profile {kind}",
        )


def _profiles(account_id: str) -> list[InstanceProfile]:
    from localstack.services.iam.models import iam_stores

    store = iam_stores[account_id][STORE_REGION]
    return [
        InstanceProfile(
            arn=entity.instance_profile["Arn"],
            id=entity.instance_profile["InstanceProfileId"],
            name=entity.instance_profile["InstanceProfileName"],
        )
        for entity in store.INSTANCE_PROFILES.values()
    ]


def find_instance_profile(
    account_id: str,
    partition: str,
    iam_instance_profile_arn: str | None,
    iam_instance_profile_name: str | None,
) -> InstanceProfile | None:
    """Same contract as moto's lookup: the profile by ARN and/or name (None when both are given
    and name different profiles); an unknown one is refused as AWS refuses it."""
    del partition  # one partition per LocalStack account store
    profiles = _profiles(account_id)
    by_name = by_arn = None
    if iam_instance_profile_name:
        by_name = next((p for p in profiles if p.name == iam_instance_profile_name), None)
        if by_name is None:
            raise InvalidInstanceProfile(iam_instance_profile_name, "name", "name")
    if iam_instance_profile_arn:
        by_arn = next((p for p in profiles if p.arn == iam_instance_profile_arn), None)
        if by_arn is None:
            raise InvalidInstanceProfile(iam_instance_profile_arn, "arn", "ARN")
    if by_name is not None and by_arn is not None:
        return by_arn if by_arn == by_name else None
    return by_arn or by_name


_moto_association_init = IamInstanceProfileAssociation.__init__


def _association_init(
    self: Any,
    ec2_backend: Any,
    association_id: str,
    instance: Any,
    iam_instance_profile: InstanceProfile,
) -> None:
    # moto types its IAM's InstanceProfile here and reads only arn and id, which ours has.
    _moto_association_init(self, ec2_backend, association_id, instance, iam_instance_profile)  # type: ignore[arg-type]
    ec2_backend.modify_instance_attribute(
        instance.id,
        "iam_instance_profile",
        {"Arn": iam_instance_profile.arn, "Id": iam_instance_profile.id},
    )


def _run_instances(run_instances: Any, self: Any) -> ActionResult:
    """moto's RunInstances, then the profile for every instance after the first (moto's)."""
    result: ActionResult = run_instances(self)
    profile = {
        "iam_instance_profile_name": self._get_param("IamInstanceProfile.Name"),
        "iam_instance_profile_arn": self._get_param("IamInstanceProfile.Arn"),
    }
    if any(profile.values()):
        reservation: Any = result.result
        for instance in reservation.instances[1:]:
            self.ec2_backend.associate_iam_instance_profile(instance_id=instance.id, **profile)
    return result


def install() -> None:
    for name in MODULES:
        Patch(importlib.import_module(name), FUNCTION, find_instance_profile).apply()
    Patch(IamInstanceProfileAssociation, "__init__", _association_init).apply()
    Patch.function(InstanceResponse.run_instances, _run_instances).apply()
