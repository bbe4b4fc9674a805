"""Stop the line on the deployed default chain: `freeze beta` holds the next build in front of
beta's Deploy, `status` says why, by whom and which build waits, and `unfreeze beta` lets it
through; the other stages stay open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.chain.test_provenance import chain, ledger, make_build, unique
from tests.integration.chain_runs import (
    console,
    execution_ids,
    outcomes,
    pipeline_of,
    upload_bytes,
    wait_for_run,
)
from tests.integration.polling import stays_false, wait_until
from xrdeploy.cli.main import run
from xrdeploy.console.freeze import LINE_STAGE
from xrdeploy.rehearsal.local_chain import LocalDeployment

__all__ = ["chain", "make_build"]  # fixtures shared with test_provenance
REASON = "incident 42 (checkout errors)"
# A hold shows only as time passing with nothing moving: long enough for an open Deploy to start.
HOLD_SECONDS = 10


def test_freeze_beta_holds_the_next_build_before_deploy_until_unfreeze(
    chain: LocalDeployment, make_build: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["--target", f"localstack={chain.endpoint}"]
    beta = pipeline_of(chain, "beta")
    watcher = console(chain)
    # WHEN the operator stops the line into beta, and then a build arrives in beta's bucket
    assert run(["freeze", "beta", "--reason", REASON, *target]) == 0
    try:
        known = execution_ids(chain, "beta")
        upload_bytes(chain, "beta", make_build(unique("5.0")).read_bytes())

        def waiting() -> list[str] | None:
            frozen = ledger(chain, capsys)["beta"]["frozen"]
            return (frozen or {}).get("waiting") or None

        [held] = wait_until(waiting, "a build waiting before beta's Deploy")
        assert held not in known
        # THEN it stays there: no Deploy action runs while the line is stopped
        stays_false(
            lambda: "Deploy" in outcomes(chain, "beta", held),
            "beta's Deploy ran while the line was stopped",
            HOLD_SECONDS,
        )
        assert watcher.execution(beta, held)["status"] == "InProgress"
        # ... and status says why, who and when, for beta only
        stages = ledger(chain, capsys)
        frozen = stages["beta"]["frozen"]
        assert (frozen["stage_name"], frozen["reason"], frozen["waiting"]) == (
            LINE_STAGE,
            REASON,
            [held],
        )
        assert frozen["by"].startswith("arn:aws:iam::") and frozen["since"]
        assert stages["alpha"]["frozen"] is None and stages["prod"]["frozen"] is None
        assert run(["status", *target]) == 0
        assert f"FROZEN before Deploy by {frozen['by']}" in capsys.readouterr().out
        # ... and freezing it again changes nothing and says so
        assert run(["freeze", "beta", "--reason", "again", *target]) == 0
        assert "beta: already FROZEN" in capsys.readouterr().out
        # WHEN the operator opens the line again
        assert run(["unfreeze", "beta", *target]) == 0
        assert capsys.readouterr().out == f"beta: unfrozen; {held} goes on into Deploy\n"
    finally:
        watcher.enable_inbound(beta, LINE_STAGE)
    # THEN that build is deployed in beta (its promotion to prod is refused at the approval)
    finished = wait_for_run(chain, "beta", known, approve=False)
    assert finished.execution_id == held
    assert finished.actions["Deploy"].status == "Succeeded"
    assert ledger(chain, capsys)["beta"]["frozen"] is None
