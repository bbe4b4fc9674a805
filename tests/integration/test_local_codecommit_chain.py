"""A CodeCommit-sourced stage in the local cloud (tests/integration/codecommit_chain.yaml): a plain
``git push`` to the repository's ``cloneUrlHttp`` starts alpha through the generated EventBridge
rule and its role, and the commit is deployed and promoted to beta.

The push runs with IAM enforced, and its recorded requests are replayed against every policy the
stage created, as test_local_git_chain.py does for a connection source: the pipeline role's
CodeCommit reads and the rule's role are needed by a step or explained by a written reason, and
no granted value is wider than its use without one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import pipeline_of
from tests.integration.conftest import SessionLocalCloud
from tests.integration.git_source_world import WorkingCopy
from tests.integration.least_privilege_runs import (
    Replayed,
    assert_every_statement_needed_or_explained,
    assert_every_value_as_narrow_as_used,
    push_followed,
    replay_record,
)
from xrdeploy.aws_clients import local_cloud_client
from xrdeploy.config.model import load_config
from xrdeploy.console.chain_run import StageResult
from xrdeploy.rehearsal.local_chain import LocalDeployment

pytestmark = pytest.mark.integration
CONFIG = REPO_ROOT / "tests" / "integration" / "codecommit_chain.yaml"


@pytest.fixture(scope="module")
def chain(
    local_cloud: SessionLocalCloud, deploy_chain: Callable[..., LocalDeployment]
) -> LocalDeployment:
    config = load_config(CONFIG)
    stage = config.stages[0]
    # The repository is the team's, not the chain's: it exists before the chain is deployed.
    codecommit = local_cloud_client(
        "codecommit",
        endpoint=local_cloud.endpoint,
        account_id=stage.account_id,
        region=stage.region,
    )
    codecommit.create_repository(repositoryName=config.app.source.repository)
    return deploy_chain(CONFIG)


@dataclass(frozen=True)
class Push:
    commit_id: str
    results: list[StageResult]
    record: dict[str, Any]


@pytest.fixture(scope="module")
def push(chain: LocalDeployment, tmp_path_factory: pytest.TempPathFactory) -> Push:
    """The sample app committed and pushed to main with plain git, followed to beta."""
    stage = chain.chain.stages[0]
    codecommit = chain.client("codecommit", stage.account_id, stage.region)
    url = codecommit.get_repository(repositoryName=chain.chain.app.source.repository)[
        "repositoryMetadata"
    ]["cloneUrlHttp"]
    work = WorkingCopy(tmp_path_factory.mktemp("cc-work") / "work")
    shutil.copytree(REPO_ROOT / "sample_app", work.path, dirs_exist_ok=True)
    work.git("remote", "add", "codecommit", url)

    def push_it() -> str:
        commit_id = work.commit("Release the sample app", {"VERSION": "cc-1\n"})
        work.git("push", "--quiet", "--force", "codecommit", "main")
        return commit_id

    commit_id, results, _, record = push_followed(chain, push_it)
    return Push(commit_id, results, record)


def test_a_push_to_codecommit_starts_the_stage_through_its_rule(
    chain: LocalDeployment, push: Push
) -> None:
    # WHEN the sample app is pushed to main of the repository (push)
    # THEN alpha ran that commit, started by the generated EventBridge rule, and beta received it
    assert [r.status for r in push.results] == ["Succeeded", "Succeeded"]
    alpha = pipeline_of(chain, "alpha")
    codepipeline = chain.client("codepipeline", alpha.account_id, alpha.region)
    execution = codepipeline.get_pipeline_execution(
        pipelineName=alpha.pipeline, pipelineExecutionId=push.results[0].execution_id
    )["pipelineExecution"]
    assert execution["trigger"]["triggerType"] == "CloudWatchEvent"
    assert [r["revisionId"] for r in execution["artifactRevisions"]] == [push.commit_id]


@pytest.fixture(scope="module")
def replayed(chain: LocalDeployment, push: Push) -> Replayed:
    assert [r.status for r in push.results] == ["Succeeded", "Succeeded"]
    return replay_record(chain, push.record, None)


def test_every_codecommit_statement_is_needed_by_a_step_or_explained(replayed: Replayed) -> None:
    # GIVEN the replay of the push's requests against every mutation of every policy
    # THEN each removal denies a step of the chain or is explained, and no explanation is stale
    assert_every_statement_needed_or_explained(replayed)


def test_every_codecommit_value_is_as_narrow_as_its_use_or_explained(replayed: Replayed) -> None:
    # GIVEN every value of every Allow, tightened to its recorded use
    # THEN each is as used, needed, or wider for a written reason; and no reason is stale
    assert_every_value_as_narrow_as_used(replayed)
