"""A Git-sourced chain in the local cloud (tests/integration/git_chain.yaml): a plain
``git push`` to the local repository behind the chain's connection starts alpha through the
generated V2 trigger, and the commit's zip reaches beta; pushes the trigger's filters exclude
start nothing. Two stages, applied all at once: a chain deploy costs minutes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import execution_ids, pipeline_of, s3_of, stage_outputs
from tests.integration.conftest import SessionLocalCloud
from tests.integration.git_source_world import WorkingCopy
from tests.integration.polling import stays_false
from xrdeploy.cli.main import run
from xrdeploy.config.model import load_config
from xrdeploy.console.chain_run import ChainFollower
from xrdeploy.console.pipelines import stage_pipelines
from xrdeploy.rehearsal.local_chain import LocalDeployment, with_emulator_state

pytestmark = pytest.mark.integration
CONFIG = REPO_ROOT / "tests" / "integration" / "git_chain.yaml"
QUIET_SECONDS = 5.0  # a push that would start alpha starts it in well under a second


@pytest.fixture(scope="module")
def chain(
    local_cloud: SessionLocalCloud, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalDeployment]:
    config = with_emulator_state(load_config(CONFIG))
    workdir = tmp_path_factory.mktemp("chain-gitlocal")
    deployment = LocalDeployment(config, local_cloud.endpoint, workdir)
    deployment.synthesize()
    deployment.deploy(concurrently=True)
    try:
        yield deployment
    finally:
        if not local_cloud.owned:  # a session's own local cloud is discarded whole
            deployment.destroy(concurrently=True)


@pytest.fixture
def work(chain: LocalDeployment, tmp_path: Path) -> WorkingCopy:
    """A clone of the sample app whose pushes go to the chain's repository on the local GitHub."""
    copy = WorkingCopy(tmp_path / "work")
    shutil.copytree(REPO_ROOT / "sample_app", copy.path, dirs_exist_ok=True)
    source = chain.chain.app.source
    copy.git(
        "remote", "add", "local", f"{chain.endpoint}/_xrdeploy/git/github/{source.repository}.git"
    )
    return copy


def _ledger(chain: LocalDeployment, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    target = f"localstack={chain.endpoint}"
    assert run(["status", "--json", "--config", str(CONFIG), "--target", target]) == 0
    return {entry["stage"]: entry for entry in json.loads(capsys.readouterr().out)["stages"]}


def test_a_push_reaches_the_last_stage_and_excluded_pushes_start_nothing(
    chain: LocalDeployment, work: WorkingCopy, capsys: pytest.CaptureFixture[str]
) -> None:
    # (the chain has no approval gate: nothing to answer)
    follower = ChainFollower(
        stage_pipelines(chain.chain),
        chain.clients,
        on_action=lambda *_: None,
        on_approval=lambda *_: None,
    )
    known = follower.known_executions()
    # WHEN the sample app is committed and pushed to main with plain git
    commit_id = work.commit("Release the sample app", {"VERSION": "git-1\n"})
    work.git("push", "--quiet", "--force", "local", "main")
    # THEN alpha runs that commit (started by the generated trigger) and beta receives it
    results, hops = follower.follow(known)
    assert [r.status for r in results] == ["Succeeded", "Succeeded"]
    alpha = pipeline_of(chain, "alpha")
    codepipeline = chain.client("codepipeline", alpha.account_id, alpha.region)
    execution = codepipeline.get_pipeline_execution(
        pipelineName=alpha.pipeline, pipelineExecutionId=results[0].execution_id
    )["pipelineExecution"]
    assert execution["trigger"]["triggerType"] == "WebhookV2"
    assert [r["revisionId"] for r in execution["artifactRevisions"]] == [commit_id]
    beta = stage_outputs(chain, "beta")
    head = s3_of(chain, "beta").head_object(Bucket=beta["source_bucket"], Key=beta["source_key"])
    assert head["Metadata"]["xrdeploy-commit-id"] == commit_id
    assert [h.version_id for h in hops] == [head["VersionId"]]
    # AND the ledger names the commit, its branch and repository in every stage
    ledger = _ledger(chain, capsys)
    expected = {"id": commit_id, "branch": "main", "repository": "octo-org/gitlocal"}
    for stage in ("alpha", "beta"):
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
