"""Stage conditions (V2): beforeEntry before a stage's actions, onSuccess after they succeed,
onFailure after they fail, as CodePipeline evaluates them.

A condition is met when all its rules succeed (they run together; the first failure gives the
others up); a stage's conditions of one kind are evaluated in order. When one is not met its
result engages: beforeEntry FAIL (the stage fails) or SKIP (the stage is skipped), onSuccess
ROLLBACK or FAIL (the stage fails; ROLLBACK then rolls it back), onFailure ROLLBACK or RETRY
(the stage is retried once, ``retryConfiguration.retryMode``, default FAILED_ACTIONS). An
onFailure without conditions engages its ``result`` whenever the stage fails.
OverrideStageCondition gives up a condition still being evaluated: it counts as met.
Rollback executions evaluate no conditions.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models, rules
from xrdeploy_local_cloud.codepipeline.execution_states import ConditionStatus, Event, StageStatus
from xrdeploy_local_cloud.codepipeline.variables import UnresolvedVariable, resolve_configuration

KEYS = {
    models.BEFORE_ENTRY: "beforeEntry",
    models.ON_SUCCESS: "onSuccess",
    models.ON_FAILURE: "onFailure",
}
# The result of a condition that names none (nor does its onFailure).
_DEFAULT = {models.BEFORE_ENTRY: "FAIL", models.ON_SUCCESS: "FAIL", models.ON_FAILURE: "ROLLBACK"}
AlarmReader = Callable[[list[str]], dict[str, str | None]]
Namespaces = dict[str, dict[str, str]]


def enter(
    execution: models.Execution, stage: dict[str, Any], namespaces: Namespaces
) -> StageStatus:
    """Evaluate the stage's entry conditions: SUCCEEDED (enter), FAILED, SKIPPED or STOPPED."""
    if execution.execution_type != models.STANDARD or not stage.get("beforeEntry"):
        return StageStatus.SUCCEEDED
    outcome = evaluate(execution, stage, models.BEFORE_ENTRY, namespaces)
    if outcome is None:
        return StageStatus.SUCCEEDED
    if outcome == "ABANDONED":
        return StageStatus.STOPPED
    return StageStatus.SKIPPED if outcome == "SKIP" else StageStatus.FAILED


def after(
    execution: models.Execution,
    stage: dict[str, Any],
    status: StageStatus,
    namespaces: Namespaces,
    rerun: Callable[[str], StageStatus],
) -> tuple[StageStatus, bool]:
    """The stage's status once its onSuccess/onFailure conditions ran, and whether to roll back."""
    if execution.execution_type != models.STANDARD:
        return status, False
    if status == StageStatus.SUCCEEDED and stage.get("onSuccess"):
        result = evaluate(execution, stage, models.ON_SUCCESS, namespaces)
        if result == "ABANDONED":
            return StageStatus.STOPPED, False
        if result is not None:
            return StageStatus.FAILED, result == "ROLLBACK"
    if status != StageStatus.FAILED or not stage.get("onFailure"):
        return status, False
    on_failure = stage["onFailure"]
    result = on_failure.get("result")
    if on_failure.get("conditions"):
        engaged = evaluate(execution, stage, models.ON_FAILURE, namespaces)
        result = None if engaged in (None, "ABANDONED") else engaged
    if result == "RETRY":
        mode = (on_failure.get("retryConfiguration") or {}).get("retryMode", "FAILED_ACTIONS")
        return rerun(mode), False
    return status, result == "ROLLBACK"


