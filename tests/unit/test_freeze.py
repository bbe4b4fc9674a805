"""Stop the line: a frozen stage read from GetPipelineState, the reason CodePipeline accepts, and
`freeze`/`unfreeze` calling the right transition (a fake console stands in for the API)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from xrdeploy.cli import pipelines as cli_pipelines
from xrdeploy.cli.main import run
from xrdeploy.config.model import load_config
from xrdeploy.console.freeze import Freeze, check_reason, freeze_of
from xrdeploy.console.pipeline_view import ledger_json, ledger_lines
from xrdeploy.console.pipelines import StagePipeline, stage_pipelines
from xrdeploy.console.provenance import StageLedger, Verdict
from xrdeploy.errors import UserError

T0 = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
ONCALL = "arn:aws:iam::222222222222:user/oncall"


def state(enabled: bool, *inbound: str) -> dict[str, Any]:
    transition: dict[str, Any] = {"enabled": enabled}
    if not enabled:
        transition |= {
            "disabledReason": "incident 42",
            "lastChangedBy": ONCALL,
            "lastChangedAt": T0,
        }
    deploy: dict[str, Any] = {"stageName": "Deploy", "inboundTransitionState": transition}
    if inbound:
        deploy["inboundExecutions"] = [
            {"pipelineExecutionId": e, "status": "InProgress"} for e in inbound
        ]
        deploy["inboundExecution"] = deploy["inboundExecutions"][-1]
    source = {"stageName": "Source", "inboundTransitionState": {"enabled": True}}
    return {"stageStates": [source, deploy]}


def test_an_open_line_is_no_freeze() -> None:
    assert freeze_of(state(True)) is None
    assert freeze_of({}) is None


def test_a_disabled_deploy_transition_is_a_freeze_with_who_when_why_and_the_waiting_build() -> None:
    assert freeze_of(state(False, "e-2")) == Freeze("Deploy", "incident 42", ONCALL, T0, ("e-2",))
    # AWS may answer with inboundExecution only
    only_one = state(False, "e-3")
    del only_one["stageStates"][1]["inboundExecutions"]
    assert freeze_of(only_one) == Freeze("Deploy", "incident 42", ONCALL, T0, ("e-3",))


@pytest.mark.parametrize("reason", ["incident 42 (see page)", "x" * 300, "stop!"])
def test_reasons_codepipeline_accepts(reason: str) -> None:
    assert check_reason(reason) == reason


@pytest.mark.parametrize("reason", ["", "x" * 301, "db: down", "two\nlines", "ticket #4"])
def test_reasons_codepipeline_refuses_are_one_line_naming_the_option(reason: str) -> None:
    with pytest.raises(UserError) as raised:
        check_reason(reason)
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith("--reason: ")


def frozen_ledger() -> StageLedger:
    pipeline = StagePipeline("beta", "222222222222", "us-east-1", "p", "b", "k", "alpha")
    freeze = freeze_of(state(False, "e-2"))
    return StageLedger(pipeline, "alpha", None, Verdict(None, "nothing deployed"), (), (), freeze)


def test_status_shows_the_freeze_in_text_and_json() -> None:
    ledger = frozen_ledger()
    assert ledger_lines(ledger)[-1] == (
        f"  FROZEN before Deploy by {ONCALL} at 2026-12-06 12:30:00: incident 42; waiting: e-2"
    )
    stage = json.loads(json.dumps(ledger_json("demo", [ledger])))["stages"][0]
    assert stage["frozen"] == {
        "stage_name": "Deploy",
        "reason": "incident 42",
        "by": ONCALL,
        "since": "2026-12-06T12:30:00+00:00",
        "waiting": ["e-2"],
    }


@dataclass
class FakeConsole:
    states: dict[str, dict[str, Any]]
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def state(self, pipeline: StagePipeline) -> dict[str, Any]:
        return self.states[pipeline.stage]

    def disable_inbound(self, pipeline: StagePipeline, stage_name: str, reason: str) -> None:
        self.calls.append(("disable", pipeline.pipeline, stage_name, reason))

    def enable_inbound(self, pipeline: StagePipeline, stage_name: str) -> None:
        self.calls.append(("enable", pipeline.pipeline, stage_name))


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch) -> FakeConsole:
    fake = FakeConsole({"alpha": state(True), "beta": state(True), "prod": state(True)})
    pipelines = stage_pipelines(load_config(None))
    monkeypatch.setattr(cli_pipelines, "_console", lambda config, target: (fake, pipelines))
    return fake


def test_freeze_disables_the_inbound_transition_of_the_stages_deploy_only(
    console: FakeConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["freeze", "beta", "--reason", "incident 42"]) == 0
    beta = stage_pipelines(load_config(None))[1].pipeline
    assert console.calls == [("disable", beta, "Deploy", "incident 42")]
    assert capsys.readouterr().out.startswith("beta: frozen; builds wait before Deploy")


def test_freezing_a_frozen_stage_is_fine_and_says_so(
    console: FakeConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    console.states["beta"] = state(False, "e-2")
    assert run(["freeze", "beta", "--reason", "again"]) == 0
    assert console.calls == []
    assert capsys.readouterr().out.startswith("beta: already FROZEN before Deploy by")


def test_unfreeze_enables_it_and_names_the_build_that_goes_on(
    console: FakeConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    console.states["beta"] = state(False, "e-2")
    assert run(["unfreeze", "beta"]) == 0
    assert [call[0] for call in console.calls] == ["enable"]
    assert capsys.readouterr().out == "beta: unfrozen; e-2 goes on into Deploy\n"
    console.states["beta"] = state(True)
    assert run(["unfreeze", "beta"]) == 0
    assert capsys.readouterr().out == "beta: not frozen; nothing to do\n"


def test_an_unknown_stage_is_one_line_naming_the_stages(
    console: FakeConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["freeze", "gamma", "--reason", "x"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: STAGE: no stage named 'gamma'; stages are alpha, beta, prod"
    ]
    assert console.calls == []
