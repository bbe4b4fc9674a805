"""CodeConnections' operations on one account and region (``codeconnections.api``)."""

from __future__ import annotations

import pytest

from xrdeploy_local_cloud.codeconnections import api
from xrdeploy_local_cloud.codeconnections.model import RegionState, parse_arn
from xrdeploy_local_cloud.kit.errors import ServiceError

ACCOUNT, REGION = "111111111111", "eu-west-1"


@pytest.fixture
def state() -> RegionState:
    return RegionState(ACCOUNT, REGION)


def _create(state: RegionState, prefix: str = "codeconnections", **extra: object) -> str:
    request = {"ConnectionName": "app", "ProviderType": "GitHub", **extra}
    return str(api.create_connection(prefix, state, request)["ConnectionArn"])


def test_a_new_connection_is_available_and_read_back(state: RegionState) -> None:
    arn = _create(state, Tags=[{"Key": "team", "Value": "web"}])
    assert arn.startswith(f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/")
    assert api.get_connection(state, {"ConnectionArn": arn})["Connection"] == {
        "ConnectionName": "app",
        "ConnectionArn": arn,
        "ProviderType": "GitHub",
        "OwnerAccountId": ACCOUNT,
        "ConnectionStatus": "AVAILABLE",
    }
    assert api.list_tags_for_resource(state, {"ResourceArn": arn}) == {
        "Tags": [{"Key": "team", "Value": "web"}]
    }


def test_either_apis_arn_finds_the_connection(state: RegionState) -> None:
    arn = _create(state, "codestar-connections")
    assert arn.startswith("arn:aws:codestar-connections:")
    other = arn.replace("codestar-connections", "codeconnections", 1)
    assert api.get_connection(state, {"ConnectionArn": other})["Connection"]["ConnectionArn"] == arn
    assert parse_arn(arn) == (REGION, ACCOUNT, arn.rsplit("/", 1)[1])


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"ConnectionName": "", "ProviderType": "GitHub"}, "ValidationException"),
        ({"ConnectionName": "x" * 33, "ProviderType": "GitHub"}, "ValidationException"),
        ({"ConnectionName": "app"}, "ValidationException"),
        ({"ConnectionName": "app", "ProviderType": "Perforce"}, "ValidationException"),
    ],
)
def test_create_refuses_what_the_api_reference_refuses(
    state: RegionState, request_: dict[str, str], code: str
) -> None:
    with pytest.raises(ServiceError) as refused:
        api.create_connection("codeconnections", state, dict(request_))
    assert refused.value.code == code


def test_list_filters_and_pages(state: RegionState) -> None:
    arns = [_create(state) for _ in range(3)]
    api.create_connection(
        "codeconnections", state, {"ConnectionName": "lab", "ProviderType": "GitLab"}
    )
    first = api.list_connections(state, {"ProviderTypeFilter": "GitHub", "MaxResults": 2})
    rest = api.list_connections(
        state, {"ProviderTypeFilter": "GitHub", "NextToken": first["NextToken"]}
    )
    listed = [c["ConnectionArn"] for c in first["Connections"] + rest["Connections"]]
    assert listed == arns
    assert "NextToken" not in rest


def test_delete_then_get_is_not_found(state: RegionState) -> None:
    arn = _create(state)
    assert api.delete_connection(state, {"ConnectionArn": arn}) == {}
    with pytest.raises(ServiceError) as missing:
        api.get_connection(state, {"ConnectionArn": arn})
    assert missing.value.code == "ResourceNotFoundException"


def test_another_accounts_arn_is_not_found_here(state: RegionState) -> None:
    arn = _create(state).replace(ACCOUNT, "222222222222")
    with pytest.raises(ServiceError):
        api.get_connection(state, {"ConnectionArn": arn})


def test_tag_and_untag(state: RegionState) -> None:
    arn = _create(state)
    api.tag_resource(state, {"ResourceArn": arn, "Tags": [{"Key": "a", "Value": "1"}]})
    api.tag_resource(state, {"ResourceArn": arn, "Tags": [{"Key": "b", "Value": "2"}]})
    api.untag_resource(state, {"ResourceArn": arn, "TagKeys": ["a"]})
    assert api.list_tags_for_resource(state, {"ResourceArn": arn})["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]
