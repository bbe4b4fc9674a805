"""The promotion ledger (`status --json`) on the deployed default chain: after a build reaches
prod, every stage shows the version and SHA-256 live there and the upstream it came from; a build
put straight into prod's bucket is flagged; a build waiting at beta's approval is in flight there
with its gate pending."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.launcher import clear_faults
from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import execution_ids, quiesce, upload_bytes, wait_for_run
from tests.integration.polling import wait_until
from xrdeploy.cli.main import run
from xrdeploy.console.chain_run import ChainFollower
from xrdeploy.console.pipelines import PipelineConsole, find_stage, stage_pipelines
from xrdeploy.packaging import build_zip
from xrdeploy.rehearsal.local_chain import LocalDeployment, upload_build


@pytest.fixture
def chain(default_chain: LocalDeployment) -> Iterator[LocalDeployment]:
    quiesce(default_chain)
    clear_faults(default_chain.endpoint)
    yield default_chain
    quiesce(default_chain)


@pytest.fixture
def make_build(tmp_path: Path) -> Callable[[str], Path]:
    def make(version: str) -> Path:
        source = tmp_path / f"app-{version}"
        shutil.copytree(REPO_ROOT / "sample_app", source)
        (source / "VERSION").write_text(version + "\n")
        return build_zip(source, tmp_path / f"app-{version}.zip")

    return make


def unique(label: str) -> str:
    return f"{label}-{time.time_ns() % 10**10}"


def ledger(chain: LocalDeployment, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert run(["status", "--json", "--target", f"localstack={chain.endpoint}"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["app"] == chain.chain.app.name
    return {entry["stage"]: entry for entry in shown["stages"]}


def approve_when_asked(chain: LocalDeployment) -> Callable[..., None]:
    console = PipelineConsole(chain.clients)
    pipelines = stage_pipelines(chain.chain)

    def answer(pipeline: Any, _: Any) -> None:
        console.answer_approval(
            find_stage(pipelines, pipeline.stage), approve=True, comment="approved by the test"
        )

    return answer


def test_status_shows_each_stage_descending_from_its_upstream_and_flags_a_direct_upload(
    chain: LocalDeployment, make_build: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a build promoted by the chain itself from alpha to prod
    build = make_build(unique("3.1"))
    sha256 = hashlib.sha256(build.read_bytes()).hexdigest()
    follower = ChainFollower(
        stage_pipelines(chain.chain),
        chain.clients,
        on_action=lambda *_: None,
        on_approval=approve_when_asked(chain),
    )
    known = follower.known_executions()
    alpha_version = upload_build(chain, build)
    results, hops = follower.follow(known)
    assert [r.status for r in results] == ["Succeeded"] * 3
    # WHEN the operator asks for the ledger
    stages = ledger(chain, capsys)
    # THEN each stage runs that build, deployed by the execution that ran there
    executions = {r.stage: r.execution_id for r in results}
    versions = {"alpha": alpha_version} | {h.destination_stage: h.version_id for h in hops}
    for name in ("alpha", "beta", "prod"):
        live = stages[name]["live"]
        assert (live["version_id"], live["sha256"]) == (versions[name], sha256), name
        assert live["execution_id"] == executions[name]
        assert live["deployment_id"].startswith("d-")
        assert live["deployed_at"]
        assert stages[name]["in_flight"] == [] and stages[name]["gates"] == []
    # ... alpha is where builds enter, and each later stage descends from its upstream's
    assert stages["alpha"]["upstream"] is None and stages["alpha"]["descends"] is None
    for name, upstream in (("beta", "alpha"), ("prod", "beta")):
        entry = stages[name]
        assert entry["upstream"] == upstream
        assert entry["live"]["source_stage"] == upstream
        assert entry["live"]["source_version_id"] == versions[upstream]
        assert entry["live"]["promoted_by_execution"] == executions[upstream]
        assert (entry["descends"], entry["flagged"]) == (True, False), entry["provenance"]

    # WHEN a different build is put straight into prod's bucket (it starts prod's pipeline)
    known_prod = execution_ids(chain, "prod")
    rogue_sha = upload_bytes(chain, "prod", make_build(unique("6.6.6")).read_bytes())
    assert wait_for_run(chain, "prod", known_prod).status == "Succeeded"
    stages = ledger(chain, capsys)
    # THEN prod runs it, and is flagged: it never passed beta
    prod = stages["prod"]
    assert prod["live"]["sha256"] == rogue_sha
    assert prod["live"]["source_stage"] is None
    assert (prod["descends"], prod["flagged"]) == (False, True)
    assert "never passed beta" in prod["provenance"]
    # ... while beta still descends from alpha
    assert stages["beta"]["descends"] is True
    # ... and the text form says so too
    capsys.readouterr()
    assert run(["status", "--target", f"localstack={chain.endpoint}"]) == 0
    assert "provenance: FLAGGED — no promotion metadata" in capsys.readouterr().out


def test_status_shows_a_build_waiting_at_beta_in_flight_with_its_approval_pending(
    chain: LocalDeployment, make_build: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a build put into beta's bucket, waiting at beta's manual approval
    known = execution_ids(chain, "beta")
    upload_bytes(chain, "beta", make_build(unique("4.0")).read_bytes())
    console = PipelineConsole(chain.clients)
    beta = find_stage(stage_pipelines(chain.chain), "beta")
    pending = wait_until(lambda: console.pending_approval(beta), "an approval waiting in beta")
    assert pending.execution_id not in known
    # WHEN the operator asks for the ledger
    entry = ledger(chain, capsys)["beta"]
    # THEN that execution is in flight at the Approve stage, and the approval is the gate pending
    flights = {f["execution_id"]: f for f in entry["in_flight"]}
    assert flights[pending.execution_id]["at"] == "Approve"
    assert flights[pending.execution_id]["status"] == "InProgress"
    gates = [(g["kind"], g["stage_name"], g["name"], g["execution_id"]) for g in entry["gates"]]
    assert ("manual_approval", "Approve", "Approve", pending.execution_id) in gates
    # ... and it is live in beta already (Deploy passed), flagged: it never passed alpha
    assert entry["live"]["execution_id"] == pending.execution_id
    assert entry["flagged"] is True
