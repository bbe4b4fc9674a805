"""The ledger of a chain whose first stage reads Git (tests/configs/github_source.yaml): the commit,
branch and repository every stage runs, the first stage judged by its commit (it has no source
object), and the connection's state, PENDING until completed in the console."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
from botocore.stub import Stubber

from tests.conftest import CONFIGS
from tests.unit.test_provenance import (
    GOOD,
    T0,
    FakeReads,
    deploy,
    execution,
    promoted,
    summary,
)
from xrdeploy.aws_clients import AwsClients
from xrdeploy.config.model import load_config
from xrdeploy.console.commits import ConnectionState
from xrdeploy.console.pipeline_view import ledger_json, ledger_lines
from xrdeploy.console.pipelines import ActionRun, PipelineConsole, StagePipeline, stage_pipelines
from xrdeploy.console.provenance import read_ledger

CHAIN = load_config(CONFIGS / "github_source.yaml")  # alpha (GitHub) → beta → prod
COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"
CONNECTION = "arn:aws:codestar-connections:us-east-1:666666666666:connection/5f1c1b2e"
CARRIED = {
    "xrdeploy-commit-id": COMMIT,
    "xrdeploy-branch": "main",
    "xrdeploy-repository": "octo-org/shop",
}
SOURCE_VARIABLES = {
    "CommitId": COMMIT,
    "BranchName": "main",
    "FullRepositoryName": "octo-org/shop",
    "ConnectionArn": CONNECTION,
    "CommitMessage": "Serve the new page",
}


@dataclass
class GitReads(FakeReads):
    """FakeReads that remembers which stages' source objects were asked for."""

    headed: list[str] = field(default_factory=list)

    def source_head(self, pipeline: StagePipeline, version_id: str) -> Any:
        self.headed.append(pipeline.stage)
        return super().source_head(pipeline, version_id)


def git_chain(connection_status: str = "AVAILABLE") -> GitReads:
    """COMMIT pushed to main, deployed in alpha, promoted to beta, then to prod."""
    reads = GitReads()
    reads.live["alpha"] = summary("e-alpha", COMMIT)
    reads.listed["alpha"] = [summary("e-alpha", COMMIT)]
    reads.executions_by_id[("alpha", "e-alpha")] = execution("e-alpha", COMMIT)
    source = ActionRun("Source", "Source", "Succeeded", "", T0, variables=SOURCE_VARIABLES)
    reads.runs[("alpha", "e-alpha")] = [source, *deploy()[1:]]
    reads.connections["alpha"] = ConnectionState(CONNECTION, connection_status)
    beta_head = promoted(GOOD, "alpha", COMMIT, "e-alpha")
    beta_head["Metadata"].update(CARRIED)
    reads.ran("beta", "e-beta", "vb", beta_head)
    prod_head = promoted(GOOD, "beta", "vb", "e-beta")
    prod_head["Metadata"].update(CARRIED)
    reads.ran("prod", "e-prod", "vp", prod_head)
    return reads


def test_every_stage_shows_the_commit_branch_and_repository_it_runs() -> None:
    # GIVEN a commit that went from the GitHub source through every stage
    reads = git_chain()
    # WHEN the ledger is read
    ledgers = {ledger.pipeline.stage: ledger for ledger in read_ledger(reads, CHAIN)}
    # THEN each stage's live revision names the commit, its branch and repository
    for stage in ("alpha", "beta", "prod"):
        live = ledgers[stage].live
        assert live is not None and live.commit is not None, stage
        assert (live.commit.id, live.commit.branch, live.commit.repository) == (
            COMMIT,
            "main",
            "octo-org/shop",
        )
    # AND alpha, which has no source bucket, is never looked up in S3
    assert "alpha" not in reads.headed
    # AND beta descends from alpha by that commit, prod from beta as always
    assert ledgers["beta"].verdict.descends is True
    assert (
        ledgers["beta"].verdict.reason
        == f"promoted from alpha commit {COMMIT} by execution e-alpha"
    )
    assert ledgers["prod"].verdict.descends is True
    assert ledgers["alpha"].verdict.descends is None


def test_a_promotion_of_a_commit_alpha_never_ran_is_flagged() -> None:
    reads = git_chain()
    reads.executions_by_id[("alpha", "e-alpha")] = execution("e-alpha", "0" * 40)
    beta = {ledger.pipeline.stage: ledger for ledger in read_ledger(reads, CHAIN)}["beta"]
    assert beta.verdict.descends is False
    assert f"not version {COMMIT}" in beta.verdict.reason


