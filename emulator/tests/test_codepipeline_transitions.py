"""Stage transitions of the local CodePipeline: a disabled one holds executions at the stage."""

from __future__ import annotations

import datetime

import pytest

from emulator.tests import lane_world
from emulator.tests.lane_world import execution_of, pipeline_of
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import lanes, models, transitions
from xrdeploy_local_cloud.codepipeline.execution_states import PipelineStatus

USER = "arn:aws:iam::000000000000:user/ops"


def _pipeline() -> models.Pipeline:
    return pipeline_of("Source", "Deploy")


def _execution(pipeline: models.Pipeline, name: str, mode: str = "SUPERSEDED") -> models.Execution:
    return execution_of(pipeline, name, mode)


def _entry(pipeline: models.Pipeline, execution: models.Execution) -> lane_world.Entry:
    return lane_world.Entry(pipeline, execution, "Deploy")


def _until_waiting(pipeline: models.Pipeline, ids: list[str]) -> None:
    assert states.wait_for(lambda: lanes.waiting(pipeline, "Deploy") == ids, 5)


def _disable(pipeline: models.Pipeline, stage: str, kind: str) -> None:
    transition = models.Transition(enabled=False, changed_by=USER, reason="bad build")
    transitions.set_state(pipeline, stage, kind, transition)


def _enable(pipeline: models.Pipeline, stage: str, kind: str) -> None:
    transitions.set_state(pipeline, stage, kind, models.Transition(enabled=True, changed_by=USER))


@pytest.mark.parametrize(
    ("stage", "kind"), [("Deploy", transitions.INBOUND), ("Source", transitions.OUTBOUND)]
)
def test_a_disabled_transition_holds_the_execution_until_enabled(stage: str, kind: str) -> None:
    # GIVEN the way into Deploy disabled (its inbound or Source's outbound transition)
    pipeline = _pipeline()
    _disable(pipeline, stage, kind)
    # WHEN an execution arrives at Deploy
    entry = _entry(pipeline, _execution(pipeline, "1"))
    _until_waiting(pipeline, ["1"])
    assert "Deploy" not in pipeline.occupants
    # THEN it enters once the transition is enabled
    _enable(pipeline, stage, kind)
    assert entry.done() is True
    assert pipeline.occupants == {"Deploy": "1"}


def test_enabling_lets_the_newest_waiting_execution_through_in_superseded_mode() -> None:
    pipeline = _pipeline()
    _disable(pipeline, "Deploy", transitions.INBOUND)
    older = _entry(pipeline, _execution(pipeline, "1"))
    _until_waiting(pipeline, ["1"])
    newer = _entry(pipeline, _execution(pipeline, "2"))
    assert older.done() is False
    assert pipeline.executions[0].status == PipelineStatus.SUPERSEDED
    _enable(pipeline, "Deploy", transitions.INBOUND)
    assert newer.done() is True
    assert pipeline.occupants == {"Deploy": "2"}


def test_other_stages_are_not_held() -> None:
    pipeline = _pipeline()
    _disable(pipeline, "Deploy", transitions.INBOUND)
    assert lanes.enter(pipeline, _execution(pipeline, "1"), "Source")


def test_the_inbound_state_shows_who_disabled_it_when_and_why() -> None:
    pipeline = _pipeline()
    assert transitions.inbound_state(pipeline, "Deploy") == {"enabled": True}
    _disable(pipeline, "Deploy", transitions.INBOUND)
    state = transitions.inbound_state(pipeline, "Deploy")
    assert state["enabled"] is False
    assert state["lastChangedBy"] == USER
    assert state["disabledReason"] == "bad build"
    assert isinstance(state["lastChangedAt"], datetime.datetime)
    _enable(pipeline, "Deploy", transitions.INBOUND)
    assert "disabledReason" not in transitions.inbound_state(pipeline, "Deploy")
