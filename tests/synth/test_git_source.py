"""A Git source for the first stage (tests/configs/github_source.yaml, codecommit_source.yaml):
the Source action as CodePipeline names it, what starts the pipeline, the connection, the grants
on that one connection or repository, and the commit carried along by every Promote action."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.synth.tfjson import one, resources, statements
from xrdeploy.config.model import parse_config
from xrdeploy.config.target import DeployTarget
from xrdeploy.terraform.synth import synthesize

EXISTING = "arn:aws:codestar-connections:us-east-1:666666666666:connection/5f1c1b2e-0c4a-4b1d"


def reference(doc: dict[str, Any], kind: str) -> str:
    """The Terraform reference to the ARN of the stack's one resource of `kind`."""
    [name] = doc["resource"][kind]
    return f"${{{kind}.{name}.arn}}"


def pipeline(doc: dict[str, Any]) -> dict[str, Any]:
    return one(resources(doc, "aws_codepipeline"))


def stage(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in pipeline(doc)["stage"] if s["name"] == name)


def statement(doc: dict[str, Any], sid: str) -> dict[str, Any] | None:
    found = [s for s in statements(doc) if s["sid"] == sid]
    assert len(found) <= 1
    return found[0] if found else None


def promote_parameters(doc: dict[str, Any]) -> dict[str, Any]:
    [action] = stage(doc, "Promote")["action"]
    return dict(json.loads(action["configuration"]["UserParameters"]))


def test_github_source_reads_the_branch_through_the_connection_it_creates(synthesized):
    # GIVEN the first stage of the GitHub-sourced config
    doc = synthesized("github_source").stack("alpha").document()
    # THEN a GitHub connection is created under the configured name (PENDING until completed)
    connection = one(resources(doc, "aws_codestarconnections_connection"))
    assert (connection["name"], connection["provider_type"]) == ("gitapp-github", "GitHub")
    # AND the Source action reads main of the repository through it, as a zip of the commit
    [source] = stage(doc, "Source")["action"]
    assert (source["owner"], source["provider"], source["category"]) == (
        "AWS",
        "CodeStarSourceConnection",
        "Source",
    )
    assert source["configuration"] == {
        "ConnectionArn": reference(doc, "aws_codestarconnections_connection"),
        "FullRepositoryId": "octo-org/shop",
        "BranchName": "main",
        "OutputArtifactFormat": "CODE_ZIP",
    }
    assert pipeline(doc)["pipeline_type"] == "V2"


def test_github_source_starts_on_pushes_that_pass_the_filters(synthesized):
    doc = synthesized("github_source").stack("alpha").document()
    # THEN the pipeline's own trigger starts it, with the config's filters ...
    [trigger] = pipeline(doc)["trigger"]
    assert trigger["provider_type"] == "CodeStarSourceConnection"
    assert trigger["git_configuration"] == {
        "source_action_name": "Source",
        "push": [
            {
                "branches": {"includes": ["main"]},
                "file_paths": {
                    "includes": ["app/**", "appspec.yml"],
                    "excludes": ["docs/**", "**/*.md"],
                },
            }
        ],
    }
    # ... and no EventBridge rule, no source bucket: nothing else starts or feeds it
    assert resources(doc, "aws_cloudwatch_event_rule") == []
    assert resources(doc, "aws_cloudwatch_event_target") == []
    assert [b["bucket"] for b in resources(doc, "aws_s3_bucket")] == [
        "gitapp-alpha-art-666666666666-us-east-1"
    ]


def test_the_pipeline_role_may_use_that_connection_only(synthesized):
    doc = synthesized("github_source").stack("alpha").document()
    use = statement(doc, "UseConnection")
    assert use is not None
    assert sorted(use["actions"]) == [
        "codeconnections:UseConnection",
        "codestar-connections:UseConnection",
    ]
    assert use["resources"] == [reference(doc, "aws_codestarconnections_connection")]
    assert statement(doc, "ReadSource") is None
    actions = [a for s in statements(doc) for a in s["actions"]]
    assert not [a for a in actions if a.startswith(("codecommit:", "s3:GetObjectVersion"))]


