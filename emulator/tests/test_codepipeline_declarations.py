"""Pipeline declarations of the local CodePipeline: AWS's defaults and structure rules."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from xrdeploy_local_cloud.codepipeline.declarations import (
    DeclarationError,
    artifact_store,
    normalized,
)


def _action(name: str, category: str, provider: str, **fields: Any) -> dict[str, Any]:
    type_id = {"category": category, "owner": "AWS", "provider": provider, "version": "1"}
    return {"name": name, "actionTypeId": type_id, **fields}


def _pipeline(**fields: Any) -> dict[str, Any]:
    return {
        "name": "p",
        "roleArn": "arn:aws:iam::000000000000:role/r",
        "artifactStore": {"type": "S3", "location": "store"},
        "stages": [
            {
                "name": "Source",
                "actions": [_action("Source", "Source", "S3", outputArtifacts=[{"name": "Src"}])],
            },
            {
                "name": "Deploy",
                "actions": [
                    _action("Deploy", "Deploy", "CodeDeploy", inputArtifacts=[{"name": "Src"}])
                ],
            },
        ],
        **fields,
    }


def test_defaults_are_filled_in_as_aws_answers_them() -> None:
    result = normalized(_pipeline(), version=1)
    assert result["version"] == 1
    assert result["pipelineType"] == "V1"
    assert result["executionMode"] == "SUPERSEDED"
    source, deploy = (s["actions"][0] for s in result["stages"])
    assert (source["runOrder"], source["inputArtifacts"]) == (1, [])
    assert (deploy["runOrder"], deploy["outputArtifacts"]) == (1, [])
    assert "configuration" not in deploy


def test_given_values_are_kept_and_the_input_is_not_changed() -> None:
    given = _pipeline(pipelineType="V2", executionMode="QUEUED", variables=[{"name": "v"}])
    given["stages"][1]["actions"][0]["runOrder"] = 3
    before = copy.deepcopy(given)
    result = normalized(given, version=4)
    assert given == before
    assert (result["pipelineType"], result["executionMode"]) == ("V2", "QUEUED")
    assert result["variables"] == [{"name": "v"}]
    assert result["stages"][1]["actions"][0]["runOrder"] == 3
    assert normalized(result, version=4) == result


def _broken(change: str) -> dict[str, Any]:
    pipeline = _pipeline()
    if change == "one stage":
        pipeline["stages"] = pipeline["stages"][:1]
    elif change == "deploy first":
        pipeline["stages"].reverse()
    elif change == "unknown input":
        pipeline["stages"][1]["actions"][0]["inputArtifacts"] = [{"name": "Other"}]
    elif change == "queued V1":
        pipeline["executionMode"] = "QUEUED"
    elif change == "duplicate stage":
        pipeline["stages"][1]["name"] = "Source"
    return pipeline


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("one stage", "Pipeline has only 1 stage(s)"),
        ("deploy first", "must contain only source actions"),
        ("unknown input", "Input Artifact Bundle Other in action Deploy is not declared"),
        ("queued V1", "Execution mode QUEUED is only supported for pipelines of type V2"),
        ("duplicate stage", "Stage name 'Source' is used more than once"),
    ],
)
def test_invalid_structures_are_refused(change: str, message: str) -> None:
    with pytest.raises(DeclarationError, match=re.escape(message)) as refused:
        normalized(_broken(change), version=1)
    assert refused.value.code == "InvalidStructureException"


def test_the_artifact_store_of_a_single_region_pipeline() -> None:
    assert artifact_store(_pipeline(), "eu-west-1") == {"type": "S3", "location": "store"}


def test_the_artifact_store_of_a_cross_region_pipeline() -> None:
    pipeline = _pipeline()
    del pipeline["artifactStore"]
    pipeline["artifactStores"] = {
        "us-east-1": {"type": "S3", "location": "a"},
        "eu-west-1": {"type": "S3", "location": "b"},
    }
    assert artifact_store(pipeline, "eu-west-1")["location"] == "b"