def test_status_shows_the_commit_and_a_pending_connection() -> None:
    # GIVEN a connection nobody has completed yet
    ledgers = read_ledger(git_chain("PENDING"), CHAIN)
    alpha, beta = ledgers[0], ledgers[1]
    # THEN alpha's lines say so and what to do, and every stage names its commit
    text = "\n".join(ledger_lines(alpha))
    assert f"connection {CONNECTION}: PENDING — complete it once in the AWS console" in text
    assert f"  commit: {COMMIT} of octo-org/shop branch main" in text
    assert f"  commit: {COMMIT} of octo-org/shop branch main" in ledger_lines(beta)
    assert not [line for line in ledger_lines(beta) if "connection" in line]
    # AND the JSON carries both
    document = json.loads(json.dumps(ledger_json("gitapp", ledgers)))
    stages = {s["stage"]: s for s in document["stages"]}
    assert stages["alpha"]["connection"] == {"arn": CONNECTION, "status": "PENDING"}
    assert stages["prod"]["connection"] is None
    assert stages["prod"]["live"]["commit"] == {
        "id": COMMIT,
        "branch": "main",
        "repository": "octo-org/shop",
    }


def test_only_the_git_sourced_first_stage_reads_git() -> None:
    pipelines = {p.stage: p for p in stage_pipelines(CHAIN)}
    assert [s for s, p in pipelines.items() if p.reads_git] == ["alpha"]
    assert not any(p.reads_git for p in stage_pipelines(load_config(None)))


@dataclass
class StubbedClients:
    """Stands in for AwsClients: one botocore client per service, answering from a Stubber."""

    made: dict[str, Any]

    def client(self, service: str, account_id: str, region: str) -> Any:
        return self.made[service]


def _stubbed_console(pipeline: StagePipeline) -> tuple[PipelineConsole, Stubber, Stubber]:
    """A PipelineConsole whose CodePipeline and CodeConnections clients answer from stubs."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=pipeline.region
    )
    codepipeline = session.client("codepipeline")
    connections = session.client("codestar-connections")
    clients = StubbedClients({"codepipeline": codepipeline, "codestar-connections": connections})
    console = PipelineConsole(cast(AwsClients, clients))
    return console, Stubber(codepipeline), Stubber(connections)


def _declaration(configuration: dict[str, str], provider: str) -> dict[str, Any]:
    """GetPipeline's answer, with only what the Source stage needs."""
    action = {
        "name": "Source",
        "actionTypeId": {
            "category": "Source",
            "owner": "AWS",
            "provider": provider,
            "version": "1",
        },
        "configuration": configuration,
    }
    return {
        "pipeline": {
            "name": "gitapp-alpha",
            "roleArn": "arn:aws:iam::666666666666:role/gitapp-alpha-pipeline",
            "stages": [{"name": "Source", "actions": [action]}],
        }
    }


def test_the_console_reads_the_connection_status_through_the_source_action() -> None:
    # GIVEN alpha's pipeline, whose Source action reads through CONNECTION, still PENDING
    alpha = stage_pipelines(CHAIN)[0]
    console, codepipeline, connections = _stubbed_console(alpha)
    codepipeline.add_response(
        "get_pipeline",
        _declaration(
            {"ConnectionArn": CONNECTION, "FullRepositoryId": "o/r"}, "CodeStarSourceConnection"
        ),
        {"name": alpha.pipeline},
    )
    connections.add_response(
        "get_connection",
        {"Connection": {"ConnectionArn": CONNECTION, "ConnectionStatus": "PENDING"}},
        {"ConnectionArn": CONNECTION},
    )
    # WHEN its state is read
    with codepipeline, connections:
        state = console.connection_state(alpha)
    # THEN it is the connection's, pending
    assert state == ConnectionState(CONNECTION, "PENDING") and state.pending


def test_a_codecommit_source_has_no_connection_to_report() -> None:
    alpha = stage_pipelines(CHAIN)[0]
    console, codepipeline, _ = _stubbed_console(alpha)
    codepipeline.add_response(
        "get_pipeline",
        _declaration({"RepositoryName": "shop", "BranchName": "main"}, "CodeCommit"),
        {"name": alpha.pipeline},
    )
    with codepipeline:
        assert console.connection_state(alpha) is None
