"""Git sources in the local cloud: CodeConnections and CodeCommit through boto3, and a plain
``git push`` to a local repository starting a pipeline through AWS's filters."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.codepipeline_world import ClientFactory, World, clients_of
from tests.integration.conftest import SessionLocalCloud
from tests.integration.git_source_world import WorkingCopy, git_pipeline, reporter
from tests.integration.polling import stays_false, wait_until

pytestmark = pytest.mark.integration
QUIET_SECONDS = 5.0  # a push that would start a pipeline starts it in well under a second


@pytest.fixture(scope="module")
def endpoint(own_cloud: SessionLocalCloud) -> str:
    return own_cloud.endpoint


@pytest.fixture(scope="module")
def aws(endpoint: str) -> ClientFactory:
    return clients_of(endpoint)


@pytest.fixture(scope="module")
def world(aws: ClientFactory) -> World:
    return World(aws)


@pytest.fixture(scope="module")
def function(world: World) -> str:
    return reporter(world)


def _executions(aws: ClientFactory, pipeline: str, trigger: str) -> list[dict[str, Any]]:
    listed = aws("codepipeline").list_pipeline_executions(pipelineName=pipeline)
    return [
        e for e in listed["pipelineExecutionSummaries"] if e["trigger"]["triggerType"] == trigger
    ]


def _finished(aws: ClientFactory, pipeline: str, execution_id: str) -> Callable[[], Any]:
    def probe() -> dict[str, Any] | None:
        execution = aws("codepipeline").get_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        return dict(execution) if execution["status"] in ("Succeeded", "Failed") else None

    return probe


def _report(aws: ClientFactory, pipeline: str, execution_id: str) -> dict[str, Any]:
    details = aws("codepipeline").list_action_executions(
        pipelineName=pipeline, filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    report = next(d for d in details if d["actionName"] == "Report")
    return dict(json.loads(report["output"]["executionResult"]["externalExecutionSummary"]))


def test_connections_answer_both_apis(aws: ClientFactory) -> None:
    # GIVEN a connection made through CodeConnections
    connections, codestar = aws("codeconnections"), aws("codestar-connections")
    arn = connections.create_connection(
        ProviderType="GitHub", ConnectionName="app", Tags=[{"Key": "team", "Value": "web"}]
    )["ConnectionArn"]
    # THEN both APIs read it, AVAILABLE at once (on AWS: PENDING until completed in the console)
    for client in (connections, codestar):
        connection = client.get_connection(ConnectionArn=arn)["Connection"]
        assert (connection["ConnectionStatus"], connection["ProviderType"]) == (
            "AVAILABLE",
            "GitHub",
        )
    listed = codestar.list_connections(ProviderTypeFilter="GitHub")["Connections"]
    assert arn in [c["ConnectionArn"] for c in listed]
    assert connections.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "web"}
    ]
    # AND a deleted connection is not found, with AWS's error code
    codestar.delete_connection(ConnectionArn=arn)
    with pytest.raises(ClientError) as missing:
        connections.get_connection(ConnectionArn=arn)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_codecommit_repository_takes_a_plain_git_push(aws: ClientFactory, tmp_path: Path) -> None:
    # GIVEN a repository made through the API
    codecommit = aws("codecommit")
    metadata = codecommit.create_repository(repositoryName="cc-api")["repositoryMetadata"]
    # WHEN a commit is pushed with plain git to its cloneUrlHttp
    work = WorkingCopy(tmp_path / "work")
    commit_id = work.commit("Add the app", {"app.py": "print(1)\n"})
    work.push(metadata["cloneUrlHttp"], "main")
    # THEN CodeCommit reads the branch and the commit back
    branch = codecommit.get_branch(repositoryName="cc-api", branchName="main")["branch"]
    assert branch["commitId"] == commit_id
    commit = codecommit.get_commit(repositoryName="cc-api", commitId=commit_id)["commit"]
    assert commit["message"].strip() == "Add the app"
    assert (
        codecommit.get_repository(repositoryName="cc-api")["repositoryMetadata"]["defaultBranch"]
        == "main"
    )
    # AND a clone of it holds the commit
    clone = tmp_path / "clone"
    work.git("clone", "--quiet", metadata["cloneUrlHttp"], str(clone))
    assert (clone / "app.py").read_text() == "print(1)\n"
    codecommit.delete_repository(repositoryName="cc-api")
    with pytest.raises(ClientError) as missing:
        codecommit.get_repository(repositoryName="cc-api")
    assert missing.value.response["Error"]["Code"] == "RepositoryDoesNotExistException"


def test_a_push_behind_a_connection_starts_the_pipeline_through_its_filters(
    aws: ClientFactory, endpoint: str, world: World, function: str, tmp_path: Path
) -> None:
    # GIVEN a pipeline on a connection's repository, triggered on main for changes under app/
    arn = aws("codeconnections").create_connection(ProviderType="GitHub", ConnectionName="web")[
        "ConnectionArn"
    ]
    repository = f"octo/{tmp_path.name[-20:].replace('_', '-')}"
    configuration = {"ConnectionArn": arn, "FullRepositoryId": repository, "BranchName": "main"}
    trigger = {
        "providerType": "CodeStarSourceConnection",
        "gitConfiguration": {
            "sourceActionName": "Source",
            "push": [{"branches": {"includes": ["main"]}, "filePaths": {"includes": ["app/**"]}}],
        },
    }
    pipeline = git_pipeline(world, function, ("CodeStarSourceConnection", configuration), [trigger])
    url = f"{endpoint}/_xrdeploy/git/github/{repository}.git"
    work = WorkingCopy(tmp_path / "work")
    # WHEN a commit changing app/ is pushed to main with plain git
    commit_id = work.commit("Ship the app", {"app/run.py": "print(1)\n", "appspec.yml": "v\n"})
    work.push(url, "main")
    # THEN one execution starts by the trigger, and the commit reaches the last stage
    started = wait_until(lambda: _executions(aws, pipeline, "WebhookV2"), "the push's execution")
    assert [e["sourceRevisions"][0]["revisionId"] for e in started] == [commit_id]
    execution = wait_until(_finished(aws, pipeline, started[0]["pipelineExecutionId"]))
    assert execution["status"] == "Succeeded"
    (revision,) = execution["artifactRevisions"]
    assert revision["revisionId"] == commit_id
    assert json.loads(revision["revisionSummary"]) == {
        "ProviderType": "GitHub",
        "CommitMessage": "Ship the app",
    }
    assert revision["revisionUrl"] == f"https://github.com/{repository}/commit/{commit_id}"
    # AND the invoked function got the commit's zip, its revision the commit id
    report = _report(aws, pipeline, started[0]["pipelineExecutionId"])
    assert report == {"revision": commit_id, "files": ["app/", "app/run.py", "appspec.yml"]}

    # WHEN pushes go to an excluded branch, and to main outside app/
    work.git("checkout", "--quiet", "-b", "dev")
    work.commit("Work in progress", {"app/run.py": "print(2)\n"})
    work.push(url, "dev")
    work.git("checkout", "--quiet", "main")
    work.commit("Docs only", {"docs/readme.md": "hi\n"})
    work.push(url, "main")
    # THEN nothing more starts
    stays_false(
        lambda: len(_executions(aws, pipeline, "WebhookV2")) > 1,
        "an excluded push started the pipeline",
        QUIET_SECONDS,
    )


def test_a_push_to_codecommit_starts_the_pipeline_through_eventbridge(
    aws: ClientFactory, world: World, function: str, tmp_path: Path
) -> None:
    # GIVEN a CodeCommit-sourced pipeline and the EventBridge rule the console would make
    codecommit, events = aws("codecommit"), aws("events")
    name = f"cc-{tmp_path.name[-20:].replace('_', '-')}"
    metadata = codecommit.create_repository(repositoryName=name)["repositoryMetadata"]
    configuration = {
        "RepositoryName": name,
        "BranchName": "main",
        "PollForSourceChanges": "false",
    }
    pipeline = git_pipeline(world, function, ("CodeCommit", configuration))
    pattern = {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [metadata["Arn"]],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": ["main"],
        },
    }
    rule_arn = events.put_rule(Name=pipeline, EventPattern=json.dumps(pattern))["RuleArn"]
    target = world.aws("codepipeline").get_pipeline(name=pipeline)["metadata"]["pipelineArn"]
    events.put_targets(
        Rule=pipeline, Targets=[{"Id": "p", "Arn": target, "RoleArn": world.events_role}]
    )
    # WHEN a commit is pushed to main, and another to a branch the rule does not name
    work = WorkingCopy(tmp_path / "work")
    commit_id = work.commit("First", {"app.py": "print(1)\n"})
    work.push(metadata["cloneUrlHttp"], "main")
    work.push(metadata["cloneUrlHttp"], "main:feature")
    # THEN the rule starts one execution with that commit, which the function receives
    started = wait_until(lambda: _executions(aws, pipeline, "CloudWatchEvent"), "the rule's run")
    assert started[0]["trigger"]["triggerDetail"] == rule_arn
    execution = wait_until(_finished(aws, pipeline, started[0]["pipelineExecutionId"]))
    assert execution["status"] == "Succeeded"
    assert execution["artifactRevisions"][0]["revisionSummary"] == "First"
    assert _report(aws, pipeline, started[0]["pipelineExecutionId"])["revision"] == commit_id
    stays_false(
        lambda: len(_executions(aws, pipeline, "CloudWatchEvent")) > 1,
        "a push to another branch started the pipeline",
        QUIET_SECONDS,
    )


def test_the_codecommit_action_reads_as_the_pipeline_role(
    aws: ClientFactory, world: World, function: str, tmp_path: Path
) -> None:
    # GIVEN a repository the pipeline role may not read (its grant names cc-* only), with a commit
    metadata = aws("codecommit").create_repository(repositoryName="private-app")[
        "repositoryMetadata"
    ]
    work = WorkingCopy(tmp_path / "work")
    work.commit("Secret", {"app.py": "print(1)\n"})
    work.push(metadata["cloneUrlHttp"], "main")
    # WHEN a pipeline sourced from it runs (CreatePipeline starts it)
    configuration = {"RepositoryName": "private-app", "BranchName": "main"}
    pipeline = git_pipeline(world, function, ("CodeCommit", configuration))
    (started,) = wait_until(lambda: _executions(aws, pipeline, "CreatePipeline"))
    execution = wait_until(_finished(aws, pipeline, started["pipelineExecutionId"]))
    # THEN the Source action fails on the IAM guard's refusal of codecommit:GetCommit
    assert execution["status"] == "Failed"
    details = aws("codepipeline").list_action_executions(
        pipelineName=pipeline, filter={"pipelineExecutionId": started["pipelineExecutionId"]}
    )["actionExecutionDetails"]
    error = details[0]["output"]["executionResult"]["errorDetails"]["message"]
    assert "AccessDenied" in error and "codecommit:GetCommit" in error
