"""The state-change events the local CodeDeploy sends to EventBridge, in AWS's shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from xrdeploy_local_cloud.codedeploy import control, deployments, events, model

ACCOUNT, REGION = "111111111111", "us-west-2"


class NoInstances:
    """A cloud whose group selects no instance: the deployment fails with NO_INSTANCES."""

    def unsupported_reason(self) -> str | None:
        return None

    def instances(self, state: model.RegionState, group: model.DeploymentGroup) -> list[Any]:
        return []

    def alarms_in_alarm(self, state: model.RegionState, names: Any) -> list[str]:
        return []

    def instance(self, spec: Any) -> Any:
        raise AssertionError("no instance is selected, so none is asked for")

    def bundle(self, state: model.RegionState, revision: dict[str, Any], spec: Any) -> bytes:
        raise AssertionError("no instance is selected, so no bundle is fetched")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    entries: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(events, "sink", lambda a, r, e: entries.append((a, r, e)))
    yield entries


def _state() -> model.RegionState:
    state = model.RegionState(account_id=ACCOUNT, region=REGION)
    control.create_application(state, {"applicationName": "app"})
    settings = {"deploymentConfigName": "CodeDeployDefault.AllAtOnce"}
    state.groups[("app", "group")] = model.DeploymentGroup("app", "group", settings)
    return state


def test_a_failed_deployment_sends_start_then_failure(sent: list[Any]) -> None:
    state = _state()
    revision = {
        "revisionType": "S3",
        "s3Location": {"bucket": "b", "key": "k", "bundleType": "zip"},
    }
    request = {"applicationName": "app", "deploymentGroupName": "group", "revision": revision}
    deployment_id = deployments.create_deployment(state, request, NoInstances())["deploymentId"]
    assert state.deployments[deployment_id].finished.wait(30)
    group_id = state.groups[("app", "group")].group_id
    details = [json.loads(entry["Detail"]) for _, _, entry in sent]
    assert [d["state"] for d in details] == ["START", "FAILURE"]
    assert details[1] == {
        "region": REGION,
        "deploymentId": deployment_id,
        "instanceGroupId": group_id,
        "deploymentGroup": "group",
        "application": "app",
        "state": "FAILURE",
    }
    account, region, entry = sent[1]
    assert (account, region) == (ACCOUNT, REGION)
    assert entry["Source"] == "aws.codedeploy"
    assert entry["DetailType"] == "CodeDeploy Deployment State-change Notification"
    assert entry["Resources"] == [
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:app/group",
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:app",
    ]


def test_instance_events_name_the_instance_and_skip_what_never_ran(sent: list[Any]) -> None:
    state = _state()
    group = state.groups[("app", "group")]
    deployment = model.Deployment("d-1", "app", "group", group.group_id, "x", {})
    record = model.InstanceRecord("i-1", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-1", "t3.micro")
    for status in ("InProgress", "Succeeded", "Skipped"):
        events.instance_changed(state, deployment, record, status)
    assert [json.loads(e["Detail"])["state"] for _, _, e in sent] == ["START", "SUCCESS"]
    entry = sent[1][2]
    assert entry["DetailType"] == "CodeDeploy Instance State-change Notification"
    assert json.loads(entry["Detail"])["instanceId"] == "i-1"
    assert entry["Resources"][-1] == record.arn
