"""The built-in action type catalogue, a custom action's URL and a deploy action's targets."""

from __future__ import annotations

import datetime

from xrdeploy_local_cloud.codepipeline import catalogue
from xrdeploy_local_cloud.codepipeline.custom_action import execution_url
from xrdeploy_local_cloud.codepipeline.deploy_targets import target_view
from xrdeploy_local_cloud.codepipeline.engine import HANDLERS

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def test_every_type_the_engine_runs_is_in_the_catalogue() -> None:
    for category, owner, provider in HANDLERS:
        assert catalogue.find(category, owner, provider, "1") is not None


def test_the_catalogue_has_no_duplicate_type() -> None:
    ids = [(b.category, b.owner, b.provider) for b in catalogue.BUILTIN]
    assert len(ids) == len(set(ids))


def test_a_listed_type_has_the_api_shape() -> None:
    codedeploy = catalogue.find("Deploy", "AWS", "CodeDeploy", "1")
    assert codedeploy is not None
    listed = catalogue.listed(codedeploy)
    assert listed["id"] == {
        "category": "Deploy",
        "owner": "AWS",
        "provider": "CodeDeploy",
        "version": "1",
    }
    assert listed["inputArtifactDetails"] == {"minimumCount": 1, "maximumCount": 1}
    names = {p["name"]: p["required"] for p in listed["actionConfigurationProperties"]}
    assert names == {"ApplicationName": True, "DeploymentGroupName": True}


def test_a_declared_type_marks_secrets_no_echo() -> None:
    github = catalogue.find("Source", "ThirdParty", "GitHub", "1")
    assert github is not None
    properties = {p["name"]: p for p in catalogue.declaration(github)["properties"]}
    assert properties["OAuthToken"]["noEcho"] is True
    assert properties["PollForSourceChanges"]["optional"] is True


def test_only_version_1_of_a_builtin_exists() -> None:
    assert catalogue.find("Source", "AWS", "S3", "2") is None


def test_the_execution_url_fills_the_template() -> None:
    url = execution_url(
        "https://ci/{Config:Project}/{ExternalExecutionId}", "run-1", {"Project": "web"}
    )
    assert url == "https://ci/web/run-1"


def test_a_codedeploy_instance_target_becomes_a_deploy_action_target() -> None:
    target = {
        "deploymentTargetType": "InstanceTarget",
        "instanceTarget": {
            "targetId": "i-0123",
            "status": "Failed",
            "lifecycleEvents": [
                {
                    "lifecycleEventName": "BeforeInstall",
                    "status": "Succeeded",
                    "startTime": T0,
                    "endTime": T0 + datetime.timedelta(seconds=1),
                },
                {
                    "lifecycleEventName": "AfterInstall",
                    "status": "Failed",
                    "startTime": T0 + datetime.timedelta(seconds=2),
                    "endTime": T0 + datetime.timedelta(seconds=3),
                    "diagnostics": {"message": "Script at specified location failed"},
                },
            ],
        },
    }
    view = target_view(target)
    assert view["targetId"] == "i-0123"
    assert view["status"] == "Failed"
    assert view["startTime"] == T0
    assert view["endTime"] == T0 + datetime.timedelta(seconds=3)
    assert [e["name"] for e in view["events"]] == ["BeforeInstall", "AfterInstall"]
    assert view["events"][1]["context"] == {"message": "Script at specified location failed"}
    assert "context" not in view["events"][0]
