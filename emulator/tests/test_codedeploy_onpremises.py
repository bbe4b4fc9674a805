"""On-premises instances: registration, tags, listing and which groups select them."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from xrdeploy_local_cloud.codedeploy import model, onpremises
from xrdeploy_local_cloud.kit.errors import ServiceError

USER = "arn:aws:iam::111111111111:user/agents/web-1"
SESSION = "arn:aws:sts::111111111111:assumed-role/onprem/web-2"


@pytest.fixture
def state() -> model.RegionState:
    state = model.RegionState(account_id="111111111111", region="us-west-2")
    onpremises.register(state, {"instanceName": "web-1", "iamUserArn": USER})
    return state


def _code(call: object, state: model.RegionState, request: Mapping[str, object]) -> str:
    with pytest.raises(ServiceError) as raised:
        call(state, request)  # type: ignore[operator]
    return raised.value.code


def test_a_registered_instance_reads_back_with_its_arn_and_identity(
    state: model.RegionState,
) -> None:
    info = onpremises.get(state, {"instanceName": "web-1"})["instanceInfo"]
    prefix = "arn:aws:codedeploy:us-west-2:111111111111:instance/web-1_"
    assert info["instanceArn"].startswith(prefix)
    assert len(info["instanceArn"]) == len(prefix) + 10
    assert info["iamUserArn"] == USER
    assert info["tags"] == []
    assert "deregisterTime" not in info


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"iamUserArn": USER}, "InstanceNameRequiredException"),
        ({"instanceName": "a/b", "iamUserArn": USER}, "InvalidInstanceNameException"),
        ({"instanceName": "x"}, "IamArnRequiredException"),
        (
            {"instanceName": "x", "iamUserArn": USER, "iamSessionArn": SESSION},
            "MultipleIamArnsProvidedException",
        ),
        (
            {"instanceName": "x", "iamUserArn": "arn:aws:iam::1:role/r"},
            "InvalidIamUserArnException",
        ),
        ({"instanceName": "x", "iamSessionArn": USER}, "InvalidIamSessionArnException"),
        (
            {"instanceName": "web-1", "iamSessionArn": SESSION},
            "InstanceNameAlreadyRegisteredException",
        ),
        ({"instanceName": "x", "iamUserArn": USER}, "IamUserArnAlreadyRegisteredException"),
    ],
)
def test_registration_is_refused_as_aws_refuses_it(
    state: model.RegionState, request_: dict[str, object], code: str
) -> None:
    assert _code(onpremises.register, state, request_) == code


def test_a_session_arn_registers_once(state: model.RegionState) -> None:
    onpremises.register(state, {"instanceName": "web-2", "iamSessionArn": SESSION})
    request = {"instanceName": "web-3", "iamSessionArn": SESSION}
    assert _code(onpremises.register, state, request) == "IamSessionArnAlreadyRegisteredException"


def test_a_deregistered_instance_stays_visible_and_is_no_longer_selected(
    state: model.RegionState,
) -> None:
    onpremises.add_tags(
        state, {"instanceNames": ["web-1"], "tags": [{"Key": "Stage", "Value": "alpha"}]}
    )
    group = model.DeploymentGroup(
        "app",
        "g",
        {
            "onPremisesInstanceTagFilters": [
                {"Key": "Stage", "Value": "alpha", "Type": "KEY_AND_VALUE"}
            ]
        },
    )
    assert [i.name for i in onpremises.selected(state, group)] == ["web-1"]

    onpremises.deregister(state, {"instanceName": "web-1"})
    onpremises.deregister(state, {"instanceName": "never-registered"})  # no error, as on AWS

    assert onpremises.selected(state, group) == []
    assert "deregisterTime" in onpremises.get(state, {"instanceName": "web-1"})["instanceInfo"]
    listed = onpremises.list_instances(state, {"registrationStatus": "Deregistered"})
    assert listed["instanceNames"] == ["web-1"]
    assert (
        onpremises.list_instances(state, {"registrationStatus": "Registered"})["instanceNames"]
        == []
    )
    # The name stays taken; the identity is free for another instance.
    again = {"instanceName": "web-1", "iamUserArn": USER}
    assert _code(onpremises.register, state, again) == "InstanceNameAlreadyRegisteredException"
    onpremises.register(state, {"instanceName": "web-9", "iamUserArn": USER})


def test_tags_filter_the_listing_and_come_off_by_key(state: model.RegionState) -> None:
    onpremises.register(state, {"instanceName": "db-1", "iamSessionArn": SESSION})
    onpremises.add_tags(
        state,
        {"instanceNames": ["web-1", "db-1"], "tags": [{"Key": "Stage", "Value": "alpha"}]},
    )
    onpremises.add_tags(
        state, {"instanceNames": ["db-1"], "tags": [{"Key": "Role", "Value": "db"}]}
    )
    by_role = onpremises.list_instances(
        state, {"tagFilters": [{"Key": "Role", "Type": "KEY_ONLY"}]}
    )
    assert by_role["instanceNames"] == ["db-1"]
    assert onpremises.list_instances(state, {})["instanceNames"] == ["db-1", "web-1"]

    onpremises.remove_tags(state, {"instanceNames": ["db-1"], "tags": [{"Key": "Role"}]})
    infos = onpremises.batch_get(state, {"instanceNames": ["db-1", "unknown"]})["instanceInfos"]
    assert [info["tags"] for info in infos] == [[{"Key": "Stage", "Value": "alpha"}]]


@pytest.mark.parametrize(
    ("call", "request_", "code"),
    [
        (onpremises.add_tags, {"instanceNames": ["web-1"]}, "TagRequiredException"),
        (onpremises.add_tags, {"tags": [{"Key": "k"}]}, "InstanceNameRequiredException"),
        (
            onpremises.add_tags,
            {"instanceNames": ["web-1"], "tags": [{"Value": "v"}]},
            "InvalidTagException",
        ),
        (
            onpremises.remove_tags,
            {"instanceNames": ["nope"], "tags": [{"Key": "k"}]},
            "InstanceNotRegisteredException",
        ),
        (
            onpremises.add_tags,
            {"instanceNames": ["web-1"], "tags": [{"Key": f"k{i}"} for i in range(11)]},
            "TagLimitExceededException",
        ),
        (onpremises.get, {"instanceName": "nope"}, "InstanceNotRegisteredException"),
        (onpremises.batch_get, {}, "InstanceNameRequiredException"),
        (
            onpremises.batch_get,
            {"instanceNames": [f"n{i}" for i in range(101)]},
            "BatchLimitExceededException",
        ),
        (
            onpremises.list_instances,
            {"registrationStatus": "Gone"},
            "InvalidRegistrationStatusException",
        ),
        (
            onpremises.list_instances,
            {"tagFilters": [{"Key": "k", "Type": "ANY"}]},
            "InvalidTagFilterException",
        ),
        (onpremises.list_instances, {"nextToken": "x"}, "InvalidNextTokenException"),
    ],
)
def test_tag_and_read_calls_answer_awss_errors(
    state: model.RegionState, call: object, request_: dict[str, object], code: str
) -> None:
    assert _code(call, state, request_) == code


def test_a_tag_set_needs_every_group_matched(state: model.RegionState) -> None:
    onpremises.add_tags(
        state, {"instanceNames": ["web-1"], "tags": [{"Key": "Stage", "Value": "alpha"}]}
    )
    stage = [{"Key": "Stage", "Value": "alpha", "Type": "KEY_AND_VALUE"}]
    role = [{"Key": "Role", "Type": "KEY_ONLY"}]
    both = model.DeploymentGroup(
        "app", "g", {"onPremisesTagSet": {"onPremisesTagSetList": [stage, role]}}
    )
    one = model.DeploymentGroup("app", "h", {"onPremisesTagSet": {"onPremisesTagSetList": [stage]}})
    ec2_only = model.DeploymentGroup("app", "i", {"ec2TagFilters": stage})
    assert onpremises.selected(state, both) == []
    assert [i.name for i in onpremises.selected(state, one)] == ["web-1"]
    assert onpremises.selected(state, ec2_only) == []
