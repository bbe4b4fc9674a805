"""A wave stage failing on its own: a build whose validation fails in eu-west-1 only, promoted by
beta to prod-eu and prod-ap at once. One run (fixture `broken_in_eu`, arranged from quiet
pipelines) serves every test here: what the sibling did, what was notified, how prod-eu rolled
back."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.chain_runs import execution_ids, quiesce, upload_bytes
from tests.integration.polling import wait_until
from tests.integration.wave.conftest import sample_build, set_alarm
from tests.integration.wave.wave_runs import (
    action_details,
    drain,
    live_build,
    new_standard_execution,
    notices,
    pages,
    rollbacks_of,
    wait_for_end,
)
from xrdeploy.rehearsal.local_chain import LocalDeployment

WAVE = ("prod-eu", "prod-ap")


@dataclass(frozen=True)
class BrokenInEu:
    version: str
    eu_before: str  # the version prod-eu served before
    beta_status: str
    eu_execution: str
    eu_status: str
    eu_deploy: dict[str, Any]
    eu_rollbacks: list[dict[str, Any]]
    eu_after: list[str]
    ap_status: str
    ap_pages: list[str]
    notices: list[str]

    @property
    def deployment_id(self) -> str:
        return str(self.eu_deploy["output"]["executionResult"]["externalExecutionId"])


@pytest.fixture(scope="module")
def broken_in_eu(
    wave_chain: LocalDeployment, tmp_path_factory: pytest.TempPathFactory
) -> BrokenInEu:
    chain, workdir = wave_chain, tmp_path_factory.mktemp("builds")
    quiesce(chain)
    set_alarm(chain.clients, "OK")
    # GIVEN prod-eu running a good build (so that it has something to roll back to)
    _, eu_before = live_build(chain, "prod-eu", lambda v: sample_build(workdir, v))
    drain(chain)
    # WHEN beta deploys a build that lacks eu-west-1's settings, and promotes it to the wave
    version = f"3.0-{time.time_ns() % 10**10}"
    build = sample_build(workdir, version, without_settings_for="eu-west-1")
    known = {stage: execution_ids(chain, stage) for stage in ("beta", *WAVE)}
    upload_bytes(chain, "beta", build.read_bytes())
    beta = new_standard_execution(chain, "beta", known["beta"])
    beta_status = wait_for_end(chain, "beta", beta)["status"]
    eu, ap = (new_standard_execution(chain, stage, known[stage]) for stage in WAVE)
    eu_status = wait_for_end(chain, "prod-eu", eu)["status"]
    ap_status = wait_for_end(chain, "prod-ap", ap)["status"]
    [eu_deploy] = [d for d in action_details(chain, "prod-eu", eu) if d["actionName"] == "Deploy"]
    deployment_id = eu_deploy["output"]["executionResult"]["externalExecutionId"]
    received = notices_until(chain, deployment_id)
    rollbacks = ended_rollbacks(chain, "prod-eu", eu)  # and with them any notice they send
    received += notices(chain, 2)
    return BrokenInEu(
        version=version,
        eu_before=eu_before,
        beta_status=beta_status,
        eu_execution=eu,
        eu_status=eu_status,
        eu_deploy=eu_deploy,
        eu_rollbacks=rollbacks,
        eu_after=pages(chain, "prod-eu"),
        ap_status=ap_status,
        ap_pages=pages(chain, "prod-ap"),
        notices=received,
    )


def ended_rollbacks(
    chain: LocalDeployment, stage: str, failed_execution: str, timeout: float = 300
) -> list[dict[str, Any]]:
    """The rollback executions `failed_execution` started, once they have all ended."""

    def ended() -> list[dict[str, Any]] | None:
        rollbacks = rollbacks_of(chain, stage, failed_execution)
        if rollbacks and all(r["status"] not in ("InProgress", "Stopping") for r in rollbacks):
            return rollbacks
        return None

    return wait_until(ended, f"{stage}: the rollbacks of {failed_execution} to end", timeout)


def notices_until(chain: LocalDeployment, text: str, timeout: float = 120) -> list[str]:
    """The queue's messages, read until one contains `text`."""
    received: list[str] = []
    deadline = time.monotonic() + timeout
    while not any(text in n for n in received):
        assert time.monotonic() < deadline, f"no notice naming {text}: {received}"
        received += notices(chain, 1)
    return received


def test_a_failed_deployment_in_a_wave_stage_does_not_stop_its_sibling(
    broken_in_eu: BrokenInEu,
) -> None:
    run = broken_in_eu
    assert run.beta_status == "Succeeded"
    # THEN prod-eu's deployment failed in ValidateService, on the missing settings
    assert (run.eu_status, run.eu_deploy["status"]) == ("Failed", "Failed")
    error = run.eu_deploy["output"]["executionResult"]["errorDetails"]["message"]
    assert "ValidateService failed" in error
    assert "no settings for eu-west-1" in error
    # ... while prod-ap, promoted by the same Promote step, deployed the build and serves it
    assert run.ap_status == "Succeeded"
    assert set(run.ap_pages) == {run.version}


def test_a_failed_deployment_sends_one_notice_to_the_stage_queue(
    broken_in_eu: BrokenInEu,
) -> None:
    run = broken_in_eu
    # THEN exactly one message names the failed deployment: prod-eu's, readable, saying FAILURE
    [notice] = [n for n in run.notices if run.deployment_id in n]
    assert notice.startswith(f"xrdeploy prod-eu: deployment {run.deployment_id} to ")
    assert "FAILURE" in notice
    # ... prod-eu's failed execution is notified once too, and prod-ap, which passed, sent none
    [failed] = [n for n in run.notices if run.eu_execution in n]
    assert failed.startswith("xrdeploy prod-eu: pipeline ") and "FAILED" in failed
    assert not [n for n in run.notices if n.startswith("xrdeploy prod-ap")]


def test_a_failed_wave_stage_is_rolled_back_once_to_its_last_good_build(
    broken_in_eu: BrokenInEu,
) -> None:
    run = broken_in_eu
    # THEN prod-eu serves the build it ran before again
    assert set(run.eu_after) == {run.eu_before}
    # ... through its stage rollback (rollback_on_failure), which succeeded, and nothing else
    # of prod-eu failed (or was notified) after the deployment
    assert [r["status"] for r in run.eu_rollbacks] == ["Succeeded"]
    assert [n for n in run.notices if n.startswith("xrdeploy prod-eu")] == [
        n for n in run.notices if run.deployment_id in n or run.eu_execution in n
    ]
