"""The structure rules of V2 triggers (``codepipeline.trigger_rules``)."""

from __future__ import annotations

from typing import Any

import pytest

from xrdeploy_local_cloud.codepipeline.trigger_rules import problem


def _pipeline(*triggers: dict[str, Any], kind: str = "V2") -> dict[str, Any]:
    source = {
        "name": "Source",
        "actionTypeId": {"provider": "CodeStarSourceConnection"},
    }
    bucket = {"name": "Bucket", "actionTypeId": {"provider": "S3"}}
    return {
        "pipelineType": kind,
        "stages": [{"name": "Source", "actions": [source, bucket]}],
        "triggers": list(triggers),
    }


def _trigger(action: str = "Source", **git: Any) -> dict[str, Any]:
    return {
        "providerType": "CodeStarSourceConnection",
        "gitConfiguration": {"sourceActionName": action, **git},
    }


MAIN = {"branches": {"includes": ["main"]}}


def test_a_push_trigger_on_a_connection_action_is_accepted() -> None:
    with_paths = {**MAIN, "filePaths": {"excludes": ["docs/**"]}}
    assert problem(_pipeline(_trigger(push=[with_paths]))) is None
    assert problem(_pipeline()) is None


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (_pipeline(_trigger(push=[MAIN]), kind="V1"), "only supported for pipelines of type V2"),
        (_pipeline({**_trigger(push=[MAIN]), "providerType": "GitHub"}), "provider type must be"),
        (_pipeline(_trigger("Bucket", push=[MAIN])), "must be a CodeStarSourceConnection action"),
        (_pipeline(_trigger("Nope", push=[MAIN])), "must be a CodeStarSourceConnection action"),
        (_pipeline(_trigger(push=[MAIN] * 4)), "push must have 1 to 3 filters"),
        (_pipeline(_trigger(push=[{}])), "either branches or tags"),
        (_pipeline(_trigger(push=[{**MAIN, "tags": {"includes": ["v*"]}}])), "either branches"),
        (
            _pipeline(_trigger(push=[{"tags": {"includes": ["v*"]}, "filePaths": {}}])),
            "file paths can only be filtered with branches",
        ),
        (
            _pipeline(_trigger(push=[{"branches": {"includes": [f"b{i}" for i in range(9)]}}])),
            "branches.includes must have 1 to 8 patterns",
        ),
    ],
)
def test_what_the_api_refuses_is_named(pipeline: dict[str, Any], expected: str) -> None:
    found = problem(pipeline)
    assert found is not None and expected in found
