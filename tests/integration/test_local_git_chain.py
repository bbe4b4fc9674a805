"""A Git-sourced chain in the local cloud (tests/integration/git_chain.yaml): a plain
``git push`` to the local repository behind the chain's connection starts alpha through the
generated V2 trigger, and the commit's zip reaches gamma; pushes the trigger's filters exclude
start nothing. Three stages, applied all at once: a chain deploy costs minutes.

The first push runs with IAM enforced, and its recorded requests are replayed against every policy
the chain created, as tests/integration/chain/test_least_privilege.py does for the default chain:
the Git source's statements (the pipeline role's UseConnection, the copy function's read of the
commit metadata) are needed by a step of the promotion or explained by a written reason. The
chain is new to the session, so its functions and event targets start cold.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import execution_ids, pipeline_of, s3_of, stage_outputs
from tests.integration.git_source_world import WorkingCopy
from tests.integration.least_privilege_runs import (
    Replayed,
    assert_every_statement_needed_or_explained,
    assert_every_value_as_narrow_as_used,
    push_followed,
    replay_record,
)
from tests.integration.polling import stays_false
from tools.least_privilege_table import GIT_CHAIN
from xrdeploy.cli.main import run
from xrdeploy.console.chain_run import Hop, StageResult
from xrdeploy.rehearsal.local_chain import LocalDeployment

pytestmark = pytest.mark.integration
CONFIG = REPO_ROOT / "tests" / "integration" / "git_chain.yaml"
QUIET_SECONDS = 5.0  # a push that would start alpha starts it in well under a second
STAGES = ("alpha", "beta", "gamma")


@pytest.fixture(scope="module")
def chain(deploy_chain: Callable[..., LocalDeployment]) -> LocalDeployment:
    return deploy_chain(CONFIG)


@pytest.fixture(scope="module")
def work(chain: LocalDeployment, tmp_path_factory: pytest.TempPathFactory) -> WorkingCopy:
    """A clone of the sample app whose pushes go to the chain's repository on the local GitHub."""
    copy = WorkingCopy(tmp_path_factory.mktemp("git-work") / "work")
    shutil.copytree(REPO_ROOT / "sample_app", copy.path, dirs_exist_ok=True)
    source = chain.chain.app.source
    copy.git(
        "remote", "add", "local", f"{chain.endpoint}/_xrdeploy/git/github/{source.repository}.git"
    )
    return copy


@dataclass(frozen=True)
class FirstPush:
    commit_id: str
    results: list[StageResult]
    hops: list[Hop]
    record: dict[str, Any]  # the IAM guard's record of the requests the promotion made


@pytest.fixture(scope="module")
def first_push(chain: LocalDeployment, work: WorkingCopy) -> FirstPush:
    """The sample app committed and pushed to main with plain git, followed to the last stage."""

    def push() -> str:
        commit_id = work.commit("Release the sample app", {"VERSION": "git-1\n"})
        work.git("push", "--quiet", "--force", "local", "main")
        return commit_id

    return FirstPush(*push_followed(chain, push))


def _ledger(chain: LocalDeployment, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    target = f"localstack={chain.endpoint}"
    assert run(["status", "--json", "--config", str(CONFIG), "--target", target]) == 0
    return {entry["stage"]: entry for entry in json.loads(capsys.readouterr().out)["stages"]}


def test_a_push_reaches_the_last_stage_and_excluded_pushes_start_nothing(
    chain: LocalDeployment,
    work: WorkingCopy,
    first_push: FirstPush,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # WHEN the sample app is committed and pushed to main with plain git (first_push)
    commit_id, results = first_push.commit_id, first_push.results
    # THEN alpha runs that commit (started by the generated trigger), and beta and gamma receive it
    assert [r.status for r in results] == ["Succeeded"] * len(STAGES)
    alpha = pipeline_of(chain, "alpha")
    codepipeline = chain.client("codepipeline", alpha.account_id, alpha.region)
    execution = codepipeline.get_pipeline_execution(
        pipelineName=alpha.pipeline, pipelineExecutionId=results[0].execution_id
    )["pipelineExecution"]
    assert execution["trigger"]["triggerType"] == "WebhookV2"
    assert [r["revisionId"] for r in execution["artifactRevisions"]] == [commit_id]
    versions = []
    for stage in STAGES[1:]:
        outputs = stage_outputs(chain, stage)
        head = s3_of(chain, stage).head_object(
            Bucket=outputs["source_bucket"], Key=outputs["source_key"]
        )
        assert head["Metadata"]["xrdeploy-commit-id"] == commit_id, stage
        versions.append(head["VersionId"])
    assert [h.version_id for h in first_push.hops] == versions
    # AND the ledger names the commit, its branch and repository in every stage
    ledger = _ledger(chain, capsys)
    expected = {"id": commit_id, "branch": "main", "repository": "octo-org/gitlocal"}
    for stage in STAGES:
        assert ledger[stage]["live"]["commit"] == expected, stage
    assert ledger["alpha"]["connection"]["status"] == "AVAILABLE"

    # WHEN a commit goes to a branch the trigger excludes, and one to main changes only docs/
    before = execution_ids(chain, "alpha")
    work.git("checkout", "--quiet", "-b", "experiment")
    work.commit("Try something", {"VERSION": "git-x\n"})
    work.git("push", "--quiet", "local", "experiment")
    work.git("checkout", "--quiet", "main")
    work.commit("Document it", {"docs/notes.md": "notes\n"})
    work.git("push", "--quiet", "local", "main")
    # THEN alpha does not start
    stays_false(
        lambda: execution_ids(chain, "alpha") - before,
        "an excluded push started alpha",
        QUIET_SECONDS,
    )


@pytest.fixture(scope="module")
def replayed(chain: LocalDeployment, first_push: FirstPush) -> Replayed:
    assert [r.status for r in first_push.results] == ["Succeeded"] * len(STAGES)
    return replay_record(chain, first_push.record, GIT_CHAIN)


def test_every_git_chain_statement_is_needed_by_a_step_or_explained(
    chain: LocalDeployment, replayed: Replayed
) -> None:
    # GIVEN the replay of the first push's requests against every mutation of every policy
    # THEN each removal denies a step of the chain or is explained, and no explanation is stale
    assert_every_statement_needed_or_explained(replayed)
    # ... e.g. the connection's use, which no local request carries, is explained by its Need
    assert not replayed.outcome("alpha", "pipeline role", "UseConnection", None).changed
    # ... and beta's copy function cannot carry the commit on without reading its own source
    # object's commit metadata
    beta = pipeline_of(chain, "beta")
    commit = replayed.outcome("beta", "copy function role", "ReadCommitMetadata", None)
    assert {(a, r) for _, a, r in commit.changed} == {
        ("s3:GetObjectVersion", f"arn:aws:s3:::{beta.source_bucket}/{beta.source_key}")
    }


def test_every_git_chain_value_is_as_narrow_as_its_use_or_explained(replayed: Replayed) -> None:
    # GIVEN every value of every Allow of the Git-sourced chain, tightened to its recorded use
    # THEN each is as used, needed, or wider for a written reason; and no reason is stale
    assert_every_value_as_narrow_as_used(replayed)
