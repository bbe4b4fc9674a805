"""Stage conditions of the local CodePipeline: rules, results and rollback targets (no cloud)."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from xrdeploy_local_cloud.codepipeline import declarations, gates, models, rollback, rules
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.execution_states import ConditionStatus, StageStatus

OPEN = "* * * * * ? *"
CLOSED = "* * * * * ? 2199"


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRDEPLOY_CODEPIPELINE_WAIT_SCALE", "0.005")  # a minute lasts 0.3 s


class Alarms:
    """CloudWatch as the rule reads it: alarm states, changeable while a rule waits."""

    def __init__(self, **states: str) -> None:
        self.states = dict(states)
        self.reads = 0

    def __call__(self, names: list[str]) -> dict[str, str | None]:
        self.reads += 1
        return {name: self.states.get(name) for name in names}


@pytest.fixture
def alarms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Alarms]:
    fake = Alarms(errors="OK")
    monkeypatch.setattr(gates, "alarm_reader", lambda execution, region: fake)
    yield fake


def _execution(name: str = "e1") -> models.Execution:
    return models.Execution(
        id=name,
        account_id="000000000000",
        region="us-east-1",
        pipeline_name="p",
        pipeline_version=1,
        declaration={"stages": []},
        trigger={"triggerType": "StartPipelineExecution"},
        variables={},
        source_revisions={},
    )


def _rule(provider: str, **configuration: str) -> dict[str, Any]:
    type_id = {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"}
    return {"name": provider, "ruleTypeId": type_id, "configuration": configuration}


def _stage(key: str, *rule_list: dict[str, Any], result: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"rules": list(rule_list)}
    if result:
        condition["result"] = result
    return {"name": "Deploy", "actions": [], key: {"conditions": [condition]}}


def test_a_bake_passes_when_the_alarm_stays_ok(alarms: Alarms) -> None:
    execution = _execution()
    stage = _stage("onSuccess", _rule("CloudWatchAlarm", AlarmName="errors", WaitTime="1"))
    assert gates.evaluate(execution, stage, models.ON_SUCCESS, {}) is None
    run = execution.condition_runs[("Deploy", models.ON_SUCCESS)]
    assert run.status == ConditionStatus.SUCCEEDED
    assert run.conditions[0].rules[0].status == ConditionStatus.SUCCEEDED
    assert alarms.reads > 1  # watched through the wait time, not read once


def test_an_alarm_firing_during_the_bake_engages_the_result(alarms: Alarms) -> None:
    execution = _execution()
    stage = _stage(
        "onSuccess",
        _rule("CloudWatchAlarm", AlarmName="errors", WaitTime="100"),
        result="ROLLBACK",
    )
    threading.Timer(0.2, lambda: alarms.states.update(errors="ALARM")).start()
    assert gates.evaluate(execution, stage, models.ON_SUCCESS, {}) == "ROLLBACK"
    rule = execution.condition_runs[("Deploy", models.ON_SUCCESS)].conditions[0].rules[0]
    assert rule.status == ConditionStatus.FAILED
    assert rule.summary == "Alarm errors is in state ALARM during the wait time"


def test_an_entry_alarm_rule_passes_at_once_or_waits_for_the_alarm_to_clear(alarms: Alarms) -> None:
    stage = _stage("beforeEntry", _rule("CloudWatchAlarm", AlarmName="errors", WaitTime="100"))
    assert gates.evaluate(_execution(), stage, models.BEFORE_ENTRY, {}) is None
    assert alarms.reads == 1
    alarms.states["errors"] = "ALARM"
    threading.Timer(0.2, lambda: alarms.states.update(errors="OK")).start()
    assert gates.evaluate(_execution("e2"), stage, models.BEFORE_ENTRY, {}) is None
    short = _stage("beforeEntry", _rule("CloudWatchAlarm", AlarmName="errors", WaitTime="1"))
    alarms.states["errors"] = "ALARM"
    assert gates.evaluate(_execution("e3"), short, models.BEFORE_ENTRY, {}) == "FAIL"


def test_a_missing_alarm_or_a_rule_type_we_do_not_run_fails_the_rule(alarms: Alarms) -> None:
    missing = _stage("onSuccess", _rule("CloudWatchAlarm", AlarmName="nope"))
    assert gates.evaluate(_execution(), missing, models.ON_SUCCESS, {}) == "FAIL"
    lambda_rule = _stage("onSuccess", _rule("LambdaInvoke", FunctionName="f"))
    execution = _execution("e2")
    assert gates.evaluate(execution, lambda_rule, models.ON_SUCCESS, {}) == "FAIL"
    rule = execution.condition_runs[("Deploy", models.ON_SUCCESS)].conditions[0].rules[0]
    assert rule.error == {
        "code": "ConfigurationError",
        "message": "Rule type LambdaInvoke is not supported by the local cloud",
    }


def test_rule_configuration_resolves_variables(alarms: Alarms) -> None:
    stage = _stage("onSuccess", _rule("CloudWatchAlarm", AlarmName="#{variables.alarm}"))
    execution = _execution()
    assert (
        gates.evaluate(execution, stage, models.ON_SUCCESS, {"variables": {"alarm": "errors"}})
        is None
    )
    rule = execution.condition_runs[("Deploy", models.ON_SUCCESS)].conditions[0].rules[0]
    assert rule.resolved_configuration["AlarmName"] == "errors"


def test_a_closed_window_holds_until_overridden() -> None:
    execution = _execution()
    stage = _stage("beforeEntry", _rule("DeploymentWindow", Cron=CLOSED))
    results: list[str | None] = []
    worker = threading.Thread(
        target=lambda: results.append(gates.evaluate(execution, stage, models.BEFORE_ENTRY, {}))
    )
    worker.start()
    worker.join(0.5)
    assert worker.is_alive()  # still waiting for the window
    states.request_override(execution.condition_runs[("Deploy", models.BEFORE_ENTRY)])
    worker.join(5)
    assert results == [None]
    overridden = execution.condition_runs[("Deploy", models.BEFORE_ENTRY)]
    assert overridden.status == ConditionStatus.OVERRIDDEN


def test_an_open_window_lets_the_stage_in_and_a_timeout_fails_a_closed_one() -> None:
    assert gates.enter(
        _execution(), _stage("beforeEntry", _rule("DeploymentWindow", Cron=OPEN)), {}
    ) == (StageStatus.SUCCEEDED)
    timed = _rule("DeploymentWindow", Cron=CLOSED) | {"timeoutInMinutes": 5}  # 1.5 s here
    assert gates.enter(_execution(), _stage("beforeEntry", timed), {}) == StageStatus.FAILED
    skipping = _stage("beforeEntry", timed, result="SKIP")
    assert gates.enter(_execution(), skipping, {}) == StageStatus.SKIPPED


def test_a_window_rule_reads_its_clock_in_its_time_zone() -> None:
    run = models.RuleRun("r", "e", "Deploy", _rule("DeploymentWindow"), {})
    run.resolved_configuration = {"Cron": "* * 9-17 ? * MON-FRI *", "TimeZone": "Asia/Tokyo"}
    tuesday_10_tokyo = datetime.datetime(2026, 12, 1, 1, 0, tzinfo=datetime.UTC)
    context = rules.RuleContext(
        _execution(), run, models.BEFORE_ENTRY, lambda: False, Alarms(), lambda: tuesday_10_tokyo
    )
    assert rules.deployment_window(context).status == ConditionStatus.SUCCEEDED


def test_on_failure_results() -> None:
    execution = _execution()
    reruns: list[str] = []

    def rerun(mode: str) -> StageStatus:
        reruns.append(mode)
        return StageStatus.SUCCEEDED

    rollback_stage = {"name": "Deploy", "onFailure": {"result": "ROLLBACK"}}
    assert gates.after(execution, rollback_stage, StageStatus.FAILED, {}, rerun) == (
        StageStatus.FAILED,
        True,
    )
    assert gates.after(execution, rollback_stage, StageStatus.SUCCEEDED, {}, rerun) == (
        StageStatus.SUCCEEDED,
        False,
    )
    retry = {
        "name": "Deploy",
        "onFailure": {"result": "RETRY", "retryConfiguration": {"retryMode": "ALL_ACTIONS"}},
    }
    assert gates.after(execution, retry, StageStatus.FAILED, {}, rerun) == (
        StageStatus.SUCCEEDED,
        False,
    )
    assert reruns == ["ALL_ACTIONS"]
    execution.execution_type = models.ROLLBACK  # a rollback never rolls back again
    assert gates.after(execution, rollback_stage, StageStatus.FAILED, {}, rerun) == (
        StageStatus.FAILED,
        False,
    )


def _pipeline(*executions: models.Execution) -> models.Pipeline:
    pipeline = models.Pipeline(declaration={"name": "p", "version": 1}, arn="arn")
    pipeline.executions.extend(executions)
    return pipeline


def _succeeded_in(name: str, stage: str, started: int) -> models.Execution:
    execution = _execution(name)
    execution.started = datetime.datetime(2026, 1, 1, 0, started, tzinfo=datetime.UTC)
    execution.stages[stage] = models.StageRun(stage, status=StageStatus.SUCCEEDED)
    return execution


def test_the_rollback_target_is_the_latest_standard_success_of_the_current_version() -> None:
    old, latest, failed = (_succeeded_in(n, "Deploy", i) for i, n in enumerate(("a", "b", "c")))
    earlier_version = _succeeded_in("d", "Deploy", 5)
    earlier_version.pipeline_version = 0
    a_rollback = _succeeded_in("e", "Deploy", 6)
    a_rollback.execution_type = models.ROLLBACK
    failed.stages["Deploy"].status = StageStatus.FAILED
    pipeline = _pipeline(old, latest, failed, earlier_version, a_rollback)
    assert rollback.target_for(pipeline, "Deploy", failed) is latest
    assert (
        rollback.eligible(pipeline, "Deploy", a_rollback) == "Execution e is a rollback execution"
    )
    assert (
        rollback.eligible(pipeline, "Deploy", failed)
        == "Execution c did not succeed in stage Deploy"
    )
    assert rollback.target_for(_pipeline(failed), "Deploy", failed) is None


def test_conditions_need_a_v2_pipeline_and_results_of_their_kind() -> None:
    def pipeline(kind: str, result: str, pipeline_type: str = "V2") -> dict[str, Any]:
        source = {
            "name": "Source",
            "actions": [
                {
                    "name": "S",
                    "actionTypeId": {
                        "category": "Source",
                        "owner": "AWS",
                        "provider": "S3",
                        "version": "1",
                    },
                    "outputArtifacts": [{"name": "a"}],
                }
            ],
        }
        deploy = {
            "name": "Deploy",
            "actions": [
                {
                    "name": "A",
                    "actionTypeId": {
                        "category": "Approval",
                        "owner": "AWS",
                        "provider": "Manual",
                        "version": "1",
                    },
                }
            ],
            kind: {
                "conditions": [
                    {"result": result, "rules": [_rule("CloudWatchAlarm", AlarmName="x")]}
                ]
            },
        }
        return {
            "name": "p",
            "roleArn": "r",
            "pipelineType": pipeline_type,
            "artifactStore": {},
            "stages": [source, deploy],
        }

    assert declarations.normalized(pipeline("onSuccess", "ROLLBACK"), 1)["stages"][1]["onSuccess"]
    with pytest.raises(
        declarations.DeclarationError, match="onSuccess cannot have the result SKIP"
    ):
        declarations.normalized(pipeline("onSuccess", "SKIP"), 1)
    with pytest.raises(declarations.DeclarationError, match="beforeEntry conditions need a V2"):
        declarations.normalized(pipeline("beforeEntry", "FAIL", "V1"), 1)
