"""Every (state, event) pair of every kind of execution run: the allowed ones land where AWS's
execution model says, every other one raises."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pytest

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.execution_states import (
    ActionStatus,
    ConditionStatus,
    Event,
    ImpossibleTransition,
    PipelineStatus,
    StageStatus,
)

# The expected transitions, written out here rather than read from the module's tables.
_P, _S, _A, _C = PipelineStatus, StageStatus, ActionStatus, ConditionStatus
EXPECTED: dict[str, tuple[type[StrEnum], dict[tuple[StrEnum, Event], StrEnum]]] = {
    "pipeline": (
        PipelineStatus,
        {
            (_P.IN_PROGRESS, Event.SUCCEED): _P.SUCCEEDED,
            (_P.IN_PROGRESS, Event.FAIL): _P.FAILED,
            (_P.IN_PROGRESS, Event.HALT): _P.STOPPED,
            (_P.IN_PROGRESS, Event.STOP_REQUESTED): _P.STOPPING,
            (_P.IN_PROGRESS, Event.SUPERSEDE): _P.SUPERSEDED,
            (_P.STOPPING, Event.STOP_REQUESTED): _P.STOPPING,
            (_P.STOPPING, Event.SUCCEED): _P.STOPPED,
            (_P.STOPPING, Event.FAIL): _P.STOPPED,
            (_P.STOPPING, Event.HALT): _P.STOPPED,
            (_P.SUPERSEDED, Event.HALT): _P.SUPERSEDED,
            (_P.FAILED, Event.RETRY): _P.IN_PROGRESS,
            (_P.STOPPED, Event.RETRY): _P.IN_PROGRESS,
        },
    ),
    "stage": (
        StageStatus,
        {
            (_S.IN_PROGRESS, Event.SUCCEED): _S.SUCCEEDED,
            (_S.IN_PROGRESS, Event.FAIL): _S.FAILED,
            (_S.IN_PROGRESS, Event.HALT): _S.STOPPED,
            (_S.IN_PROGRESS, Event.SKIP): _S.SKIPPED,
        },
    ),
    "action": (
        ActionStatus,
        {
            (_A.IN_PROGRESS, Event.SUCCEED): _A.SUCCEEDED,
            (_A.IN_PROGRESS, Event.FAIL): _A.FAILED,
            (_A.IN_PROGRESS, Event.ABANDON): _A.ABANDONED,
        },
    ),
    "condition": (
        ConditionStatus,
        {
            (_C.IN_PROGRESS, Event.SUCCEED): _C.SUCCEEDED,
            (_C.IN_PROGRESS, Event.FAIL): _C.FAILED,
            (_C.IN_PROGRESS, Event.ABANDON): _C.ABANDONED,
            (_C.IN_PROGRESS, Event.OVERRIDE): _C.OVERRIDDEN,
        },
    ),
}
# A rule is a condition that OverrideStageCondition cannot override.
EXPECTED["rule"] = (
    ConditionStatus,
    {k: v for k, v in EXPECTED["condition"][1].items() if k[1] is not Event.OVERRIDE},
)
TABLES: dict[str, Mapping[Any, Any]] = {
    "pipeline": states.PIPELINE,
    "stage": states.STAGE,
    "action": states.ACTION,
    "condition": states.CONDITION,
    "rule": states.RULE,
}
PAIRS = [
    (kind, status, event)
    for kind, (enum, _) in EXPECTED.items()
    for status, event in itertools.product(list(enum), list(Event))
]


@pytest.mark.parametrize(("kind", "status", "event"), PAIRS, ids=lambda v: str(v))
def test_every_state_and_event(kind: str, status: StrEnum, event: Event) -> None:
    expected = EXPECTED[kind][1].get((status, event))
    if expected is None:
        with pytest.raises(ImpossibleTransition, match=f"a {kind} run that is {status}"):
            states.move(kind, TABLES[kind], status, event)
    else:
        assert states.move(kind, TABLES[kind], status, event) is expected


def test_the_statuses_are_the_apis_spellings() -> None:
    assert [s.value for s in PipelineStatus] == [
        "InProgress",
        "Stopping",
        "Stopped",
        "Succeeded",
        "Superseded",
        "Failed",
        "Cancelled",
    ]
    assert {s.value for s in ActionStatus} == {"InProgress", "Abandoned", "Succeeded", "Failed"}
    assert "Skipped" in {s.value for s in StageStatus}
    assert "Overridden" in {s.value for s in ConditionStatus}


def test_an_outcome_names_the_event_that_ends_a_run_with_it() -> None:
    assert states.event_for(StageStatus.SKIPPED) is Event.SKIP
    assert states.event_for(ActionStatus.ABANDONED) is Event.ABANDON
    assert states.event_for(PipelineStatus.STOPPED) is Event.HALT


def _execution() -> models.Execution:
    return models.Execution(
        id="e1",
        account_id="111122223333",
        region="eu-west-1",
        pipeline_name="p",
        pipeline_version=1,
        declaration={"name": "p", "stages": []},
        trigger={},
        variables={},
        source_revisions={},
    )


def test_a_stopped_execution_ends_stopped_whatever_its_stages_did() -> None:
    execution = _execution()
    states.run_started(execution)
    states.request_stop(execution, abandon=False, reason="bad build")
    assert execution.status is PipelineStatus.STOPPING
    states.request_stop(execution, abandon=True, reason=None)  # escalated to abandon
    assert (execution.stop, execution.stop_reason) == ("abandon", "bad build")

    assert states.run_ended(execution, StageStatus.SUCCEEDED) is PipelineStatus.STOPPED
    assert (execution.status_summary, execution.running) == ("bad build", False)


def test_a_retry_resumes_a_failed_execution_and_forgets_the_stop() -> None:
    execution = _execution()
    assert states.run_ended(execution, StageStatus.FAILED) is PipelineStatus.FAILED
    states.retry(execution)
    assert (execution.status, execution.stop, execution.status_summary) == (
        PipelineStatus.IN_PROGRESS,
        None,
        None,
    )
    with pytest.raises(ImpossibleTransition):
        states.retry(execution)  # only a Failed or Stopped execution is retried


def test_a_superseded_execution_stays_superseded_when_its_thread_ends() -> None:
    execution = _execution()
    states.pipeline_event(execution, Event.SUPERSEDE, "Superseded by execution e2")
    assert states.run_ended(execution, StageStatus.STOPPED) is PipelineStatus.SUPERSEDED
    assert execution.status_summary == "Superseded by execution e2"


def test_a_condition_is_overridden_once_and_only_while_in_progress() -> None:
    run = models.ConditionsRun("BEFORE_ENTRY", [])
    assert states.overridable(run)
    states.request_override(run)
    assert not states.overridable(run)
    with pytest.raises(ImpossibleTransition):
        states.request_override(run)
    states.condition_event(run, Event.OVERRIDE, "Overridden by OverrideStageCondition")
    assert run.status is ConditionStatus.OVERRIDDEN


def test_a_stage_run_starts_in_progress_and_ends_by_its_table() -> None:
    execution = _execution()
    states.begin_stage(execution, "Deploy")
    assert states.stage_event(execution, "Deploy", Event.SKIP) is StageStatus.SKIPPED
    with pytest.raises(ImpossibleTransition, match="a stage run that is Skipped cannot fail"):
        states.stage_event(execution, "Deploy", Event.FAIL)
