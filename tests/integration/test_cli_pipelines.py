"""`status` and `approve` against the local cloud's CodePipeline, as a user would run them."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import execution_ids, quiesce, upload_bytes, wait_for_run
from xrdeploy.cli import run
from xrdeploy.local_chain import LocalDeployment
from xrdeploy.packaging import build_zip
from xrdeploy.pipelines import PipelineConsole, find_stage, stage_pipelines


@pytest.fixture
def chain(default_chain: LocalDeployment) -> LocalDeployment:
    quiesce(default_chain)
    return default_chain


def waiting_approval(chain: LocalDeployment, stage: str, timeout: float = 300) -> Any:
    console = PipelineConsole(chain.clients)
    pipeline = find_stage(stage_pipelines(chain.chain), stage)
    deadline = time.monotonic() + timeout
    while (pending := console.pending_approval(pipeline)) is None:
        assert time.monotonic() < deadline, f"no approval waiting in {stage}"
        time.sleep(0.5)
    return pending


def test_status_shows_the_waiting_approval_and_approve_answers_it(
    chain: LocalDeployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a build waiting at beta's approval
    source = tmp_path / "app"
    shutil.copytree(REPO_ROOT / "sample_app", source)
    (source / "VERSION").write_text("7.0.0\n")
    known = execution_ids(chain, "beta")
    upload_bytes(chain, "beta", build_zip(source, tmp_path / "app.zip").read_bytes())
    pending = waiting_approval(chain, "beta")
    target = f"localstack={chain.endpoint}"
    capsys.readouterr()
    # WHEN the user asks for the status
    assert run(["status", "--target", target]) == 0
    shown = capsys.readouterr().out
    # THEN each stage's pipeline is listed with its actions, and beta's approval is in progress
    assert "xrdeploy-demo-beta-pipeline" in shown or "beta (111111111111/us-east-1)" in shown
    assert f"{pending.action_name}: InProgress" in shown
    # WHEN they approve it
    assert run(["approve", "beta", "--target", target, "--comment", "looks good"]) == 0
    assert "beta: approved" in capsys.readouterr().out
    # THEN beta's execution goes on and succeeds
    assert wait_for_run(chain, "beta", known, approve=None).status == "Succeeded"


def test_approve_with_nothing_waiting_is_one_line_and_exit_2(
    chain: LocalDeployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["approve", "alpha", "--target", f"localstack={chain.endpoint}"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert "no approval is waiting" in captured.err


def test_approve_names_an_unknown_stage(
    chain: LocalDeployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["approve", "gamma", "--target", f"localstack={chain.endpoint}"])
    assert code == 2
    assert "gamma" in capsys.readouterr().err
