"""RunInstances with an instance profile: every instance the call launches gets its own
association, as on AWS (moto associates the reservation's first instance only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult

from xrdeploy_local_cloud.ec2 import instance_profiles


@dataclass
class _Instance:
    id: str


@dataclass
class _Reservation:
    instances: list[_Instance]


@dataclass
class _Backend:
    associated: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def associate_iam_instance_profile(
        self,
        instance_id: str,
        iam_instance_profile_name: str | None = None,
        iam_instance_profile_arn: str | None = None,
    ) -> None:
        self.associated.append((instance_id, iam_instance_profile_name, iam_instance_profile_arn))


@dataclass
class _Response:
    params: dict[str, str]
    ec2_backend: _Backend = field(default_factory=_Backend)

    def _get_param(self, name: str) -> str | None:
        return self.params.get(name)


def _moto_run_instances(response: Any) -> ActionResult:
    """moto's own answer: the first instance associated, the others not."""
    reservation = _Reservation([_Instance("i-1"), _Instance("i-2"), _Instance("i-3")])
    response.ec2_backend.associate_iam_instance_profile(
        "i-1", iam_instance_profile_name=response._get_param("IamInstanceProfile.Name")
    )
    return ActionResult(reservation)


def test_every_instance_of_the_call_gets_the_profile() -> None:
    response = _Response({"IamInstanceProfile.Name": "web"})
    result = instance_profiles._run_instances(_moto_run_instances, response)
    assert [i.id for i in result.result.instances] == ["i-1", "i-2", "i-3"]  # type: ignore[attr-defined]
    assert response.ec2_backend.associated == [
        ("i-1", "web", None),
        ("i-2", "web", None),
        ("i-3", "web", None),
    ]


def test_instances_launched_without_a_profile_get_none() -> None:
    def moto_without_profile(response: Any) -> ActionResult:
        return ActionResult(_Reservation([_Instance("i-1"), _Instance("i-2")]))

    response = _Response({})
    instance_profiles._run_instances(moto_without_profile, response)
    assert response.ec2_backend.associated == []
