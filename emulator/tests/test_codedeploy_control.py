"""The control plane answers with AWS's defaults, so Terraform reads back what it wrote."""

from __future__ import annotations

import pytest

from xrdeploy_local_cloud.codedeploy import control, model
from xrdeploy_local_cloud.kit.errors import ServiceError

ROLE = "arn:aws:iam::111111111111:role/codedeploy"


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> model.RegionState:
    # The role check reads LocalStack's IAM store; the integration tier covers it.
    monkeypatch.setattr(control, "_check_role", lambda arn: None)
    state = model.RegionState(account_id="111111111111", region="us-west-2")
    control.create_application(
        state, {"applicationName": "app", "tags": [{"Key": "k", "Value": "v"}]}
    )
    return state


def _group(state: model.RegionState, **settings: object) -> dict[str, object]:
    request = {"applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": ROLE}
    control.create_deployment_group(state, {**request, **settings})
    answer = control.get_deployment_group(
        state, {"applicationName": "app", "deploymentGroupName": "g"}
    )
    info: dict[str, object] = answer["deploymentGroupInfo"]
    return info


def test_a_plain_group_reads_back_with_awss_defaults(state: model.RegionState) -> None:
    info = _group(state, loadBalancerInfo={})
    assert info["deploymentStyle"] == {
        "deploymentType": "IN_PLACE",
        "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
    }
    assert info["deploymentConfigName"] == "CodeDeployDefault.OneAtATime"
    assert info["alarmConfiguration"] == {
        "enabled": False,
        "ignorePollAlarmFailure": False,
        "alarms": [],
    }
    assert "loadBalancerInfo" not in info and "autoRollbackConfiguration" not in info
    assert info["ec2TagFilters"] == [] and info["autoScalingGroups"] == []


def test_an_update_changes_only_what_it_names_and_can_rename(state: model.RegionState) -> None:
    rollback = {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}
    _group(
        state,
        autoRollbackConfiguration=rollback,
        deploymentConfigName="CodeDeployDefault.AllAtOnce",
    )
    group_arn = state.arn("deploymentgroup:app/g")
    control.tag_resource(
        state, {"ResourceArn": group_arn, "Tags": [{"Key": "Stage", "Value": "a"}]}
    )
    control.update_deployment_group(
        state,
        {
            "applicationName": "app",
            "currentDeploymentGroupName": "g",
            "newDeploymentGroupName": "h",
            "deploymentConfigName": "CodeDeployDefault.HalfAtATime",
        },
    )
    info = control.get_deployment_group(
        state, {"applicationName": "app", "deploymentGroupName": "h"}
    )["deploymentGroupInfo"]
    assert info["deploymentConfigName"] == "CodeDeployDefault.HalfAtATime"
    assert info["autoRollbackConfiguration"] == rollback
    tags = control.list_tags_for_resource(
        state, {"ResourceArn": state.arn("deploymentgroup:app/h")}
    )
    assert tags["Tags"] == [{"Key": "Stage", "Value": "a"}]
    with pytest.raises(ServiceError, match="No Deployment Group found for name: g"):
        control.get_deployment_group(state, {"applicationName": "app", "deploymentGroupName": "g"})


def test_an_unknown_deployment_config_is_refused(state: model.RegionState) -> None:
    with pytest.raises(ServiceError) as raised:
        _group(state, deploymentConfigName="Nope")
    assert raised.value.code == "DeploymentConfigDoesNotExistException"


def test_custom_deployment_configs(state: model.RegionState) -> None:
    request = {
        "deploymentConfigName": "ThreeQuarters",
        "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 75},
    }
    control.create_deployment_config(state, request)
    info = control.get_deployment_config(state, {"deploymentConfigName": "ThreeQuarters"})[
        "deploymentConfigInfo"
    ]
    assert info["minimumHealthyHosts"] == {"type": "FLEET_PERCENT", "value": 75}
    assert "ThreeQuarters" in control.list_deployment_configs(state, {})["deploymentConfigsList"]
    with pytest.raises(ServiceError, match="between 0 and 99"):
        control.create_deployment_config(
            state,
            {
                "deploymentConfigName": "All",
                "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 100},
            },
        )
    with pytest.raises(ServiceError, match="predefined"):
        control.delete_deployment_config(
            state, {"deploymentConfigName": "CodeDeployDefault.AllAtOnce"}
        )
    control.delete_deployment_config(state, {"deploymentConfigName": "ThreeQuarters"})


def test_deleting_an_application_deletes_its_groups_and_tags(state: model.RegionState) -> None:
    _group(state)
    control.delete_application(state, {"applicationName": "app"})
    assert state.groups == {} and state.tags == {}
    with pytest.raises(ServiceError, match="No application found for name: app"):
        control.get_application(state, {"applicationName": "app"})