def test_every_promote_action_carries_the_commit(synthesized):
    result = synthesized("github_source")
    # GIVEN the first stage: it names the commit from the Source action's variables
    alpha = promote_parameters(result.stack("alpha").document())
    assert alpha["source_version_id"] == "#{SourceVariables.CommitId}"
    assert alpha["commit"] == {
        "id": "#{SourceVariables.CommitId}",
        "branch": "#{SourceVariables.BranchName}",
        "repository": "#{SourceVariables.FullRepositoryName}",
    }
    # AND beta: it reads the commit from the version in its own source bucket ...
    beta_doc = result.stack("beta").document()
    beta = promote_parameters(beta_doc)
    bucket = "gitapp-beta-src-666666666666-us-west-2"
    assert beta["commit_from"] == {"bucket": bucket, "key": "sample_app.zip"}
    assert beta["source_version_id"] == "#{SourceVariables.VersionId}"
    assert "commit" not in beta
    # ... which its copy function may head, that object only
    read = statement(beta_doc, "ReadCommitMetadata")
    assert read is not None
    assert (read["actions"], read["resources"]) == (
        ["s3:GetObjectVersion"],
        [f"arn:aws:s3:::{bucket}/sample_app.zip"],
    )
    # AND prod promotes nowhere: no copy function, no grant
    assert statement(result.stack("prod").document(), "ReadCommitMetadata") is None


def test_an_s3_chain_carries_no_commit(synthesized):
    doc = synthesized("default").stack("alpha").document()
    assert not {"commit", "commit_from"} & set(promote_parameters(doc))
    assert statement(doc, "ReadCommitMetadata") is None
    assert "trigger" not in pipeline(doc)


def test_codecommit_source_reads_the_repository_and_starts_from_eventbridge(synthesized):
    doc = synthesized("codecommit_source").stack("alpha").document()
    [source] = stage(doc, "Source")["action"]
    assert (source["owner"], source["provider"]) == ("AWS", "CodeCommit")
    assert source["configuration"] == {
        "RepositoryName": "shop",
        "BranchName": "main",
        "PollForSourceChanges": "false",
        "OutputArtifactFormat": "CODE_ZIP",
    }
    # THEN the role reads that repository only, with the action reference's list
    repository = "arn:aws:codecommit:us-east-1:888888888888:shop"
    read = statement(doc, "ReadRepository")
    assert read is not None
    assert read["resources"] == [repository]
    assert sorted(read["actions"]) == [
        "codecommit:CancelUploadArchive",
        "codecommit:GetBranch",
        "codecommit:GetCommit",
        "codecommit:GetUploadArchiveStatus",
        "codecommit:UploadArchive",
    ]
    # AND a push to main starts the pipeline through EventBridge, as the console sets it up
    rule = one(resources(doc, "aws_cloudwatch_event_rule"))
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [repository],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": ["main"],
        },
    }
    target = one(resources(doc, "aws_cloudwatch_event_target"))
    assert target["arn"] == reference(doc, "aws_codepipeline")
    assert "trigger" not in pipeline(doc)
    assert resources(doc, "aws_codestarconnections_connection") == []
    assert promote_parameters(doc)["commit"]["repository"] == "#{SourceVariables.RepositoryName}"


@pytest.fixture(scope="module")
def existing_connection(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """alpha of a one-stage chain reading GitHub through an existing connection."""
    data = {
        "app": {
            "name": "arnapp",
            "source": {"type": "github", "repository": "octo/shop", "connection": EXISTING},
        },
        "stages": [
            {
                "name": "alpha",
                "account_id": "666666666666",
                "region": "us-east-1",
                "fleet": {"tag_value": "Alpha", "http_ingress_cidr": "10.0.0.0/8"},
            }
        ],
    }
    chain = parse_config(data, "inline")
    result = synthesize(chain, DeployTarget(), tmp_path_factory.mktemp("arn"))
    return dict(result.stack("alpha").document())


def test_an_existing_connection_is_used_and_not_created(existing_connection):
    doc = existing_connection
    assert resources(doc, "aws_codestarconnections_connection") == []
    [source] = stage(doc, "Source")["action"]
    assert source["configuration"]["ConnectionArn"] == EXISTING
    use = statement(doc, "UseConnection")
    assert use is not None and use["resources"] == [EXISTING]
    # Without filters, a push to the action's branch starts the pipeline.
    [trigger] = pipeline(doc)["trigger"]
    assert trigger["git_configuration"]["push"] == [{"branches": {"includes": ["main"]}}]