def evaluate(
    execution: models.Execution, stage: dict[str, Any], kind: str, namespaces: Namespaces
) -> str | None:
    """Run the stage's conditions of ``kind``; the result of the first one not met (None: all
    met or overridden; "ABANDONED": the execution was stopped meanwhile)."""
    declared = stage[KEYS[kind]]
    conditions: list[dict[str, Any]] = declared.get("conditions") or []
    run = models.ConditionsRun(kind, [models.ConditionRun() for _ in conditions])
    with states.changing():
        execution.condition_runs[(stage["name"], kind)] = run
    engaged: str | None = None
    for condition, condition_run in zip(conditions, run.conditions, strict=True):
        status = _condition(
            execution, stage["name"], kind, condition, condition_run, run, namespaces
        )
        if status == ConditionStatus.ABANDONED and not run.overridden:
            engaged = "ABANDONED"
            break
        if status == ConditionStatus.FAILED:
            engaged = condition.get("result") or declared.get("result") or _DEFAULT[kind]
            break
    with states.changing():
        if run.overridden:
            states.condition_event(run, Event.OVERRIDE, "Overridden by OverrideStageCondition")
            engaged = None
        elif engaged == "ABANDONED":
            states.condition_event(run, Event.ABANDON)
        elif engaged is not None:
            states.condition_event(run, Event.FAIL, f"A condition was not met: result {engaged}")
        else:
            states.condition_event(run, Event.SUCCEED, "All conditions were met")
    return engaged


def _condition(
    execution: models.Execution,
    stage: str,
    kind: str,
    condition: dict[str, Any],
    condition_run: models.ConditionRun,
    run: models.ConditionsRun,
    namespaces: Namespaces,
) -> ConditionStatus:
    given_up = threading.Event()
    declarations: list[dict[str, Any]] = condition.get("rules") or []
    rule_runs = [
        models.RuleRun(str(uuid.uuid4()), execution.id, stage, rule, {}) for rule in declarations
    ]
    with states.changing():
        condition_run.rules = rule_runs

    def stop() -> bool:
        # A stop of either kind gives up waiting rules: what is left to wait for is only time.
        return given_up.is_set() or run.overridden or execution.stop is not None

    def work(rule_run: models.RuleRun) -> None:
        # The rule's thread reports its outcome; only execution_states holds the lock.
        outcome = _rule(execution, rule_run, kind, stop, namespaces)
        states.end_rule(rule_run, outcome.status, outcome.summary, outcome.error_code)
        if outcome.status == ConditionStatus.FAILED:
            given_up.set()

    threads = [
        threading.Thread(target=work, args=(r,), name=f"codepipeline-rule-{r.name}", daemon=True)
        for r in rule_runs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = {r.status for r in rule_runs}
    status = (
        ConditionStatus.FAILED
        if ConditionStatus.FAILED in statuses
        else ConditionStatus.ABANDONED
        if ConditionStatus.ABANDONED in statuses
        else ConditionStatus.SUCCEEDED
    )
    failed = next((r for r in rule_runs if r.status == ConditionStatus.FAILED), None)
    event = Event.OVERRIDE if run.overridden else states.event_for(status)
    states.condition_event(
        condition_run, event, f"Rule {failed.name}: {failed.summary}" if failed else None
    )
    return status


def _rule(
    execution: models.Execution,
    rule_run: models.RuleRun,
    kind: str,
    stop: Callable[[], bool],
    namespaces: Namespaces,
) -> rules.RuleOutcome:
    try:
        rule_run.resolved_configuration = resolve_configuration(
            rule_run.declaration.get("configuration", {}), namespaces
        )
    except UnresolvedVariable as error:
        return rules.RuleOutcome(ConditionStatus.FAILED, str(error), "ConfigurationError")
    region = str(rule_run.declaration.get("region") or execution.region)
    context = rules.RuleContext(execution, rule_run, kind, stop, alarm_reader(execution, region))
    try:
        return rules.run(context)
    except Exception as error:  # a bug here must still end the rule
        return rules.RuleOutcome(
            ConditionStatus.FAILED, f"The local cloud could not run the rule: {error}"
        )


def alarm_reader(execution: models.Execution, region: str) -> AlarmReader:
    """Alarm states read from this local cloud's CloudWatch as the pipeline role."""
    clients: list[Any] = []

    def read(names: list[str]) -> dict[str, str | None]:
        if not clients:
            from xrdeploy_local_cloud.codepipeline.clients import role_clients

            clients.append(role_clients(execution, region).cloudwatch)
        response = clients[0].describe_alarms(
            AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        alarms = response.get("MetricAlarms", []) + response.get("CompositeAlarms", [])
        found = {a["AlarmName"]: str(a["StateValue"]) for a in alarms}
        return {name: found.get(name) for name in names}

    return read
