"""The rules of stage conditions: CloudWatchAlarm and DeploymentWindow, as CodePipeline runs them.

* **CloudWatchAlarm** (``AlarmName``, comma-separated names allowed; ``AlarmStates``, the states
  that fail the rule, default ``ALARM``; ``WaitTime`` in minutes). In an entry condition the
  rule succeeds at once when no alarm is in those states, else it waits up to ``WaitTime`` for
  them to leave and fails if they do not. In an onSuccess/onFailure condition it watches the
  alarms for ``WaitTime`` (the bake) and fails as soon as one is in those states. Alarms are
  read from this local cloud's CloudWatch as the pipeline role.
* **DeploymentWindow** (``Cron``, ``TimeZone``, default UTC): succeeds when the current minute
  is inside the window, else waits until the window opens (or the rule's ``timeoutInMinutes``).

Waits are scaled by ``XRDEPLOY_CODEPIPELINE_WAIT_SCALE`` (local cloud only). Any other rule
provider fails its rule ("not supported by the local cloud").
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable
from typing import Any

from xrdeploy_local_cloud.codepipeline import cron, models, settings
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline.execution_states import ConditionStatus

_POLL_SECONDS = 1.0  # how often alarms and the window are read while a rule waits


@dataclasses.dataclass
class RuleOutcome:
    status: ConditionStatus  # SUCCEEDED, FAILED or ABANDONED
    summary: str
    error_code: str | None = None


@dataclasses.dataclass
class RuleContext:
    execution: models.Execution
    run: models.RuleRun
    kind: str  # models.BEFORE_ENTRY, ON_SUCCESS or ON_FAILURE
    given_up: Callable[[], bool]  # overridden, abandoned, or another rule of the condition failed
    alarm_states: Callable[[list[str]], dict[str, str | None]]  # name → state (None: missing)
    clock: Callable[[], datetime.datetime] = models.now

    @property
    def configuration(self) -> dict[str, str]:
        return self.run.resolved_configuration

    def timeout(self) -> float | None:
        minutes = self.run.declaration.get("timeoutInMinutes")
        return settings.rule_wait(float(minutes)) if minutes else None

    def pause(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (woken by any change); False once the rule is given up."""
        with states.reading():
            if self.given_up():
                return False
            states.wait(max(0.0, seconds))
            return not self.given_up()


def _failed(summary: str, code: str = "JobFailed") -> RuleOutcome:
    return RuleOutcome(ConditionStatus.FAILED, summary, code)


def _wait_minutes(context: RuleContext) -> float:
    text = context.configuration.get("WaitTime", "").strip()
    try:
        return settings.rule_wait(float(text)) if text else 0.0
    except ValueError:
        return -1.0


def cloudwatch_alarm(context: RuleContext) -> RuleOutcome:
    names = [n.strip() for n in context.configuration.get("AlarmName", "").split(",") if n.strip()]
    states_text = context.configuration.get("AlarmStates") or "ALARM"
    watched = {s.strip() for s in states_text.split(",") if s.strip()}
    wait = _wait_minutes(context)
    if not names:
        return _failed("The CloudWatchAlarm rule needs an AlarmName", "ConfigurationError")
    if wait < 0:
        return _failed("WaitTime must be a number of minutes", "ConfigurationError")
    deadline = time.monotonic() + wait
    while True:
        try:
            states = context.alarm_states(names)
        except Exception as error:  # CloudWatch did not answer as the pipeline role
            return _failed(f"Could not read the alarms {', '.join(names)}: {error}")
        missing = [name for name, state in states.items() if state is None]
        if missing:
            return _failed(f"The alarm {missing[0]} does not exist", "ConfigurationError")
        firing = [
            f"{name} is in state {state}" for name, state in states.items() if state in watched
        ]
        remaining = deadline - time.monotonic()
        if context.kind == models.BEFORE_ENTRY and not firing:
            return RuleOutcome(
                ConditionStatus.SUCCEEDED, f"No alarm is in {', '.join(sorted(watched))}"
            )
        if context.kind != models.BEFORE_ENTRY and firing:
            return _failed(f"Alarm {firing[0]} during the wait time")
        if remaining <= 0:
            if firing:
                return _failed(f"Alarm {firing[0]} after the wait time")
            return RuleOutcome(
                ConditionStatus.SUCCEEDED, f"The alarms stayed out of {', '.join(sorted(watched))}"
            )
        if not context.pause(min(_POLL_SECONDS, remaining)):
            return RuleOutcome(ConditionStatus.ABANDONED, "The rule was given up")


def deployment_window(context: RuleContext) -> RuleOutcome:
    try:
        window = cron.parse(
            context.configuration.get("Cron", ""), context.configuration.get("TimeZone")
        )
    except cron.CronError as error:
        return _failed(str(error), "ConfigurationError")
    timeout = context.timeout()
    deadline = None if timeout is None else time.monotonic() + timeout
    while not window.contains(context.clock()):
        if deadline is not None and time.monotonic() >= deadline:
            return _failed("The deployment window did not open before the rule timed out")
        if not context.pause(_POLL_SECONDS):
            return RuleOutcome(ConditionStatus.ABANDONED, "The rule was given up")
    return RuleOutcome(ConditionStatus.SUCCEEDED, "Inside the deployment window")


HANDLERS: dict[str, Callable[[RuleContext], RuleOutcome]] = {
    "CloudWatchAlarm": cloudwatch_alarm,
    "DeploymentWindow": deployment_window,
}


def run(context: RuleContext) -> RuleOutcome:
    type_id: dict[str, Any] = context.run.declaration["ruleTypeId"]
    handler = (
        HANDLERS.get(str(type_id.get("provider"))) if type_id.get("owner", "AWS") == "AWS" else None
    )
    if handler is None:
        return _failed(
            f"Rule type {type_id.get('provider')} is not supported by the local cloud",
            "ConfigurationError",
        )
    return handler(context)
